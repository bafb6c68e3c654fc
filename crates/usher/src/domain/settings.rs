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
    pub branding: Branding,
}

/// How friend pages and emails carry the owner's server instead of usher's name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct Branding {
    /// The server's or community's name: pages say "Join {name}"; empty keeps usher's words.
    pub name: String,
    /// The accent colour of friend pages (`#1f6feb`); empty keeps usher's.
    pub accent: Option<Accent>,
    /// The logo's fingerprint and type when one is stored (its bytes live in `brand_logo`).
    pub logo: Option<LogoRef>,
}

/// A stored logo, by what names its address.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogoRef {
    /// The first 16 hex digits of the image's SHA-256: the address changes with the image.
    pub fingerprint: String,
    pub kind: LogoKind,
}

/// The image types a logo can be: ones a browser shows in an `<img>` and that carry no script.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogoKind {
    Png,
    Jpeg,
    Webp,
}

impl LogoKind {
    /// What the first bytes of a file say it is, if one of these.
    pub fn sniff(bytes: &[u8]) -> Option<LogoKind> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(LogoKind::Png)
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(LogoKind::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(LogoKind::Webp)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            LogoKind::Png => "image/png",
            LogoKind::Jpeg => "image/jpeg",
            LogoKind::Webp => "image/webp",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            LogoKind::Png => "png",
            LogoKind::Jpeg => "jpg",
            LogoKind::Webp => "webp",
        }
    }
}

/// A colour as `#rrggbb`, the only shape stored, so it goes into a stylesheet as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accent([u8; 3]);

impl Accent {
    /// `#1f6feb` or `1F6FEB`; anything else is `None`.
    pub fn parse(raw: &str) -> Option<Accent> {
        let hex = raw.trim().strip_prefix('#').unwrap_or(raw.trim());
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        Some(Accent([byte(0)?, byte(2)?, byte(4)?]))
    }

    /// `1f6feb`, for an address.
    pub fn hex(self) -> String {
        format!("{:02x}{:02x}{:02x}", self.0[0], self.0[1], self.0[2])
    }

    /// Text on the colour: black or white, whichever contrasts more (WCAG relative luminance).
    pub fn text_on(self) -> &'static str {
        let channel = |c: u8| {
            let c = c as f64 / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let l =
            0.2126 * channel(self.0[0]) + 0.7152 * channel(self.0[1]) + 0.0722 * channel(self.0[2]);
        // Contrast with white is 1.05 / (l + 0.05); with black, (l + 0.05) / 0.05.
        if 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 {
            "#ffffff"
        } else {
            "#111111"
        }
    }

    /// The colour mixed with `other` at `share` (0–1) of the colour: a soft background.
    pub fn mixed(self, other: [u8; 3], share: f64) -> String {
        let mix = |a: u8, b: u8| (a as f64 * share + b as f64 * (1.0 - share)).round() as u8;
        format!(
            "#{:02x}{:02x}{:02x}",
            mix(self.0[0], other[0]),
            mix(self.0[1], other[1]),
            mix(self.0[2], other[2])
        )
    }
}

impl Serialize for Accent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("#{}", self.hex()))
    }
}

impl<'de> Deserialize<'de> for Accent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Accent::parse(&raw).ok_or_else(|| serde::de::Error::custom("a colour like #1f6feb"))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accent_is_six_hex_digits_and_picks_readable_text() {
        assert_eq!(Accent::parse("#1F6FEB").unwrap().hex(), "1f6feb");
        assert_eq!(Accent::parse("e5a00d").unwrap().hex(), "e5a00d");
        for bad in ["", "#12345", "#12345g", "red", "#1f6feb; }", "#ﬀﬀﬀ"] {
            assert!(Accent::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Accent::parse("#ffd700").unwrap().text_on(), "#111111");
        assert_eq!(Accent::parse("#1f3a93").unwrap().text_on(), "#ffffff");
        assert_eq!(
            Accent::parse("#000000")
                .unwrap()
                .mixed([255, 255, 255], 0.5),
            "#808080"
        );
    }

    #[test]
    fn a_logo_is_known_by_its_first_bytes() {
        assert_eq!(
            LogoKind::sniff(b"\x89PNG\r\n\x1a\nrest"),
            Some(LogoKind::Png)
        );
        assert_eq!(
            LogoKind::sniff(&[0xff, 0xd8, 0xff, 0xe0]),
            Some(LogoKind::Jpeg)
        );
        assert_eq!(
            LogoKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(LogoKind::Webp)
        );
        assert_eq!(LogoKind::sniff(b"<svg onload=alert(1)>"), None);
        assert_eq!(LogoKind::sniff(b"GIF89a"), None);
    }
}
