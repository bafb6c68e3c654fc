//! What every fake shares: the request log, fault injection, latency, and the listener.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// One request as a fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }
}

/// The first header called `name` (case-insensitive) among recorded ones.
pub fn header_in<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[derive(Default)]
struct Inner {
    log: Vec<Recorded>,
    /// Lower-cased path → statuses to answer with, one per future call.
    fail_next: HashMap<String, Vec<u16>>,
    /// Lower-cased path → statuses to answer with after the call took effect.
    lose_answer: HashMap<String, Vec<u16>>,
    latency: Duration,
}

/// A handle tests keep to inspect and steer a fake.
#[derive(Clone, Default)]
pub struct Control {
    inner: Arc<Mutex<Inner>>,
}

impl Control {
    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.lock().unwrap().log.clone()
    }

    /// Requests whose path equals `path` (case-insensitive).
    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.eq_ignore_ascii_case(path))
            .collect()
    }

    pub fn clear_requests(&self) {
        self.inner.lock().unwrap().log.clear();
    }

    /// The next call to `path` (any method, case-insensitive) answers `status` with an empty body.
    /// Calling it twice fails the next two calls. `path` may start with a method
    /// (`"POST /api/users"`) to fail only calls with that method.
    pub fn fail_next(&self, path: &str, status: u16) {
        self.inner
            .lock()
            .unwrap()
            .fail_next
            .entry(path.to_ascii_lowercase())
            .or_default()
            .push(status);
    }

    /// The next call to `path` does its work, but its answer is lost: the caller gets `status`
    /// instead, as when a proxy times out or the caller's process dies while waiting. `path`
    /// may start with a method, as for [`fail_next`](Self::fail_next).
    pub fn lose_next_answer(&self, path: &str, status: u16) {
        self.inner
            .lock()
            .unwrap()
            .lose_answer
            .entry(path.to_ascii_lowercase())
            .or_default()
            .push(status);
    }

    /// Adds `latency` before every answer.
    pub fn set_latency(&self, latency: Duration) {
        self.inner.lock().unwrap().latency = latency;
    }

    fn take_failure(&self, method: &str, path: &str) -> Option<u16> {
        self.take(method, path, |inner| &mut inner.fail_next)
    }

    /// The first status queued for `METHOD path`, else for `path`.
    fn take(
        &self,
        method: &str,
        path: &str,
        queues: impl Fn(&mut Inner) -> &mut HashMap<String, Vec<u16>>,
    ) -> Option<u16> {
        let mut inner = self.inner.lock().unwrap();
        let with_method = format!("{method} {path}").to_ascii_lowercase();
        for key in [with_method, path.to_ascii_lowercase()] {
            if let Some(queue) = queues(&mut inner).get_mut(&key)
                && !queue.is_empty()
            {
                return Some(queue.remove(0));
            }
        }
        None
    }

    /// Wraps a fake's router with recording, fault injection and latency.
    pub fn layer(&self, router: Router) -> Router {
        router.layer(middleware::from_fn_with_state(self.clone(), record))
    }
}

async fn record(State(control): State<Control>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, 16 * 1024 * 1024).await.unwrap_or_default();
    let path = parts.uri.path().to_string();
    let entry = Recorded {
        method: parts.method.to_string(),
        path: path.clone(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
            .collect(),
        body: String::from_utf8_lossy(&bytes).into(),
    };
    let latency = {
        let mut inner = control.inner.lock().unwrap();
        inner.log.push(entry);
        inner.latency
    };
    if !latency.is_zero() {
        // Simulated network latency of the remote service, not a wait in a test.
        tokio::time::sleep(latency).await;
    }
    let method = parts.method.to_string();
    if let Some(status) = control.take_failure(&method, &path) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, "injected failure").into_response();
    }
    let answer = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    match control.take(&method, &path, |inner| &mut inner.lose_answer) {
        Some(status) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::GATEWAY_TIMEOUT),
            "answer lost",
        )
            .into_response(),
        None => answer,
    }
}

/// A fake listening on loopback. Dropping it stops the server.
pub struct Running {
    pub addr: SocketAddr,
    pub control: Control,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Serves `router` (already wrapped by [`Control::layer`]) on 127.0.0.1 port 0.
    pub async fn start(router: Router, control: Control) -> std::io::Result<Running> {
        Self::start_on("127.0.0.1:0", router, control).await
    }

    /// Serves on a given address (`usher demo` uses fixed ports so links stay stable).
    pub async fn start_on(
        bind: &str,
        router: Router,
        control: Control,
    ) -> std::io::Result<Running> {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Running {
            addr,
            control,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Standard base64, enough for the fakes to read an HTTP Basic header.
pub fn decode_base64(text: &str) -> Option<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut bits, mut count, mut out) = (0u32, 0, Vec::new());
    for c in text.trim().bytes().filter(|c| *c != b'=') {
        bits = (bits << 6) | ALPHABET.iter().position(|a| *a == c)? as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(out).ok()
}
