//! The HTTP face of usher: router, shared state, middleware and the pages that belong to no
//! feature in particular.

pub mod assets;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod metrics;
pub mod ratelimit;
pub mod svg;
pub mod templates;
pub mod visitor;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Environment, Value, context};
use serde::Deserialize;

use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::SecretKey;
use crate::store::Store;
use error::{AppError, AppResult};
use extract::Form;
use ratelimit::RateLimiter;
use visitor::{Admin, LANG_COOKIE, THEME_COOKIE, Visitor, set_cookie};

/// Everything a handler may need, passed explicitly; no global statics.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub clock: Clock,
    pub key: Arc<SecretKey>,
    pub templates: Arc<Environment<'static>>,
    pub i18n: Arc<i18n::I18n>,
    pub assets: Arc<assets::Assets>,
    pub limits: Arc<Limits>,
    pub metrics: Arc<metrics::Metrics>,
    pub media: Arc<crate::servers::MediaEnv>,
    /// Wakes the job worker when new work is queued.
    pub jobs_wake: Arc<tokio::sync::Notify>,
    /// Wakes the notification sender and holds its HTTP client.
    pub notifier: Arc<crate::notify::Notifier>,
}

/// The keyed rate limiters.
#[derive(Debug)]
pub struct Limits {
    /// Login attempts per client address.
    pub login_ip: RateLimiter,
    /// Unknown invite codes tried per client address (against guessing).
    pub code_miss: RateLimiter,
    /// Redemption attempts per client address.
    pub redeem: RateLimiter,
    /// Access requests per client address (the limit itself is a setting).
    pub request_ip: RateLimiter,
}

impl Limits {
    pub fn from_config(config: &Config) -> Self {
        Limits {
            login_ip: RateLimiter::new(20, 15 * 60),
            code_miss: RateLimiter::new(config.code_misses_per_hour as usize, 3600),
            redeem: RateLimiter::new(config.redemptions_per_hour as usize, 3600),
            request_ip: RateLimiter::new(5, 3600),
        }
    }
}

