//! `/admin/requests`: the owner's queue with a library picker per request.

use crate::domain::ids::*;
use crate::web::extract::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use super::{DecideError, Selection, ServerChoice};
use crate::state::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Form, field, path_id};
use crate::web::visitor::Admin;
use crate::web::{page, picker, ser};

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    done: String,
}

async fn render(
    state: &AppState,
    admin: &Admin,
    notice: Option<&str>,
    error: Option<(RequestId, String)>,
) -> AppResult<Response> {
    // Expired requests are shown as expired even between sweeps.
    super::expire(state).await?;
    let settings = state.store.settings().await?;
    let requests = state.store.requests(300).await?;
    // The picker starts where every approval starts: the request profile or the defaults.
    let start = super::starting_selection(state, &settings).await?;
    let requestable: Vec<ServerId> = state
        .store
        .requestable_servers(&settings)
        .await?
        .iter()
        .map(|s| s.id)
        .collect();
    let servers = picker::servers(
        state,
        picker::Start::Chosen(&start.servers),
        Some(&requestable),
    )
    .await?;
    let now = state.clock.now();
    let mut rows: Vec<Value> = Vec::with_capacity(requests.len());
    for r in &requests {
        let handoff = super::handoff(state, &settings, r).await?;
        let qr = handoff
            .as_ref()
            .and_then(|h| crate::web::svg::qr(&h.url))
            .map(Value::from_safe_string);
        rows.push(context! {
            r => ser(r),
            age_hours => (now - r.created_at) / 3600,
            left_hours => ((r.expires_at - now).max(0) + 3599) / 3600,
            handoff => handoff.as_ref().map(ser),
            qr,
        });
    }
    let res = page(
        state,
        &admin.visitor,
        "admin/requests.html",
        context! {
            requests => rows,
            servers,
            duration => settings.requests.access_duration,
            profiles => ser(state.store.profiles().await?),
            default_profile => settings.requests.profile_id,
            notice,
            error => error.map(|(id, message)| context! { id, message }),
        },
    )?
    .into_response();
    Ok(res)
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let notice = ["approved", "declined"].into_iter().find(|n| *n == q.done);
    render(&state, &admin, notice, None).await
}

/// The approval the picker describes (see [`picker::parse`]): every permission it showed, on
/// each chosen server.
async fn selection(state: &AppState, fields: &[(String, String)]) -> AppResult<Selection> {
    let mut servers = Vec::new();
    for (server_id, libraries, changes) in picker::parse(fields)? {
        let server = state.store.server(server_id).await?.ok_or_else(|| {
            AppError::bad_request("that server was removed").with_field("servers")
        })?;
        let permissions = server.permissions_with(Some(&changes)).map_err(|e| {
            AppError::bad_request(format!("{}: {e}", server.name)).with_field(e.field())
        })?;
        servers.push(ServerChoice {
            server_id,
            libraries,
            permissions,
        });
    }
    Ok(Selection {
        servers,
        duration: field(fields, "duration").to_string(),
        profile_id: None,
    })
}

pub async fn approve(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let profile = field(&fields, "profile").trim().to_string();
    let selection = if profile.is_empty() {
        selection(&state, &fields).await?
    } else {
        let pid: ProfileId = profile
            .parse()
            .map_err(|_| AppError::bad_request("profile ids are numbers").with_field("profile"))?;
        crate::profiles::selection(&state, pid)
            .await
            .map_err(|e| AppError::bad_request(e.to_string()).with_field("profile"))?
    };
    match super::approve(&state, id, &selection, &admin.session.username).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/admin/requests?done=approved#request-{id}")).into_response(),
        ),
        Err(DecideError::NotFound) => Err(AppError::not_found()),
        Err(DecideError::Store(e)) => {
            tracing::error!(error = %e, "approving a request failed");
            Err(AppError::internal())
        }
        Err(e) => {
            let mut res = render(&state, &admin, None, Some((id, e.to_string()))).await?;
            *res.status_mut() = match e {
                DecideError::AlreadyDecided(_) => StatusCode::CONFLICT,
                DecideError::Refused { .. } => StatusCode::BAD_GATEWAY,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            Ok(res)
        }
    }
}

#[derive(Deserialize, Default)]
pub struct DeclineForm {
    #[serde(default)]
    reason: String,
}

pub async fn decline(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<DeclineForm>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    match super::decline(&state, id, Some(&form.reason), &admin.session.username).await {
        Ok(()) => Ok(Redirect::to("/admin/requests?done=declined").into_response()),
        Err(DecideError::NotFound) => Err(AppError::not_found()),
        Err(DecideError::Store(e)) => {
            tracing::error!(error = %e, "declining a request failed");
            Err(AppError::internal())
        }
        Err(e) => {
            let mut res = render(&state, &admin, None, Some((id, e.to_string()))).await?;
            *res.status_mut() = StatusCode::CONFLICT;
            Ok(res)
        }
    }
}
