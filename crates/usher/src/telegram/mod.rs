//! The Telegram bot: announces requests with ✅/❌ buttons, turns Approve into a library picker,
//! and answers a few commands. Updates arrive by long polling (default; works behind NAT) or by
//! webhook at `/telegram/webhook`. Only allow-listed user ids may act, and every press is
//! idempotent: the request's state in the database decides, never the button.

pub mod keyboard;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::domain::RequestStatus;
use crate::domain::settings::{Settings, TelegramMode};
use crate::notify::BotMessage;
use crate::notify::telegram::{TelegramApi, TelegramError, api};
use crate::requests::{self, DecideError, Selection, ServerChoice};
use crate::state::AppState;
use crate::store::requests::RequestRow;
use crate::text::escape_html as escape;
use keyboard::Callback;

/// This feature's pages and endpoints, as the router registers them.
pub fn routes(r: crate::web::Routes) -> crate::web::Routes {
    use crate::web::Access::Secret;
    r.post("/telegram/webhook", Secret, webhook)
}

/// The bot's language for messages to the owner.
const LANG: &str = crate::ui::i18n::DEFAULT_LANG;

fn t(state: &AppState, key: &str) -> String {
    state.i18n.text(LANG, key)
}

fn request_text(state: &AppState, r: &RequestRow) -> String {
    let mut s = format!(
        "<b>🙋 {}</b>\n<b>{}:</b> {}\n<b>{}:</b> {}",
        escape(&t(state, "tg-new-request")),
        escape(&t(state, "tg-name")),
        escape(&r.name),
        escape(&t(state, "tg-email")),
        escape(&r.email),
    );
    if let Some(note) = r.note.as_deref().filter(|n| !n.is_empty()) {
        s.push_str(&format!(
            "\n<b>{}:</b> {}",
            escape(&t(state, "tg-note")),
            escape(note)
        ));
    }
    s.push_str(&format!(
        "\n<i>{}</i>",
        escape(
            &state
                .i18n
                .get(
                    LANG,
                    "tg-expires",
                    &[("when", crate::clock::human(r.expires_at).into())]
                )
                .unwrap_or_default()
        )
    ));
    s
}

/// The message text for a request that is no longer waiting.
async fn outcome_text(state: &AppState, r: &RequestRow) -> String {
    let head = request_text(state, r);
    let by = escape(r.decided_by.as_deref().unwrap_or(""));
    let line = match r.status {
        RequestStatus::Approved => format!(
            "✅ {} {by}: {}",
            escape(&t(state, "tg-approved-by")),
            escape(r.outcome.as_deref().unwrap_or(""))
        ),
        RequestStatus::Declined => {
            let mut l = format!("❌ {} {by}", escape(&t(state, "tg-declined-by")));
            if let Some(reason) = &r.decline_reason {
                l.push_str(&format!(" ({})", escape(reason)));
            }
            l
        }
        RequestStatus::Expired => format!("⌛ {}", escape(&t(state, "tg-expired"))),
        RequestStatus::Pending => String::new(),
    };
    let settings = state.store.settings().await;
    let handoff = match settings {
        Ok(settings) => requests::handoff(state, &settings, r).await,
        Err(e) => Err(e),
    };
    let handoff = match handoff {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the request's personal link");
            None
        }
    };
    match handoff {
        // The owner can forward the link from the chat: Telegram makes it tappable.
        Some(h) => {
            let mailed = match &h.emailed_to {
                Some(to) => state
                    .i18n
                    .get(LANG, "tg-link-emailed", &[("email", to.clone().into())])
                    .unwrap_or_default(),
                None => t(state, "tg-link-not-emailed"),
            };
            format!(
                "{head}\n\n{line}\n\n🔗 {} {}\n{}",
                escape(&t(state, "tg-personal-link")),
                escape(&h.url),
                escape(&mailed)
            )
        }
        None => format!("{head}\n\n{line}"),
    }
}

/// One approve button per profile: (id, name).
async fn profile_buttons(state: &AppState) -> Vec<(i64, String)> {
    state
        .store
        .profiles()
        .await
        .unwrap_or_default()
        .into_iter()
        .take(8)
        .map(|p| (p.profile.id, p.profile.name))
        .collect()
}

/// Queues the new-request message with ✅/❌ (and a button per profile) for the owner's chat.
pub async fn queue_announcement(state: &AppState, r: &RequestRow) {
    let keyboard = keyboard::request_keyboard(
        r.id,
        &t(state, "tg-approve"),
        &t(state, "tg-decline"),
        &profile_buttons(state).await,
    );
    let message = BotMessage::Announce {
        request_id: r.id,
        html: request_text(state, r),
        keyboard,
    };
    crate::notify::to_bot(state, message).await;
}

/// Queues the change of a request's message into how it ended, without buttons.
pub async fn queue_outcome(state: &AppState, request_id: i64) {
    let request = match state.store.request(request_id).await {
        Ok(Some(r)) if !r.status.is_pending() => r,
        Ok(_) => return,
        Err(e) => {
            tracing::error!(error = %e, request = request_id, "could not read the request to show its outcome");
            return;
        }
    };
    let message = BotMessage::Outcome {
        request_id,
        html: outcome_text(state, &request).await,
    };
    crate::notify::to_bot(state, message).await;
}

