//! Who is asking: language, theme, client address, admin session and CSRF token, worked out once
//! per request by one middleware that also refuses cross-site or token-less state changes and
//! renders errors as pages or JSON.

use crate::domain::ids::*;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::crypto;
use crate::state::AppState;
use crate::ui::i18n;
use crate::web::error::{AppError, json_body};

pub const SESSION_COOKIE: &str = "usher_session";
pub const ANON_COOKIE: &str = "usher_anon";
pub const LANG_COOKIE: &str = "usher_lang";
pub const THEME_COOKIE: &str = "usher_theme";
/// The form field (or `X-CSRF-Token` header) that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
const MAX_FORM_BYTES: usize = 256 * 1024;
/// A form with a file (`multipart/form-data`, the logo) may be larger: the file's limit and room
/// for the parts around it.
const MAX_UPLOAD_BYTES: usize = 320 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    Auto,
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

/// A signed-in admin.
#[derive(Debug, Clone)]
pub struct AdminSession {
    pub admin_id: AdminId,
    pub username: String,
    pub role: crate::domain::Role,
    pub id_hash: String,
    /// Requests waiting for a decision when the page was asked for.
    pub waiting: i64,
    /// The owner's time zone, in which the console shows and reads times.
    pub zone: crate::clock::Zone,
}

#[derive(Debug, Clone)]
pub struct Visitor {
    pub lang: &'static str,
    pub theme: Theme,
    pub csrf: String,
    pub ip: IpAddr,
    pub admin: Option<AdminSession>,
    pub path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .unwrap_or_else(|| Visitor {
                lang: i18n::DEFAULT_LANG,
                theme: Theme::Auto,
                csrf: String::new(),
                ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
                admin: None,
                path: parts.uri.path().to_string(),
            }))
    }
}

/// The signed-in admin; anyone else is sent to the login page (browser) or gets 401 (API).
#[derive(Debug, Clone)]
pub struct Admin {
    pub session: AdminSession,
    pub visitor: Visitor,
}

pub struct LoginRequired(String);

impl LoginRequired {
    /// Sends the browser to sign in, and back to `uri` afterwards.
    fn to_come_back_to(uri: &axum::http::Uri) -> Self {
        LoginRequired(
            uri.path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/admin".into()),
        )
    }
}

impl IntoResponse for LoginRequired {
    fn into_response(self) -> Response {
        if self.0.starts_with("/api/") {
            return AppError::unauthorized().into_response();
        }
        let next = serde_urlencoded::to_string([("next", self.0.as_str())]).unwrap_or_default();
        Redirect::to(&format!("/login?{next}")).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = LoginRequired;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let visitor = parts.extensions.get::<Visitor>().cloned();
        match visitor.and_then(|v| v.admin.clone().map(|s| (s, v))) {
            Some((session, visitor)) => Ok(Admin { session, visitor }),
            None => Err(LoginRequired::to_come_back_to(&parts.uri)),
        }
    }
}

/// The check every admin route passes first (laid on it where it is registered): a signed-in
/// admin whose role is at least `needed`.
pub async fn require_role(
    State(needed): State<crate::domain::Role>,
    req: Request,
    next: Next,
) -> Response {
    let role = req
        .extensions()
        .get::<Visitor>()
        .and_then(|v| v.admin.as_ref())
        .map(|a| a.role);
    match role {
        Some(role) if role.allows(needed) => next.run(req).await,
        Some(_) => AppError::role_needed(needed).into_response(),
        None => LoginRequired::to_come_back_to(req.uri()).into_response(),
    }
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with the flags DESIGN asks for.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age: i64,
    secure: bool,
    http_only: bool,
) -> HeaderValue {
    set_cookie_at(name, value, "/", max_age, secure, http_only)
}

/// [`set_cookie`] for the pages under `path` only.
pub fn set_cookie_at(
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
    secure: bool,
    http_only: bool,
) -> HeaderValue {
    let mut c = format!("{name}={value}; Path={path}; SameSite=Lax; Max-Age={max_age}");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("cookie values are ASCII")
}

