//! What a notification says, for each kind of channel. Pure functions: the webhook payload, a
//! Discord message, Telegram HTML and plain-text email are all made from the same payload.
//!
//! The payload a generic webhook receives (and that every other format is rendered from):
//!
//! ```json
//! {"event": "request.created", "at": "2026-11-22T00:00:00Z",
//!  "summary": "New access request from Tom", "data": {"name": "Tom", …}}
//! ```

use fluent_bundle::FluentValue;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{Event, Kind};
use crate::ui::i18n::I18n;

/// Discord refuses message content over 2000 characters.
pub const DISCORD_CONTENT_MAX: usize = 2000;
const DISCORD_EMBED_DESCRIPTION_MAX: usize = 4096;
const DISCORD_FIELD_VALUE_MAX: usize = 1024;
/// Telegram allows 4096 characters per message; values are cut well before that.
const VALUE_MAX: usize = 500;
/// Lists (names found by a sync) show this many, then "and N more".
const LIST_MAX: usize = 20;

/// The facts a message shows for each kind, in order. Keys are `data` keys; their labels are
/// `notify-field-KEY` (underscores as dashes).
fn fields(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::RequestCreated => &["name", "email", "note"],
        Kind::RequestApproved => &["name", "email", "access", "by"],
        Kind::RequestDeclined => &["name", "email", "reason", "by"],
        Kind::InviteRedeemed => &["member", "code", "servers"],
        Kind::ProvisioningFailed => &["member", "server", "error"],
        Kind::MemberExpiring | Kind::MemberExpired => &["member", "server", "expires_at"],
        Kind::MemberRemoved => &["member", "server"],
        Kind::RemovalFailing => &["member", "server", "error"],
        Kind::SyncDrift => &["server", "imported", "gone"],
        Kind::AdminNewDevice => &["admin", "device", "address"],
        Kind::Test => &["channel"],
    }
}

/// A value as people read it: times in the short UTC form, lists joined.
fn display(key: &str, value: &Value) -> String {
    match value {
        Value::String(s) if key.ends_with("_at") => parse_rfc3339(s)
            .map(crate::clock::human)
            .unwrap_or_else(|| s.clone()),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => {
            let mut shown: Vec<String> = items
                .iter()
                .take(LIST_MAX)
                .map(|v| display("", v))
                .collect();
            if items.len() > LIST_MAX {
                shown.push(format!("… +{}", items.len() - LIST_MAX));
            }
            shown.join(", ")
        }
        Value::Null => String::new(),
        Value::Object(_) => value.to_string(),
    }
}

fn parse_rfc3339(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// Cuts text to at most `max` characters, marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// One line: no line breaks or control characters, for subjects and titles.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The one-sentence summary of an event in `lang`.
pub fn summary(i18n: &I18n, lang: &str, event: &Event) -> String {
    let args: Vec<(&str, FluentValue)> = event
        .data
        .iter()
        .map(|(k, v)| {
            (
                k.as_str(),
                FluentValue::from(truncate(&display(k, v), VALUE_MAX)),
            )
        })
        .collect();
    let key = format!("notify-summary-{}", event.kind.key());
    one_line(&i18n.get(lang, &key, &args).unwrap_or(key))
}

/// The JSON body of a generic webhook delivery, stored in the outbox as it will be sent.
pub fn payload(i18n: &I18n, lang: &str, event: &Event) -> Value {
    json!({
        "event": event.kind.as_str(),
        "at": crate::clock::rfc3339(event.at),
        "summary": summary(i18n, lang, event),
        "data": Value::Object(event.data.clone()),
    })
}

/// A message ready for a channel: the summary, labelled facts and a link to usher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub kind: Option<Kind>,
    pub title: String,
    pub lines: Vec<(String, String)>,
    pub url: Option<String>,
    /// RFC 3339.
    pub at: String,
}

/// Turns a stored payload into a message with labels in `lang`.
pub fn render(i18n: &I18n, lang: &str, payload: &Value) -> Rendered {
    let kind = payload["event"].as_str().and_then(Kind::parse);
    let data = &payload["data"];
    let lines = kind
        .map(fields)
        .unwrap_or_default()
        .iter()
        .filter_map(|key| {
            let value = display(key, data.get(*key)?);
            let value = value.trim();
            (!value.is_empty()).then(|| {
                let label = i18n.text(lang, &format!("notify-field-{}", key.replace('_', "-")));
                (label, truncate(value, VALUE_MAX))
            })
        })
        .collect();
    Rendered {
        kind,
        title: one_line(payload["summary"].as_str().unwrap_or_default()),
        lines,
        url: data["url"].as_str().map(str::to_string),
        at: payload["at"].as_str().unwrap_or_default().to_string(),
    }
}

