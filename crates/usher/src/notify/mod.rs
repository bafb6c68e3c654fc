//! Telling people things. The owner's channels (Telegram, Discord, email, a generic signed JSON
//! webhook) each choose the events they hear about; members get their expiry reminders by email.
//!
//! Nothing here blocks the action that caused a notification: [`emit`] only writes deliveries to
//! the outbox table, and a background [`worker`] sends them, retrying with backoff and giving up
//! after [`deliver::MAX_ATTEMPTS`] with the reason recorded. Tests call [`deliver_due`] after
//! moving the manual clock instead of running the worker.

pub mod channels;
pub mod deliver;
pub mod email;
pub mod message;
pub mod telegram;

use crate::domain::ids::*;
use serde_json::{Map, Value};

use crate::clock::Timestamp;
use crate::domain::JobKind;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::events::NewEvent;
use crate::store::invites::GrantRow;
use crate::store::notify::NewDelivery;

pub use deliver::{deliver_due, worker};

/// What a channel can hear about. The strings are part of the webhook payload: never rename them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    RequestCreated,
    RequestApproved,
    RequestDeclined,
    InviteRedeemed,
    ProvisioningFailed,
    MemberExpiring,
    MemberExpired,
    MemberRemoved,
    RemovalFailing,
    SyncDrift,
    /// An admin signed in from a browser never seen for them before.
    AdminNewDevice,
    /// Only sent by a channel's test button.
    Test,
}

impl Kind {
    /// Every kind a channel can choose, in the order pages list them.
    pub const CHOOSABLE: [Kind; 11] = [
        Kind::RequestCreated,
        Kind::RequestApproved,
        Kind::RequestDeclined,
        Kind::InviteRedeemed,
        Kind::ProvisioningFailed,
        Kind::MemberExpiring,
        Kind::MemberExpired,
        Kind::MemberRemoved,
        Kind::RemovalFailing,
        Kind::SyncDrift,
        Kind::AdminNewDevice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::RequestCreated => "request.created",
            Kind::RequestApproved => "request.approved",
            Kind::RequestDeclined => "request.declined",
            Kind::InviteRedeemed => "invite.redeemed",
            Kind::ProvisioningFailed => "provisioning.failed",
            Kind::MemberExpiring => "member.expiring",
            Kind::MemberExpired => "member.expired",
            Kind::MemberRemoved => "member.removed",
            Kind::RemovalFailing => "removal.failing",
            Kind::SyncDrift => "sync.drift",
            Kind::AdminNewDevice => "admin.signed_in_new_device",
            Kind::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Self::CHOOSABLE
            .into_iter()
            .chain([Kind::Test])
            .find(|k| k.as_str() == s)
    }

    /// The stem of this kind's Fluent keys: `request.created` → `request-created`.
    pub fn key(self) -> String {
        self.as_str().replace('.', "-")
    }

    /// Whether a channel of `channel_kind` may choose this event. The Telegram bot already
    /// announces every new request with Approve/Decline buttons in the same chat.
    pub fn offered_for(self, channel_kind: crate::domain::ChannelKind) -> bool {
        self != Kind::Test
            && !(channel_kind == crate::domain::ChannelKind::Telegram
                && self == Kind::RequestCreated)
    }
}

/// Something that happened, with the facts a message needs (`data` in the webhook payload).
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: Kind,
    pub at: Timestamp,
    pub data: Map<String, Value>,
}

impl Event {
    pub fn new(kind: Kind, at: Timestamp) -> Self {
        Event {
            kind,
            at,
            data: Map::new(),
        }
    }

    /// Adds a fact. Keys ending in `_at` hold RFC 3339 times.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.data.insert(key.to_string(), value.into());
        self
    }

    /// Adds the admin page this event is about, as an absolute link.
    pub fn link(self, state: &AppState, path: &str) -> Self {
        let url = format!("{}{}", state.public.base(), path);
        self.with("url", url)
    }
}

/// Queues `event` for every switched-on channel that chose it. Never fails the caller: a problem
/// writing the outbox is logged and recorded.
pub async fn emit(state: &AppState, event: Event) {
    if let Err(e) = queue_for_channels(state, &event).await {
        tracing::error!(error = %e, event = event.kind.as_str(), "could not queue notifications");
    }
}

async fn queue_for_channels(
    state: &AppState,
    event: &Event,
) -> Result<(), crate::store::StoreError> {
    let channels = state.store.channels_for(event.kind.as_str()).await?;
    if channels.is_empty() {
        return Ok(());
    }
    let payloads: Vec<(ChannelId, String, Value)> = channels
        .iter()
        .filter(|c| event.kind.offered_for(c.kind))
        .map(|c| {
            let payload = message::payload(&state.i18n, &c.lang, event);
            (c.id, c.lang.clone(), payload)
        })
        .collect();
    let items: Vec<NewDelivery> = payloads
        .iter()
        .map(|(id, lang, payload)| NewDelivery {
            channel_id: Some(*id),
            recipient: None,
            event: event.kind.as_str(),
            lang,
            payload,
        })
        .collect();
    state
        .store
        .queue_deliveries(&items, state.clock.now())
        .await?;
    state.notifier.wake.notify_one();
    Ok(())
}