pub fn router(state: AppState) -> Router {
    use crate::invites::{admin as invites, public};
    use crate::onboarding::routes as onboarding;
    use crate::requests::{admin as requests_admin, public as requests_public};
    use crate::servers::routes as servers;
    use crate::settings::routes as settings;
    let admin = Router::new()
        .route("/admin", get(dashboard))
        .route("/admin/servers", get(servers::list).post(servers::create))
        .route("/admin/servers/new", get(servers::new_form))
        .route("/admin/servers/plex/signin", post(servers::plex_signin))
        .route("/admin/servers/plex/callback", get(servers::plex_callback))
        .route("/admin/servers/plex/add", post(servers::plex_add))
        .route("/admin/servers/{id}", get(servers::detail))
        .route("/admin/servers/{id}/test", post(servers::test))
        .route("/admin/servers/{id}/scan", post(servers::scan))
        .route("/admin/servers/{id}/edit", post(servers::edit))
        .route("/admin/servers/{id}/defaults", post(servers::defaults))
        .route("/admin/servers/{id}/libraries", post(servers::libraries))
        .route("/admin/servers/{id}/remove", post(servers::remove))
        .route("/admin/servers/{id}/expiry", post(servers::expiry))
        .route("/admin/invites", get(invites::list).post(invites::create))
        .route("/admin/invites/new", get(invites::new_form))
        .route("/admin/invites.csv", get(invites::csv))
        .route(
            "/admin/profiles",
            get(crate::profiles::routes::list).post(crate::profiles::routes::create),
        )
        .route(
            "/admin/profiles/{id}",
            get(crate::profiles::routes::edit).post(crate::profiles::routes::update),
        )
        .route(
            "/admin/profiles/{id}/duplicate",
            post(crate::profiles::routes::duplicate),
        )
        .route(
            "/admin/profiles/{id}/delete",
            post(crate::profiles::routes::delete),
        )
        .route("/admin/invites/{code}", get(invites::detail))
        .route("/admin/invites/{code}/qr.svg", get(invites::qr_svg))
        .route("/admin/invites/{code}/disable", post(invites::disable))
        .route("/admin/invites/{code}/enable", post(invites::enable))
        .route("/admin/invites/{code}/delete", post(invites::delete))
        .route("/admin/requests", get(requests_admin::list))
        .route(
            "/admin/requests/{id}/approve",
            post(requests_admin::approve),
        )
        .route(
            "/admin/requests/{id}/decline",
            post(requests_admin::decline),
        )
        .route("/admin/onboarding", get(onboarding::show))
        .route("/admin/onboarding/{kind}", post(onboarding::save))
        .route("/admin/onboarding/{kind}/reset", post(onboarding::reset))
        .route(
            "/admin/api-keys",
            get(crate::api::keys::list).post(crate::api::keys::create),
        )
        .route(
            "/admin/api-keys/{id}/revoke",
            post(crate::api::keys::revoke),
        )
        .route("/admin/settings", get(settings::show))
        .route("/admin/settings/general", post(settings::general))
        .route("/admin/settings/requests", post(settings::requests))
        .route("/admin/settings/telegram", post(settings::telegram))
        .route(
            "/admin/settings/telegram/test",
            post(settings::telegram_test),
        )
        .route("/admin/settings/email", post(settings::email))
        .route("/admin/settings/email/test", post(settings::email_test));
    let public = Router::new()
        .route("/join", get(public::join))
        .route("/i/{code}", get(public::show).post(public::redeem_form))
        .route(
            "/i/{code}/plex",
            get(public::plex_back).post(public::plex_start),
        )
        .route("/i/{code}/welcome", get(public::welcome))
        .route(
            "/request",
            get(requests_public::form).post(requests_public::submit),
        )
        .route("/request/sent", get(requests_public::sent))
        .route("/guide", get(onboarding::guide))
        .route("/telegram/webhook", post(crate::telegram::webhook));

    Router::new()
        .route("/", get(home))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::endpoint))
        .route("/assets/{name}", get(assets::serve))
        .route(
            "/setup",
            get(crate::auth::routes::setup_page).post(crate::auth::routes::setup_submit),
        )
        .route(
            "/login",
            get(crate::auth::routes::login_page).post(crate::auth::routes::login_submit),
        )
        .route("/logout", post(crate::auth::routes::logout))
        .route("/prefs", post(prefs))
        .merge(admin)
        .merge(crate::members::routes::router())
        .merge(crate::notify::routes::router())
        .merge(crate::audit::router())
        .merge(public)
        .merge(crate::api::router())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            visitor::visitor,
        ))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .with_state(state)
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Something went wrong on our side. Try again; if it keeps happening, check usher's log.",
    )
        .into_response()
}

/// CSP without `unsafe-inline`, no framing, no sniffing, and referrers only to ourselves so
/// invite codes in URLs never leak to other sites (`no-referrer` would make browsers send
/// `Origin: null` on our own forms).
async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if state.config.is_https() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

/// Renders a page with the context every page shares.
pub fn page(
    state: &AppState,
    visitor: &Visitor,
    template: &str,
    ctx: Value,
) -> AppResult<Html<String>> {
    let base = base_context(
        state,
        visitor.lang,
        visitor.theme,
        &visitor.csrf,
        visitor.admin.as_ref().map(|a| a.username.as_str()),
        &visitor.path,
    );
    let merged = context! { ..ctx, ..base };
    let html = state.templates.get_template(template)?.render(merged)?;
    Ok(Html(html))
}

/// What `base.html` needs on every page, error pages included.
pub fn base_context(
    state: &AppState,
    lang: &str,
    theme: visitor::Theme,
    csrf: &str,
    admin: Option<&str>,
    path: &str,
) -> Value {
    context! {
        lang => lang,
        theme => theme.as_str(),
        csrf => csrf,
        admin => admin,
        path => path,
        languages => ser(i18n::LANGUAGES),
        public_url => state.config.public_base(),
        version => env!("CARGO_PKG_VERSION"),
    }
}

