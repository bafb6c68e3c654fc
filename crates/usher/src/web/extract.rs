//! Extractors whose rejections are clear 4xx pages instead of axum's plain-text defaults.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::web::error::AppError;

/// A URL-encoded form. A body that does not fit the form's fields is a 400 that says which.
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(Form(v)),
            Err(e) => Err(AppError::bad_request(e.body_text())),
        }
    }
}

/// A JSON body for the API, with the same treatment.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(e) => Err(AppError::bad_request(e.body_text())),
        }
    }
}