/// A message from the bot to the owner's Telegram chat about one request, rendered by the
/// requests feature and sent through the outbox like every message (retried, and recorded when
/// it fails for good).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "bot", rename_all = "snake_case")]
pub enum BotMessage {
    /// A new request with its buttons; the message's id is kept on the request so the outcome
    /// can replace it.
    Announce {
        request_id: RequestId,
        html: String,
        keyboard: Value,
    },
    /// How a request ended: replaces its message, buttons and all. Nothing to do when it was
    /// never announced.
    Outcome { request_id: RequestId, html: String },
}

impl BotMessage {
    /// The outbox's name for it.
    pub fn event(&self) -> &'static str {
        match self {
            BotMessage::Announce { .. } => "bot.announce",
            BotMessage::Outcome { .. } => "bot.outcome",
        }
    }
}

/// Queues a bot message, when the bot is set up. Never fails the caller: a problem writing the
/// outbox is logged.
pub async fn to_bot(state: &AppState, message: BotMessage) {
    let result = async {
        if !state.store.settings().await?.telegram.configured() {
            return Ok(());
        }
        let payload = serde_json::to_value(&message).expect("bot messages serialise");
        let item = NewDelivery {
            channel_id: None,
            recipient: None,
            event: message.event(),
            lang: "",
            payload: &payload,
        };
        state
            .store
            .queue_deliveries(&[item], state.clock.now())
            .await?;
        state.notifier.wake.notify_one();
        Ok::<_, StoreError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, event = message.event(), "could not queue a bot message");
    }
}

/// Queues an email about `event` to a person (a member's expiry reminder), when email is set up.
pub async fn email_person(state: &AppState, to: &str, lang: &str, event: &Event) {
    let result = async {
        let settings = state.store.settings().await?;
        if !settings.smtp.configured() {
            return Ok(());
        }
        let payload = message::payload(&state.i18n, lang, event);
        state
            .store
            .queue_deliveries(
                &[NewDelivery {
                    channel_id: None,
                    recipient: Some(to),
                    event: event.kind.as_str(),
                    lang,
                    payload: &payload,
                }],
                state.clock.now(),
            )
            .await?;
        state.notifier.wake.notify_one();
        Ok::<_, crate::store::StoreError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "could not queue an email");
    }
}

/// Something the owner must hear about once.
pub enum Notice<'a> {
    /// A job ending access (removal, pause) failed and is being retried.
    EndingFailing {
        job_id: JobId,
        kind: JobKind,
        grant: &'a GrantRow,
        error: &'a str,
    },
    /// A grant ends within the reminder window.
    ExpiryReminder { grant: &'a GrantRow },
}

/// The notification hook: records a notice for the owner at most once per subject (by key) with
/// its event, and only then queues it for the owner's channels (an expiry reminder also goes to
/// the member by email when email is set up and they have an address). True when this call
/// recorded it.
pub async fn notice_once(state: &AppState, notice: Notice<'_>) -> Result<bool, StoreError> {
    let (key, kind, grant, detail) = match &notice {
        Notice::EndingFailing {
            job_id,
            kind,
            grant,
            error,
        } => (
            format!("{kind}-failing:job:{job_id}"),
            if *kind == JobKind::Remove {
                "removal_failing"
            } else {
                "disable_failing"
            },
            *grant,
            Some(error.to_string()),
        ),
        Notice::ExpiryReminder { grant } => (
            format!(
                "expiry-reminder:grant:{}:{}",
                grant.id,
                grant.expires_at.unwrap_or_default()
            ),
            "expiry_reminder",
            *grant,
            grant
                .expires_at
                .map(|t| format!("access ends {}", crate::clock::human(t))),
        ),
    };
    let subject = crate::domain::grant_subject(&grant.identity, &grant.server_name);
    let action = format!("notify.{kind}");
    let now = state.clock.now();
    let fresh = state
        .store
        .record_notice_once(
            &key,
            kind,
            Some(grant.member_id),
            Some(grant.server_id),
            NewEvent {
                actor: "usher",
                action: &action,
                subject: Some(&subject),
                detail: detail.as_deref(),
            },
            now,
        )
        .await?;
    if !fresh {
        return Ok(false);
    }
    let about = |kind| {
        Event::new(kind, now)
            .with("member_id", grant.member_id)
            .with("member", grant.identity.as_str())
            .with("server_id", grant.server_id)
            .with("server", grant.server_name.as_str())
            .link(state, &format!("/admin/members/{}", grant.member_id))
    };
    match notice {
        Notice::EndingFailing { kind, error, .. } => {
            let event = about(Kind::RemovalFailing)
                .with("job", kind.as_str())
                .with("error", error);
            emit(state, event).await;
        }
        Notice::ExpiryReminder { .. } => {
            let expires = grant.expires_at.map(crate::clock::rfc3339);
            let event = about(Kind::MemberExpiring).with("expires_at", expires.clone());
            emit(state, event).await;
            if let Some(member) = state.store.member(grant.member_id).await?
                && let Some(email) = member.email.as_deref().filter(|e| e.contains('@'))
            {
                let to_member = Event::new(Kind::MemberExpiring, now)
                    .with("name", member.display_name.as_str())
                    .with("member", grant.identity.as_str())
                    .with("server", grant.server_name.as_str())
                    .with("expires_at", expires);
                email_person(state, email, &member.lang, &to_member).await;
            }
        }
    }
    Ok(true)
}
