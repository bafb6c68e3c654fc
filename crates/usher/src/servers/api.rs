//! `/api/v1/servers`: connected servers, their test, scan and libraries.

use crate::domain::ids::*;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::state::AppState;
use crate::web::api::*;
use crate::web::error::{AppError, AppResult, for_terminal};
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
        ("friend_url", nullable(string())),
        ("defaults", defaults_schema()),
        ("expiry", expiry_schema()),
    ])
}

fn defaults_schema() -> Value {
    obj(&[
        ("allow_downloads", boolean()),
        ("allow_live_tv", boolean()),
        ("allow_camera_upload", boolean()),
        ("max_sessions", nullable(int_in(0, i64::from(u32::MAX)))),
        ("request_default", boolean()),
    ])
}

fn expiry_schema() -> Value {
    obj(&[
        (
            "action",
            json!({"type": "string", "enum": ["disable", "remove", "disable_then_remove"]}),
        ),
        ("remove_after_days", nullable(int())),
    ])
}

/// What one server's sync found ([`crate::members::sync::SyncReport`]).
fn sync_report_schema() -> Value {
    obj(&[
        ("server_id", int()),
        ("server", string()),
        ("accounts", int()),
        ("imported", int()),
        ("activated", int()),
        ("gone", int()),
        ("back", int()),
    ])
}

pub(crate) fn library_schema() -> Value {
    obj(&[
        ("id", int()),
        ("name", string()),
        ("type", string()),
        ("sharing_id", string()),
        ("local_key", string()),
        ("offered", boolean()),
        ("default", boolean()),
        ("present", boolean()),
    ])
}

pub(crate) fn library_json(l: &crate::store::servers::LibraryRow) -> Value {
    json!({
        "id": l.id, "name": l.name, "type": l.kind, "sharing_id": l.remote_id, "local_key": l.local_key,
        "offered": l.enabled, "default": l.is_default, "present": l.present,
    })
}

