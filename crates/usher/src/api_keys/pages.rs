//! The API keys page: create (the key shown once), list with scope and last use, revoke.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use crate::domain::ApiScope;
use crate::state::AppState;
use crate::web::error::{AppError, AppResult, Failure};
use crate::web::extract::{Form, path_id};
use crate::web::visitor::Admin;
use crate::web::{page, ser};

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
            scopes => ApiScope::ALL.map(ApiScope::as_str),
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
    #[serde(default)]
    scope: String,
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Form(f): Form<CreateForm>,
) -> AppResult<Response> {
    match super::create(&state, &f.name, &f.scope, &admin.session.username).await {
        // Shown once, on this response only; never stored in the clear.
        Ok((row, key)) => render(&state, &admin, Some((row.name, key)), None).await,
        Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            render(&state, &admin, None, Some(e.message_key())).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    super::revoke(&state, path_id(&id)?, &admin.session.username)
        .await
        .map_err(AppError::from)?;
    Ok(Redirect::to("/admin/api-keys").into_response())
}
