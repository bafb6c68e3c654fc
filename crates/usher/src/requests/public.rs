//! `/request`: the public form.

use crate::web::extract::Query;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use super::{RequestInput, SubmitError, Submitted};
use crate::domain::RequestStatus;
use crate::state::AppState;
use crate::web::error::Failure;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::Form;
use crate::web::page;
use crate::web::visitor::{Origin, Visitor};

/// What the form shows, from one read of the settings: whether it is open, whether only Plex
/// servers can be asked for, whether a passphrase is asked, the owner's name and the branding.
async fn form_context(state: &AppState) -> AppResult<(bool, bool, bool, String, minijinja::Value)> {
    let settings = state.store.settings().await?;
    let servers = state.store.requestable_servers(&settings).await?;
    let open = settings.requests.open_with(servers.len());
    let brand = crate::ui::brand::context(&settings.branding);
    Ok((
        open,
        super::plex_only(&servers),
        settings.requests.passphrase_hash.is_some(),
        settings.owner_name,
        brand,
    ))
}

pub async fn form(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    // The empty form is the same for everyone.
    crate::web::page_cache::serve(&state, &visitor, &headers, true, async |visitor| {
        let (open, plex_only, needs_passphrase, owner, brand) = form_context(&state).await?;
        let status = if open {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        let html = page(
            &state,
            &visitor,
            "request.html",
            context! {
                open, plex_only, needs_passphrase, owner, brand,
                form => context! { name => "", email => "", note => "" }, error => (),
            },
        )?;
        Ok(crate::web::page_cache::Rendered::page(status, html))
    })
    .await
}

#[derive(Deserialize, Default)]
pub struct RequestForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    passphrase: String,
    #[serde(default)]
    website: String,
}

pub async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<RequestForm>,
) -> AppResult<Response> {
    let input = RequestInput {
        name: form.name.clone(),
        email: form.email.clone(),
        note: form.note.clone(),
        passphrase: form.passphrase.clone(),
        website: form.website.clone(),
        lang: visitor.lang.to_string(),
    };
    let outcome = super::submit(&state, &input, &visitor.ip.to_string()).await;
    let (key, status, field) = match outcome {
        Ok(Submitted::Approved(id)) => {
            // Servers where people choose their own login: straight to choosing it.
            let handoff = match state.store.request(id).await? {
                Some(r) => {
                    let settings = state.store.settings().await?;
                    super::handoff(&state, &settings, &r).await?
                }
                None => None,
            };
            let next = match handoff {
                Some(h) => format!("/i/{}", h.code),
                None => "/request/sent?approved=1".to_string(),
            };
            return Ok(Redirect::to(&next).into_response());
        }
        Ok(Submitted::Pending(_) | Submitted::Dropped) => {
            return Ok(Redirect::to("/request/sent").into_response());
        }
        Err(e) => refusal(e)?,
    };
    let (open, plex_only, needs_passphrase, owner, brand) = form_context(&state).await?;
    let mut res = page(
        &state,
        &visitor,
        "request.html",
        context! {
            open, plex_only, needs_passphrase, owner, brand,
            form => context! { name => &form.name, email => &form.email, note => &form.note },
            error => context! { key, field },
        },
    )?
    .into_response();
    *res.status_mut() = status;
    Ok(res)
}

/// How a refused request is answered: the message, the status and the field to fix. Closed
/// forms and database failures are errors of their own.
fn refusal(e: SubmitError) -> AppResult<(&'static str, StatusCode, Option<&'static str>)> {
    if matches!(e, SubmitError::Closed | SubmitError::Store(_)) {
        return Err(e.into());
    }
    Ok((e.message_key(), e.status(), e.field()))
}

/// The request form as JSON, for a guide page on another site (`allowed_origins`). No cookie
/// or CSRF token: a browser on a site that is not allowed is refused by its `Origin`, bots by
/// the honeypot field, floods by the limits per address and per email.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestJson {
    name: String,
    email: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    passphrase: String,
    /// The honeypot: a hidden field people leave empty.
    #[serde(default)]
    website: String,
    /// `en` or `es`; otherwise the browser's language.
    #[serde(default)]
    lang: Option<String>,
}

/// `POST /api/v1/requests`. Every answer, errors included, carries the CORS headers an allowed
/// site needs to read it.
pub async fn api_submit(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let origin = crate::web::visitor::origin_of(&headers, &state);
    let answer = async {
        if origin == Origin::Refused {
            return Err(AppError::new(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "request-origin-refused",
            ));
        }
        let body: RequestJson = serde_json::from_slice(&body).map_err(|e| {
            AppError::new(StatusCode::BAD_REQUEST, "bad_request", "error-bad-request")
                .with_detail(e.to_string())
        })?;
        let lang = body
            .lang
            .as_deref()
            .and_then(crate::ui::i18n::supported)
            .unwrap_or(visitor.lang);
        let input = RequestInput {
            name: body.name,
            email: body.email,
            note: body.note,
            passphrase: body.passphrase,
            website: body.website,
            lang: lang.to_string(),
        };
        match super::submit(&state, &input, &visitor.ip.to_string()).await {
            Ok(Submitted::Approved(_)) => Ok((RequestStatus::Approved, lang)),
            // A bot is answered as a person would be; nothing was kept.
            Ok(Submitted::Pending(_) | Submitted::Dropped) => Ok((RequestStatus::Pending, lang)),
            Err(e) => {
                let (key, status, field) = refusal(e)?;
                let mut err = AppError::new(status, "refused", key);
                if let Some(f) = field {
                    err = err.with_field(f);
                }
                Err(err)
            }
        }
    }
    .await;
    let mut res = match answer {
        Ok((status, lang)) => {
            let key = if status == RequestStatus::Approved {
                "request-api-approved"
            } else {
                "request-api-pending"
            };
            (
                StatusCode::CREATED,
                axum::Json(serde_json::json!({
                    "status": status,
                    "message": state.i18n.text(lang, key),
                })),
            )
                .into_response()
        }
        Err(err) => {
            let message = state.i18n.text(visitor.lang, err.message_key);
            crate::web::error::json_body(&err, &message, &[])
        }
    };
    allow_origin(&mut res, &origin);
    res
}

/// `OPTIONS /api/v1/requests`: the browser's preflight, answered for allowed sites only.
pub async fn api_preflight(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Response {
    let origin = crate::web::visitor::origin_of(&headers, &state);
    if !matches!(origin, Origin::Allowed(_)) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    allow_origin(&mut res, &origin);
    res
}

/// Lets an allowed site read the answer; every other caller gets no CORS headers.
fn allow_origin(res: &mut Response, origin: &Origin) {
    res.headers_mut()
        .append(header::VARY, HeaderValue::from_static("Origin"));
    if let Origin::Allowed(o) = origin
        && let Ok(v) = HeaderValue::from_str(o)
    {
        res.headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
}

#[derive(Deserialize, Default)]
pub struct SentQuery {
    #[serde(default)]
    approved: Option<String>,
}

pub async fn sent(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<SentQuery>,
) -> AppResult<Response> {
    let settings = state.store.settings().await?;
    Ok(page(
        &state,
        &visitor,
        "request_sent.html",
        context! {
            approved => q.approved.is_some(), hours => settings.requests.expiry_hours,
            brand => crate::ui::brand::context(&settings.branding),
        },
    )?
    .into_response())
}
