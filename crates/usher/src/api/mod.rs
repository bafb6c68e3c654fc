//! The JSON API under `/api/v1`: everything an admin does in the web UI, for scripts. Callers
//! authenticate with an API key (`Authorization: Bearer KEY` or `X-Api-Key: KEY`). The OpenAPI
//! document is generated from the same endpoint list the router is built from, so the two cannot
//! drift apart.

pub mod handlers;
pub mod keys;
pub mod spec;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::MethodRouter;
use serde_json::Value;

use crate::web::AppState;
use crate::web::error::AppError;

/// A caller holding a valid API key.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// `api:NAME`, for the audit log.
    pub actor: String,
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
        state.store.touch_api_key(row.id, state.clock.now()).await?;
        Ok(ApiCaller {
            actor: format!("api:{}", row.name),
        })
    }
}

/// One endpoint: how it is called and documented.
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
}

/// Every API endpoint with its handler. The router and the OpenAPI document both come from here.
pub fn endpoints() -> Vec<(Endpoint, MethodRouter<AppState>)> {
    handlers::endpoints()
}

/// Adds every API endpoint to the route table: key-protected ones need an API key (401 without
/// one), the invite redemption API is public.
pub fn routes(mut r: crate::web::Routes) -> crate::web::Routes {
    use crate::web::Access;
    for (e, handler) in endpoints() {
        let method = e
            .method
            .to_uppercase()
            .parse()
            .unwrap_or(axum::http::Method::GET);
        let access = if e.public {
            Access::Public
        } else {
            Access::ApiKey
        };
        r = r.add(method, e.path, access, handler);
    }
    // Browsers ask before posting a request from another site.
    r.add(
        axum::http::Method::OPTIONS,
        "/api/v1/requests",
        Access::Public,
        axum::routing::options(crate::requests::public::api_preflight),
    )
    .get("/api/v1/openapi.json", Access::Public, spec::serve)
    .get("/api/docs", Access::Public, spec::docs)
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
