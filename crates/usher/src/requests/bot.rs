//! The Telegram bot's side of the request queue: the announcement of a new request with ✅/❌
//! (and a button per profile), the library picker Approve opens, and the message each request
//! ends as. Messages go out through the outbox; button presses arrive through the telegram
//! feature's polling or webhook and are handled here. Every press is idempotent: the request's
//! state in the database decides, never the button.

use crate::domain::ids::*;
use serde_json::Value;

use super::keyboard::{self, Callback};
use super::{DecideError, Selection, ServerChoice};
use crate::domain::RequestStatus;
use crate::domain::settings::Settings;
use crate::notify::BotMessage;
use crate::notify::telegram::{TelegramApi, TelegramError, api};
use crate::state::AppState;
use crate::store::requests::RequestRow;
use crate::text::escape_html as escape;

/// The bot's language for messages to the owner.
pub(crate) const LANG: &str = crate::ui::i18n::DEFAULT_LANG;

pub(crate) fn t(state: &AppState, key: &str) -> String {
    state.i18n.text(LANG, key)
}

pub(crate) fn request_text(state: &AppState, r: &RequestRow) -> String {
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
        Ok(settings) => super::handoff(state, &settings, r).await,
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
pub(crate) async fn profile_buttons(state: &AppState) -> Vec<(ProfileId, String)> {
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
pub async fn queue_outcome(state: &AppState, request_id: RequestId) {
    let request = match state.store.request(request_id).await {
        Ok(Some(r)) if !r.status.is_pending() => r,
        Ok(_) => return,
        Err(e) => {
            tracing::error!(error = %e, request = %request_id, "could not read the request to show its outcome");
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
) -> Result<Vec<(i64, ServerId, String, String)>, crate::store::StoreError> {
    let servers = state.store.requestable_servers(settings).await?;
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

/// Who is writing to the bot: the admin their Telegram account is linked to (named as in the
/// rest of usher, and held to their role), or an allow-listed account linked to no one.
pub(crate) struct Presser {
    pub name: String,
    /// `None` when the account is linked to no admin: the allow-list alone vouches for it.
    pub role: Option<crate::domain::Role>,
}

impl Presser {
    /// Whether the presser may do what `needed` allows.
    pub fn may(&self, needed: crate::domain::Role) -> bool {
        self.role.is_none_or(|r| r.allows(needed))
    }
}

pub(crate) async fn presser(
    state: &AppState,
    from: &Value,
) -> Result<Presser, crate::store::StoreError> {
    let id = from["id"].as_i64().unwrap_or(0);
    Ok(match state.store.admin_by_telegram(id).await? {
        Some(admin) => Presser {
            name: admin.username,
            role: Some(admin.role),
        },
        None => Presser {
            name: actor(from),
            role: None,
        },
    })
}

/// Who pressed, as Telegram names them, for an account linked to no admin.
pub(crate) fn actor(from: &Value) -> String {
    let name = from["first_name"].as_str().unwrap_or("someone");
    match from["username"].as_str() {
        Some(u) => format!("{name} (@{u}) via Telegram"),
        None => format!("{name} via Telegram"),
    }
}

pub(crate) async fn handle_callback(state: &AppState, q: &Value) -> Result<(), TelegramError> {
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
            super::expire(state).await.map_err(store_err)?;
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
    let who = presser(state, &q["from"]).await.map_err(store_err)?.name;
    match cb {
        Callback::Approve(_) | Callback::Toggle(..) => {
            let libs = picker_libraries(state, &settings)
                .await
                .map_err(store_err)?;
            let mut selected = match r.picker.clone() {
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
            let selected = match r.picker.clone() {
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
            match super::decline(state, r.id, None, &who).await {
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
    match super::approve(state, r.id, selection, who).await {
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
    libs: &[(i64, ServerId, String, String)],
) -> Result<Vec<i64>, crate::store::StoreError> {
    let start = super::starting_selection(state, settings).await?;
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
    libs: &[(i64, ServerId, String, String)],
    selected: &[i64],
) -> Result<Selection, crate::store::StoreError> {
    let start = super::starting_selection(state, settings).await?;
    let mut servers: Vec<ServerChoice> = Vec::new();
    for s in state.store.requestable_servers(settings).await? {
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