/// Escapes Discord markdown so names cannot format or link.
pub fn discord_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '#' | '[' | ']' | '<' | ':'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn colour(kind: Option<Kind>) -> u32 {
    match kind {
        Some(Kind::ProvisioningFailed | Kind::RemovalFailing) => 0xb4_23_18,
        Some(Kind::MemberExpiring | Kind::SyncDrift | Kind::MemberExpired) => 0xe5_a0_0d,
        Some(Kind::RequestApproved | Kind::InviteRedeemed | Kind::Test) => 0x16_7a_3d,
        _ => 0x2f_5b_d3,
    }
}

/// A Discord webhook body: the summary as content (within Discord's 2000 characters), the facts
/// in an embed, and no mentions (a name like `@everyone` must not ping anyone).
pub fn discord_body(r: &Rendered, open_label: &str) -> Value {
    let content = truncate(&discord_escape(&r.title), DISCORD_CONTENT_MAX);
    let fields: Vec<Value> = r
        .lines
        .iter()
        .take(25)
        .map(|(label, value)| {
            json!({
                "name": truncate(label, 256),
                "value": truncate(&discord_escape(value), DISCORD_FIELD_VALUE_MAX),
                "inline": value.chars().count() <= 40,
            })
        })
        .collect();
    let mut embed = json!({
        "color": colour(r.kind),
        "fields": fields,
        "footer": {"text": "usher"},
    });
    if !r.at.is_empty() {
        embed["timestamp"] = json!(r.at);
    }
    if let Some(url) = &r.url {
        embed["title"] = json!(truncate(open_label, 256));
        embed["url"] = json!(url);
    }
    if fields_empty(&embed) && r.url.is_none() {
        embed["description"] = json!(truncate(&content, DISCORD_EMBED_DESCRIPTION_MAX));
    }
    json!({
        "content": content,
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    })
}

fn fields_empty(embed: &Value) -> bool {
    embed["fields"].as_array().is_none_or(|f| f.is_empty())
}

/// A Telegram message in HTML parse mode with everything escaped.
pub fn telegram_html(r: &Rendered, open_label: &str) -> String {
    use crate::text::escape_html as escape;
    let mut out = format!("<b>{}</b>", escape(&r.title));
    for (label, value) in &r.lines {
        out.push_str(&format!("\n<b>{}:</b> {}", escape(label), escape(value)));
    }
    if let Some(url) = &r.url {
        out.push_str(&format!(
            "\n<a href=\"{}\">{}</a>",
            escape(url),
            escape(open_label)
        ));
    }
    out
}

/// A plain-text email to the owner: subject and body.
pub fn email_text(r: &Rendered, open_label: &str) -> (String, String) {
    let subject = format!("usher: {}", truncate(&r.title, 150));
    let mut body = format!("{}\n", r.title);
    if !r.lines.is_empty() {
        body.push('\n');
        for (label, value) in &r.lines {
            body.push_str(&format!("{label}: {value}\n"));
        }
    }
    if let Some(url) = &r.url {
        body.push_str(&format!("\n{open_label}: {url}\n"));
    }
    body.push_str("\n-- \nusher\n");
    (subject, body)
}

/// An email to a member about their own access (an expiry reminder), from Fluent messages
/// `notify-person-KIND-subject` and `-body`.
pub fn person_email(i18n: &I18n, lang: &str, payload: &Value) -> (String, String) {
    let kind = payload["event"]
        .as_str()
        .and_then(Kind::parse)
        .unwrap_or(Kind::Test);
    let args: Vec<(&str, FluentValue)> = payload["data"]
        .as_object()
        .map(|data| {
            data.iter()
                .map(|(k, v)| (k.as_str(), FluentValue::from(display(k, v))))
                .collect()
        })
        .unwrap_or_default();
    let stem = format!("notify-person-{}", kind.key());
    let subject = i18n
        .get(lang, &format!("{stem}-subject"), &args)
        .map(|s| one_line(&s))
        .unwrap_or_else(|| one_line(payload["summary"].as_str().unwrap_or_default()));
    let body = i18n
        .get(lang, &format!("{stem}-body"), &args)
        .unwrap_or_else(|| payload["summary"].as_str().unwrap_or_default().to_string());
    (subject, body)
}