/// The client's address. Behind the operator's proxies it is the entry the outermost proxy
/// appended to `X-Forwarded-For`: `hops` entries from the right. Entries further left were
/// written by the client itself and prove nothing.
fn client_ip(req: &Request, trust_proxy: bool, hops: u32) -> IpAddr {
    if trust_proxy && let Some(ip) = forwarded_for(req.headers(), hops) {
        return ip;
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

fn forwarded_for(headers: &HeaderMap, hops: u32) -> Option<IpAddr> {
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let from_right = (hops as usize).min(entries.len());
    let entry = entries.get(entries.len().checked_sub(from_right)?)?;
    entry.parse().ok()
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Routes that authenticate by other means (API keys, webhook secrets) and never carry a
/// browser's CSRF token.
fn csrf_exempt(path: &str) -> bool {
    path.starts_with("/api/") || path == "/telegram/webhook"
}

/// Whether a state-changing request comes from usher's own pages: its `Origin` must be, scheme,
/// host and port alike, either the public address or the address the request was sent to
/// (`http://{Host}`, or `https://` when the proxy in front says it received https). A browser
/// cannot add `X-Forwarded-Proto` to a forged cross-site post, so the header is believed here
/// even without `trust_proxy_headers`: it only names the scheme of the page's own address.
fn same_origin(headers: &HeaderMap, public_base: &str) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        if origin == "null" {
            // Privacy settings can hide the origin; then only the browser's own word counts.
            return fetch_site == Some("same-origin");
        }
        let Some(origin) = normalized_origin(origin) else {
            return false;
        };
        let public = normalized_origin(public_base);
        let https = headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
        let own = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .and_then(|host| {
                normalized_origin(&format!(
                    "{}://{host}",
                    if https { "https" } else { "http" }
                ))
            });
        return Some(&origin) == public.as_ref() || Some(&origin) == own.as_ref();
    }
    match fetch_site {
        Some(site) => matches!(site, "same-origin" | "none"),
        None => true, // not a browser (curl, scripts): the token alone decides
    }
}

/// `scheme://host:port` with the default port made explicit and the host lower-cased.
fn normalized_origin(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    let host = u.host_str()?.to_ascii_lowercase();
    let port = u.port_or_known_default()?;
    Some(format!("{}://{host}:{port}", u.scheme()))
}

/// Where a cross-origin capable request comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// No `Origin` header: not a browser's cross-site call (a script, curl).
    Absent,
    /// usher's own pages.
    Own,
    /// A site the operator allowed in `allowed_origins` (exactly as the header names it).
    Allowed(String),
    /// Any other site.
    Refused,
}

/// Classifies the `Origin` of a request for the endpoints other sites may call.
pub fn origin_of(headers: &HeaderMap, state: &AppState) -> Origin {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Origin::Absent;
    };
    if allowed_origin(headers, &state.config) {
        Origin::Allowed(origin.to_string())
    } else if same_origin(headers, &state.public.base()) {
        Origin::Own
    } else {
        Origin::Refused
    }
}

/// An origin the operator allowed in `allowed_origins`.
fn allowed_origin(headers: &HeaderMap, config: &crate::Config) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    config
        .allowed_origins()
        .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded_pairs(body)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A plain field of a `multipart/form-data` body (the CSRF token beside an uploaded file): the
/// text after the part headers that name it, up to the line break before the next boundary.
fn multipart_field(body: &[u8], name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let at = body
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())?;
    let rest = &body[at..];
    let start = rest.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let value = &rest[start..];
    let end = value.windows(2).position(|w| w == b"\r\n")?;
    let field = &value[..end];
    if field.len() > 200 {
        return None;
    }
    std::str::from_utf8(field).ok().map(str::to_string)
}

fn form_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default()
}

/// Context for errors raised before the visitor is fully known (no CSRF token to offer).
fn early<'a>(lang: &'a str, theme: Theme, path: &'a str, is_api: bool) -> ErrorContext<'a> {
    ErrorContext {
        lang,
        theme,
        csrf: "",
        admin: None,
        path,
        is_api,
    }
}

