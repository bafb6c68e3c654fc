//! `/api/v1/servers`: connected servers, their test, scan and libraries.

use crate::domain::ids::*;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::state::AppState;
use crate::web::api::*;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Json, path_id};

pub(crate) fn server_schema() -> Value {
    obj(&[
        ("id", int()),
        ("name", string()),
        ("kind", string()),
        ("url", string()),
        ("status", string()),
        ("status_message", nullable(string())),
        ("version", nullable(string())),
        ("library_count", int()),
        ("checked_at", nullable(time())),
    ])
}

pub(crate) fn library_schema() -> Value {
    obj(&[
        ("id", int()),
        ("name", string()),
        ("type", string()),
        ("sharing_id", string()),
        ("offered", boolean()),
        ("default", boolean()),
        ("present", boolean()),
    ])
}

pub(crate) fn server_json(s: &crate::store::servers::ServerSummary) -> Value {
    json!({
        "id": s.server.id, "name": s.server.name, "kind": s.server.kind, "url": s.server.url,
        "status": s.server.status, "status_message": s.server.status_message, "version": s.server.version,
        "library_count": s.library_count, "checked_at": s.server.checked_at.map(rfc3339),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerBody {
    kind: String,
    name: String,
    url: String,
    token: String,
    /// For a kind that signs in (Navidrome): the administrator; `token` is their password.
    #[serde(default)]
    username: String,
}

pub(crate) async fn servers_list(
    State(state): State<AppState>,
    _c: ApiCaller,
) -> AppResult<Response> {
    let servers = state.store.servers().await?;
    Ok(list(servers.iter().map(server_json).collect(), None))
}

pub(crate) async fn servers_add(
    State(state): State<AppState>,
    c: ApiCaller,
    Json(b): Json<ServerBody>,
) -> AppResult<Response> {
    let input = crate::servers::ServerInput {
        kind: b.kind,
        name: b.name,
        url: b.url,
        token: b.token.into(),
        username: b.username,
    };
    let id = crate::servers::add(&state, &input, &c.actor)
        .await
        .map_err(AppError::from)?;
    let s = state
        .store
        .server_summary(id)
        .await?
        .ok_or_else(AppError::internal)?;
    Ok(created(server_json(&s)))
}

pub(crate) async fn servers_get(
    State(state): State<AppState>,
    _c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let s = state
        .store
        .server_summary(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(ok(server_json(&s)))
}

pub(crate) async fn servers_test(
    State(state): State<AppState>,
    _c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let p = crate::servers::test(&state, id)
        .await
        .map_err(AppError::from)?;
    Ok(ok(
        json!({"ok": true, "name": p.info.name, "version": p.info.version, "libraries": p.libraries.len(), "warning": p.info.warning}),
    ))
}

pub(crate) async fn servers_scan(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    crate::servers::scan(&state, id, &c.actor)
        .await
        .map_err(AppError::from)?;
    libraries_of(&state, id).await
}

pub(crate) async fn libraries_of(state: &AppState, id: ServerId) -> AppResult<Response> {
    state
        .store
        .server(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let libs = state.store.libraries(id).await?;
    let items = libs
        .iter()
        .map(|l| json!({"id": l.id, "name": l.name, "type": l.kind, "sharing_id": l.remote_id, "offered": l.enabled, "default": l.is_default, "present": l.present}))
        .collect();
    Ok(list(items, None))
}

pub(crate) async fn servers_libraries(
    State(state): State<AppState>,
    _c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    libraries_of(&state, path_id(&id)?).await
}

pub(crate) async fn servers_remove(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    crate::servers::remove(&state, path_id(&id)?, &c.actor)
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
                "/api/v1/servers",
                "servers",
                "List connected servers",
                &[],
                None,
                200,
                || page_of(server_schema()),
            ),
            get(servers_list),
        ),
        (
            endpoint(
                "post",
                "/api/v1/servers",
                "servers",
                "Connect a server (checked before it is saved)",
                &[],
                Some(|| {
                    obj(&[
                        ("kind", string()),
                        ("name", string()),
                        ("url", string()),
                        ("token", string()),
                        ("username", string()),
                    ])
                }),
                201,
                server_schema,
            ),
            post(servers_add),
        ),
        (
            endpoint(
                "get",
                "/api/v1/servers/{id}",
                "servers",
                "One server",
                ID,
                None,
                200,
                server_schema,
            ),
            get(servers_get),
        ),
        (
            endpoint(
                "delete",
                "/api/v1/servers/{id}",
                "servers",
                "Remove a server from usher",
                ID,
                None,
                204,
                || json!({}),
            ),
            delete(servers_remove),
        ),
        (
            endpoint(
                "post",
                "/api/v1/servers/{id}/test",
                "servers",
                "Test the connection",
                ID,
                None,
                200,
                || {
                    obj(&[
                        ("ok", boolean()),
                        ("name", string()),
                        ("version", string()),
                        ("libraries", int()),
                        ("warning", nullable(string())),
                    ])
                },
            ),
            post(servers_test),
        ),
        (
            endpoint(
                "post",
                "/api/v1/servers/{id}/scan",
                "servers",
                "Rescan libraries",
                ID,
                None,
                200,
                || page_of(library_schema()),
            ),
            post(servers_scan),
        ),
        (
            endpoint(
                "get",
                "/api/v1/servers/{id}/libraries",
                "servers",
                "A server's libraries with sharing ids",
                ID,
                None,
                200,
                || page_of(library_schema()),
            ),
            get(servers_libraries),
        ),
    ]
}
