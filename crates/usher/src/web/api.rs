//! The JSON API's toolkit: who is calling (an API key), how an endpoint is described for the
//! OpenAPI document, paging, answers, and the schema pieces endpoints are documented with.
//! Each feature's endpoints live in its own `api` module beside its pages.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::state::AppState;
use crate::web::error::AppError;

/// A caller holding a valid API key whose scope allows the route called.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// `api:NAME`, for the audit log.
    pub actor: String,
    pub scope: crate::domain::ApiScope,
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let key = header("authorization")
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .or_else(|| header("x-api-key"))
            .map(str::trim)
            .unwrap_or_default();
        if key.is_empty() || key.len() > 200 {
            return Err(AppError::unauthorized().with_detail(
                "send an API key as `Authorization: Bearer KEY` or `X-Api-Key: KEY`",
            ));
        }
        let Some(row) = state
            .store
            .api_key_by_hash(&crate::crypto::sha256_hex(key.as_bytes()))
            .await?
        else {
            return Err(AppError::unauthorized().with_detail("that API key is unknown or revoked"));
        };
        // The route's pattern, so `{id}` in a path cannot widen or narrow what is allowed.
        let route = parts
            .extensions
            .get::<axum::extract::MatchedPath>()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| parts.uri.path().to_string());
        if !row.scope.allows(parts.method.as_str(), &route) {
            return Err(
                AppError::new(StatusCode::FORBIDDEN, "forbidden_scope", "error-api-scope")
                    .with_detail(format!(
                        "this API key's scope is `{}`; `{} {route}` needs `{}`",
                        row.scope,
                        parts.method,
                        crate::domain::ApiScope::needed(parts.method.as_str(), &route)
                    )),
            );
        }
        state.store.touch_api_key(row.id, state.clock.now()).await?;
        Ok(ApiCaller {
            actor: format!("api:{}", row.name),
            scope: row.scope,
        })
    }
}

/// One endpoint: how it is called and documented.
#[derive(Clone, Copy)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// Anyone may call it (the invite redemption API); otherwise an API key is needed.
    pub public: bool,
    /// (name, in: path|query, description)
    pub params: &'static [(&'static str, &'static str, &'static str)],
    pub body: Option<fn() -> Value>,
    pub status: u16,
    pub response: fn() -> Value,
    /// The media type of a success answer; its `response` schema is JSON's only.
    pub content: &'static str,
}

/// `limit` (1–500, default 50) and an opaque `cursor` from the previous page.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub after: Option<i64>,
}

impl Page {
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Page, AppError> {
        let limit = match limit {
            None | Some("") => 50,
            Some(l) => l
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=500).contains(n))
                .ok_or_else(|| {
                    AppError::bad_request("limit is a number from 1 to 500").with_field("limit")
                })?,
        };
        let after = match cursor {
            None | Some("") => None,
            Some(c) => Some(
                c.strip_prefix("c")
                    .and_then(|n| n.parse::<i64>().ok())
                    .ok_or_else(|| {
                        AppError::bad_request("cursor is the `next_cursor` of the previous page")
                            .with_field("cursor")
                    })?,
            ),
        };
        Ok(Page { limit, after })
    }

    pub fn cursor(id: i64) -> String {
        format!("c{id}")
    }
}

pub fn string() -> Value {
    json!({"type": "string"})
}
pub fn int() -> Value {
    json!({"type": "integer"})
}
pub fn boolean() -> Value {
    json!({"type": "boolean"})
}
pub fn time() -> Value {
    json!({"type": "string", "format": "date-time"})
}
pub fn nullable(v: Value) -> Value {
    json!({"oneOf": [v, {"type": "null"}]})
}
pub fn arr(items: Value) -> Value {
    json!({"type": "array", "items": items})
}
pub fn obj(props: &[(&str, Value)]) -> Value {
    let mut m = Map::new();
    for (k, v) in props {
        m.insert((*k).to_string(), v.clone());
    }
    json!({"type": "object", "properties": m})
}
pub fn permissions() -> Value {
    obj(&[
        ("allow_downloads", boolean()),
        ("allow_live_tv", boolean()),
        ("allow_camera_upload", boolean()),
        ("max_sessions", nullable(int())),
        ("plex_home", boolean()),
        // Plex content filters: `rating=G,PG | label!=horror` or Plex's own spelling.
        ("filter_movies", string()),
        ("filter_television", string()),
        ("filter_music", string()),
    ])
}