pub async fn visitor(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let is_api = path.starts_with("/api/");
    let secure = state.config.is_https();
    let unsafe_method = !is_safe(req.method()) && !csrf_exempt(&path);

    // Everything needed from the request headers, read once without copying the header map.
    let (lang, theme, session_cookie, anon_cookie, origin_ok) = {
        let headers = req.headers();
        let lang = cookie(headers, LANG_COOKIE)
            .and_then(i18n::supported)
            .or_else(|| {
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(i18n::negotiate)
            })
            .unwrap_or(i18n::DEFAULT_LANG);
        let theme = match cookie(headers, THEME_COOKIE) {
            Some("light") => Theme::Light,
            Some("dark") => Theme::Dark,
            _ => Theme::Auto,
        };
        let origin_ok = !unsafe_method
            || same_origin(headers, &state.public.base())
            || allowed_origin(headers, &state.config);
        (
            lang,
            theme,
            cookie(headers, SESSION_COOKIE).map(str::to_string),
            cookie(headers, ANON_COOKIE).map(str::to_string),
            origin_ok,
        )
    };

    let mut admin = None;
    let mut session_raw = None;
    if let Some(raw) = session_cookie {
        match crate::web::session::for_cookie(&state, &raw).await {
            Ok(Some(s)) => {
                session_raw = Some(raw);
                admin = Some(s);
            }
            Ok(None) => {}
            Err(e) => return render(&state, &early(lang, theme, &path, is_api), e),
        }
    }
    let mut new_anon = None;
    let binding = match session_raw {
        Some(raw) => raw,
        None => match anon_cookie {
            Some(v) if v.len() >= 16 && v.len() <= 64 => v,
            _ => {
                let v = crypto::random_token();
                new_anon = Some(v.clone());
                v
            }
        },
    };
    let csrf = state.key.sign("csrf", &binding)[..40].to_string();

    if unsafe_method {
        if !origin_ok {
            return render(
                &state,
                &early(lang, theme, &path, is_api),
                AppError::forbidden_csrf(),
            );
        }
        let (parts, body) = req.into_parts();
        let multipart = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let limit = if multipart {
            MAX_UPLOAD_BYTES
        } else {
            MAX_FORM_BYTES
        };
        let bytes = match to_bytes(body, limit).await {
            Ok(b) => b,
            Err(_) => {
                return render(
                    &state,
                    &early(lang, theme, &path, is_api),
                    AppError::new(
                        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        "error-too-large",
                    ),
                );
            }
        };
        let given = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| {
                if multipart {
                    multipart_field(&bytes, CSRF_FIELD)
                } else {
                    form_field(&bytes, CSRF_FIELD)
                }
            })
            .unwrap_or_default();
        if !crypto::constant_time_eq(given.as_bytes(), csrf.as_bytes()) {
            return render(
                &state,
                &early(lang, theme, &path, is_api),
                AppError::forbidden_csrf(),
            );
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }

    let ip = client_ip(
        &req,
        state.config.trust_proxy_headers,
        state.config.proxy_hops,
    );
    let signed_in = admin.clone();
    req.extensions_mut().insert(Visitor {
        lang,
        theme,
        csrf: csrf.clone(),
        ip,
        admin,
        path: path.clone(),
    });
    let mut res = next.run(req).await;
    if let Some(err) = res.extensions_mut().remove::<AppError>() {
        let headers = std::mem::take(res.headers_mut());
        let ctx = ErrorContext {
            lang,
            theme,
            csrf: &csrf,
            admin: signed_in.as_ref(),
            path: &path,
            is_api,
        };
        res = render(&state, &ctx, err);
        for (k, v) in headers.iter() {
            if k == header::SET_COOKIE || k == header::RETRY_AFTER {
                res.headers_mut().append(k, v.clone());
            }
        }
    }
    // Only pages carry forms whose token is bound to this cookie; API answers, assets, health
    // checks and downloads must not set one (shared caches would see `Set-Cookie` on assets).
    let is_page = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if let Some(v) = new_anon.filter(|_| is_page && !is_api) {
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(ANON_COOKIE, &v, 60 * 60 * 24 * 365, secure, true),
        );
    }
    res
}

/// What an error page knows about the visitor.
pub struct ErrorContext<'a> {
    pub lang: &'a str,
    pub theme: Theme,
    pub csrf: &'a str,
    pub admin: Option<&'a AdminSession>,
    pub path: &'a str,
    pub is_api: bool,
}

