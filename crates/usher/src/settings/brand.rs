//! `/brand/…`: the accent stylesheet and the logo friend pages link to. Both addresses carry
//! what they serve (the colour, the image's fingerprint), so both are cached for a year.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::domain::settings::Accent;
use crate::state::AppState;
use crate::web::error::{AppError, AppResult};

fn cached(body: impl Into<axum::body::Body>, content_type: &'static str) -> Response {
    let mut res = Response::new(body.into());
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    res
}

pub async fn file(State(state): State<AppState>, Path(file): Path<String>) -> AppResult<Response> {
    if let Some(hex) = file
        .strip_prefix("accent-")
        .and_then(|f| f.strip_suffix(".css"))
    {
        // Only six hex digits make a colour, so nothing else reaches the stylesheet.
        let accent = Accent::parse(hex).ok_or_else(AppError::not_found)?;
        return Ok(cached(
            crate::ui::brand::accent_css(accent),
            "text/css; charset=utf-8",
        ));
    }
    let (fingerprint, extension) = file
        .strip_prefix("logo-")
        .and_then(|f| f.split_once('.'))
        .ok_or_else(AppError::not_found)?;
    let settings = state.store.settings().await?;
    let logo = settings
        .branding
        .logo
        .filter(|l| l.fingerprint == fingerprint && l.kind.extension() == extension)
        .ok_or_else(AppError::not_found)?;
    let bytes = state
        .store
        .brand_logo(fingerprint)
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut res = cached(bytes, logo.kind.content_type());
    // Served as what it is, never sniffed into something that runs.
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(res.into_response())
}