pub fn created(v: Value) -> Response {
    (StatusCode::CREATED, axum::Json(v)).into_response()
}

pub fn ok(v: Value) -> Response {
    axum::Json(v).into_response()
}

pub fn list(items: Vec<Value>, next: Option<String>) -> Response {
    ok(json!({ "items": items, "next_cursor": next }))
}

pub fn page_of(item: Value) -> Value {
    obj(&[("items", arr(item)), ("next_cursor", nullable(string()))])
}

pub fn selection_schema() -> Value {
    obj(&[
        (
            "servers",
            arr(obj(&[
                ("server_id", int()),
                ("libraries", arr(string())),
                ("permissions", permissions()),
            ])),
        ),
        ("duration", string()),
    ])
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub limit: Option<String>,
    pub cursor: Option<String>,
    pub q: Option<String>,
    pub filter: Option<String>,
    pub status: Option<String>,
}

// One line per endpoint reads best as a table; a builder would hide the columns.
#[allow(clippy::too_many_arguments)]
pub fn endpoint(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    params: &'static [(&'static str, &'static str, &'static str)],
    body: Option<fn() -> Value>,
    status: u16,
    response: fn() -> Value,
) -> Endpoint {
    Endpoint {
        method,
        path,
        tag,
        summary,
        public: false,
        params,
        body,
        status,
        response,
        content: "application/json",
    }
}

/// An endpoint whose success answer is `content` (an SVG, a CSV), not JSON.
pub fn answers(mut e: Endpoint, content: &'static str) -> Endpoint {
    e.content = content;
    e
}

pub const ID: &[(&str, &str, &str)] = &[("id", "path", "the numeric id")];
pub const CODE: &[(&str, &str, &str)] = &[("code", "path", "the invite code (any case)")];
pub const PAGED: &[(&str, &str, &str)] = &[
    ("limit", "query", "1–500, default 50"),
    ("cursor", "query", "next_cursor of the previous page"),
];
pub const PAGED_Q: &[(&str, &str, &str)] = &[
    ("limit", "query", "1–500, default 50"),
    ("cursor", "query", "next_cursor of the previous page"),
    ("q", "query", "search text"),
    (
        "filter",
        "query",
        "all, active, redeemed, expired, used_up or disabled",
    ),
];
pub const REQ_Q: &[(&str, &str, &str)] = &[
    ("limit", "query", "1–500, default 50"),
    ("cursor", "query", "next_cursor of the previous page"),
    ("status", "query", "pending, approved, declined or expired"),
];
pub const MEMBER_Q: &[(&str, &str, &str)] = &[
    ("limit", "query", "1–500, default 50"),
    ("cursor", "query", "next_cursor of the previous page"),
    (
        "q",
        "query",
        "search name, email, user name or Plex account",
    ),
    (
        "status",
        "query",
        "provisioning, pending, active, disabled, removed, failed, failing or gone",
    ),
    ("server", "query", "a server id: members with access there"),
    ("origin", "query", "invite, request or imported"),
    ("sort", "query", "name (default), created or expires"),
    ("order", "query", "asc (default) or desc"),
];
pub const GRANT: &[(&str, &str, &str)] = &[
    ("id", "path", "the member id"),
    ("grant", "path", "the grant id"),
];

/// An endpoint anyone may call, without an API key.
pub fn public(mut e: Endpoint) -> Endpoint {
    e.public = true;
    e
}