/// A field's message in a language.
pub fn field_message(state: &AppState, lang: &str, f: &crate::web::error::FieldMessage) -> String {
    let args: Vec<(&str, fluent_bundle::FluentValue<'_>)> = f
        .value
        .iter()
        .map(|v| ("value", v.clone().into()))
        .collect();
    state
        .i18n
        .get(lang, f.key, &args)
        .unwrap_or_else(|| f.key.to_string())
}

/// Renders an error as JSON for the API or as a page in the visitor's language.
pub fn render(state: &AppState, ctx: &ErrorContext<'_>, err: AppError) -> Response {
    let mut message = state.i18n.text(ctx.lang, err.message_key);
    if let Some(detail) = &err.detail {
        message = format!("{message} {detail}");
    }
    if ctx.is_api {
        let fields: Vec<(&str, String)> = err
            .fields
            .iter()
            .map(|f| (f.field, field_message(state, ctx.lang, f)))
            .collect();
        return json_body(&err, &message, &fields);
    }
    let base = crate::web::base_context(state, ctx.lang, ctx.theme, ctx.csrf, ctx.admin, ctx.path);
    // A short heading of its own (`redeem-used-up-title`), else one per status; the message
    // itself is the paragraph below it.
    let title = state
        .i18n
        .get(ctx.lang, &format!("{}-title", err.message_key), &[])
        .or_else(|| {
            state.i18n.get(
                ctx.lang,
                &format!("error-title-{}", err.status.as_u16()),
                &[],
            )
        })
        .unwrap_or_else(|| state.i18n.text(ctx.lang, "error-title"));
    let page = minijinja::context! {
        status => err.status.as_u16(),
        title,
        message_key => err.message_key,
        detail => err.detail,
    };
    let ctx = minijinja::context! { ..page, ..base };
    let body = state
        .templates
        .get_template("error.html")
        .and_then(|t| t.render(ctx))
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "error page failed to render");
            format!("{} {}", err.status.as_u16(), message)
        });
    (
        err.status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_client_address_is_the_one_the_trusted_proxy_appended() {
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 10.0.0.9"),
        );
        assert_eq!(
            forwarded_for(&h, 1),
            "10.0.0.9".parse().ok(),
            "not the forged left entry"
        );
        assert_eq!(forwarded_for(&h, 2), "6.6.6.6".parse().ok());
        h.append("x-forwarded-for", HeaderValue::from_static("192.0.2.1"));
        assert_eq!(
            forwarded_for(&h, 1),
            "192.0.2.1".parse().ok(),
            "headers combine in order"
        );
        assert_eq!(forwarded_for(&h, 9), "6.6.6.6".parse().ok());
        assert_eq!(forwarded_for(&HeaderMap::new(), 1), None);
        let mut junk = HeaderMap::new();
        junk.append(
            "x-forwarded-for",
            HeaderValue::from_static("1.2.3.4, not-an-ip"),
        );
        assert_eq!(forwarded_for(&junk, 1), None);
    }

    #[test]
    fn the_origin_scheme_and_port_must_match_too() {
        let base = "http://127.0.0.1:9450";
        let h = |origin: &'static str| headers(&[("origin", origin), ("host", "127.0.0.1:9450")]);
        assert!(same_origin(&h("http://127.0.0.1:9450"), base));
        assert!(!same_origin(&h("https://127.0.0.1:9450"), base));
        assert!(!same_origin(&h("http://127.0.0.1:9451"), base));
        assert!(!same_origin(&h("http://127.0.0.1"), base));
        let public = "https://usher.example.com";
        let via_proxy = |proto: &'static str| {
            headers(&[
                ("origin", "https://usher.example.com:443"),
                ("host", "usher.example.com"),
                ("x-forwarded-proto", proto),
            ])
        };
        assert!(same_origin(&via_proxy("https"), public));
        assert!(
            same_origin(&via_proxy("http"), public),
            "the public address"
        );
        let lan = headers(&[
            ("origin", "https://10.0.0.2"),
            ("host", "10.0.0.2"),
            ("x-forwarded-proto", "https"),
        ]);
        assert!(same_origin(&lan, public), "the proxy's https page");
        let plain = headers(&[("origin", "https://10.0.0.2"), ("host", "10.0.0.2")]);
        assert!(
            !same_origin(&plain, public),
            "https without a proxy saying so"
        );
    }

    #[test]
    fn origin_must_match_the_host_or_the_public_url() {
        let base = "https://usher.example.com";
        assert!(same_origin(
            &headers(&[
                ("origin", "http://127.0.0.1:9450"),
                ("host", "127.0.0.1:9450")
            ]),
            base
        ));
        assert!(same_origin(
            &headers(&[
                ("origin", "https://usher.example.com"),
                ("host", "10.0.0.2")
            ]),
            base
        ));
        assert!(!same_origin(
            &headers(&[
                ("origin", "https://evil.example"),
                ("host", "127.0.0.1:9450")
            ]),
            base
        ));
        assert!(!same_origin(&headers(&[("origin", "null")]), base));
        assert!(same_origin(
            &headers(&[("origin", "null"), ("sec-fetch-site", "same-origin")]),
            base
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            base
        ));
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            base
        ));
    }

    #[test]
    fn cookies_are_found_among_several() {
        let h = headers(&[("cookie", "a=1; usher_lang=es; b=2")]);
        assert_eq!(cookie(&h, LANG_COOKIE), Some("es"));
        assert_eq!(cookie(&h, "missing"), None);
    }
}
