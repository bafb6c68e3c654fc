//! The Telegram bot's transport and commands: updates arrive by long polling (default; works
//! behind NAT) or by webhook at `/telegram/webhook`, only allow-listed user ids may act, and a
//! few commands are answered here. Button presses on requests go to the request queue's bot
//! ([`crate::requests::bot`]), which also writes what the bot says about each request.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::domain::settings::{Settings, TelegramMode};
use crate::notify::telegram::{TelegramApi, TelegramError, api};
use crate::requests::bot::{LANG, handle_callback, presser, profile_buttons, request_text, t};
use crate::requests::keyboard;
use crate::state::AppState;
use crate::text::escape_html as escape;

/// This feature's pages and endpoints, as the router registers them.
pub fn routes(r: crate::web::Routes) -> crate::web::Routes {
    use crate::web::Access::Secret;
    r.post("/telegram/webhook", Secret, webhook)
}

/// Handles one update from Telegram (by polling or webhook).
pub async fn handle_update(state: &AppState, update: &Value) {
    let result = if update.get("callback_query").is_some() {
        handle_callback(state, &update["callback_query"]).await
    } else if update.get("message").is_some() {
        handle_message(state, &update["message"]).await
    } else {
        Ok(())
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "a Telegram update could not be handled");
    }
}

async fn handle_message(state: &AppState, m: &Value) -> Result<(), TelegramError> {
    let text = m["text"].as_str().unwrap_or_default().trim();
    if !text.starts_with('/') {
        return Ok(());
    }
    let settings = state
        .store
        .settings()
        .await
        .map_err(|e| TelegramError::Transport(e.to_string()))?;
    let Some(api) = api(state, &settings) else {
        return Ok(());
    };
    let chat = m["chat"]["id"].as_i64().unwrap_or(0);
    let from_id = m["from"]["id"].as_i64().unwrap_or(0);
    if !settings.telegram.allowed_ids.contains(&from_id) {
        let reply = state
            .i18n
            .get(LANG, "tg-not-allowed-id", &[("id", from_id.into())])
            .unwrap_or_default();
        api.send_message(chat, &escape(&reply), None).await?;
        return Ok(());
    }
    let mut words = text.split_whitespace();
    let command = words
        .next()
        .unwrap_or_default()
        .split('@')
        .next()
        .unwrap_or_default();
    let store_err = |e: crate::store::StoreError| TelegramError::Transport(e.to_string());
    // The queue is every admin's; making invites and the numbers need the admin role.
    let who = presser(state, &m["from"]).await.map_err(store_err)?;
    if matches!(command, "/invite" | "/stats") && !who.may(crate::domain::Role::Admin) {
        let reply = format!("⛔ {}", escape(&t(state, "tg-role-queue-only")));
        api.send_message(chat, &reply, None).await?;
        return Ok(());
    }
    match command {
        "/pending" => {
            let pending = state.store.pending_requests().await.map_err(store_err)?;
            if pending.is_empty() {
                api.send_message(chat, &escape(&t(state, "tg-no-pending")), None)
                    .await?;
            }
            for r in pending {
                let kb = keyboard::request_keyboard(
                    r.id,
                    &t(state, "tg-approve"),
                    &t(state, "tg-decline"),
                    &profile_buttons(state).await,
                );
                let id = api
                    .send_message(chat, &request_text(state, &r), Some(kb))
                    .await?;
                state
                    .store
                    .set_request_telegram(r.id, chat, id)
                    .await
                    .map_err(store_err)?;
            }
        }
        "/invite" => {
            let uses = words.next().unwrap_or("1").to_string();
            let days = words.next().unwrap_or("7");
            let reply = match invite_command(state, &settings, &uses, days, &who.name).await {
                Ok(url) => format!(
                    "🔗 {}\n{}",
                    escape(&t(state, "tg-invite-created")),
                    escape(&url)
                ),
                Err(e) => format!("⚠️ {}", escape(&e)),
            };
            api.send_message(chat, &reply, None).await?;
        }
        "/stats" => {
            let now = state.clock.now();
            let counts = state.store.invite_counts(now).await.map_err(store_err)?;
            let pending = state
                .store
                .pending_request_count()
                .await
                .map_err(store_err)?;
            let week = state
                .store
                .redemptions_since(now - 7 * 86_400)
                .await
                .map_err(store_err)?;
            let members = state.store.members_per_server().await.map_err(store_err)?;
            let mut s = state
                .i18n
                .get(
                    LANG,
                    "tg-stats",
                    &[
                        ("pending", pending.into()),
                        ("invites", counts.active.into()),
                        ("week", week.into()),
                    ],
                )
                .unwrap_or_default();
            for (name, n) in members {
                s.push_str(&format!("\n• {name}: {n}"));
            }
            api.send_message(chat, &escape(&s), None).await?;
        }
        _ => {
            api.send_message(chat, &escape(&t(state, "tg-help")), None)
                .await?;
        }
    }
    Ok(())
}

