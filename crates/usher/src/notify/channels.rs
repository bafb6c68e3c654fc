//! The owner's channels: creating, changing and deleting them, the webhook signing secret, and
//! the test button. URLs and secrets are sealed at rest and never shown back in full.

use super::deliver::SendError;
use super::{Event, Kind};
use crate::domain::ChannelKind;
use crate::domain::ids::*;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::notify::{ChannelChange, ChannelRow, NewChannel};

pub const MAX_NAME: usize = 60;
const MAX_URL: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("no such channel")]
    NotFound,
    /// Something the owner typed is wrong; `key` is the Fluent message.
    #[error("{field}: {key}")]
    Invalid {
        field: &'static str,
        key: &'static str,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl crate::web::error::Failure for ChannelError {
    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode as S;
        match self {
            ChannelError::NotFound => S::NOT_FOUND,
            ChannelError::Invalid { .. } => S::UNPROCESSABLE_ENTITY,
            ChannelError::Store(_) => S::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ChannelError::NotFound => "not_found",
            ChannelError::Invalid { .. } => "invalid",
            ChannelError::Store(_) => "internal",
        }
    }

    fn message_key(&self) -> &'static str {
        match self {
            ChannelError::NotFound => "error-not-found",
            ChannelError::Invalid { key, .. } => key,
            ChannelError::Store(_) => "error-internal",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ChannelError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

fn invalid(field: &'static str, key: &'static str) -> ChannelError {
    ChannelError::Invalid { field, key }
}

/// What the channel form sends.
#[derive(Debug, Clone, Default)]
pub struct ChannelInput {
    pub kind: String,
    pub name: String,
    /// Discord or webhook URL; empty on an edit keeps the stored one.
    pub url: String,
    /// The email channel's recipient.
    pub address: String,
    pub events: Vec<String>,
    pub lang: String,
    pub enabled: bool,
}

/// A new channel, and for a webhook its signing secret: shown once, never again.
#[derive(Debug, Clone)]
pub struct Created {
    pub id: ChannelId,
    pub secret: Option<media::Secret>,
}

/// Checks a receiver URL: absolute http(s) with a host, no spaces. Returns it and the part pages
/// may show (`https://discord.com/…`).
pub fn parse_url(raw: &str) -> Result<(String, String), ChannelError> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_URL || raw.chars().any(char::is_whitespace) {
        return Err(invalid("url", "notify-bad-url"));
    }
    let url = url::Url::parse(raw).map_err(|_| invalid("url", "notify-bad-url"))?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| invalid("url", "notify-bad-url"))?;
    if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() {
        return Err(invalid("url", "notify-bad-url"));
    }
    let hint = match url.port() {
        Some(p) => format!("{}://{host}:{p}/…", url.scheme()),
        None => format!("{}://{host}/…", url.scheme()),
    };
    Ok((url.to_string(), hint))
}

/// The chosen events as stored: known, offered for this kind, each once, in page order.
fn parse_events(kind: ChannelKind, chosen: &[String]) -> Result<Vec<&'static str>, ChannelError> {
    let mut kinds = Vec::new();
    for e in chosen {
        match Kind::parse(e.trim()) {
            Some(k) if k.offered_for(kind) => kinds.push(k),
            _ => return Err(invalid("events", "notify-bad-event")),
        }
    }
    if kinds.is_empty() {
        return Err(invalid("events", "notify-no-events"));
    }
    Ok(Kind::CHOOSABLE
        .into_iter()
        .filter(|k| kinds.contains(k))
        .map(Kind::as_str)
        .collect())
}

fn parse_name(kind: ChannelKind, name: &str) -> Result<String, ChannelError> {
    let name = name.trim();
    if name.chars().count() > MAX_NAME || name.chars().any(crate::text::unprintable) {
        return Err(invalid("name", "notify-bad-name"));
    }
    Ok(if name.is_empty() {
        kind.display_name().to_string()
    } else {
        name.to_string()
    })
}

fn parse_lang(lang: &str) -> &'static str {
    crate::ui::i18n::supported(lang).unwrap_or(crate::ui::i18n::DEFAULT_LANG)
}

fn parse_address(address: &str) -> Result<String, ChannelError> {
    crate::domain::rules::Email::parse(address)
        .map(crate::domain::rules::Email::into_string)
        .map_err(|_| invalid("address", "notify-bad-address"))
}

async fn event(
    state: &AppState,
    actor: &str,
    action: &str,
    name: &str,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    state.record_event(actor, action, Some(name), detail).await
}

pub async fn create(
    state: &AppState,
    input: &ChannelInput,
    actor: &str,
) -> Result<Created, ChannelError> {
    let kind = ChannelKind::parse(&input.kind).ok_or_else(|| invalid("kind", "notify-bad-kind"))?;
    let name = parse_name(kind, &input.name)?;
    let events = parse_events(kind, &input.events)?;
    let lang = parse_lang(&input.lang);
    let (target, address) = match kind {
        ChannelKind::Discord | ChannelKind::Webhook => (Some(parse_url(&input.url)?), None),
        ChannelKind::Email => (None, Some(parse_address(&input.address)?)),
        ChannelKind::Telegram => (None, None),
    };
    let sealed = target.as_ref().map(|(url, _)| state.key.seal(url));
    let secret = (kind == ChannelKind::Webhook).then(crate::crypto::random_token);
    let secret_sealed = secret.as_deref().map(|s| state.key.seal(s));
    let id = state
        .store
        .insert_channel(
            NewChannel {
                kind,
                name: &name,
                target_sealed: sealed.as_deref(),
                target_hint: target.as_ref().map(|(_, hint)| hint.as_str()),
                address: address.as_deref(),
                secret_sealed: secret_sealed.as_deref(),
                events: &events,
                lang,
            },
            state.clock.now(),
        )
        .await?;
    event(
        state,
        actor,
        "notify.channel_added",
        &name,
        Some(kind.as_str()),
    )
    .await?;
    Ok(Created {
        id,
        secret: secret.map(Into::into),
    })
}

