//! One error type for every handler. Browser routes get an HTML page in the visitor's language,
//! `/api` routes get `{"error": {...}}`. Nobody ever sees a stack trace.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error a handler returns. `message_key` is a Fluent key for pages; `detail` is text that is
/// already safe to show (it never contains secrets).
#[derive(Debug, Clone)]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message_key: &'static str,
    pub detail: Option<String>,
    pub field: Option<&'static str>,
    /// Every field to fix when there are several, each with its own message.
    pub fields: Vec<FieldMessage>,
}

/// A field's own message: a Fluent key and the value it is about (`$value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMessage {
    pub field: &'static str,
    pub key: &'static str,
    pub value: Option<String>,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message_key: &'static str) -> Self {
        AppError {
            status,
            code,
            message_key,
            detail: None,
            field: None,
            fields: Vec::new(),
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", "error-bad-request").with_detail(detail)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "error-not-found")
    }

    pub fn forbidden_csrf() -> Self {
        Self::new(StatusCode::FORBIDDEN, "csrf", "error-csrf")
    }

    /// Signed in, but with a role below the one the route needs.
    pub fn role_needed(role: crate::domain::Role) -> Self {
        use crate::domain::Role;
        let key = match role {
            Role::Owner => "error-role-owner",
            Role::Admin | Role::Approver => "error-role-admin",
        };
        Self::new(StatusCode::FORBIDDEN, "role", key)
    }

    pub fn too_many_requests() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "error-rate-limited",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "error-internal",
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "error-unauthorized",
        )
    }
}

/// What every feature's error tells whoever called: the HTTP status, a stable code for the API,
/// the Fluent key people read, the field to fix and a detail that is safe to show. Pages, the
/// API and the CLI all answer from these, so one failure reads the same everywhere.
pub trait Failure: std::fmt::Display {
    fn status(&self) -> StatusCode;
    fn code(&self) -> &'static str;
    fn message_key(&self) -> &'static str;
    fn field(&self) -> Option<&'static str> {
        None
    }
    fn detail(&self) -> Option<String> {
        None
    }
}

/// A failure as one line for a terminal: the sentence the pages show (in English) and the
/// detail when it adds something. A failure on our side keeps its cause, since whoever runs the
/// CLI is the owner, on the machine, and the cause is what they need to fix it.
pub fn for_terminal(i18n: &crate::ui::i18n::I18n, e: &impl Failure) -> String {
    if e.status() == StatusCode::INTERNAL_SERVER_ERROR {
        return e.to_string();
    }
    let headline = i18n.text("en", e.message_key());
    match e.detail() {
        Some(d) if !headline.contains(&d) => format!("{headline} ({d})"),
        _ => headline,
    }
}

/// A failure on our side (5xx but a server's refusal) is logged with its cause and answered
/// without it; every other failure is answered as it describes itself.
impl<E: Failure> From<E> for AppError {
    fn from(e: E) -> Self {
        let status = e.status();
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "a request failed on our side");
            return AppError::internal();
        }
        let mut err = AppError::new(status, e.code(), e.message_key());
        err.field = e.field();
        err.detail = e.detail();
        err
    }
}

/// The database failing is always a failure on our side.
impl Failure for crate::store::StoreError {
    fn status(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn code(&self) -> &'static str {
        "internal"
    }

    fn message_key(&self) -> &'static str {
        "error-internal"
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(error = %err, "database error");
        AppError::internal()
    }
}

impl From<minijinja::Error> for AppError {
    fn from(err: minijinja::Error) -> Self {
        tracing::error!(error = %err, "template error");
        AppError::internal()
    }
}

/// The response body is left empty here; the `render_errors` middleware, which knows the
/// visitor's language and whether the route is an API route, fills it in.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut res = self.status.into_response();
        res.extensions_mut().insert(self);
        res
    }
}

/// The JSON shape every API error has.
pub fn json_body(err: &AppError, message: &str, fields: &[(&str, String)]) -> Response {
    let mut error = serde_json::json!({ "code": err.code, "message": message });
    if let Some(field) = err.field {
        error["field"] = serde_json::Value::from(field);
    }
    if !fields.is_empty() {
        let map: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(f, m)| (f.to_string(), serde_json::Value::from(m.as_str())))
            .collect();
        error["fields"] = serde_json::Value::Object(map);
    }
    (err.status, Json(serde_json::json!({ "error": error }))).into_response()
}

/// The Fluent key for each kind of media server failure.
pub fn media_error_key(e: &media::MediaError) -> &'static str {
    match e {
        media::MediaError::Unauthorized => "media-error-unauthorized",
        media::MediaError::NotOwner => "media-error-not-owner",
        media::MediaError::NotFound(_) => "media-error-not-found",
        media::MediaError::AlreadyExists(_) => "media-error-already-exists",
        media::MediaError::LimitReached(_) => "media-error-limit-reached",
        media::MediaError::PlexPassRequired => "media-error-plex-pass",
        media::MediaError::RateLimited { .. } => "media-error-rate-limited",
        media::MediaError::Unreachable(_) => "media-error-unreachable",
        media::MediaError::Timeout => "media-error-timeout",
        media::MediaError::EndpointRemoved(_) => "media-error-endpoint-removed",
        media::MediaError::Invalid(_) => "media-error-invalid",
        media::MediaError::Unsupported(_) => "media-error-unsupported",
        media::MediaError::Server { .. } => "media-error-server",
        media::MediaError::Protocol(_) => "media-error-protocol",
    }
}

pub type AppResult<T> = Result<T, AppError>;