/// Library rows the picker offers: every offered library of every requestable server, as
/// (library id, server id, label, sharing id).
async fn picker_libraries(
    state: &AppState,
    settings: &Settings,
) -> Result<Vec<(i64, i64, String, String)>, crate::store::StoreError> {
    let servers = requests::requestable_servers(state, settings).await?;
    let several = servers.len() > 1;
    let mut out = Vec::new();
    for s in servers {
        for l in state.store.libraries(s.id).await? {
            if l.enabled && l.present {
                let label = if several {
                    format!("{} · {}", l.name, s.name)
                } else {
                    l.name.clone()
                };
                out.push((l.id, s.id, label, l.remote_id));
            }
        }
    }
    Ok(out)
}

fn picker_selection(r: &RequestRow) -> Option<Vec<i64>> {
    r.picker.clone()
}

/// Who pressed, for the audit log and the message.
fn actor(from: &Value) -> String {
    let name = from["first_name"].as_str().unwrap_or("someone");
    match from["username"].as_str() {
        Some(u) => format!("{name} (@{u}) via Telegram"),
        None => format!("{name} via Telegram"),
    }
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

async fn handle_callback(state: &AppState, q: &Value) -> Result<(), TelegramError> {
    let settings = state
        .store
        .settings()
        .await
        .map_err(|e| TelegramError::Transport(e.to_string()))?;
    let Some(api) = api(state, &settings) else {
        return Ok(());
    };
    let query_id = q["id"].as_str().unwrap_or_default();
    let from_id = q["from"]["id"].as_i64().unwrap_or(0);
    if !settings.telegram.allowed_ids.contains(&from_id) {
        tracing::warn!(
            user = from_id,
            "a Telegram user who is not allowed pressed a button"
        );
        let _ = state
            .store
            .append_event(
                crate::store::events::NewEvent {
                    actor: &actor(&q["from"]),
                    action: "telegram.refused",
                    subject: Some(&format!("Telegram user {from_id}")),
                    detail: Some("not on the allowed list"),
                },
                state.clock.now(),
            )
            .await;
        return api
            .answer_callback(
                query_id,
                Some(&format!("⛔ {}", t(state, "tg-not-authorized"))),
            )
            .await;
    }
    let Some(cb) = Callback::parse(q["data"].as_str().unwrap_or_default()) else {
        return api
            .answer_callback(query_id, Some(&t(state, "tg-unknown-button")))
            .await;
    };
    let store_err = |e: crate::store::StoreError| TelegramError::Transport(e.to_string());
    let Some(r) = state
        .store
        .request(cb.request_id())
        .await
        .map_err(store_err)?
    else {
        return api
            .answer_callback(query_id, Some(&t(state, "tg-request-gone")))
            .await;
    };
    let (chat, msg) = (
        q["message"]["chat"]["id"].as_i64().unwrap_or(0),
        q["message"]["message_id"].as_i64().unwrap_or(0),
    );
    if !r.status.is_pending() || r.expires_at <= state.clock.now() {
        // Handled already (a double tap, another admin, the web) or expired: show how it ended.
        if r.status.is_pending() {
            requests::expire(state).await.map_err(store_err)?;
        }
        let r = state
            .store
            .request(r.id)
            .await
            .map_err(store_err)?
            .unwrap_or(r);
        api.edit_message(chat, msg, &outcome_text(state, &r).await, None)
            .await?;
        let key = if r.status == RequestStatus::Expired {
            "tg-already-expired"
        } else {
            "tg-already-handled"
        };
        return api.answer_callback(query_id, Some(&t(state, key))).await;
    }
    let who = actor(&q["from"]);
    match cb {
        Callback::Approve(_) | Callback::Toggle(..) => {
            let libs = picker_libraries(state, &settings)
                .await
                .map_err(store_err)?;
            let mut selected = match picker_selection(&r) {
                Some(s) => s,
                None => first_picks(state, &settings, &libs)
                    .await
                    .map_err(store_err)?,
            };
            if let Callback::Toggle(_, lib) = cb {
                if let Some(pos) = selected.iter().position(|id| *id == lib) {
                    selected.remove(pos);
                } else if libs.iter().any(|l| l.0 == lib) {
                    selected.push(lib);
                }
            }
            state
                .store
                .set_request_picker(r.id, &selected)
                .await
                .map_err(store_err)?;
            let rows: Vec<(i64, String, bool)> = libs
                .iter()
                .map(|l| (l.0, l.2.clone(), selected.contains(&l.0)))
                .collect();
            let kb = keyboard::picker_keyboard(
                r.id,
                &rows,
                &t(state, "tg-send"),
                &t(state, "tg-cancel"),
            );
            let text = format!(
                "{}\n\n{}",
                request_text(state, &r),
                escape(&t(state, "tg-pick-libraries"))
            );
            api.edit_message(chat, msg, &text, Some(kb)).await?;
            api.answer_callback(query_id, None).await
        }
        Callback::Cancel(_) => {
            let kb = keyboard::request_keyboard(
                r.id,
                &t(state, "tg-approve"),
                &t(state, "tg-decline"),
                &profile_buttons(state).await,
            );
            api.edit_message(chat, msg, &request_text(state, &r), Some(kb))
                .await?;
            api.answer_callback(query_id, None).await
        }
        Callback::Profile(_, pid) => {
            let Ok(selection) = crate::profiles::selection(state, pid).await else {
                return api
                    .answer_callback(query_id, Some(&t(state, "tg-unknown-button")))
                    .await;
            };
            api.answer_callback(query_id, Some(&t(state, "tg-working")))
                .await?;
            finish_approval(state, &api, &r, chat, msg, &selection, &who).await
        }
        Callback::Send(_) | Callback::Retry(_) => {
            let libs = picker_libraries(state, &settings)
                .await
                .map_err(store_err)?;
            let selected = match picker_selection(&r) {
                Some(s) => s,
                None => first_picks(state, &settings, &libs)
                    .await
                    .map_err(store_err)?,
            };
            let selection = selection_from(state, &settings, &libs, &selected)
                .await
                .map_err(store_err)?;
            // Acknowledge at once: provisioning may take a moment.
            api.answer_callback(query_id, Some(&t(state, "tg-working")))
                .await?;
            finish_approval(state, &api, &r, chat, msg, &selection, &who).await
        }
        Callback::Decline(_) => {
            match requests::decline(state, r.id, None, &who).await {
                Ok(()) | Err(DecideError::AlreadyDecided(_)) => {}
                Err(e) => tracing::warn!(error = %e, "decline from Telegram failed"),
            }
            let r = state
                .store
                .request(r.id)
                .await
                .map_err(store_err)?
                .unwrap_or(r);
            api.edit_message(chat, msg, &outcome_text(state, &r).await, None)
                .await?;
            api.answer_callback(query_id, None).await
        }
    }
}

/// Approves and turns the message into the outcome, or the error with a Retry button.
async fn finish_approval(
    state: &AppState,
    api: &TelegramApi,
    r: &RequestRow,
    chat: i64,
    msg: i64,
    selection: &Selection,
    who: &str,
) -> Result<(), TelegramError> {
    match requests::approve(state, r.id, selection, who).await {
        Ok(_) | Err(DecideError::AlreadyDecided(_)) => {
            let fresh = state
                .store
                .request(r.id)
                .await
                .ok()
                .flatten()
                .unwrap_or_else(|| r.clone());
            api.edit_message(chat, msg, &outcome_text(state, &fresh).await, None)
                .await
        }
        Err(e) => {
            let text = format!(
                "{}\n\n⚠️ {} {}",
                request_text(state, r),
                escape(&t(state, "tg-could-not-approve")),
                escape(&e.to_string())
            );
            api.edit_message(
                chat,
                msg,
                &text,
                Some(keyboard::retry_keyboard(r.id, &t(state, "tg-retry"))),
            )
            .await
        }
    }
}

/// The picker's first state: the libraries of the approval's starting selection.
async fn first_picks(
    state: &AppState,
    settings: &Settings,
    libs: &[(i64, i64, String, String)],
) -> Result<Vec<i64>, crate::store::StoreError> {
    let start = requests::starting_selection(state, settings).await?;
    Ok(libs
        .iter()
        .filter(|l| {
            start
                .servers
                .iter()
                .any(|c| c.server_id == l.1 && c.libraries.contains(&l.3))
        })
        .map(|l| l.0)
        .collect())
}

/// The approval the picker's ticks describe, with the starting selection's permissions and
/// duration (a request profile's, when one is set).
async fn selection_from(
    state: &AppState,
    settings: &Settings,
    libs: &[(i64, i64, String, String)],
    selected: &[i64],
) -> Result<Selection, crate::store::StoreError> {
    let start = requests::starting_selection(state, settings).await?;
    let mut servers: Vec<ServerChoice> = Vec::new();
    for s in requests::requestable_servers(state, settings).await? {
        let chosen: Vec<String> = libs
            .iter()
            .filter(|l| l.1 == s.id && selected.contains(&l.0))
            .map(|l| l.3.clone())
            .collect();
        if !chosen.is_empty() {
            let permissions = start
                .servers
                .iter()
                .find(|c| c.server_id == s.id)
                .map(|c| c.permissions.clone())
                .unwrap_or_else(|| s.defaults());
            servers.push(ServerChoice {
                server_id: s.id,
                libraries: chosen,
                permissions,
            });
        }
    }
    let unchanged = servers.len() == start.servers.len()
        && servers.iter().all(|c| {
            start
                .servers
                .iter()
                .any(|o| o.server_id == c.server_id && o.libraries == c.libraries)
        });
    Ok(Selection {
        servers,
        duration: start.duration,
        profile_id: if unchanged { start.profile_id } else { None },
    })
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
            let reply =
                match invite_command(state, &settings, &uses, days, &actor(&m["from"])).await {
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
    let servers = requests::requestable_servers(state, settings)
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
