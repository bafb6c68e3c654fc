//! Extractors whose rejections are clear 4xx pages instead of axum's plain-text defaults.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::web::error::AppError;

/// A URL-encoded form. A body that does not fit the form's fields is a 400 that says which.
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if req.method() == axum::http::Method::GET {
            return match axum::Form::<T>::from_request(req, state).await {
                Ok(axum::Form(v)) => Ok(Form(v)),
                Err(e) => Err(rejected(e.status(), e.body_text())),
            };
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| rejected(e.status(), e.body_text()))?;
        // Bytes that are not text would be read with U+FFFD in their place: refuse them.
        if !crate::text::form_is_utf8(&bytes) {
            return Err(AppError::bad_request("the form was not sent as UTF-8 text"));
        }
        serde_urlencoded::from_bytes(&bytes)
            .map(Form)
            .map_err(|e| AppError::bad_request(format!("the form could not be read: {e}")))
    }
}

/// A body that is too large is a 413, like a form past the limit; anything else a 400.
fn rejected(status: axum::http::StatusCode, text: String) -> AppError {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(status, "too_large", "error-too-large")
    } else {
        AppError::bad_request(text)
    }
}

/// A JSON body for the API, with the same treatment.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(e) => Err(rejected(e.status(), e.body_text())),
        }
    }
}

/// A field of a form read as `(name, value)` pairs (forms with repeated or per-server fields);
/// empty when absent.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// A record's id (`MemberId`, `ServerId`, …) from a path segment; anything else is a page that
/// does not exist (404).
pub fn path_id<Id: std::str::FromStr>(raw: &str) -> Result<Id, super::error::AppError> {
    raw.parse().map_err(|_| super::error::AppError::not_found())
}

/// Whether a form has a field at all (a ticked checkbox).
pub fn has_field(fields: &[(String, String)], name: &str) -> bool {
    fields.iter().any(|(k, _)| k == name)
}
