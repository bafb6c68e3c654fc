//! Sending what the outbox holds: claim a due delivery (with a lease, so a crashed sender's work
//! is picked up again), send it through its channel, and record the outcome: sent, retried later
//! with backoff, or failed for good with the reason.

use std::time::Duration;

use axum::http::HeaderMap;
use serde_json::Value;

use super::message;
use crate::clock::Timestamp;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::events::NewEvent;
use crate::store::notify::{ChannelRow, DeliveryRow};

/// Attempts before a delivery is given up (about three hours with the backoff).
pub const MAX_ATTEMPTS: i64 = 10;
/// How long a claimed delivery is ours before another sender may take it over.
const LEASE_SECONDS: i64 = 120;
/// The longest wait a receiver's `Retry-After` may ask for.
const MAX_RETRY_AFTER: i64 = 3600;

/// Why a message did not go out, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub message: String,
    pub retryable: bool,
    /// Seconds the receiver asked us to wait.
    pub retry_after: Option<i64>,
}

impl SendError {
    fn permanent(message: impl Into<String>) -> Self {
        SendError {
            message: message.into(),
            retryable: false,
            retry_after: None,
        }
    }

    fn transient(message: impl Into<String>) -> Self {
        SendError {
            message: message.into(),
            retryable: true,
            retry_after: None,
        }
    }
}

/// The wait before attempt `attempts + 1`: 30 s, doubling, at most an hour.
pub fn backoff(attempts: i64) -> i64 {
    crate::domain::rules::retry_delay(attempts - 1)
}

/// What happened to one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    Sent,
    Retrying(SendError),
    Failed(SendError),
    /// Not due, or someone else is sending it.
    Skipped,
}

/// Sends every delivery that is due now; returns how many were tried. The worker calls this in a
/// loop; tests call it after moving the clock.
pub async fn deliver_due(state: &AppState) -> Result<usize, StoreError> {
    let mut tried = 0;
    loop {
        let due = state.store.due_deliveries(state.clock.now(), 50).await?;
        if due.is_empty() {
            return Ok(tried);
        }
        let mut progressed = false;
        for id in due {
            if deliver_one(state, id).await? != Delivered::Skipped {
                tried += 1;
                progressed = true;
            }
        }
        if !progressed {
            return Ok(tried);
        }
    }
}

/// Claims and sends one delivery.
pub async fn deliver_one(
    state: &AppState,
    id: crate::domain::DeliveryId,
) -> Result<Delivered, StoreError> {
    let now = state.clock.now();
    let Some(d) = state.store.claim_delivery(id, now, LEASE_SECONDS).await? else {
        return Ok(Delivered::Skipped);
    };
    let (result, label) = match (d.channel_id, d.recipient.as_deref()) {
        (Some(channel_id), _) => match state.store.channel(channel_id).await? {
            Some(c) if c.enabled => (
                send(state, &c, &d.payload, &d.lang, Some(d.id)).await,
                c.name,
            ),
            Some(c) => (
                Err(SendError::permanent("the channel is switched off")),
                c.name,
            ),
            None => (
                Err(SendError::permanent("the channel was deleted")),
                format!("channel {channel_id}"),
            ),
        },
        (None, Some(to)) => (
            send_person_email(state, to, &d.lang, &d.payload).await,
            format!("email to {to}"),
        ),
        (None, None) => match serde_json::from_value::<super::BotMessage>(d.payload.clone()) {
            Ok(message) => (send_bot(state, &message).await, "the Telegram bot".into()),
            Err(_) => (
                Err(SendError::permanent("nowhere to send this")),
                String::new(),
            ),
        },
    };
    let now = state.clock.now();
    Ok(match result {
        Ok(()) => {
            state.store.delivery_sent(d.id, now).await?;
            Delivered::Sent
        }
        Err(e) if e.retryable && d.attempts < MAX_ATTEMPTS => {
            let wait = e
                .retry_after
                .map(|s| s.clamp(1, MAX_RETRY_AFTER))
                .unwrap_or(0)
                .max(backoff(d.attempts));
            tracing::warn!(delivery = %d.id, channel = %label, error = %e, "notification will be retried");
            state
                .store
                .delivery_retry(d.id, now + wait, &e.message, now)
                .await?;
            Delivered::Retrying(e)
        }
        Err(e) => {
            tracing::warn!(delivery = %d.id, channel = %label, error = %e, "notification failed for good");
            state.store.delivery_failed(d.id, &e.message, now).await?;
            give_up_event(state, &d, &label, &e, now).await?;
            Delivered::Failed(e)
        }
    })
}

async fn give_up_event(
    state: &AppState,
    d: &DeliveryRow,
    label: &str,
    e: &SendError,
    now: Timestamp,
) -> Result<(), StoreError> {
    let detail = format!(
        "{}: {} (after {} attempt{})",
        d.event,
        e.message,
        d.attempts,
        if d.attempts == 1 { "" } else { "s" }
    );
    state
        .store
        .append_event(
            NewEvent {
                actor: "usher",
                action: "notify.failed",
                subject: Some(label),
                detail: Some(&detail),
            },
            now,
        )
        .await
}

