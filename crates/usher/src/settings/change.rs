//! Changing the settings, one section at a time, and the Telegram and email test sends: the one
//! place that checks what the page, the API and the CLI send. A field left out (`None`) keeps
//! what is stored; secrets are set with a value and cleared with `null`, never shown back.

use serde::{Deserialize, Deserializer};

use crate::domain::ids::*;
use crate::domain::settings::{Settings, SmtpSecurity, TelegramMode};
use crate::state::AppState;

/// The sections of the settings, each saved on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Section {
    General,
    Requests,
    Telegram,
    Email,
    Branding,
}

impl Section {
    pub fn as_str(self) -> &'static str {
        match self {
            Section::General => "general",
            Section::Requests => "requests",
            Section::Telegram => "telegram",
            Section::Email => "email",
            Section::Branding => "branding",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Something the owner typed is wrong; `key` is the sentence the page shows.
    #[error("{field}: {key}")]
    Invalid {
        section: Section,
        field: &'static str,
        key: &'static str,
    },
    /// Telegram or the mail server refused, or could not be reached; the settings were saved.
    #[error("{message}")]
    Delivery { section: Section, message: String },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl SettingsError {
    /// The section a page shows the problem in.
    pub fn section(&self) -> Section {
        match self {
            SettingsError::Invalid { section, .. } | SettingsError::Delivery { section, .. } => {
                *section
            }
            SettingsError::Store(_) => Section::General,
        }
    }
}

impl crate::web::error::Failure for SettingsError {
    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode as S;
        match self {
            SettingsError::Invalid { .. } => S::UNPROCESSABLE_ENTITY,
            SettingsError::Delivery { .. } => S::BAD_GATEWAY,
            SettingsError::Store(_) => S::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            SettingsError::Invalid { .. } => "invalid",
            SettingsError::Delivery { .. } => "delivery_failed",
            SettingsError::Store(_) => "internal",
        }
    }

    fn message_key(&self) -> &'static str {
        match self {
            SettingsError::Invalid { key, .. } => key,
            SettingsError::Delivery { .. } => "settings-delivery-failed",
            SettingsError::Store(_) => "error-internal",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            SettingsError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    fn detail(&self) -> Option<String> {
        match self {
            SettingsError::Delivery { message, .. } => Some(message.clone()),
            _ => None,
        }
    }
}

fn invalid(section: Section, field: &'static str, key: &'static str) -> SettingsError {
    SettingsError::Invalid {
        section,
        field,
        key,
    }
}

/// A field that can be left out (keep), `null` (clear) or a value (set).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneralChange {
    /// Shown on friend pages ("Ana invited you"); at most 60 characters.
    pub owner_name: Option<String>,
    /// An http(s) link, or empty for none.
    pub request_app_url: Option<String>,
    pub community_url: Option<String>,
    /// The owner's time zone, an IANA name (`Europe/Madrid`); empty for UTC.
    pub time_zone: Option<String>,
    /// The public address links are made with; empty goes back to the listening address.
    /// Refused when the configuration sets it.
    pub public_url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestsChange {
    pub enabled: Option<bool>,
    pub auto_approve: Option<bool>,
    /// 1 to 720.
    pub expiry_hours: Option<i64>,
    /// 1 to 1000.
    pub per_ip_per_hour: Option<u32>,
    /// `30d`, or empty or `forever`.
    pub access_duration: Option<String>,
    /// The servers requests can be approved for; none means all.
    pub servers: Option<Vec<ServerId>>,
    /// The profile approvals start from; `null` for the servers' defaults.
    #[serde(default, deserialize_with = "present")]
    pub profile_id: Option<Option<ProfileId>>,
    /// 4 to 128 characters asked before the form is sent; `null` for none.
    #[serde(default, deserialize_with = "present")]
    pub passphrase: Option<Option<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramChange {
    /// The bot token from @BotFather (`123456:ABC…`); `null` to forget it.
    #[serde(default, deserialize_with = "present")]
    pub token: Option<Option<String>>,
    /// Telegram user ids allowed to decide.
    pub allowed_ids: Option<Vec<i64>>,
    /// Where requests are announced; `null` for nowhere.
    #[serde(default, deserialize_with = "present")]
    pub chat_id: Option<Option<i64>>,
    /// `webhook` needs a public https address.
    pub mode: Option<TelegramMode>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailChange {
    /// The mail server's host name; empty switches email off.
    pub host: Option<String>,
    /// 0 for the security's usual port.
    pub port: Option<u16>,
    pub security: Option<SmtpSecurity>,
    pub username: Option<String>,
    /// Taken as typed, spaces included; `null` to forget it.
    #[serde(default, deserialize_with = "present")]
    pub password: Option<Option<String>>,
    /// `usher <usher@example.com>`.
    pub from: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandingChange {
    /// The server's or community's name on friend pages ("Join {name}"); at most 60
    /// characters, empty for usher's own words.
    pub name: Option<String>,
    /// `#rrggbb`; `null` or empty for usher's colour.
    #[serde(default, deserialize_with = "present")]
    pub accent: Option<Option<String>>,
}

/// An optional link the owner shares: empty, or an http(s) URL.
fn link(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Some(String::new());
    }
    url::Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .map(|_| raw.to_string())
}

async fn saved(
    state: &AppState,
    s: &Settings,
    section: Section,
    actor: &str,
) -> Result<(), SettingsError> {
    state.store.save_settings(s, state.clock.now()).await?;
    record(state, "settings.changed", section, None, actor).await
}

async fn record(
    state: &AppState,
    action: &str,
    section: Section,
    detail: Option<&str>,
    actor: &str,
) -> Result<(), SettingsError> {
    state
        .record_event(actor, action, Some(section.as_str()), detail)
        .await?;
    Ok(())
}

pub async fn change_branding(
    state: &AppState,
    c: &BrandingChange,
    actor: &str,
) -> Result<(), SettingsError> {
    let bad = |field, key| invalid(Section::Branding, field, key);
    let mut s = state.store.settings().await?;
    if let Some(name) = &c.name {
        let name = name.trim();
        if name.chars().count() > 60 {
            return Err(bad("name", "settings-brand-name-too-long"));
        }
        s.branding.name = name.to_string();
    }
    if let Some(accent) = &c.accent {
        s.branding.accent = match accent.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(
                crate::domain::settings::Accent::parse(raw)
                    .ok_or(bad("accent", "settings-brand-bad-accent"))?,
            ),
        };
    }
    saved(state, &s, Section::Branding, actor).await
}

/// The largest logo accepted: enough for a sharp header image, small enough for a phone.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;

/// Stores `bytes` as the logo (a PNG, JPEG or WebP of at most 256 KB), or with `None` removes it.
pub async fn set_logo(
    state: &AppState,
    bytes: Option<&[u8]>,
    actor: &str,
) -> Result<(), SettingsError> {
    use crate::domain::settings::{LogoKind, LogoRef};
    let bad = |key| invalid(Section::Branding, "logo", key);
    let mut s = state.store.settings().await?;
    let stored = match bytes {
        None => {
            s.branding.logo = None;
            None
        }
        Some(bytes) => {
            if bytes.is_empty() {
                return Err(bad("settings-brand-logo-empty"));
            }
            if bytes.len() > MAX_LOGO_BYTES {
                return Err(bad("settings-brand-logo-too-big"));
            }
            let kind = LogoKind::sniff(bytes).ok_or(bad("settings-brand-logo-kind"))?;
            let fingerprint = crate::crypto::sha256_hex(bytes)[..16].to_string();
            s.branding.logo = Some(LogoRef {
                fingerprint: fingerprint.clone(),
                kind,
            });
            Some((fingerprint, bytes))
        }
    };
    state
        .store
        .save_brand_logo(
            &s,
            stored.as_ref().map(|(f, b)| (f.as_str(), *b)),
            state.clock.now(),
        )
        .await?;
    let detail = if bytes.is_some() {
        "logo replaced"
    } else {
        "logo removed"
    };
    record(
        state,
        "settings.changed",
        Section::Branding,
        Some(detail),
        actor,
    )
    .await
}

pub async fn change_general(
    state: &AppState,
    c: &GeneralChange,
    actor: &str,
) -> Result<(), SettingsError> {
    let bad = |field, key| invalid(Section::General, field, key);
    let mut s = state.store.settings().await?;
    if let Some(name) = &c.owner_name {
        let name = name.trim();
        if name.chars().count() > 60 {
            return Err(bad("owner_name", "settings-owner-too-long"));
        }
        s.owner_name = name.to_string();
    }
    if let Some(raw) = &c.request_app_url {
        s.request_app_url = link(raw).ok_or(bad("request_app_url", "settings-bad-link"))?;
    }
    if let Some(raw) = &c.community_url {
        s.community_url = link(raw).ok_or(bad("community_url", "settings-bad-link"))?;
    }
    if let Some(raw) = &c.time_zone {
        let zone = crate::clock::Zone::parse(raw).ok_or(bad("time_zone", "settings-bad-zone"))?;
        s.time_zone = if zone.is_utc() {
            String::new()
        } else {
            zone.name().to_string()
        };
    }
    if let Some(raw) = c.public_url.as_deref().map(str::trim) {
        let (current, source) = state.public.current();
        if source == crate::public_url::Source::Config {
            // The page shows the configured address read-only and sends it back unchanged.
            if raw.trim_end_matches('/') != current.to_string().trim_end_matches('/') {
                return Err(bad("public_url", "public-url-locked"));
            }
        } else {
            let url = match raw {
                "" => None,
                raw => Some(
                    crate::domain::base_url::BaseUrl::parse(raw)
                        .map_err(|_| bad("public_url", "public-url-invalid"))?,
                ),
            };
            // Saving the page unchanged does not turn the listening address into a setting.
            let unchanged = source == crate::public_url::Source::Listening
                && url.as_ref().is_some_and(|u| *u == current);
            if !unchanged && url != state.public.stored() {
                state
                    .public
                    .save(&state.store, url, state.clock.now())
                    .await?;
            }
        }
    }
    saved(state, &s, Section::General, actor).await
}

pub async fn change_requests(
    state: &AppState,
    c: &RequestsChange,
    actor: &str,
) -> Result<(), SettingsError> {
    let bad = |field, key| invalid(Section::Requests, field, key);
    let mut s = state.store.settings().await?;
    if let Some(hours) = c.expiry_hours {
        if !(1..=24 * 30).contains(&hours) {
            return Err(bad("expiry_hours", "settings-bad-hours"));
        }
        s.requests.expiry_hours = hours;
    }
    if let Some(per_ip) = c.per_ip_per_hour {
        if !(1..=1000).contains(&per_ip) {
            return Err(bad("per_ip_per_hour", "settings-bad-rate"));
        }
        s.requests.per_ip_per_hour = per_ip;
    }
    if let Some(duration) = &c.access_duration {
        let duration = duration.trim();
        if crate::domain::rules::AccessLength::parse(duration).is_err() {
            return Err(bad("access_duration", "invite-bad-duration"));
        }
        s.requests.access_duration = if duration.eq_ignore_ascii_case("forever") {
            String::new()
        } else {
            duration.to_string()
        };
    }
    if let Some(servers) = &c.servers {
        for id in servers {
            if state.store.server(*id).await?.is_none() {
                return Err(bad("servers", "error-not-found"));
            }
        }
        s.requests.servers = servers.clone();
    }
    if let Some(profile) = c.profile_id {
        if let Some(id) = profile
            && state.store.profile(id).await?.is_none()
        {
            return Err(bad("profile_id", "invite-unknown-profile"));
        }
        s.requests.profile_id = profile;
    }
    match &c.passphrase {
        None => {}
        Some(None) => s.requests.passphrase_hash = None,
        Some(Some(p)) => {
            let p = p.trim();
            if !(4..=128).contains(&p.chars().count()) {
                return Err(bad("passphrase", "invite-bad-passphrase"));
            }
            s.requests.passphrase_hash = Some(crate::requests::passphrase_hash(state, p));
        }
    }
    if let Some(on) = c.enabled {
        s.requests.enabled = on;
    }
    if let Some(on) = c.auto_approve {
        s.requests.auto_approve = on;
    }
    saved(state, &s, Section::Requests, actor).await
}

/// Saves the Telegram settings, then tells Telegram how updates arrive (the webhook or
/// polling). A refusal there is [`SettingsError::Delivery`]: the settings are saved.
pub async fn change_telegram(
    state: &AppState,
    c: &TelegramChange,
    actor: &str,
) -> Result<(), SettingsError> {
    let bad = |field, key| invalid(Section::Telegram, field, key);
    let mut s = state.store.settings().await?;
    match &c.token {
        None => {}
        Some(None) => s.telegram.token_sealed = None,
        Some(Some(token)) => {
            let token = token.trim();
            let looks_right = token.split_once(':').is_some_and(|(id, rest)| {
                !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) && !rest.is_empty()
            }) && !token.chars().any(char::is_whitespace);
            if !looks_right {
                return Err(bad("token", "settings-bad-token"));
            }
            s.telegram.token_sealed = Some(state.key.seal(token));
        }
    }
    if let Some(ids) = &c.allowed_ids {
        if ids.iter().any(|id| *id <= 0) {
            return Err(bad("allowed_ids", "settings-bad-ids"));
        }
        s.telegram.allowed_ids = ids.clone();
    }
    if let Some(chat) = c.chat_id {
        s.telegram.chat_id = chat;
    }
    if let Some(mode) = c.mode {
        if mode == TelegramMode::Webhook && !state.public.current().0.is_https() {
            return Err(bad("mode", "settings-webhook-needs-https"));
        }
        s.telegram.mode = mode;
    }
    match s.telegram.webhook_secret(&state.key) {
        // Sealed now if it was saved in the clear.
        Some(secret) => s.telegram.set_webhook_secret(&state.key, secret.expose()),
        None => s
            .telegram
            .set_webhook_secret(&state.key, &crate::crypto::random_token()),
    }
    saved(state, &s, Section::Telegram, actor).await?;
    crate::telegram::register(state, &s)
        .await
        .map_err(|e| SettingsError::Delivery {
            section: Section::Telegram,
            message: e.to_string(),
        })
}

pub async fn change_email(
    state: &AppState,
    c: &EmailChange,
    actor: &str,
) -> Result<(), SettingsError> {
    let bad = |field, key| invalid(Section::Email, field, key);
    let mut s = state.store.settings().await?;
    if let Some(host) = &c.host {
        let host = host.trim();
        if host.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(bad("host", "settings-bad-host"));
        }
        s.smtp.host = host.to_string();
    }
    if let Some(port) = c.port {
        s.smtp.port = port;
    }
    if let Some(from) = &c.from {
        let from = from.trim();
        if !from.is_empty() && from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(bad("from", "settings-bad-from"));
        }
        s.smtp.from = from.to_string();
    }
    if let Some(security) = c.security {
        s.smtp.security = security;
    }
    if let Some(username) = &c.username {
        s.smtp.username = username.trim().to_string();
    }
    match &c.password {
        None => {}
        Some(None) => s.smtp.password_sealed = None,
        Some(Some(p)) if p.is_empty() => {}
        Some(Some(p)) => s.smtp.password_sealed = Some(state.key.seal(p)),
    }
    saved(state, &s, Section::Email, actor).await
}