/// `sha256=` and the hex HMAC-SHA256 of `body` keyed with `secret`: the `X-Usher-Signature`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length works");
    mac.update(body);
    format!(
        "sha256={}",
        crate::crypto::hex(&mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i18n() -> I18n {
        I18n::load()
    }

    fn request_event() -> Event {
        Event::new(Kind::RequestCreated, 1_795_305_600)
            .with("request_id", 7)
            .with("name", "<Tom & Jerry>")
            .with("email", "tom@example.com")
            .with("note", "let me in\nplease")
            .with("url", "https://usher.example.com/admin/requests")
    }

    #[test]
    fn payloads_carry_event_time_summary_and_data() {
        let p = payload(&i18n(), "en", &request_event());
        assert_eq!(p["event"], "request.created");
        assert_eq!(p["at"], "2026-11-22T00:00:00Z");
        assert_eq!(p["data"]["request_id"], 7);
        let summary = p["summary"].as_str().unwrap();
        assert!(summary.contains("<Tom & Jerry>"), "{summary}");
        let es = payload(&i18n(), "es", &request_event());
        assert_ne!(es["summary"], p["summary"]);
    }

    #[test]
    fn every_kind_has_a_summary_and_labels_in_every_language() {
        let i18n = i18n();
        for (lang, _) in crate::ui::i18n::LANGUAGES {
            for kind in Kind::CHOOSABLE.into_iter().chain([Kind::Test]) {
                assert!(
                    i18n.get(lang, &format!("notify-summary-{}", kind.key()), &[])
                        .is_some(),
                    "{lang} {kind:?}"
                );
                assert!(
                    i18n.get(lang, &format!("notify-kind-{}", kind.key()), &[])
                        .is_some()
                );
                for f in fields(kind) {
                    let key = format!("notify-field-{}", f.replace('_', "-"));
                    assert!(i18n.get(lang, &key, &[]).is_some(), "{lang} {key}");
                }
            }
        }
    }

    #[test]
    fn telegram_html_escapes_names_and_links() {
        let i18n = i18n();
        let mut event = request_event();
        event
            .data
            .insert("url".into(), json!("https://x.example/a?b=\"c\"&d"));
        let r = render(&i18n, "en", &payload(&i18n, "en", &event));
        let html = telegram_html(&r, "Open <usher>");
        assert!(html.contains("&lt;Tom &amp; Jerry&gt;"), "{html}");
        assert!(!html.contains("<Tom"), "{html}");
        assert!(
            html.contains("href=\"https://x.example/a?b=&quot;c&quot;&amp;d\""),
            "{html}"
        );
        assert!(html.contains("Open &lt;usher&gt;</a>"));
    }

    #[test]
    fn discord_content_stays_within_2000_characters_and_mentions_nobody() {
        let i18n = i18n();
        let long = "@everyone ".repeat(500);
        let event = Event::new(Kind::RequestCreated, 0)
            .with("name", long.as_str())
            .with("email", "a@b.c")
            .with("note", long.as_str());
        let r = render(&i18n, "en", &payload(&i18n, "en", &event));
        let body = discord_body(&r, "Open");
        assert!(body["content"].as_str().unwrap().chars().count() <= DISCORD_CONTENT_MAX);
        assert_eq!(body["allowed_mentions"]["parse"], json!([]));
        for f in body["embeds"][0]["fields"].as_array().unwrap() {
            assert!(f["value"].as_str().unwrap().chars().count() <= DISCORD_FIELD_VALUE_MAX);
        }
        assert_eq!(discord_escape("**x** [a](b)"), "\\*\\*x\\*\\* \\[a\\](b)");
    }

    #[test]
    fn signatures_are_hex_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn times_show_in_utc_and_lists_are_shortened() {
        assert_eq!(
            display("expires_at", &json!("2026-11-25T18:00:00Z")),
            "2026-11-25 18:00 UTC"
        );
        let many: Vec<String> = (0..25).map(|i| format!("u{i}")).collect();
        let shown = display("gone", &json!(many));
        assert!(shown.ends_with("u19, … +5"), "{shown}");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(one_line("a\nb\t c"), "a b c");
    }
}
