//! The toolkit every feature's pages are built with: the route registry, extractors (who is
//! asking, forms, ids), errors as pages or JSON, page rendering and the response headers. It
//! imports no feature; [`crate::router`] is what puts the features together.

pub mod api;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod page_cache;
pub mod picker;
pub mod session;
pub mod svg;
pub mod visitor;

use axum::Router;
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use minijinja::{Value, context};

use crate::config::Config;
use crate::domain::Role;
use crate::state::AppState;
use crate::ui::i18n;
use error::{AppError, AppResult};
use visitor::Visitor;

/// Who may call a route. The security tests take every route from [`crate::router::route_table`]
/// and check that
/// the handlers enforce what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: invite and request pages, the public invite API, sign-in, assets.
    Public,
    /// A signed-in admin whose role is at least this one. Anyone else is sent to the login
    /// page (401 under `/api/`); a lower role gets 403 and the page says which role it needs.
    Admin(Role),
    /// Proven by a secret other than a session: `/metrics` (bearer token), the Telegram webhook
    /// (secret header).
    Secret,
    /// The JSON API: an API key (`Authorization: Bearer` or `X-Api-Key`), never a session; 401
    /// without one.
    ApiKey,
}

/// Pages for every admin account: the requests queue, the members list, one's own account.
pub const APPROVER: Access = Access::Admin(Role::Approver);
/// Pages that run the place: invites, members' access, servers, profiles, settings.
pub const ADMIN: Access = Access::Admin(Role::Admin);
/// Pages that handle other admins, secrets and backups.
pub const OWNER: Access = Access::Admin(Role::Owner);

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
    /// The JSON API's endpoints, for the OpenAPI document.
    endpoints: Vec<api::Endpoint>,
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

impl Routes {
    pub fn new() -> Self {
        Routes {
            router: Router::new(),
            table: Vec::new(),
            endpoints: Vec::new(),
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

    pub fn add(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        route: MethodRouter<AppState>,
    ) -> Self {
        // The role is checked here, where it is declared, so no handler can forget it.
        let route = match access {
            Access::Admin(role) => route.route_layer(axum::middleware::from_fn_with_state(
                role,
                visitor::require_role,
            )),
            _ => route,
        };
        self.router = self.router.route(path, route);
        self.table.push(RouteInfo {
            method,
            path,
            access,
        });
        self
    }

    /// Registers API endpoints: key-protected ones need an API key (401 without one), public
    /// ones (the invite redemption API, the request form's) are open. Each is also recorded
    /// for the OpenAPI document.
    pub fn api(mut self, endpoints: Vec<(api::Endpoint, MethodRouter<AppState>)>) -> Self {
        for (e, handler) in endpoints {
            let method = e.method.to_uppercase().parse().unwrap_or(Method::GET);
            let access = if e.public {
                Access::Public
            } else {
                Access::ApiKey
            };
            self = self.add(method, e.path, access, handler);
            self.endpoints.push(e);
        }
        self
    }

    /// The API endpoints registered so far.
    pub fn endpoints(&self) -> &[api::Endpoint] {
        &self.endpoints
    }

    /// The routes as registered, with who may call each.
    pub fn table(&self) -> &[RouteInfo] {
        &self.table
    }

    /// The axum router and the table, taken apart.
    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteInfo>) {
        (self.router, self.table)
    }
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
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
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
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

/// A static asset, precompressed when the browser takes gzip, cached for a year (its name
/// carries its hash).
pub async fn serve_asset(
    State(state): State<AppState>,
    axum::extract::Path(name): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(asset) = state.assets.file(&name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut res = match &asset.gzip {
        Some(gzip) if crate::ui::assets::accepts_gzip(&headers) => (
            [(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))],
            gzip.clone(),
        )
            .into_response(),
        _ => asset.bytes.into_response(),
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    res
}

/// What any path no route matches gets.
pub async fn not_found() -> AppError {
    AppError::not_found()
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
        visitor.admin.as_ref(),
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
    admin: Option<&visitor::AdminSession>,
    path: &str,
) -> Value {
    let role = admin.map(|a| a.role);
    context! {
        lang => lang,
        theme => theme.as_str(),
        csrf => csrf,
        admin => admin.map(|a| a.username.as_str()),
        // What the signed-in admin may do, for menus and buttons: `may.admin`, `may.owner`.
        may => context! {
            admin => role.is_some_and(|r| r.allows(Role::Admin)),
            owner => role.is_some_and(|r| r.allows(Role::Owner)),
        },
        home => role.map(Role::home),
        waiting => admin.map(|a| a.waiting),
        // Times on the page: the owner's zone for admins (UTC elsewhere) and the page's now,
        // read by the `datetime` and `when` filters.
        zone => Value::from_object(admin.map(|a| a.zone.clone()).unwrap_or_default()),
        now => state.clock.now(),
        path => path,
        languages => ser(i18n::LANGUAGES),
        public_url => state.public.base(),
        // Only the pages of those who can fix it warn that links would not reach friends.
        public_warning => role
            .filter(|r| r.allows(Role::Admin))
            .and(state.public.needs_attention())
            .map(ser),
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

/// Turns any serialisable value into a template value.
pub fn ser<T: serde::Serialize>(value: T) -> Value {
    Value::from(minijinja::value::Serde(value))
}