/// Sends a test message to the Telegram chat requests are announced in, and records how it went.
pub async fn test_telegram(state: &AppState, lang: &str, actor: &str) -> Result<(), SettingsError> {
    let s = state.store.settings().await?;
    let (Some(api), Some(chat)) = (crate::notify::telegram::api(state, &s), s.telegram.chat_id)
    else {
        return Err(invalid(
            Section::Telegram,
            "chat_id",
            "settings-telegram-incomplete",
        ));
    };
    let text = crate::text::escape_html(&state.i18n.text(lang, "settings-telegram-test-message"));
    let result = api.send_message(chat, &text, None).await.map(|_| ());
    tested(
        state,
        Section::Telegram,
        result.map_err(|e| e.to_string()),
        actor,
    )
    .await
}

/// Sends a test email to `to` through the saved mail server, and records how it went.
pub async fn test_email(
    state: &AppState,
    to: &str,
    lang: &str,
    actor: &str,
) -> Result<(), SettingsError> {
    let s = state.store.settings().await?;
    let to = crate::domain::rules::Email::parse(to)
        .map_err(|_| invalid(Section::Email, "to", "redeem-bad-email"))?;
    let subject = state.i18n.text(lang, "settings-email-test-subject");
    let body = state.i18n.text(lang, "settings-email-test-body");
    let result = crate::notify::email::send(state, &s.smtp, &to, &subject, &body).await;
    tested(
        state,
        Section::Email,
        result.map_err(|e| e.to_string()),
        actor,
    )
    .await
}

async fn tested(
    state: &AppState,
    section: Section,
    result: Result<(), String>,
    actor: &str,
) -> Result<(), SettingsError> {
    let detail = match &result {
        Ok(()) => "sent",
        Err(e) => e.as_str(),
    };
    record(state, "settings.tested", section, Some(detail), actor).await?;
    result.map_err(|message| SettingsError::Delivery { section, message })
}
