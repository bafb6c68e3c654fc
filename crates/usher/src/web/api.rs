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
    pub params: &'static [Param],
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
            None => 50,
            Some(l) => l
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=500).contains(n))
                .ok_or_else(|| {
                    AppError::bad_request("limit is a number from 1 to 500").with_field("limit")
                })?,
        };
        let after = match cursor {
            None => None,
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
/// A whole number as the handlers read it: a 64-bit signed integer.
pub fn int() -> Value {
    json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX})
}
/// A whole number from `min` to `max`.
pub fn int_in(min: i64, max: i64) -> Value {
    json!({"type": "integer", "minimum": min, "maximum": max})
}
/// One of these words.
pub fn one_of(words: &[&str]) -> Value {
    json!({"type": "string", "enum": words})
}
/// `v` with these properties allowed to be `null` too: fields a body reads as optional, where
/// `null` is the same as leaving them out.
pub fn or_null(mut v: Value, names: &[&str]) -> Value {
    for n in names {
        let p = v["properties"][*n].take();
        v["properties"][*n] = nullable(p);
    }
    v
}

/// `v` with these properties required.
pub fn needs(mut v: Value, names: &[&str]) -> Value {
    v["required"] = json!(names);
    v
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
        ("max_sessions", nullable(int_in(0, i64::from(u32::MAX)))),
        ("plex_home", boolean()),
        // Plex content filters: `rating=G,PG | label!=horror` or Plex's own spelling.
        ("filter_movies", string()),
        ("filter_television", string()),
        ("filter_music", string()),
    ])
}

/// Permission changes a body names, as [`crate::domain::access::PermissionChanges`] reads them:
/// what is left out (or `null`) stays where the grant starts.
pub fn permission_changes() -> Value {
    or_null(
        permissions(),
        &[
            "allow_downloads",
            "allow_live_tv",
            "allow_camera_upload",
            "plex_home",
            "filter_movies",
            "filter_television",
            "filter_music",
        ],
    )
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

/// One server of an invite or an approval, as [`crate::domain::access::TargetInput`] reads it.
pub fn target_schema() -> Value {
    let target = obj(&[
        ("server_id", int()),
        ("libraries", arr(string())),
        ("permissions", permission_changes()),
    ]);
    needs(
        or_null(target, &["libraries", "permissions"]),
        &["server_id"],
    )
}

pub fn selection_schema() -> Value {
    or_null(
        obj(&[("servers", arr(target_schema())), ("duration", string())]),
        &["servers", "duration"],
    )
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
    params: &'static [Param],
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

/// What a path or query parameter holds, as the handler reads it.
#[derive(Clone, Copy, Debug)]
pub enum ParamKind {
    Text,
    /// A row id: a positive whole number (anything else finds nothing: 404).
    Id,
    /// A row id, or empty for any (as the pages' filter forms send it).
    IdOrEmpty,
    /// `limit`: 1 to 500.
    Limit,
    /// `cursor`: the `next_cursor` of the previous page, `c` and digits.
    Cursor,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// One of these words, or empty for any (as the pages' filter forms send it).
    AnyOrOneOf(&'static [&'static str]),
    /// A day, `2026-11-30`, or empty.
    Day,
    /// Text matching this pattern.
    Pattern(&'static str),
}

/// A path or query parameter of an endpoint.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    /// `path` or `query`.
    pub at: &'static str,
    pub description: &'static str,
    pub kind: ParamKind,
}

impl Param {
    pub const fn path(name: &'static str, description: &'static str, kind: ParamKind) -> Param {
        Param {
            name,
            at: "path",
            description,
            kind,
        }
    }

    pub const fn query(name: &'static str, description: &'static str, kind: ParamKind) -> Param {
        Param {
            name,
            at: "query",
            description,
            kind,
        }
    }

    /// The parameter's JSON schema for the OpenAPI document.
    pub fn schema(&self) -> Value {
        match self.kind {
            ParamKind::Text => string(),
            ParamKind::Id => json!({"type": "integer", "minimum": 1, "maximum": i64::MAX}),
            ParamKind::IdOrEmpty => json!({"anyOf": [
                {"type": "integer", "minimum": 1, "maximum": i64::MAX},
                {"type": "string", "maxLength": 0},
            ]}),
            ParamKind::Limit => {
                json!({"type": "integer", "minimum": 1, "maximum": 500, "default": 50})
            }
            ParamKind::Cursor => json!({"type": "string", "pattern": "^c[0-9]{1,18}$"}),
            ParamKind::OneOf(words) => json!({"type": "string", "enum": words}),
            ParamKind::AnyOrOneOf(words) => {
                let mut all = vec![""];
                all.extend_from_slice(words);
                json!({"type": "string", "enum": all})
            }
            // Empty is the same as leaving it out, as the Events page's form sends it.
            ParamKind::Day => json!({"anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "maxLength": 0},
            ]}),
            ParamKind::Pattern(p) => json!({"type": "string", "pattern": p}),
        }
    }
}

use ParamKind::*;

pub const LIMIT: Param = Param::query("limit", "1–500, default 50", Limit);
pub const CURSOR: Param = Param::query("cursor", "next_cursor of the previous page", Cursor);
pub const ID: &[Param] = &[Param::path("id", "the numeric id", Id)];
pub const CODE: &[Param] = &[Param::path("code", "the invite code (any case)", Text)];
pub const PAGED: &[Param] = &[LIMIT, CURSOR];
pub const INVITE_FILTERS: &[&str] = &[
    "all", "active", "redeemed", "expired", "used_up", "disabled",
];
pub const PAGED_Q: &[Param] = &[
    LIMIT,
    CURSOR,
    Param::query("q", "search text", Text),
    Param::query(
        "filter",
        "all, active, redeemed, expired, used_up or disabled",
        OneOf(INVITE_FILTERS),
    ),
];
pub const REQ_Q: &[Param] = &[
    LIMIT,
    CURSOR,
    Param::query(
        "status",
        "pending, approved, declined or expired",
        AnyOrOneOf(&["pending", "approved", "declined", "expired"]),
    ),
];
pub const MEMBER_Q: &[Param] = &[
    LIMIT,
    CURSOR,
    Param::query("q", "search name, email, user name or Plex account", Text),
    Param::query(
        "status",
        "provisioning, pending, active, disabled, removed, failed, failing or gone",
        AnyOrOneOf(&[
            "provisioning",
            "pending",
            "active",
            "disabled",
            "removed",
            "failed",
            "failing",
            "gone",
        ]),
    ),
    Param::query(
        "server",
        "a server id: members with access there",
        IdOrEmpty,
    ),
    Param::query(
        "origin",
        "invite, request or imported",
        AnyOrOneOf(&["invite", "request", "imported"]),
    ),
    Param::query(
        "sort",
        "name (default), created or expires",
        AnyOrOneOf(&["name", "created", "expires"]),
    ),
    Param::query(
        "order",
        "asc (default) or desc",
        AnyOrOneOf(&["asc", "desc"]),
    ),
];
pub const GRANT: &[Param] = &[
    Param::path("id", "the member id", Id),
    Param::path("grant", "the grant id", Id),
];

/// An endpoint anyone may call, without an API key.
pub fn public(mut e: Endpoint) -> Endpoint {
    e.public = true;
    e
}
