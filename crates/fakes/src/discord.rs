//! Fake Discord webhooks, following "Execute Webhook" in
//! <https://discord.com/developers/docs/resources/webhook#execute-webhook> and the message limits
//! in <https://discord.com/developers/docs/resources/message#embed-object-embed-limits>.
//!
//! `POST /api/webhooks/{id}/{token}` with a JSON body. What Discord refuses is refused here with
//! the same status and error code: an unknown webhook (404, 10015), a wrong token (401, 50027),
//! a body that is not JSON (400, 50109), nothing to send (400, 50006), and content or embeds over
//! their limits (400, 50035 "Invalid Form Body"). Accepted messages answer 204, or 200 with the
//! message object when `?wait=true`. [`Control::fail_next`] on [`FakeDiscord::path`] injects
//! failures such as 429 or 500.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};

use crate::control::{Control, Running};

pub const WEBHOOK_ID: &str = "1300000000000000001";
pub const WEBHOOK_TOKEN: &str = "fake-discord-webhook-token_0123456789";

const CONTENT_MAX: usize = 2000;
const EMBEDS_MAX: usize = 10;
const TITLE_MAX: usize = 256;
const DESCRIPTION_MAX: usize = 4096;
const FIELDS_MAX: usize = 25;
const FIELD_NAME_MAX: usize = 256;
const FIELD_VALUE_MAX: usize = 1024;
const FOOTER_MAX: usize = 2048;
const EMBED_TOTAL_MAX: usize = 6000;

/// A message the fake accepted.
#[derive(Debug, Clone)]
pub struct DiscordMessage {
    pub id: u64,
    /// The JSON body as received.
    pub body: Value,
}

impl DiscordMessage {
    pub fn content(&self) -> &str {
        self.body["content"].as_str().unwrap_or_default()
    }

    pub fn embeds(&self) -> Vec<Value> {
        self.body["embeds"].as_array().cloned().unwrap_or_default()
    }
}

#[derive(Default)]
struct Inner {
    messages: Vec<DiscordMessage>,
    next_id: u64,
}

pub struct FakeDiscord {
    running: Running,
    inner: Arc<Mutex<Inner>>,
}

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(|e| e.into_inner())
}

impl FakeDiscord {
    /// # Panics
    /// If loopback cannot be bound.
    pub async fn start() -> FakeDiscord {
        let inner = Arc::new(Mutex::new(Inner {
            messages: Vec::new(),
            next_id: 1_300_000_000_000_000_100,
        }));
        let control = Control::default();
        let router = control.layer(
            Router::new()
                .route("/api/webhooks/{id}/{token}", post(execute))
                .with_state(inner.clone()),
        );
        let running = Running::start(router, control)
            .await
            .expect("bind a loopback port for the fake");
        FakeDiscord { running, inner }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.running.url()
    }

    /// The webhook path, for [`Control::fail_next`] and [`Control::requests_to`].
    pub fn path(&self) -> String {
        format!("/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}")
    }

    /// The URL an owner copies from Discord's channel settings.
    pub fn webhook_url(&self) -> String {
        format!("{}{}", self.url(), self.path())
    }

    pub fn control(&self) -> &Control {
        &self.running.control
    }

    /// Every accepted message, oldest first.
    pub fn messages(&self) -> Vec<DiscordMessage> {
        lock(&self.inner).messages.clone()
    }
}

fn error(status: StatusCode, code: u32, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "code": code, "message": message })),
    )
        .into_response()
}

fn invalid_form(errors: Vec<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({
            "code": 50035,
            "message": "Invalid Form Body",
            "errors": errors,
        })),
    )
        .into_response()
}

fn chars(v: &Value) -> usize {
    v.as_str().map(|s| s.chars().count()).unwrap_or(0)
}

