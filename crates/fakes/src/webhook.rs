//! A webhook receiver like the one an owner would write for usher's generic JSON webhook: it
//! accepts `POST /hook` with a JSON body and, once told the channel's secret, refuses (401) any
//! delivery whose `X-Usher-Signature` is not `sha256=` and the hex HMAC-SHA256 of the raw body.
//! Every request is recorded; [`Control::fail_next`] on [`FakeWebhook::path`] makes it fail.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, StatusCode};
use serde_json::Value;
use sha2::Sha256;

use crate::control::{Control, Running};

const PATH: &str = "/hook";

/// A delivery the receiver accepted.
#[derive(Debug, Clone)]
pub struct WebhookDelivery {
    pub headers: Vec<(String, String)>,
    /// The raw body, as signed.
    pub body: String,
    pub json: Value,
}

impl WebhookDelivery {
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::control::header_in(&self.headers, name)
    }
}

#[derive(Default)]
struct Inner {
    secret: Option<String>,
    accepted: Vec<WebhookDelivery>,
    refused: usize,
}

pub struct FakeWebhook {
    running: Running,
    inner: Arc<Mutex<Inner>>,
}

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(|e| e.into_inner())
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// Whether `header` is the right signature of `body`, compared in constant time.
pub fn verify(secret: &str, body: &[u8], header: &str) -> bool {
    let expected = sign(secret, body);
    expected.len() == header.len()
        && expected
            .bytes()
            .zip(header.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

impl FakeWebhook {
    /// # Panics
    /// If loopback cannot be bound.
    pub async fn start() -> FakeWebhook {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let control = Control::default();
        let router = control.layer(
            Router::new()
                .route(PATH, post(receive))
                .with_state(inner.clone()),
        );
        let running = Running::start(router, control)
            .await
            .expect("bind a loopback port for the fake");
        FakeWebhook { running, inner }
    }

    /// The receiver's URL.
    pub fn url(&self) -> String {
        format!("{}{PATH}", self.running.url())
    }

    pub fn path(&self) -> &'static str {
        PATH
    }

    pub fn control(&self) -> &Control {
        &self.running.control
    }

    /// From now on, only deliveries signed with `secret` are accepted.
    pub fn set_secret(&self, secret: &str) {
        lock(&self.inner).secret = Some(secret.to_string());
    }

    /// Accepted deliveries, oldest first.
    pub fn deliveries(&self) -> Vec<WebhookDelivery> {
        lock(&self.inner).accepted.clone()
    }

    /// How many deliveries were refused for a missing or wrong signature.
    pub fn refused(&self) -> usize {
        lock(&self.inner).refused
    }
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = lock(&inner);
    if let Some(secret) = &inner.secret {
        let given = headers
            .get("x-usher-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !verify(secret, &body, given) {
            inner.refused += 1;
            return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
        }
    }
    let Ok(json) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    inner.accepted.push(WebhookDelivery {
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
            .collect(),
        body: String::from_utf8_lossy(&body).into(),
        json,
    });
    (StatusCode::OK, "ok").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_for_the_same_secret_and_body() {
        let s = sign("k", b"{}");
        assert!(verify("k", b"{}", &s));
        assert!(!verify("k", b"{ }", &s));
        assert!(!verify("other", b"{}", &s));
        assert!(!verify("k", b"{}", ""));
    }
}