/// `/invite [uses] [days]`: an invite to every requestable server with default libraries.
async fn invite_command(
    state: &AppState,
    settings: &Settings,
    uses: &str,
    days: &str,
    who: &str,
) -> Result<String, String> {
    let days: i64 = days
        .parse()
        .ok()
        .filter(|d| (1..=365).contains(d))
        .ok_or_else(|| t(state, "tg-invite-usage"))?;
    let servers = state
        .store
        .requestable_servers(settings)
        .await
        .map_err(|e| e.to_string())?;
    let input = crate::invites::CreateInput {
        targets: servers
            .iter()
            .map(|s| crate::invites::TargetInput {
                server_id: s.id,
                libraries: None,
                permissions: None,
            })
            .collect(),
        uses: uses.to_string(),
        expires: format!("{days}d"),
        duration: settings.requests.access_duration.clone(),
        label: "Telegram".into(),
        ..Default::default()
    };
    let invite = crate::invites::create(state, &input, who)
        .await
        .map_err(|e| e.to_string())?;
    Ok(crate::invites::invite_url(state, &invite.code))
}

/// Asks Telegram for updates once (long polling) and handles them; returns the next offset.
pub async fn poll_once(
    state: &AppState,
    api: &TelegramApi,
    offset: i64,
    timeout: u32,
) -> Result<i64, TelegramError> {
    let updates = api.get_updates(offset, timeout).await?;
    let mut next = offset;
    for u in &updates {
        next = next.max(u["update_id"].as_i64().unwrap_or(0) + 1);
        handle_update(state, u).await;
    }
    Ok(next)
}

/// The polling loop of a running server. It re-reads the settings each round, so switching the
/// bot on, off or to webhook mode needs no restart.
pub async fn polling_loop(state: AppState) {
    let mut offset = 0;
    let mut backoff = 1u64;
    loop {
        let settings = state.store.settings().await.unwrap_or_default();
        let api = match (settings.telegram.mode, api(&state, &settings)) {
            (TelegramMode::Polling, Some(api)) => api,
            _ => {
                tokio::time::sleep(std::time::Duration::from_secs(15)).await;
                continue;
            }
        };
        match poll_once(&state, &api, offset, 25).await {
            Ok(next) => {
                offset = next;
                backoff = 1;
            }
            Err(e) => {
                let wait = match &e {
                    TelegramError::Api {
                        retry_after: Some(s),
                        ..
                    } => *s as u64,
                    _ => backoff,
                };
                tracing::warn!(error = %e, "Telegram polling failed; retrying in {wait}s");
                tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
                backoff = (backoff * 2).min(60);
            }
        }
    }
}

/// `POST /telegram/webhook`: only Telegram knows the secret it was given at `setWebhook`.
pub async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(settings) = state.store.settings().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let given = headers
        .get("x-telegram-bot-api-secret-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let expected = settings.telegram.webhook_secret(&state.key);
    if settings.telegram.mode != TelegramMode::Webhook
        || !expected.is_some_and(|e| {
            crate::crypto::constant_time_eq(given.as_bytes(), e.expose().as_bytes())
        })
    {
        return (StatusCode::UNAUTHORIZED, "missing or wrong secret token").into_response();
    }
    let Ok(update) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not a Telegram update").into_response();
    };
    handle_update(&state, &update).await;
    StatusCode::OK.into_response()
}

/// Tells Telegram where updates go: the webhook (https public URL) or nowhere (polling).
pub async fn register(state: &AppState, settings: &Settings) -> Result<(), TelegramError> {
    let Some(api) = api(state, settings) else {
        return Ok(());
    };
    match settings.telegram.mode {
        TelegramMode::Webhook => {
            let url = format!("{}/telegram/webhook", state.public.base());
            let secret = settings
                .telegram
                .webhook_secret(&state.key)
                .unwrap_or_default();
            api.set_webhook(&url, secret.expose()).await
        }
        TelegramMode::Polling => api.delete_webhook().await,
    }
}
