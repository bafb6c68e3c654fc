//! The settings the owner changes in the web UI (not the operator's configuration file): who the
//! owner is, how the request form behaves, the Telegram bot and outgoing email. Stored as one
//! JSON document; secrets inside it are sealed with the installation key.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Settings {
    /// Shown to friends: "Ana invited you".
    pub owner_name: String,
    /// Where members ask for new films (Overseerr, Jellyseerr, …); shown in onboarding.
    pub request_app_url: String,
    /// A community link (e.g. a Discord invite); shown in onboarding and the guide.
    pub community_url: String,
    /// The owner's time zone (an IANA name such as `Europe/Madrid`); empty for UTC.
    pub time_zone: String,
    pub requests: RequestSettings,
    pub telegram: TelegramSettings,
    pub smtp: SmtpSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RequestSettings {
    /// Whether the public form at /request is open at all.
    pub enabled: bool,
    /// Servers a request can be approved for; empty means all.
    pub servers: Vec<super::ServerId>,
    /// Approve at once with the default libraries (an open form).
    pub auto_approve: bool,
    /// Keyed hash of the optional passphrase.
    pub passphrase_hash: Option<String>,
    /// Pending requests expire after this many hours.
    pub expiry_hours: i64,
    /// Access granted by an approval lasts this long (`30d`), empty for forever.
    pub access_duration: String,
    /// Requests per client address per hour.
    pub per_ip_per_hour: u32,
    /// The profile approvals and auto-approve use by default.
    pub profile_id: Option<super::ProfileId>,
}

impl RequestSettings {
    /// Whether requests are taken, with `requestable` servers to approve them for.
    pub fn open_with(&self, requestable: usize) -> bool {
        self.enabled && requestable > 0
    }
}

impl Default for RequestSettings {
    fn default() -> Self {
        RequestSettings {
            enabled: true,
            servers: Vec::new(),
            auto_approve: false,
            passphrase_hash: None,
            expiry_hours: 24,
            access_duration: String::new(),
            per_ip_per_hour: 5,
            profile_id: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum TelegramMode {
    /// The bot asks Telegram for updates: works behind NAT, no open port.
    #[default]
    Polling,
    /// Telegram posts updates to /telegram/webhook (needs an https public URL).
    Webhook,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct TelegramSettings {
    pub token_sealed: Option<String>,
    /// Telegram user ids allowed to decide.
    pub allowed_ids: Vec<i64>,
    /// Where new requests are announced.
    pub chat_id: Option<i64>,
    pub mode: TelegramMode,
    /// The `secret_token` Telegram sends back on every webhook call, sealed like the token.
    /// (Settings saved before it was sealed hold it in the clear; it is sealed on the next save.)
    #[serde(rename = "webhook_secret")]
    pub webhook_secret_sealed: String,
}

impl TelegramSettings {
    pub fn configured(&self) -> bool {
        self.token_sealed.is_some() && self.chat_id.is_some()
    }

    /// The webhook secret in the clear; `None` until one was made.
    pub fn webhook_secret(&self, key: &crate::crypto::SecretKey) -> Option<media::Secret> {
        if self.webhook_secret_sealed.is_empty() {
            return None;
        }
        Some(
            key.open(&self.webhook_secret_sealed)
                .unwrap_or_else(|| self.webhook_secret_sealed.clone())
                .into(),
        )
    }

    /// Stores `secret` sealed with `key`.
    pub fn set_webhook_secret(&mut self, key: &crate::crypto::SecretKey, secret: &str) {
        self.webhook_secret_sealed = key.seal(secret);
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    None,
    #[default]
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password_sealed: Option<String>,
    /// `usher <usher@example.com>`
    pub from: String,
}

impl SmtpSettings {
    pub fn configured(&self) -> bool {
        !self.host.is_empty() && !self.from.is_empty()
    }
}
