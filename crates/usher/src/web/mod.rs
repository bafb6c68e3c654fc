//! The HTTP face of usher: router, shared state, middleware and the pages that belong to no
//! feature in particular.

pub mod assets;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod metrics;
pub mod picker;
pub mod ratelimit;
pub mod svg;
pub mod templates;
pub mod visitor;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
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
    /// The Content-Security-Policy header, built once from the configuration.
    pub csp: HeaderValue,
    /// Where people reach usher: the base of every link.
    pub public: Arc<crate::public_url::PublicUrl>,
}

/// The keyed rate limiters.
#[derive(Debug)]
pub struct Limits {
    /// Login attempts per client address.
    pub login_ip: RateLimiter,
    /// Failed sign-ins per (address, account), reserved before each check.
    pub login_attempts: ratelimit::AttemptGuard,
    /// Unknown invite codes tried per client address (against guessing).
    pub code_miss: RateLimiter,
    /// Redemption attempts per client address.
    pub redeem: RateLimiter,
    /// Access requests per client address (the limit itself is a setting).
    pub request_ip: RateLimiter,
    /// Access requests per email address, from any address.
    pub request_email: RateLimiter,
}

impl Limits {
    pub fn from_config(config: &Config) -> Self {
        Limits {
            login_ip: RateLimiter::new(20, 15 * 60),
            login_attempts: ratelimit::AttemptGuard::new(
                config.login_max_failures,
                config.login_lockout_minutes as i64 * 60,
            ),
            code_miss: RateLimiter::new(config.code_misses_per_hour as usize, 3600),
            redeem: RateLimiter::new(config.redemptions_per_hour as usize, 3600),
            request_ip: RateLimiter::new(5, 3600),
            request_email: RateLimiter::new(3, 86_400),
        }
    }
}

/// Who may call a route. The security tests take every route from [`route_table`] and check that
/// the handlers enforce what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: invite and request pages, the public invite API, sign-in, assets.
    Public,
    /// A signed-in admin. Anyone else is sent to the login page, or gets 401 under `/api/`.
    Admin,
    /// Proven by a secret other than a session: `/metrics` (bearer token), the Telegram webhook
    /// (secret header).
    Secret,
    /// The JSON API: an API key (`Authorization: Bearer` or `X-Api-Key`), never a session; 401
    /// without one.
    ApiKey,
}

/// One route as registered: method, path pattern and who may call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

/// Registers routes and records them in the same call, so the table cannot drift from the router.
pub struct Routes {
    router: Router<AppState>,
    table: Vec<RouteInfo>,
}

impl Routes {
    fn new() -> Self {
        Routes {
            router: Router::new(),
            table: Vec::new(),
        }
    }

    pub fn get<H, T>(self, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::GET, path, access, get(handler))
    }

    pub fn post<H, T>(self, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::POST, path, access, post(handler))
    }

    pub(crate) fn add(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        route: MethodRouter<AppState>,
    ) -> Self {
        self.router = self.router.route(path, route);
        self.table.push(RouteInfo {
            method,
            path,
            access,
        });
        self
    }
}

/// Every route usher serves, with who may call it.
pub fn route_table() -> Vec<RouteInfo> {
    routes().table
}

