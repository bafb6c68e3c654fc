//! API keys in the web UI: create (shown once), list with last use, revoke.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use crate::state::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Form, path_id};
use crate::web::visitor::Admin;
use crate::web::{page, ser};

/// The API keys pages, as the router registers them.
pub fn routes(r: crate::web::Routes) -> crate::web::Routes {
    use crate::web::Access::Admin;
    r.get("/admin/api-keys", Admin, list)
        .post("/admin/api-keys", Admin, create)
        .post("/admin/api-keys/{id}/revoke", Admin, revoke)
}

/// A new key: `ush_` and 256 random bits.
pub fn new_key() -> String {
    format!("ush_{}", crate::crypto::random_token())
}

async fn render(
    state: &AppState,
    admin: &Admin,
    created: Option<(String, String)>,
    error: Option<&str>,
) -> AppResult<Response> {
    let keys = state.store.api_keys().await?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut res = page(
        state,
        &admin.visitor,
        "admin/api_keys.html",
        context! {
            keys => ser(&keys),
            created => created.map(|(name, key)| context! { name, key }),
            error,
            docs => "/api/docs",
        },
    )?
    .into_response();
    *res.status_mut() = status;
    Ok(res)
}

pub async fn list(State(state): State<AppState>, admin: Admin) -> AppResult<Response> {
    render(&state, &admin, None, None).await
}

#[derive(Deserialize, Default)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Form(f): Form<CreateForm>,
) -> AppResult<Response> {
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(crate::text::unprintable) {
        return render(&state, &admin, None, Some("api-key-bad-name")).await;
    }
    let key = new_key();
    let now = state.clock.now();
    state
        .store
        .insert_api_key(
            name,
            &key[..8],
            &crate::crypto::sha256_hex(key.as_bytes()),
            &admin.session.username,
            now,
        )
        .await?;
    state
        .store
        .append_event(
            crate::store::events::NewEvent {
                actor: &admin.session.username,
                action: "api_key.created",
                subject: Some(name),
                detail: None,
            },
            now,
        )
        .await?;
    // Shown once, on this response only; never stored in the clear.
    render(&state, &admin, Some((name.to_string(), key)), None).await
}

pub async fn revoke(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    if !state.store.revoke_api_key(id, state.clock.now()).await? {
        return Err(AppError::not_found());
    }
    state
        .store
        .append_event(
            crate::store::events::NewEvent {
                actor: &admin.session.username,
                action: "api_key.revoked",
                subject: Some(&id.to_string()),
                detail: None,
            },
            state.clock.now(),
        )
        .await?;
    Ok(Redirect::to("/admin/api-keys").into_response())
}