/// Sends a stored payload through a channel. `delivery` names the outbox row for receivers
/// that want to drop repeats (`X-Usher-Delivery`); the test button has none.
pub async fn send(
    state: &AppState,
    channel: &ChannelRow,
    payload: &Value,
    lang: &str,
    delivery: Option<crate::domain::DeliveryId>,
) -> Result<(), SendError> {
    let rendered = message::render(&state.i18n, lang, payload);
    let open = state.i18n.text(lang, "notify-open");
    use crate::domain::ChannelKind;
    match channel.kind {
        ChannelKind::Telegram => {
            send_telegram(state, &message::telegram_html(&rendered, &open)).await
        }
        ChannelKind::Discord => {
            let url = open_target(state, channel)?;
            let body = message::discord_body(&rendered, &open).to_string();
            post_json(state, &url, body.into_bytes(), HeaderMap::new()).await
        }
        ChannelKind::Webhook => {
            let url = open_target(state, channel)?;
            let secret = channel
                .secret_sealed
                .as_deref()
                .and_then(|s| state.key.open(s))
                .ok_or_else(|| {
                    SendError::permanent(
                        "the signing secret cannot be read; make a new one on the Notifications page",
                    )
                })?;
            let body = payload.to_string().into_bytes();
            let mut headers = HeaderMap::new();
            let event = payload["event"].as_str().unwrap_or_default();
            insert(&mut headers, "x-usher-event", event);
            insert(
                &mut headers,
                "x-usher-signature",
                &message::signature(&secret, &body),
            );
            if let Some(id) = delivery {
                insert(&mut headers, "x-usher-delivery", &id.to_string());
            }
            post_json(state, &url, body, headers).await
        }
        ChannelKind::Email => {
            let to = channel
                .address
                .as_deref()
                .ok_or_else(|| SendError::permanent("the channel has no address"))?;
            let (subject, body) = message::email_text(&rendered, &open);
            send_email(state, to, &subject, &body).await
        }
    }
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = value.parse() {
        headers.insert(name, v);
    }
}

fn open_target(state: &AppState, channel: &ChannelRow) -> Result<String, SendError> {
    channel
        .target_sealed
        .as_deref()
        .and_then(|s| state.key.open(s))
        .ok_or_else(|| {
            SendError::permanent(
                "the stored URL cannot be read; enter it again on the Notifications page",
            )
        })
}

async fn send_person_email(
    state: &AppState,
    to: &str,
    lang: &str,
    payload: &Value,
) -> Result<(), SendError> {
    let (subject, body) = message::person_email(&state.i18n, lang, payload);
    send_email(state, to, &subject, &body).await
}

async fn send_email(
    state: &AppState,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<(), SendError> {
    use super::email::EmailError;
    let settings = state
        .store
        .settings()
        .await
        .map_err(|e| SendError::transient(e.to_string()))?;
    match super::email::send(state, &settings.smtp, to, subject, body).await {
        Ok(()) => Ok(()),
        Err(e @ EmailError::Smtp(_)) => Err(SendError::transient(e.to_string())),
        Err(e) => Err(SendError::permanent(e.to_string())),
    }
}

/// Sends or updates the bot's message about a request.
async fn send_bot(state: &AppState, message: &super::BotMessage) -> Result<(), SendError> {
    use super::BotMessage;
    let failed = |e: StoreError| SendError::transient(e.to_string());
    let settings = state.store.settings().await.map_err(failed)?;
    let (Some(api), Some(chat)) = (
        super::telegram::api(state, &settings),
        settings.telegram.chat_id,
    ) else {
        return Err(SendError::permanent(
            "Telegram is not set up: add the bot token and the chat in Settings",
        ));
    };
    match message {
        BotMessage::Announce {
            request_id,
            html,
            keyboard,
        } => {
            let sent = api
                .send_message(chat, html, Some(keyboard.clone()))
                .await
                .map_err(telegram_failure)?;
            state
                .store
                .set_request_telegram(*request_id, chat, sent)
                .await
                .map_err(failed)
        }
        BotMessage::Outcome { request_id, html } => {
            let request = state.store.request(*request_id).await.map_err(failed)?;
            match request.and_then(|r| r.telegram_chat_id.zip(r.telegram_message_id)) {
                Some((chat, msg)) => match api.edit_message(chat, msg, html, None).await {
                    Err(e) if !e.is_not_modified() => Err(telegram_failure(e)),
                    _ => Ok(()),
                },
                // Its announcement is still on the way: the outcome follows it.
                None if state
                    .store
                    .bot_announcement_waiting(*request_id)
                    .await
                    .map_err(failed)? =>
                {
                    Err(SendError::transient(
                        "the request's announcement is not sent yet",
                    ))
                }
                None => Ok(()),
            }
        }
    }
}

async fn send_telegram(state: &AppState, html: &str) -> Result<(), SendError> {
    let settings = state
        .store
        .settings()
        .await
        .map_err(|e| SendError::transient(e.to_string()))?;
    let (Some(api), Some(chat)) = (
        crate::notify::telegram::api(state, &settings),
        settings.telegram.chat_id,
    ) else {
        return Err(SendError::permanent(
            "Telegram is not set up: add the bot token and the chat in Settings",
        ));
    };
    api.send_message(chat, html, None)
        .await
        .map(|_| ())
        .map_err(telegram_failure)
}

/// Whether trying again may help: Telegram is unreachable, busy (429, with its wait) or broken
/// (5xx); anything else it refused stays refused.
fn telegram_failure(e: crate::notify::telegram::TelegramError) -> SendError {
    use crate::notify::telegram::TelegramError;
    match e {
        e @ TelegramError::Transport(_) => SendError::transient(e.to_string()),
        TelegramError::Api {
            code,
            description,
            retry_after,
        } => {
            let message = format!("Telegram answered {code}: {description}");
            if code == 429 || code >= 500 {
                SendError {
                    message,
                    retryable: true,
                    retry_after,
                }
            } else {
                SendError::permanent(message)
            }
        }
    }
}

/// A transport error in words, without the URL (it may carry a token).
fn transport_error(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "the receiver did not answer in time".to_string()
    } else if e.is_connect() {
        "could not connect to the receiver".to_string()
    } else {
        "could not reach the receiver".to_string()
    };
    let mut source = std::error::Error::source(e);
    let mut last = String::new();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    if !last.is_empty() && !last.contains("://") {
        text.push_str(&format!(" ({last})"));
    }
    text
}

