//! Reading a server's answer the same way for every kind: the status judged into a
//! [`MediaError`], the body as JSON, and the server's own words made short, readable and free of
//! the key that was sent.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::MediaError;

/// A whole answer, read before judging it.
pub(crate) struct Reply {
    pub status: StatusCode,
    retry_after: Option<Duration>,
    content_type: String,
    body: Vec<u8>,
    product: &'static str,
    /// The key or token, and anything else secret the call carried, never shown.
    secrets: Vec<Arc<str>>,
}

impl Reply {
    /// Sends `request` and reads the whole answer. `product` names the server in messages and
    /// `secret` (the key or token) is scrubbed from anything the server echoes back.
    pub async fn read(
        request: RequestBuilder,
        product: &'static str,
        secret: &Arc<str>,
    ) -> Result<Reply, MediaError> {
        Self::read_hiding(request, product, std::slice::from_ref(secret)).await
    }

    /// [`read`](Self::read) for a call that carries several secrets (a password, a session
    /// token, a signed query), every one of them scrubbed.
    pub async fn read_hiding(
        request: RequestBuilder,
        product: &'static str,
        secrets: &[Arc<str>],
    ) -> Result<Reply, MediaError> {
        let response = request.send().await?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let body = response.bytes().await?.to_vec();
        Ok(Reply {
            status,
            retry_after,
            content_type,
            body,
            product,
            secrets: secrets.to_vec(),
        })
    }

    /// The reply itself on any 2xx (Emby's success codes vary), otherwise an error for `what`.
    pub fn ok(self, what: &str) -> Result<Reply, MediaError> {
        if self.status.is_success() {
            return Ok(self);
        }
        let message = format!("{what}: {}", self.message());
        Err(match self.status.as_u16() {
            401 | 403 => MediaError::Unauthorized,
            404 => MediaError::NotFound(message),
            400 | 422 => MediaError::Invalid(format!(
                "{} refused {what}: {}",
                self.product,
                self.message()
            )),
            410 => MediaError::EndpointRemoved(what.to_string()),
            429 => MediaError::RateLimited {
                retry_after: self.retry_after,
            },
            status => MediaError::Server { status, message },
        })
    }

    pub fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, MediaError> {
        serde_json::from_slice(&self.body)
            .map_err(|_| MediaError::Protocol(format!("{what} is not the JSON usher expects")))
    }

    /// A controller's own message, a JSON string such as `"User not found"`, as opposed to the
    /// routing layer's empty 404 or a model-binding ProblemDetails.
    pub fn is_controller_message(&self) -> bool {
        matches!(self.json::<Value>(""), Ok(Value::String(_)))
    }

    /// What the server said, short and readable.
    pub fn message(&self) -> String {
        let text = String::from_utf8_lossy(&self.body).trim().to_string();
        let from_json = if self.content_type.contains("json") {
            serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| describe_json_error(&v))
        } else {
            None
        };
        let message = from_json.unwrap_or(text);
        let message = if message.is_empty() {
            self.status
                .canonical_reason()
                .unwrap_or("no details")
                .to_string()
        } else {
            message
        };
        let scrubbed = self
            .secrets
            .iter()
            .fold(message, |text, secret| scrub(&text, secret));
        truncate(&scrubbed, 300)
    }
}

/// Reads ProblemDetails (`title` plus per-field `errors`) or a bare JSON string.
fn describe_json_error(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        // Kavita: `[{"status":400,"message":"…"}]`.
        Value::Array(items) => items.iter().find_map(describe_json_error),
        Value::Object(map) => {
            let text = |key: &str| {
                map.get(key)
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
            };
            // ProblemDetails (Jellyfin, Emby): a title and per-field message lists; Navidrome:
            // one code per field (`{"errors":{"userName":"ra.validation.unique"}}`).
            let mut fields: Vec<String> = map
                .get("errors")
                .and_then(Value::as_object)
                .map(|errors| {
                    errors
                        .iter()
                        .flat_map(|(field, msgs)| {
                            let list: Vec<&str> = match msgs {
                                Value::String(m) => vec![m.as_str()],
                                other => other
                                    .as_array()
                                    .into_iter()
                                    .flatten()
                                    .filter_map(Value::as_str)
                                    .collect(),
                            };
                            list.into_iter().map(move |m| format!("{field}: {m}"))
                        })
                        .collect()
                })
                .unwrap_or_default();
            // Komga's validation: `{"violations":[{"fieldName","message"}]}`.
            if let Some(violations) = map.get("violations").and_then(Value::as_array) {
                fields.extend(violations.iter().filter_map(|v| {
                    let message = v.get("message")?.as_str()?;
                    Some(match v.get("fieldName").and_then(Value::as_str) {
                        Some(field) => format!("{field}: {message}"),
                        None => message.to_string(),
                    })
                }));
            }
            // `title` (ProblemDetails), `error` (Navidrome), `message` (Spring, Komga),
            // `detail` (FastAPI, RomM; a list of `{msg}` for validation).
            let headline = text("title")
                .or_else(|| text("error"))
                .or_else(|| text("message"))
                .or_else(|| text("detail"))
                .map(str::to_string)
                .or_else(|| {
                    let details = map.get("detail")?.as_array()?;
                    let msgs: Vec<&str> = details
                        .iter()
                        .filter_map(|d| d.get("msg").and_then(Value::as_str))
                        .collect();
                    (!msgs.is_empty()).then(|| msgs.join("; "))
                });
            match (headline, fields.is_empty()) {
                (None, true) => None,
                (Some(h), true) => Some(h),
                (None, false) => Some(fields.join("; ")),
                (Some(h), false) => Some(format!("{h} {}", fields.join("; "))),
            }
        }
        _ => None,
    }
}

