//! `/request`: the public form.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use super::{RequestInput, SubmitError, Submitted};
use crate::web::error::{AppError, AppResult};
use crate::web::extract::Form;
use crate::web::visitor::Visitor;
use crate::web::{AppState, page};

async fn form_context(state: &AppState) -> AppResult<(bool, bool, bool, String)> {
    let settings = crate::settings::load(&state.store).await?;
    let servers = super::requestable_servers(state, &settings).await?;
    let open = super::takes_requests(&settings, &servers);
    Ok((
        open,
        super::plex_only(&servers),
        settings.requests.passphrase_hash.is_some(),
        settings.owner_name,
    ))
}

pub async fn form(State(state): State<AppState>, visitor: Visitor) -> AppResult<Response> {
    let (open, plex_only, needs_passphrase, owner) = form_context(&state).await?;
    let status = if open {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let mut res = page(
        &state,
        &visitor,
        "request.html",
        context! { open, plex_only, needs_passphrase, owner, form => context! { name => "", email => "", note => "" }, error => () },
    )?
    .into_response();
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Deserialize, Default)]
pub struct RequestForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    passphrase: String,
    #[serde(default)]
    website: String,
}

pub async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<RequestForm>,
) -> AppResult<Response> {
    let input = RequestInput {
        name: form.name.clone(),
        email: form.email.clone(),
        note: form.note.clone(),
        passphrase: form.passphrase.clone(),
        website: form.website.clone(),
        lang: visitor.lang.to_string(),
    };
    let (key, status, field) = match super::submit(&state, &input, &visitor.ip.to_string()).await {
        Ok(Submitted::Approved(id)) => {
            // Servers where people choose their own login: straight to choosing it.
            let handoff = match state.store.request(id).await? {
                Some(r) => {
                    let settings = crate::settings::load(&state.store).await?;
                    super::handoff(&state, &settings, &r).await?
                }
                None => None,
            };
            let next = match handoff {
                Some(h) => format!("/i/{}", h.code),
                None => "/request/sent?approved=1".to_string(),
            };
            return Ok(Redirect::to(&next).into_response());
        }
        Ok(Submitted::Pending(_) | Submitted::Dropped) => {
            return Ok(Redirect::to("/request/sent").into_response());
        }
        Err(SubmitError::Closed) => {
            return Err(AppError::new(
                StatusCode::NOT_FOUND,
                "closed",
                "request-closed",
            ));
        }
        Err(SubmitError::Store(e)) => {
            tracing::error!(error = %e, "storing a request failed");
            return Err(AppError::internal());
        }
        Err(SubmitError::Invalid { field, key }) => {
            (key, StatusCode::UNPROCESSABLE_ENTITY, Some(field))
        }
        Err(SubmitError::Passphrase) => (
            "request-passphrase",
            StatusCode::FORBIDDEN,
            Some("passphrase"),
        ),
        Err(SubmitError::AlreadyPending) => (
            "request-already-pending",
            StatusCode::CONFLICT,
            Some("email"),
        ),
        Err(SubmitError::RateLimited) => {
            ("request-rate-limited", StatusCode::TOO_MANY_REQUESTS, None)
        }
    };
    let (open, plex_only, needs_passphrase, owner) = form_context(&state).await?;
    let mut res = page(
        &state,
        &visitor,
        "request.html",
        context! {
            open, plex_only, needs_passphrase, owner,
            form => context! { name => &form.name, email => &form.email, note => &form.note },
            error => context! { key, field },
        },
    )?
    .into_response();
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Deserialize, Default)]
pub struct SentQuery {
    #[serde(default)]
    approved: Option<String>,
}

pub async fn sent(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<SentQuery>,
) -> AppResult<Response> {
    let settings = crate::settings::load(&state.store).await?;
    Ok(page(
        &state,
        &visitor,
        "request_sent.html",
        context! { approved => q.approved.is_some(), hours => settings.requests.expiry_hours },
    )?
    .into_response())
}