async fn post_json(
    state: &AppState,
    url: &str,
    body: Vec<u8>,
    headers: HeaderMap,
) -> Result<(), SendError> {
    let http = state
        .notifier
        .http()
        .ok_or_else(|| SendError::transient("no HTTP client"))?;
    let res = http
        .post(url)
        .header("content-type", "application/json")
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|e| SendError::transient(transport_error(&e)))?;
    let status = res.status();
    if status.is_success() {
        return Ok(());
    }
    let retry_after_header = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok());
    // Only the start of the answer: enough to explain, never a whole page.
    let text = tokio::time::timeout(Duration::from_secs(5), res.text())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let retry_after_body = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["retry_after"].as_f64());
    let explained = explain(status.as_u16(), &text);
    let code = status.as_u16();
    if code == 429 || code == 408 || status.is_server_error() {
        Err(SendError {
            message: explained,
            retryable: true,
            retry_after: retry_after_header
                .or(retry_after_body)
                .map(|s| s.ceil() as i64),
        })
    } else {
        Err(SendError::permanent(explained))
    }
}

/// `the receiver answered 404: Unknown Webhook`.
fn explain(status: u16, body: &str) -> String {
    let reason = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.trim().to_string());
    let reason: String = reason
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    if reason.is_empty() {
        format!("the receiver answered {status}")
    } else {
        format!("the receiver answered {status}: {reason}")
    }
}

/// The background sender: delivers what is due, then sleeps until the next delivery is due or
/// it is woken (something was queued), checking at least every 30 seconds. Sent deliveries are
/// kept for 30 days.
pub async fn worker(state: AppState) {
    let mut last_prune = 0;
    loop {
        if let Err(e) = deliver_due(&state).await {
            tracing::error!(error = %e, "notification sender could not read the outbox");
        }
        let now = state.clock.now();
        if now - last_prune > 3600 {
            last_prune = now;
            if let Err(e) = state.store.prune_deliveries(now - 30 * 86_400).await {
                tracing::warn!(error = %e, "could not prune sent notifications");
            }
        }
        let wait = match state.store.next_delivery_time().await {
            Ok(Some(t)) if t > now => (t - now).min(30),
            Ok(Some(_)) => 1,
            _ => 30,
        };
        tokio::select! {
            _ = state.notifier.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(wait as u64)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_thirty_seconds_to_an_hour() {
        assert_eq!(backoff(1), 30);
        assert_eq!(backoff(2), 60);
        assert_eq!(backoff(3), 120);
        assert_eq!(backoff(9), 3600);
        let total: i64 = (1..MAX_ATTEMPTS).map(backoff).sum();
        assert!((2 * 3600..6 * 3600).contains(&total), "{total}");
    }

    #[test]
    fn receiver_answers_are_explained_briefly() {
        assert_eq!(
            explain(404, r#"{"message": "Unknown Webhook", "code": 10015}"#),
            "the receiver answered 404: Unknown Webhook"
        );
        assert_eq!(explain(500, ""), "the receiver answered 500");
        assert_eq!(explain(400, &"x".repeat(1000)).matches('x').count(), 200);
    }
}
