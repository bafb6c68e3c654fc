//! `/api/v1/settings` and `/api/v1/notifications`: the settings (secrets only as `has_…`) and
//! notification channels.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::state::AppState;
use crate::web::api::*;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::path_id;

pub(crate) fn channel_json(c: &crate::store::notify::ChannelRow) -> Value {
    json!({
        "id": c.id, "kind": c.kind, "name": c.name, "target": c.target_hint, "address": c.address,
        "events": c.event_list(), "lang": c.lang, "enabled": c.enabled,
        "has_secret": c.secret_sealed.is_some(), "created_at": rfc3339(c.created_at),
    })
}

pub(crate) async fn channels_list(
    State(state): State<AppState>,
    _c: ApiCaller,
) -> AppResult<Response> {
    let channels = state.store.channels().await?;
    Ok(list(channels.iter().map(channel_json).collect(), None))
}

pub(crate) async fn channels_test(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    match crate::notify::channels::send_test(&state, id, &c.actor).await {
        Ok(Ok(())) => Ok(ok(json!({"sent": true}))),
        Ok(Err(e)) => Err(AppError::new(
            StatusCode::BAD_GATEWAY,
            "delivery_failed",
            "error-bad-request",
        )
        .with_detail(e.to_string())),
        Err(crate::notify::channels::ChannelError::NotFound) => Err(AppError::not_found()),
        Err(e) => Err(AppError::bad_request(e.to_string())),
    }
}

pub(crate) async fn settings_get(
    State(state): State<AppState>,
    _c: ApiCaller,
) -> AppResult<Response> {
    let s = state.store.settings().await?;
    // Secrets are write-only: only whether one is set.
    Ok(ok(json!({
        "owner_name": s.owner_name,
        "request_app_url": s.request_app_url,
        "community_url": s.community_url,
        "requests": {
            "enabled": s.requests.enabled, "servers": s.requests.servers, "auto_approve": s.requests.auto_approve,
            "has_passphrase": s.requests.passphrase_hash.is_some(), "expiry_hours": s.requests.expiry_hours,
            "access_duration": s.requests.access_duration, "per_ip_per_hour": s.requests.per_ip_per_hour,
        },
        "telegram": { "has_token": s.telegram.token_sealed.is_some(), "allowed_ids": s.telegram.allowed_ids, "chat_id": s.telegram.chat_id, "mode": s.telegram.mode },
        "smtp": { "host": s.smtp.host, "port": s.smtp.port, "security": s.smtp.security, "username": s.smtp.username, "has_password": s.smtp.password_sealed.is_some(), "from": s.smtp.from },
    })))
}

/// This feature's API endpoints with their documentation.
pub fn endpoints() -> Vec<(Endpoint, MethodRouter<AppState>)> {
    vec![
        (
            endpoint(
                "get",
                "/api/v1/notifications",
                "notifications",
                "Notification channels (secrets never included)",
                &[],
                None,
                200,
                || {
                    page_of(obj(&[
                        ("id", int()),
                        ("kind", string()),
                        ("name", string()),
                        ("target", nullable(string())),
                        ("events", arr(string())),
                        ("enabled", boolean()),
                    ]))
                },
            ),
            get(channels_list),
        ),
        (
            endpoint(
                "post",
                "/api/v1/notifications/{id}/test",
                "notifications",
                "Send a test through a channel",
                ID,
                None,
                200,
                || obj(&[("sent", boolean())]),
            ),
            post(channels_test),
        ),
        (
            endpoint(
                "get",
                "/api/v1/settings",
                "settings",
                "Settings (secrets only as has_…)",
                &[],
                None,
                200,
                || obj(&[("owner_name", string())]),
            ),
            get(settings_get),
        ),
    ]
}