/// A proxy's error page may echo request headers; the key must not reach a log or a screen.
fn scrub(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_string()
    } else {
        text.replace(secret, "<api key>")
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// The error of a set-up that failed after the account existed, saying whether the account was
/// deleted again (`deleted`) or must be deleted by hand (`by_hand`: where, in the server's UI).
pub(crate) fn rolled_back(
    err: MediaError,
    username: &str,
    deleted: bool,
    by_hand: &str,
) -> MediaError {
    let context = if deleted {
        format!("the account `{username}` was removed again because setting it up failed")
    } else {
        format!(
            "setting up the account `{username}` failed and removing it failed too: delete it {by_hand}"
        )
    };
    with_context(err, &context)
}

/// Says why an account was rolled back, keeping the error's kind so retry decisions still hold.
pub(crate) fn with_context(err: MediaError, context: &str) -> MediaError {
    match err {
        MediaError::NotFound(m) => MediaError::NotFound(format!("{context}: {m}")),
        MediaError::AlreadyExists(m) => MediaError::AlreadyExists(format!("{context}: {m}")),
        MediaError::Invalid(m) => MediaError::Invalid(format!("{context}: {m}")),
        MediaError::Unsupported(m) => MediaError::Unsupported(format!("{context}: {m}")),
        MediaError::Unreachable(m) => MediaError::Unreachable(format!("{context}: {m}")),
        MediaError::EndpointRemoved(m) => MediaError::EndpointRemoved(format!("{context}: {m}")),
        MediaError::Protocol(m) => MediaError::Protocol(format!("{context}: {m}")),
        MediaError::Server { status, message } => MediaError::Server {
            status,
            message: format!("{context}: {message}"),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_echoed_api_key_is_scrubbed_from_server_messages() {
        let reply = Reply {
            status: StatusCode::BAD_GATEWAY,
            retry_after: None,
            content_type: "text/html".into(),
            body: b"upstream failed for X-Emby-Token: key-42".to_vec(),
            product: "Emby",
            secrets: vec!["key-42".into()],
        };
        let Err(err) = reply.ok("reading the user list") else {
            panic!("a 502 is an error")
        };
        assert_eq!(
            err.to_string(),
            "the server answered 502: reading the user list: upstream failed for X-Emby-Token: <api key>"
        );
    }

    #[test]
    fn each_servers_error_shape_is_read() {
        for (body, said) in [
            (
                json!({"errors": {"userName": "ra.validation.unique"}}),
                "userName: ra.validation.unique",
            ),
            (
                json!({"error": "Invalid request payload"}),
                "Invalid request payload",
            ),
            (
                json!({"status": 400, "message": "A user with this email already exists"}),
                "A user with this email already exists",
            ),
            (
                json!({"violations": [{"fieldName": "email", "message": "must be a well-formed email address"}]}),
                "email: must be a well-formed email address",
            ),
            (
                json!([{"status": 400, "message": "Username is already taken", "details": null}]),
                "Username is already taken",
            ),
            (
                json!({"detail": "Username bob already exists"}),
                "Username bob already exists",
            ),
            (
                json!({"detail": [{"type": "missing", "loc": ["body", "email"], "msg": "Field required"}]}),
                "Field required",
            ),
        ] {
            assert_eq!(describe_json_error(&body).as_deref(), Some(said), "{body}");
        }
    }

    #[test]
    fn problem_details_are_summarised_for_a_person() {
        let body = json!({
            "title": "One or more validation errors occurred.",
            "errors": {"AuthenticationProviderId": ["The AuthenticationProviderId field is required."]}
        });
        assert_eq!(
            describe_json_error(&body).unwrap(),
            "One or more validation errors occurred. AuthenticationProviderId: The AuthenticationProviderId field is required."
        );
    }
}
