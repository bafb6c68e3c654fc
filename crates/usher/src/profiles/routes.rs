//! `/admin/profiles`: list with usage, create, edit (and apply to members), duplicate, delete.

use crate::domain::ids::*;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;

use super::{ProfileError, ProfileInput};
use crate::state::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Form, field, path_id};
use crate::web::visitor::Admin;
use crate::web::{page, picker, ser};

fn parse(fields: &[(String, String)]) -> AppResult<ProfileInput> {
    let get = |n: &str| field(fields, n).to_string();
    Ok(ProfileInput {
        name: get("name"),
        description: get("description").trim().to_string(),
        duration: get("duration"),
        servers: picker::parse(fields)?,
    })
}

fn error_text(state: &AppState, admin: &Admin, e: &ProfileError) -> String {
    let _ = (state, admin);
    e.to_string()
}

async fn list_page(
    state: &AppState,
    admin: &Admin,
    input: Option<&ProfileInput>,
    error: Option<String>,
) -> AppResult<Response> {
    let profiles = state.store.profiles().await?;
    let echoed = input.map(|i| picker::echo(&i.servers));
    let start = match &echoed {
        Some(chosen) => picker::Start::Chosen(chosen),
        None => picker::Start::Defaults,
    };
    let servers = picker::servers(state, start, None).await?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut res = page(
        state,
        &admin.visitor,
        "admin/profiles.html",
        context! {
            profiles => ser(&profiles), servers,
            form => context! {
                name => input.as_ref().map(|i| i.name.clone()).unwrap_or_default(),
                description => input.as_ref().map(|i| i.description.clone()).unwrap_or_default(),
                duration => input.as_ref().map(|i| i.duration.clone()).unwrap_or_default(),
            },
            error,
        },
    )?
    .into_response();
    *res.status_mut() = status;
    Ok(res)
}

pub async fn list(State(state): State<AppState>, admin: Admin) -> AppResult<Response> {
    list_page(&state, &admin, None, None).await
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = parse(&fields)?;
    match super::save(&state, None, &input, &admin.session.username).await {
        Ok(id) => Ok(Redirect::to(&format!("/admin/profiles/{id}?done=created")).into_response()),
        Err(e @ ProfileError::Store(_)) => Err(e.into()),
        Err(e) => {
            let msg = error_text(&state, &admin, &e);
            list_page(&state, &admin, Some(&input), Some(msg)).await
        }
    }
}

async fn edit_page(
    state: &AppState,
    admin: &Admin,
    id: ProfileId,
    input: Option<ProfileInput>,
    error: Option<String>,
    report: Option<super::ApplyReport>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let (profile, stored) = match super::input_of(state, id).await {
        Ok(x) => x,
        Err(e) => return Err(e.into()),
    };
    let input = input.unwrap_or(stored);
    let chosen = picker::echo(&input.servers);
    let usage = state
        .store
        .profiles()
        .await?
        .into_iter()
        .find(|p| p.profile.id == id);
    let others: Vec<_> = state
        .store
        .profiles()
        .await?
        .into_iter()
        .filter(|p| p.profile.id != id)
        .map(|p| p.profile)
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut res = page(
        state,
        &admin.visitor,
        "admin/profile.html",
        context! {
            profile => ser(&profile),
            usage => ser(&usage),
            others => ser(&others),
            servers => picker::servers(state, picker::Start::Chosen(&chosen), None).await?,
            form => context! { name => &input.name, description => &input.description, duration => &input.duration },
            error, report => report.map(|r| ser(r.results)), notice,
        },
    )?
    .into_response();
    *res.status_mut() = status;
    Ok(res)
}

#[derive(serde::Deserialize, Default)]
pub struct EditQuery {
    #[serde(default)]
    done: String,
}

pub async fn edit(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<EditQuery>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let notice = ["created", "saved", "duplicated"]
        .into_iter()
        .find(|n| *n == q.done);
    edit_page(&state, &admin, id, None, None, None, notice).await
}

pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let input = parse(&fields)?;
    match super::save(&state, Some(id), &input, &admin.session.username).await {
        Ok(_) => {
            if fields.iter().any(|(k, v)| k == "apply" && v == "on") {
                let report = super::apply_to_members(&state, id, &admin.session.username)
                    .await
                    .map_err(|e| AppError::bad_request(e.to_string()))?;
                return edit_page(&state, &admin, id, None, None, Some(report), Some("saved"))
                    .await;
            }
            Ok(Redirect::to(&format!("/admin/profiles/{id}?done=saved")).into_response())
        }
        Err(ProfileError::NotFound) => Err(AppError::not_found()),
        Err(e @ ProfileError::Store(_)) => Err(e.into()),
        Err(e) => {
            let msg = error_text(&state, &admin, &e);
            edit_page(&state, &admin, id, Some(input), Some(msg), None, None).await
        }
    }
}

pub async fn duplicate(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    match super::duplicate(&state, id, &admin.session.username).await {
        Ok(new) => {
            Ok(Redirect::to(&format!("/admin/profiles/{new}?done=duplicated")).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let reassign = match field(&fields, "reassign").trim() {
        "" => None,
        v => Some(
            v.parse::<ProfileId>()
                .map_err(|_| AppError::bad_request("profile ids are numbers"))?,
        ),
    };
    match super::delete(&state, id, reassign, &admin.session.username).await {
        Ok(()) => Ok(Redirect::to("/admin/profiles").into_response()),
        Err(e @ ProfileError::InUse { .. }) => {
            edit_page(&state, &admin, id, None, Some(e.to_string()), None, None).await
        }
        Err(e) => Err(e.into()),
    }
}
