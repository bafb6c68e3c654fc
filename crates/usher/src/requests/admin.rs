//! `/admin/requests`: the owner's queue with a library picker per request.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use super::{DecideError, Selection, ServerChoice};
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Form, field};
use crate::web::visitor::Admin;
use crate::web::{AppState, page, ser};

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    done: String,
}

async fn render(
    state: &AppState,
    admin: &Admin,
    notice: Option<&str>,
    error: Option<(i64, String)>,
) -> AppResult<Response> {
    // Expired requests are shown as expired even between sweeps.
    super::expire(state).await?;
    let settings = crate::settings::load(&state.store).await?;
    let requests = state.store.requests(300).await?;
    // The picker starts where every approval starts: the request profile or the defaults.
    let start = super::starting_selection(state, &settings).await?;
    let mut servers = Vec::new();
    for s in super::requestable_servers(state, &settings).await? {
        let chosen = start.servers.iter().find(|c| c.server_id == s.id);
        let libraries: Vec<Value> = state
            .store
            .libraries(s.id)
            .await?
            .into_iter()
            .filter(|l| l.enabled && l.present)
            .map(|l| {
                let ticked = match chosen {
                    Some(c) => c.libraries.contains(&l.remote_id),
                    None => l.is_default,
                };
                context! { ..ser(&l), ..context! { ticked } }
            })
            .collect();
        let permissions = chosen
            .map(|c| c.permissions.clone())
            .unwrap_or_else(|| crate::access::server_defaults(&s));
        servers.push(context! {
            server => ser(&s),
            libraries,
            plex => s.kind == "plex",
            ticked => chosen.is_some(),
            downloads => permissions.allow_downloads,
            live_tv => permissions.allow_live_tv,
        });
    }
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

fn parse_id(raw: &str) -> AppResult<i64> {
    raw.parse().map_err(|_| AppError::not_found())
}

/// `server=ID` for each chosen server; `lib_ID`, `downloads_ID`, `live_tv_ID`, `camera_ID`.
fn selection(fields: &[(String, String)]) -> AppResult<Selection> {
    // The same per-server fields as the invite form.
    let form = crate::invites::admin::parse_form(fields)?;
    Ok(Selection {
        servers: form
            .targets
            .into_iter()
            .map(|t| ServerChoice {
                server_id: t.server_id,
                libraries: t.libraries.unwrap_or_default(),
                permissions: t.permissions.unwrap_or_default(),
            })
            .collect(),
        duration: form.duration,
        profile_id: None,
    })
}

pub async fn approve(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let profile = field(&fields, "profile").trim().to_string();
    let selection = if profile.is_empty() {
        selection(&fields)?
    } else {
        let pid: i64 = profile
            .parse()
            .map_err(|_| AppError::bad_request("profile ids are numbers").with_field("profile"))?;
        crate::profiles::selection(&state, pid)
            .await
            .map_err(|e| AppError::bad_request(e.to_string()).with_field("profile"))?
    };
    match super::approve(&state, id, &selection, &admin.session.username).await {
        Ok(_) => {
            crate::telegram::show_outcome_later(&state, id);
            Ok(
                Redirect::to(&format!("/admin/requests?done=approved#request-{id}"))
                    .into_response(),
            )
        }
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
    let id = parse_id(&id)?;
    match super::decline(&state, id, Some(&form.reason), &admin.session.username).await {
        Ok(()) => {
            crate::telegram::show_outcome_later(&state, id);
            Ok(Redirect::to("/admin/requests?done=declined").into_response())
        }
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