fn routes() -> Routes {
    use crate::auth::routes as auth;
    use crate::invites::{admin as invites, public};
    use crate::onboarding::routes as onboarding;
    use crate::requests::{admin as requests_admin, public as requests_public};
    use crate::servers::routes as servers;
    use crate::settings::routes as settings;
    use Access::{Admin, Public, Secret};
    let r = Routes::new()
        .get("/", Public, home)
        .get("/healthz", Public, healthz)
        .get("/metrics", Secret, metrics::endpoint)
        .get("/assets/{name}", Public, assets::serve)
        .get("/setup", Public, auth::setup_page)
        .post("/setup", Public, auth::setup_submit)
        .get("/login", Public, auth::login_page)
        .post("/login", Public, auth::login_submit)
        .post("/logout", Public, auth::logout)
        .post("/prefs", Public, prefs)
        // The owner's pages.
        .get("/admin", Admin, dashboard)
        .get("/admin/servers", Admin, servers::list)
        .post("/admin/servers", Admin, servers::create)
        .get("/admin/servers/new", Admin, servers::new_form)
        .post("/admin/servers/plex/signin", Admin, servers::plex_signin)
        .get(
            "/admin/servers/plex/callback",
            Admin,
            servers::plex_callback,
        )
        .post("/admin/servers/plex/add", Admin, servers::plex_add)
        .get("/admin/servers/{id}", Admin, servers::detail)
        .post("/admin/servers/{id}/test", Admin, servers::test)
        .post("/admin/servers/{id}/scan", Admin, servers::scan)
        .post("/admin/servers/{id}/edit", Admin, servers::edit)
        .post("/admin/servers/{id}/defaults", Admin, servers::defaults)
        .post("/admin/servers/{id}/libraries", Admin, servers::libraries)
        .post("/admin/servers/{id}/remove", Admin, servers::remove)
        .post("/admin/servers/{id}/expiry", Admin, servers::expiry)
        .get("/admin/invites", Admin, invites::list)
        .post("/admin/invites", Admin, invites::create)
        .get("/admin/invites/new", Admin, invites::new_form)
        .get("/admin/invites/{code}", Admin, invites::detail)
        .get("/admin/invites/{code}/qr.svg", Admin, invites::qr_svg)
        .post("/admin/invites/{code}/disable", Admin, invites::disable)
        .post("/admin/invites/{code}/enable", Admin, invites::enable)
        .post("/admin/invites/{code}/delete", Admin, invites::delete)
        .get("/admin/requests", Admin, requests_admin::list)
        .post(
            "/admin/requests/{id}/approve",
            Admin,
            requests_admin::approve,
        )
        .post(
            "/admin/requests/{id}/decline",
            Admin,
            requests_admin::decline,
        )
        .get("/admin/settings", Admin, settings::show)
        .post("/admin/settings/general", Admin, settings::general)
        .post("/admin/settings/requests", Admin, settings::requests)
        .post("/admin/settings/telegram", Admin, settings::telegram)
        .post(
            "/admin/settings/telegram/test",
            Admin,
            settings::telegram_test,
        )
        .post("/admin/settings/email", Admin, settings::email)
        .post("/admin/settings/email/test", Admin, settings::email_test);
    let r = r
        .get("/admin/invites.csv", Admin, invites::csv)
        .get("/admin/profiles", Admin, crate::profiles::routes::list)
        .post("/admin/profiles", Admin, crate::profiles::routes::create)
        .get("/admin/profiles/{id}", Admin, crate::profiles::routes::edit)
        .post(
            "/admin/profiles/{id}",
            Admin,
            crate::profiles::routes::update,
        )
        .post(
            "/admin/profiles/{id}/duplicate",
            Admin,
            crate::profiles::routes::duplicate,
        )
        .post(
            "/admin/profiles/{id}/delete",
            Admin,
            crate::profiles::routes::delete,
        )
        .get("/admin/onboarding", Admin, onboarding::show)
        .post("/admin/onboarding/{kind}", Admin, onboarding::save)
        .post("/admin/onboarding/{kind}/reset", Admin, onboarding::reset)
        .get("/admin/api-keys", Admin, crate::api::keys::list)
        .post("/admin/api-keys", Admin, crate::api::keys::create)
        .post(
            "/admin/api-keys/{id}/revoke",
            Admin,
            crate::api::keys::revoke,
        )
        .get("/guide", Public, onboarding::guide);
    let r = crate::notify::routes::routes(r);
    let r = crate::audit::routes(r);
    let r = crate::api::routes(r);
    crate::members::routes::routes(r)
        // What friends see.
        .get("/join", Public, public::join)
        .get("/i/{code}", Public, public::show)
        .post("/i/{code}", Public, public::redeem_form)
        .get("/i/{code}/plex", Public, public::plex_back)
        .post("/i/{code}/plex", Public, public::plex_start)
        .get("/i/{code}/welcome", Public, public::welcome)
        .get("/request", Public, requests_public::form)
        .post("/request", Public, requests_public::submit)
        .get("/request/sent", Public, requests_public::sent)
        .post("/telegram/webhook", Secret, crate::telegram::webhook)
}

pub fn router(state: AppState) -> Router {
    routes()
        .router
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            visitor::visitor,
        ))
        // Pages are compressed for each request: the fastest level costs a fraction of the
        // default and loses a few percent (assets come compressed at the best level already).
        .layer(
            tower_http::compression::CompressionLayer::new()
                .quality(tower_http::compression::CompressionLevel::Fastest),
        )
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

/// The Content-Security-Policy of every response. `form-action` also applies to the redirect a
/// form answers with, so it names the one other origin usher sends forms to: the Plex app, where
/// "Sign in with Plex" goes (taken from the configuration, so a test's fake Plex is allowed too).
pub fn content_security_policy(config: &Config) -> HeaderValue {
    let plex_app = url::Url::parse(&config.plex.app_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self' {plex_app}; frame-ancestors 'none'; base-uri 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or_else(|_| {
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
    })
}

/// CSP without `unsafe-inline`, no framing, no sniffing, and referrers only to ourselves so
/// invite codes in URLs never leak to other sites (`no-referrer` would make browsers send
/// `Origin: null` on our own forms).
async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, state.csp.clone());
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
        public_url => state.public.base(),
        // Only the owner's pages warn that links would not reach friends.
        public_warning => admin.and(state.public.needs_attention()).map(ser),
        version => env!("CARGO_PKG_VERSION"),
    }
}

/// Accepts only a path on this site (`/admin/x`), never `//evil` or `https://…`, so redirects
/// after login or a preference change cannot be turned into open redirects. Browsers drop TAB,
/// CR and LF from a URL and read `\` as `/` before following it (`/\t/evil` is `//evil` to
/// them), so a path with any control character, whitespace or backslash is refused outright.
pub fn local_path(s: &str) -> Option<&str> {
    let ok = s.starts_with('/')
        && !s.starts_with("//")
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c == '\\' || crate::text::unprintable(c));
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

/// Health: the database must answer and take a write (a full disk or a read-only mount keeps
/// reads working while every redemption would fail).
async fn healthz(State(state): State<AppState>) -> Response {
    let database = if state.store.ping().await.is_err() {
        "unavailable"
    } else if state.store.probe_write(state.clock.now()).await.is_err() {
        "read_only"
    } else {
        "ok"
    };
    let ok = database == "ok";
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(serde_json::json!({
            "status": if ok { "ok" } else { "degraded" },
            "version": env!("CARGO_PKG_VERSION"),
            "database": database,
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
