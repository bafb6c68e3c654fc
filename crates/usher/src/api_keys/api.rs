//! `/api/v1/api-keys`: the keys, one made (the key in that answer only), one revoked.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::state::AppState;
use crate::store::api_keys::ApiKeyRow;
use crate::web::api::*;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Json, path_id};

fn key_schema() -> Value {
    obj(&[
        ("id", int()),
        ("name", string()),
        ("scope", scope_enum()),
        ("prefix", string()),
        ("created_by", string()),
        ("created_at", time()),
        ("last_used_at", nullable(time())),
        ("revoked_at", nullable(time())),
    ])
}

fn scope_enum() -> Value {
    json!({"type": "string", "enum": crate::domain::ApiScope::ALL.map(crate::domain::ApiScope::as_str)})
}

pub(crate) fn key_json(k: &ApiKeyRow) -> Value {
    json!({
        "id": k.id, "name": k.name, "scope": k.scope, "prefix": k.prefix, "created_by": k.created_by,
        "created_at": rfc3339(k.created_at), "last_used_at": k.last_used_at.map(rfc3339),
        "revoked_at": k.revoked_at.map(rfc3339),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    name: String,
    scope: String,
}

async fn keys_list(State(state): State<AppState>, _c: ApiCaller) -> AppResult<Response> {
    let keys = state.store.api_keys().await?;
    Ok(list(keys.iter().map(key_json).collect(), None))
}

async fn keys_create(
    State(state): State<AppState>,
    c: ApiCaller,
    Json(b): Json<KeyBody>,
) -> AppResult<Response> {
    let (row, key) = super::create(&state, &b.name, &b.scope, &c.actor)
        .await
        .map_err(AppError::from)?;
    let mut body = key_json(&row);
    body["key"] = Value::String(key);
    Ok(created(body))
}

async fn keys_revoke(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    super::revoke(&state, path_id(&id)?, &c.actor)
        .await
        .map_err(AppError::from)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// This feature's API endpoints with their documentation.
pub fn endpoints() -> Vec<(Endpoint, MethodRouter<AppState>)> {
    vec![
        (
            endpoint(
                "get",
                "/api/v1/api-keys",
                "api-keys",
                "List API keys with their scope and last use (never the keys)",
                &[],
                None,
                200,
                || page_of(key_schema()),
            ),
            get(keys_list),
        ),
        (
            endpoint(
                "post",
                "/api/v1/api-keys",
                "api-keys",
                "Make an API key; the answer holds the key, shown this once",
                &[],
                Some(|| {
                    needs(
                        obj(&[("name", string()), ("scope", scope_enum())]),
                        &["name", "scope"],
                    )
                }),
                201,
                || {
                    let mut s = key_schema();
                    s["properties"]["key"] = string();
                    s
                },
            ),
            post(keys_create),
        ),
        (
            endpoint(
                "delete",
                "/api/v1/api-keys/{id}",
                "api-keys",
                "Revoke an API key (scripts using it stop at once)",
                ID,
                None,
                204,
                || json!({}),
            ),
            delete(keys_revoke),
        ),
    ]
}