/// What Discord would refuse in a body, as "path: problem" lines.
fn check(body: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(content) = body.get("content").filter(|c| !c.is_null()) {
        if !content.is_string() {
            errors.push("content: must be a string".into());
        } else if chars(content) > CONTENT_MAX {
            errors.push(format!(
                "content: Must be {CONTENT_MAX} or fewer in length."
            ));
        }
    }
    let embeds = match body.get("embeds").filter(|e| !e.is_null()) {
        None => Vec::new(),
        Some(Value::Array(e)) => e.clone(),
        Some(_) => {
            errors.push("embeds: must be an array".into());
            Vec::new()
        }
    };
    if embeds.len() > EMBEDS_MAX {
        errors.push(format!("embeds: Must be {EMBEDS_MAX} or fewer in length."));
    }
    let mut total = 0;
    for (i, e) in embeds.iter().enumerate() {
        let limit = |key: &str, max: usize, errors: &mut Vec<String>| {
            let n = chars(&e[key]);
            if n > max {
                errors.push(format!(
                    "embeds.{i}.{key}: Must be {max} or fewer in length."
                ));
            }
            n
        };
        total += limit("title", TITLE_MAX, &mut errors);
        total += limit("description", DESCRIPTION_MAX, &mut errors);
        let footer = chars(&e["footer"]["text"]);
        if footer > FOOTER_MAX {
            errors.push(format!("embeds.{i}.footer.text: too long"));
        }
        total += footer;
        if let Some(c) = e.get("color")
            && c.as_u64().is_none_or(|c| c > 0xFF_FF_FF)
        {
            errors.push(format!("embeds.{i}.color: not a colour"));
        }
        if let Some(url) = e.get("url").and_then(Value::as_str)
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            errors.push(format!("embeds.{i}.url: Not a well formed URL."));
        }
        let fields = e["fields"].as_array().cloned().unwrap_or_default();
        if fields.len() > FIELDS_MAX {
            errors.push(format!("embeds.{i}.fields: too many"));
        }
        for (j, f) in fields.iter().enumerate() {
            let (name, value) = (chars(&f["name"]), chars(&f["value"]));
            if name == 0 || name > FIELD_NAME_MAX {
                errors.push(format!("embeds.{i}.fields.{j}.name: 1 to {FIELD_NAME_MAX}"));
            }
            if value == 0 || value > FIELD_VALUE_MAX {
                errors.push(format!(
                    "embeds.{i}.fields.{j}.value: 1 to {FIELD_VALUE_MAX}"
                ));
            }
            total += name + value;
        }
    }
    if total > EMBED_TOTAL_MAX {
        errors.push(format!(
            "embeds: more than {EMBED_TOTAL_MAX} characters in all"
        ));
    }
    errors
}

async fn execute(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((id, token)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if id != WEBHOOK_ID {
        return error(StatusCode::NOT_FOUND, 10015, "Unknown Webhook");
    }
    if token != WEBHOOK_TOKEN {
        return error(StatusCode::UNAUTHORIZED, 50027, "Invalid Webhook Token");
    }
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let Ok(body) = serde_json::from_slice::<Value>(&body)
        .map_err(drop)
        .and_then(|v| {
            if json_type && v.is_object() {
                Ok(v)
            } else {
                Err(())
            }
        })
    else {
        return error(
            StatusCode::BAD_REQUEST,
            50109,
            "The request body contains invalid JSON.",
        );
    };
    let has_content = body["content"]
        .as_str()
        .is_some_and(|c| !c.trim().is_empty());
    let has_embeds = body["embeds"].as_array().is_some_and(|e| !e.is_empty());
    if !has_content && !has_embeds {
        return error(
            StatusCode::BAD_REQUEST,
            50006,
            "Cannot send an empty message",
        );
    }
    let errors = check(&body);
    if !errors.is_empty() {
        return invalid_form(errors);
    }
    let mut inner = lock(&inner);
    inner.next_id += 1;
    let message = DiscordMessage {
        id: inner.next_id,
        body,
    };
    inner.messages.push(message.clone());
    let wait = query
        .unwrap_or_default()
        .split('&')
        .any(|p| p.eq_ignore_ascii_case("wait=true"));
    if wait {
        let mut shown = message.body.clone();
        shown["id"] = json!(message.id.to_string());
        shown["channel_id"] = json!("1300000000000000002");
        shown["webhook_id"] = json!(WEBHOOK_ID);
        (StatusCode::OK, axum::Json(shown)).into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_checked_like_discord() {
        assert!(check(&json!({"content": "hi"})).is_empty());
        assert_eq!(check(&json!({"content": "x".repeat(2001)})).len(), 1);
        let field = json!({"name": "n", "value": "v".repeat(1025)});
        assert_eq!(check(&json!({"embeds": [{"fields": [field]}]})).len(), 1);
        assert_eq!(check(&json!({"embeds": [{"url": "discord.com"}]})).len(), 1);
    }
}
