//! `/api/v1/settings` and `/api/v1/notifications`: the settings (secrets only as `has_…`) and
//! notification channels.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::notify::channels;
use crate::state::AppState;
use crate::web::api::*;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Json, path_id};

use super::change::*;

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

pub(crate) async fn channel_get(
    State(state): State<AppState>,
    _c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let c = state
        .store
        .channel(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(ok(channel_json(&c)))
}

/// A channel as the API and `usher channel add|edit` take it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
    /// telegram, discord, email or webhook; only on creation.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    /// Discord or webhook receiver; on a change, left out keeps the stored one.
    #[serde(default)]
    url: String,
    /// The email channel's recipient.
    #[serde(default)]
    address: String,
    events: Vec<String>,
    #[serde(default)]
    lang: String,
    #[serde(default = "switched_on")]
    enabled: bool,
}

fn switched_on() -> bool {
    true
}

impl From<ChannelBody> for crate::notify::channels::ChannelInput {
    fn from(b: ChannelBody) -> Self {
        crate::notify::channels::ChannelInput {
            kind: b.kind,
            name: b.name,
            url: b.url,
            address: b.address,
            events: b.events,
            lang: b.lang,
            enabled: b.enabled,
        }
    }
}

/// A channel just made, with a webhook's signing secret (shown this once).
pub async fn created_json(
    state: &AppState,
    made: crate::notify::channels::Created,
) -> AppResult<Value> {
    let c = state
        .store
        .channel(made.id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut v = channel_json(&c);
    v["secret"] = made.secret.map(|s| s.expose().to_string()).into();
    Ok(v)
}

pub(crate) async fn channel_create(
    State(state): State<AppState>,
    c: ApiCaller,
    Json(b): Json<ChannelBody>,
) -> AppResult<Response> {
    let input = b.into();
    let made = channels::create(&state, &input, &c.actor).await?;
    if !input.enabled {
        channels::update(&state, made.id, &input, &c.actor).await?;
    }
    Ok(created(created_json(&state, made).await?))
}

pub(crate) async fn channel_update(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
    Json(b): Json<ChannelBody>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    channels::update(&state, id, &b.into(), &c.actor).await?;
    channel_get(State(state), c, Path(id.to_string())).await
}

pub(crate) async fn channel_delete(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    channels::delete(&state, id, &c.actor).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn channel_secret(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let secret = channels::new_secret(&state, id, &c.actor).await?;
    Ok(ok(json!({ "secret": secret })))
}

pub(crate) async fn channels_test(
    State(state): State<AppState>,
    c: ApiCaller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    match channels::send_test(&state, id, &c.actor).await? {
        Ok(()) => Ok(ok(json!({"sent": true}))),
        Err(e) => Err(AppError::new(
            StatusCode::BAD_GATEWAY,
            "delivery_failed",
            "settings-delivery-failed",
        )
        .with_detail(e.to_string())),
    }
}

fn channel_schema() -> Value {
    obj(&[
        ("id", int()),
        ("kind", string()),
        ("name", string()),
        ("target", nullable(string())),
        ("address", nullable(string())),
        ("events", arr(string())),
        ("lang", string()),
        ("enabled", boolean()),
        ("has_secret", boolean()),
        ("created_at", time()),
    ])
}

fn channel_body_schema() -> Value {
    needs(
        obj(&[
            ("kind", one_of(&["telegram", "discord", "email", "webhook"])),
            ("name", string()),
            ("url", string()),
            ("address", string()),
            ("events", arr(string())),
            ("lang", string()),
            ("enabled", boolean()),
        ]),
        &["events"],
    )
}

pub(crate) async fn settings_get(
    State(state): State<AppState>,
    _c: ApiCaller,
) -> AppResult<Response> {
    Ok(ok(settings_json(&state).await?))
}

/// The settings as the API and `usher settings show --json` give them. Secrets are write-only:
/// only whether one is set.
pub async fn settings_json(state: &AppState) -> Result<Value, crate::store::StoreError> {
    let s = state.store.settings().await?;
    let (public_url, source) = state.public.current();
    Ok(json!({
        "public_url": public_url.to_string(),
        "public_url_locked": source == crate::public_url::Source::Config,
        "owner_name": s.owner_name,
        "request_app_url": s.request_app_url,
        "community_url": s.community_url,
        "time_zone": s.time_zone,
        "requests": {
            "enabled": s.requests.enabled, "servers": s.requests.servers, "auto_approve": s.requests.auto_approve,
            "has_passphrase": s.requests.passphrase_hash.is_some(), "expiry_hours": s.requests.expiry_hours,
            "access_duration": s.requests.access_duration, "per_ip_per_hour": s.requests.per_ip_per_hour,
            "profile_id": s.requests.profile_id,
        },
        "telegram": { "has_token": s.telegram.token_sealed.is_some(), "allowed_ids": s.telegram.allowed_ids, "chat_id": s.telegram.chat_id, "mode": s.telegram.mode },
        "branding": {
            "name": s.branding.name, "accent": s.branding.accent,
            "logo_url": s.branding.logo.as_ref().map(crate::ui::brand::logo_path),
        },
        "smtp": { "host": s.smtp.host, "port": s.smtp.port, "security": s.smtp.security, "username": s.smtp.username, "has_password": s.smtp.password_sealed.is_some(), "from": s.smtp.from },
    }))
}

async fn changed(state: &AppState, result: Result<(), SettingsError>) -> AppResult<Response> {
    result?;
    Ok(ok(settings_json(state).await?))
}

pub(crate) async fn general_change(
    State(state): State<AppState>,
    c: ApiCaller,
    Json(b): Json<GeneralChange>,
) -> AppResult<Response> {
    changed(&state, change_general(&state, &b, &c.actor).await).await
}

pub(crate) async fn requests_change(
    State(state): State<AppState>,
    c: ApiCaller,
    Json(b): Json<RequestsChange>,
) -> AppResult<Response> {
    changed(&state, change_requests(&state, &b, &c.actor).await).await
}

pub(crate) async fn telegram_change(
    State(state): State<AppState>,
    c: ApiCaller,
    Json(b): Json<TelegramChange>,
) -> AppResult<Response> {
    changed(&state, change_telegram(&state, &b, &c.actor).await).await
}

pub(crate) async fn email_change(
    State(state): State<AppState>,
    c: ApiCaller,
    Json(b): Json<EmailChange>,
) -> AppResult<Response> {
    changed(&state, change_email(&state, &b, &c.actor).await).await
}

pub(crate) async fn branding_change(
    State(state): State<AppState>,
    c: ApiCaller,
    Json(b): Json<BrandingChange>,
) -> AppResult<Response> {
    changed(&state, change_branding(&state, &b, &c.actor).await).await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoBody {
    /// The image, base64 (standard alphabet, with or without padding).
    image: String,
}

pub(crate) async fn logo_put(
    State(state): State<AppState>,
    c: ApiCaller,
    Json(b): Json<LogoBody>,
) -> AppResult<Response> {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine.decode(b.image.trim()).map_err(|_| {
        AppError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "settings-brand-logo-base64",
        )
        .with_field("image")
    })?;
    changed(&state, set_logo(&state, Some(&bytes), &c.actor).await).await
}

pub(crate) async fn logo_delete(
    State(state): State<AppState>,
    c: ApiCaller,
) -> AppResult<Response> {
    changed(&state, set_logo(&state, None, &c.actor).await).await
}

pub(crate) async fn telegram_send_test(
    State(state): State<AppState>,
    c: ApiCaller,
) -> AppResult<Response> {
    test_telegram(&state, "en", &c.actor).await?;
    Ok(ok(json!({"sent": true})))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestEmailBody {
    to: String,
}

pub(crate) async fn email_send_test(
    State(state): State<AppState>,
    c: ApiCaller,
    Json(b): Json<TestEmailBody>,
) -> AppResult<Response> {
    test_email(&state, &b.to, "en", &c.actor).await?;
    Ok(ok(json!({"sent": true})))
}

fn settings_schema() -> Value {
    obj(&[
        ("public_url", string()),
        ("public_url_locked", boolean()),
        ("owner_name", string()),
        ("request_app_url", string()),
        ("community_url", string()),
        ("time_zone", string()),
        (
            "requests",
            obj(&[
                ("enabled", boolean()),
                ("servers", arr(int())),
                ("auto_approve", boolean()),
                ("has_passphrase", boolean()),
                ("expiry_hours", int()),
                ("access_duration", string()),
                ("per_ip_per_hour", int()),
                ("profile_id", nullable(int())),
            ]),
        ),
        (
            "telegram",
            obj(&[
                ("has_token", boolean()),
                ("allowed_ids", arr(int())),
                ("chat_id", nullable(int())),
                ("mode", string()),
            ]),
        ),
        (
            "smtp",
            obj(&[
                ("host", string()),
                ("port", int()),
                ("security", string()),
                ("username", string()),
                ("has_password", boolean()),
                ("from", string()),
            ]),
        ),
        (
            "branding",
            obj(&[
                ("name", string()),
                ("accent", nullable(string())),
                ("logo_url", nullable(string())),
            ]),
        ),
    ])
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
                || page_of(channel_schema()),
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
                "post",
                "/api/v1/notifications",
                "notifications",
                "Make a channel (a webhook's signing secret is in the answer, this once)",
                &[],
                Some(channel_body_schema),
                201,
                || {
                    let mut s = channel_schema();
                    s["properties"]["secret"] = nullable(string());
                    s
                },
            ),
            post(channel_create),
        ),
        (
            endpoint(
                "get",
                "/api/v1/notifications/{id}",
                "notifications",
                "One channel",
                ID,
                None,
                200,
                channel_schema,
            ),
            get(channel_get),
        ),
        (
            endpoint(
                "put",
                "/api/v1/notifications/{id}",
                "notifications",
                "Change a channel: name, events, language, on or off, the URL or address (the kind stays)",
                ID,
                Some(channel_body_schema),
                200,
                channel_schema,
            ),
            put(channel_update),
        ),
        (
            endpoint(
                "delete",
                "/api/v1/notifications/{id}",
                "notifications",
                "Delete a channel",
                ID,
                None,
                204,
                || json!({}),
            ),
            delete(channel_delete),
        ),
        (
            endpoint(
                "post",
                "/api/v1/notifications/{id}/secret",
                "notifications",
                "Replace a webhook channel's signing secret (the new one is in the answer, this once)",
                ID,
                None,
                200,
                || obj(&[("secret", string())]),
            ),
            post(channel_secret),
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
                settings_schema,
            ),
            get(settings_get),
        ),
        (
            endpoint(
                "patch",
                "/api/v1/settings/general",
                "settings",
                "Change your name, the request app and community links, your time zone and the public address (what is left out stays)",
                &[],
                Some(|| {
                    let body = obj(&[
                        ("owner_name", string()),
                        ("request_app_url", string()),
                        ("community_url", string()),
                        ("time_zone", string()),
                        ("public_url", string()),
                    ]);
                    or_null(
                        body,
                        &[
                            "owner_name",
                            "request_app_url",
                            "community_url",
                            "time_zone",
                            "public_url",
                        ],
                    )
                }),
                200,
                settings_schema,
            ),
            patch(general_change),
        ),
        (
            endpoint(
                "patch",
                "/api/v1/settings/requests",
                "settings",
                "Change the request form: open or closed, auto-approve, servers, profile, passphrase (null clears it), limits",
                &[],
                Some(|| {
                    let body = obj(&[
                        ("enabled", boolean()),
                        ("auto_approve", boolean()),
                        ("expiry_hours", int()),
                        ("per_ip_per_hour", int_in(0, i64::from(u32::MAX))),
                        ("access_duration", string()),
                        ("servers", arr(int())),
                        ("profile_id", nullable(int())),
                        ("passphrase", nullable(string())),
                    ]);
                    or_null(
                        body,
                        &[
                            "enabled",
                            "auto_approve",
                            "expiry_hours",
                            "per_ip_per_hour",
                            "access_duration",
                            "servers",
                        ],
                    )
                }),
                200,
                settings_schema,
            ),
            patch(requests_change),
        ),
        (
            endpoint(
                "patch",
                "/api/v1/settings/telegram",
                "settings",
                "Change the Telegram bot: token (null forgets it), allowed user ids, chat, polling or webhook",
                &[],
                Some(|| {
                    let body = obj(&[
                        ("token", nullable(string())),
                        ("allowed_ids", arr(int())),
                        ("chat_id", nullable(int())),
                        ("mode", one_of(&["polling", "webhook"])),
                    ]);
                    or_null(body, &["allowed_ids", "mode"])
                }),
                200,
                settings_schema,
            ),
            patch(telegram_change),
        ),
        (
            endpoint(
                "patch",
                "/api/v1/settings/email",
                "settings",
                "Change outgoing email: host, port, security, login (null forgets the password), sender",
                &[],
                Some(|| {
                    let body = obj(&[
                        ("host", string()),
                        ("port", int_in(0, 65_535)),
                        ("security", one_of(&["none", "starttls", "tls"])),
                        ("username", string()),
                        ("password", nullable(string())),
                        ("from", string()),
                    ]);
                    or_null(body, &["host", "port", "security", "username", "from"])
                }),
                200,
                settings_schema,
            ),
            patch(email_change),
        ),
        (
            endpoint(
                "patch",
                "/api/v1/settings/branding",
                "settings",
                "Change how friend pages carry your server: its name (\"Join {name}\", at most 60 characters) and accent colour (#rrggbb; null for usher's)",
                &[],
                Some(|| {
                    let body = obj(&[("name", string()), ("accent", nullable(string()))]);
                    or_null(body, &["name"])
                }),
                200,
                settings_schema,
            ),
            patch(branding_change),
        ),
        (
            endpoint(
                "put",
                "/api/v1/settings/branding/logo",
                "settings",
                "Set the logo friend pages show: a PNG, JPEG or WebP of at most 256 KB, base64 in `image`",
                &[],
                Some(|| needs(obj(&[("image", string())]), &["image"])),
                200,
                settings_schema,
            ),
            put(logo_put),
        ),
        (
            endpoint(
                "delete",
                "/api/v1/settings/branding/logo",
                "settings",
                "Remove the logo",
                &[],
                None,
                200,
                settings_schema,
            ),
            delete(logo_delete),
        ),
        (
            endpoint(
                "post",
                "/api/v1/settings/telegram/test",
                "settings",
                "Send a test message to the Telegram chat",
                &[],
                None,
                200,
                || obj(&[("sent", boolean())]),
            ),
            post(telegram_send_test),
        ),
        (
            endpoint(
                "post",
                "/api/v1/settings/email/test",
                "settings",
                "Send a test email",
                &[],
                Some(|| needs(obj(&[("to", string())]), &["to"])),
                200,
                || obj(&[("sent", boolean())]),
            ),
            post(email_send_test),
        ),
    ]
}