/// Accepts only a path on this site (`/admin/x`), never `//evil` or `https://…`, so redirects
/// after login or a preference change cannot be turned into open redirects.
pub fn local_path(s: &str) -> Option<&str> {
    let ok = s.starts_with('/')
        && !s.starts_with("//")
        && !s.starts_with("/\\")
        && !s.contains(['\r', '\n']);
    ok.then_some(s)
}

async fn home(visitor: Visitor) -> Redirect {
    if visitor.admin.is_some() {
        Redirect::to("/admin")
    } else {
        Redirect::to("/login")
    }
}

async fn not_found() -> AppError {
    AppError::not_found()
}

async fn healthz(State(state): State<AppState>) -> Response {
    let db_ok = state.store.ping().await.is_ok();
    let status = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(serde_json::json!({
            "status": if db_ok { "ok" } else { "degraded" },
            "version": env!("CARGO_PKG_VERSION"),
            "database": if db_ok { "ok" } else { "unavailable" },
        })),
    )
        .into_response()
}

async fn dashboard(State(state): State<AppState>, admin: Admin) -> AppResult<Html<String>> {
    let now = state.clock.now();
    let events = state.store.recent_events(10).await?;
    let counts = state.store.invite_counts(now).await?;
    let today = now / 86_400;
    let per_day = state
        .store
        .redemptions_per_day((today - 29) * 86_400)
        .await?;
    let daily: Vec<i64> = (today - 29..=today)
        .map(|d| {
            per_day
                .iter()
                .find(|(day, _)| *day == d)
                .map(|(_, n)| *n)
                .unwrap_or(0)
        })
        .collect();
    let label = |day: i64| {
        crate::clock::human(day * 86_400)
            .chars()
            .take(10)
            .collect::<String>()
    };
    let chart = svg::bars(
        &daily,
        &state.i18n.text(admin.visitor.lang, "dashboard-chart-title"),
        &label(today - 29),
        &label(today),
    );
    page(
        &state,
        &admin.visitor,
        "admin/dashboard.html",
        context! {
            events => ser(&events),
            server_count => state.store.server_count().await?,
            invite_count => counts.all,
            pending_requests => state.store.pending_request_count().await?,
            active_invites => counts.active,
            redeemed_7 => state.store.redemptions_since(now - 7 * 86_400).await?,
            redeemed_30 => state.store.redemptions_since(now - 30 * 86_400).await?,
            members_per_server => ser(state.store.members_per_server().await?),
            chart => Value::from_safe_string(chart),
        },
    )
}

#[derive(Deserialize)]
struct PrefsForm {
    #[serde(default)]
    theme: Option<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    back: String,
}

/// The theme toggle and language switch: plain forms, so they work without JavaScript.
async fn prefs(State(state): State<AppState>, Form(form): Form<PrefsForm>) -> AppResult<Response> {
    let mut res = Redirect::to(local_path(&form.back).unwrap_or("/")).into_response();
    let year = 60 * 60 * 24 * 365;
    let secure = state.config.is_https();
    if let Some(theme) = form.theme.as_deref() {
        if !matches!(theme, "auto" | "light" | "dark") {
            return Err(
                AppError::bad_request("theme must be auto, light or dark").with_field("theme")
            );
        }
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(THEME_COOKIE, theme, year, secure, false),
        );
    }
    if let Some(lang) = form.lang.as_deref() {
        let Some(lang) = i18n::supported(lang) else {
            return Err(AppError::bad_request("unsupported language").with_field("lang"));
        };
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(LANG_COOKIE, lang, year, secure, false),
        );
    }
    Ok(res)
}

/// Turns any serialisable value into a template value.
pub fn ser<T: serde::Serialize>(value: T) -> Value {
    Value::from(minijinja::value::Serde(value))
}
