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

/// A JSON body for the API, with the same treatment. Every body the API reads is an object:
/// anything else is refused before the fields are read (serde would read a list as the fields
/// in order).
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(e) => return Err(rejected(e.status(), e.body_text())),
        };
        if !value.is_object() {
            return Err(AppError::bad_request("the body is a JSON object: {…}"));
        }
        let mut value = value;
        whole_numbers(&mut value);
        serde_json::from_value(value).map(Json).map_err(|e| {
            AppError::bad_request(format!(
                "Failed to deserialize the JSON body into the target type: {e}"
            ))
        })
    }
}

/// A query string. One that does not fit the handler's fields (an unknown name, a value of the
/// wrong kind) is a 400 that says which, in the error shape the API documents.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for Query<T> {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e) => Err(AppError::bad_request(e.body_text())),
        }
    }
}

/// JSON has one kind of number: `946.0` is the integer 946 (JSON Schema says so too), but serde
/// reads an integer field only from digits without a fraction. Whole numbers are made integers
/// before the fields are read.
fn whole_numbers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                // ±2^63 and past it are out of range, and stay refused.
                && f > i64::MIN as f64
                && f < i64::MAX as f64
            {
                *n = serde_json::Number::from(f as i64);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        serde_json::Value::Object(m) => m.values_mut().for_each(whole_numbers),
        _ => {}
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