pub(crate) fn server_json(s: &crate::store::servers::ServerSummary) -> Value {
    json!({
        "id": s.server.id, "name": s.server.name, "kind": s.server.kind, "url": s.server.url,
        "status": s.server.status, "status_message": s.server.status_message, "version": s.server.version,
        "library_count": s.library_count, "checked_at": s.server.checked_at.map(rfc3339),
        "friend_url": s.server.friend_url,
        "defaults": {
            "allow_downloads": s.server.default_allow_downloads, "allow_live_tv": s.server.default_allow_live_tv,
            "allow_camera_upload": s.server.default_allow_camera_upload, "max_sessions": s.server.default_max_sessions,
            "request_default": s.server.request_default,
        },
        "expiry": {"action": s.server.expiry_action, "remove_after_days": s.server.expiry_remove_after_days},
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

/// `PATCH /api/v1/servers/{id}`: what is left out stays as it is.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    name: Option<String>,
    url: Option<String>,
    token: Option<String>,
    username: Option<String>,
    /// The address friends open; `""` clears it.
    friend_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultsBody {
    allow_downloads: bool,
    allow_live_tv: bool,
    allow_camera_upload: bool,
    /// `null`: no limit.
    max_sessions: Option<i64>,
    request_default: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibrariesBody {
    /// Library ids (`id` in the library list) friends may be given.
    offered: Vec<i64>,
    /// Of those, the ones a new invite starts with.
    #[serde(default)]
    default: Vec<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpiryBody {
    action: String,
    remove_after_days: Option<i64>,
}

async fn summary(state: &AppState, id: ServerId) -> AppResult<Response> {
    let s = state
        .store
        .server_summary(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(ok(server_json(&s)))
}

pub(crate) async fn servers_edit(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
    Json(b): Json<EditBody>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let server = state
        .store
        .server(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let input = crate::servers::ServerInput {
        kind: server.kind.as_str().into(),
        name: b.name.unwrap_or(server.name),
        url: b.url.unwrap_or(server.url),
        token: b.token.unwrap_or_default().into(),
        username: b.username.unwrap_or_default(),
    };
    crate::servers::edit(&state, id, &input, &c.actor)
        .await
        .map_err(AppError::from)?;
    if let Some(friend_url) = b.friend_url {
        crate::servers::set_friend_url(&state, id, &friend_url, &c.actor)
            .await
            .map_err(AppError::from)?;
    }
    summary(&state, id).await
}

pub(crate) async fn servers_defaults(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
    Json(b): Json<DefaultsBody>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let defaults = crate::store::servers::ServerDefaults {
        allow_downloads: b.allow_downloads,
        allow_live_tv: b.allow_live_tv,
        allow_camera_upload: b.allow_camera_upload,
        max_sessions: b.max_sessions,
        request_default: b.request_default,
    };
    crate::servers::set_defaults(&state, id, defaults, &c.actor)
        .await
        .map_err(AppError::from)?;
    summary(&state, id).await
}

pub(crate) async fn servers_library_choices(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
    Json(b): Json<LibrariesBody>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    crate::servers::set_library_choices(&state, id, &b.offered, &b.default, &c.actor)
        .await
        .map_err(AppError::from)?;
    libraries_of(&state, id).await
}

pub(crate) async fn servers_expiry(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
    Json(b): Json<ExpiryBody>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let days = b
        .remove_after_days
        .map(|d| d.to_string())
        .unwrap_or_default();
    crate::servers::set_expiry_policy(&state, id, &b.action, &days, &c.actor)
        .await
        .map_err(AppError::from)?;
    summary(&state, id).await
}

pub(crate) async fn servers_sync(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let report = crate::members::sync::sync_server_as(&state, id, Some(&c.actor))
        .await
        .map_err(AppError::from)?;
    Ok(ok(json!(report)))
}

/// Syncs every server, each on its own: a server that fails is reported, the others still run.
pub(crate) async fn servers_sync_all(
    State(state): State<AppState>,
    c: ApiCaller,
) -> AppResult<Response> {
    let results = crate::members::sync::sync_all_as(&state, Some(&c.actor)).await?;
    let items: Vec<Value> = results
        .into_iter()
        .map(|(server, r)| match r {
            Ok(report) => json!(report),
            Err(e) => json!({"server": server, "error": for_terminal(&state.i18n, &e)}),
        })
        .collect();
    Ok(list(items, None))
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
    Ok(list(libs.iter().map(library_json).collect(), None))
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
                    needs(
                        obj(&[
                            (
                                "kind",
                                one_of(&media::ServerKind::ALL.map(media::ServerKind::as_str)),
                            ),
                            ("name", string()),
                            ("url", string()),
                            ("token", string()),
                            ("username", string()),
                        ]),
                        &["kind", "name", "url", "token"],
                    )
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
                "patch",
                "/api/v1/servers/{id}",
                "servers",
                "Rename, move or re-key a server (a new URL or token is checked first); fields left out stay",
                ID,
                Some(|| {
                    let body = obj(&[
                        ("name", string()),
                        ("url", string()),
                        ("token", string()),
                        ("username", string()),
                        ("friend_url", string()),
                    ]);
                    or_null(body, &["name", "url", "token", "username", "friend_url"])
                }),
                200,
                server_schema,
            ),
            patch(servers_edit),
        ),
        (
            endpoint(
                "put",
                "/api/v1/servers/{id}/defaults",
                "servers",
                "Where new grants start on this server, and whether approvals start with it ticked",
                ID,
                Some(|| {
                    needs(
                        defaults_schema(),
                        &[
                            "allow_downloads",
                            "allow_live_tv",
                            "allow_camera_upload",
                            "request_default",
                        ],
                    )
                }),
                200,
                server_schema,
            ),
            put(servers_defaults),
        ),
        (
            endpoint(
                "put",
                "/api/v1/servers/{id}/libraries",
                "servers",
                "Which libraries are offered and which are pre-checked (library ids from the list)",
                ID,
                Some(|| {
                    needs(
                        obj(&[("offered", arr(int())), ("default", arr(int()))]),
                        &["offered"],
                    )
                }),
                200,
                || page_of(library_schema()),
            ),
            put(servers_library_choices),
        ),
        (
            endpoint(
                "put",
                "/api/v1/servers/{id}/expiry",
                "servers",
                "What happens to access on this server when it ends",
                ID,
                Some(|| needs(expiry_schema(), &["action"])),
                200,
                server_schema,
            ),
            put(servers_expiry),
        ),
        (
            endpoint(
                "post",
                "/api/v1/servers/{id}/sync",
                "servers",
                "Compare the server's accounts with usher's members now",
                ID,
                None,
                200,
                sync_report_schema,
            ),
            post(servers_sync),
        ),
        (
            endpoint(
                "post",
                "/api/v1/servers/sync",
                "servers",
                "Compare every server's accounts with usher's members now (a server that fails has `error`)",
                &[],
                None,
                200,
                || {
                    let mut report = sync_report_schema();
                    report["properties"]["error"] = string();
                    page_of(report)
                },
            ),
            post(servers_sync_all),
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