pub async fn update(
    state: &AppState,
    id: ChannelId,
    input: &ChannelInput,
    actor: &str,
) -> Result<(), ChannelError> {
    let current = state
        .store
        .channel(id)
        .await?
        .ok_or(ChannelError::NotFound)?;
    let name = parse_name(current.kind, &input.name)?;
    let events = parse_events(current.kind, &input.events)?;
    let lang = parse_lang(&input.lang);
    let target = match current.kind {
        k if k.posts_to_url() && !input.url.trim().is_empty() => {
            let (url, hint) = parse_url(&input.url)?;
            Some((state.key.seal(&url), hint))
        }
        _ => None,
    };
    let address = match current.kind {
        ChannelKind::Email => Some(parse_address(&input.address)?),
        _ => None,
    };
    state
        .store
        .update_channel(
            id,
            ChannelChange {
                name: &name,
                events: &events,
                lang,
                enabled: input.enabled,
                target: target.as_ref().map(|(s, h)| (s.as_str(), h.as_str())),
                address: address.as_deref(),
            },
            state.clock.now(),
        )
        .await?;
    let detail = if input.enabled { None } else { Some("off") };
    event(state, actor, "notify.channel_changed", &name, detail).await?;
    Ok(())
}

pub async fn delete(state: &AppState, id: ChannelId, actor: &str) -> Result<(), ChannelError> {
    let current = state
        .store
        .channel(id)
        .await?
        .ok_or(ChannelError::NotFound)?;
    state.store.delete_channel(id).await?;
    event(
        state,
        actor,
        "notify.channel_deleted",
        &current.name,
        Some(current.kind.as_str()),
    )
    .await?;
    Ok(())
}

/// Replaces a webhook's signing secret; returns the new one (shown once).
pub async fn new_secret(
    state: &AppState,
    id: ChannelId,
    actor: &str,
) -> Result<String, ChannelError> {
    let current = state
        .store
        .channel(id)
        .await?
        .filter(|c| c.kind == ChannelKind::Webhook)
        .ok_or(ChannelError::NotFound)?;
    let secret = crate::crypto::random_token();
    state
        .store
        .set_channel_secret(id, &state.key.seal(&secret), state.clock.now())
        .await?;
    event(state, actor, "notify.secret_replaced", &current.name, None).await?;
    Ok(secret)
}

/// Sends a test message through a channel now and records how it went.
pub async fn send_test(
    state: &AppState,
    id: ChannelId,
    actor: &str,
) -> Result<Result<(), SendError>, ChannelError> {
    let channel: ChannelRow = state
        .store
        .channel(id)
        .await?
        .ok_or(ChannelError::NotFound)?;
    let test = Event::new(Kind::Test, state.clock.now())
        .with("channel", channel.name.as_str())
        .link(state, "/admin/settings/notifications");
    let payload = super::message::payload(&state.i18n, &channel.lang, &test);
    let result = super::deliver::send(state, &channel, &payload, &channel.lang, None).await;
    let detail = match &result {
        Ok(()) => "sent".to_string(),
        Err(e) => e.message.clone(),
    };
    event(state, actor, "notify.tested", &channel.name, Some(&detail)).await?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receiver_urls_must_be_http_with_a_host_and_only_the_host_is_shown() {
        let (url, hint) = parse_url(" https://discord.com/api/webhooks/1/SECRET ").unwrap();
        assert_eq!(url, "https://discord.com/api/webhooks/1/SECRET");
        assert_eq!(hint, "https://discord.com/…");
        assert_eq!(
            parse_url("http://127.0.0.1:8080/hook").unwrap().1,
            "http://127.0.0.1:8080/…"
        );
        for bad in [
            "",
            "discord.com/api",
            "ftp://x.example/a",
            "https://exa mple.com",
            "https://user:pw@x.example/",
            "javascript:alert(1)",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn events_must_be_known_and_offered_and_are_stored_in_order() {
        let chosen = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_events(
                ChannelKind::Discord,
                &chosen(&["sync.drift", "request.created", "sync.drift"])
            )
            .unwrap(),
            ["request.created", "sync.drift"]
        );
        assert!(parse_events(ChannelKind::Telegram, &chosen(&["request.created"])).is_err());
        assert!(parse_events(ChannelKind::Email, &chosen(&["test"])).is_err());
        assert!(parse_events(ChannelKind::Email, &chosen(&["nope"])).is_err());
        assert!(matches!(
            parse_events(ChannelKind::Email, &[]),
            Err(ChannelError::Invalid {
                key: "notify-no-events",
                ..
            })
        ));
    }
}
