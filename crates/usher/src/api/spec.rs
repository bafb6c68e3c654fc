//! The OpenAPI 3 document, built from [`super::endpoints`], and a self-contained docs page.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use minijinja::{Value as Tv, context};
use serde_json::{Map, Value, json};

use crate::web::visitor::Visitor;
use crate::web::{AppState, page};

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

fn error_schema() -> Value {
    obj(&[(
        "error",
        obj(&[
            ("code", string()),
            ("message", string()),
            ("field", string()),
        ]),
    )])
}

/// The whole document. Deterministic, so the committed copy can be compared byte for byte.
pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for (e, _) in super::endpoints() {
        let mut op = json!({
            "tags": [e.tag],
            "summary": e.summary,
            "operationId": format!("{}_{}", e.method, e.path.trim_start_matches("/api/v1/").replace(['/', '{', '}'], "_").trim_matches('_')),
            "responses": {
                e.status.to_string(): {
                    "description": "success",
                    "content": {"application/json": {"schema": (e.response)()}},
                },
                "default": {
                    "description": "an error",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            },
        });
        if !e.params.is_empty() {
            op["parameters"] = Value::Array(
                e.params
                    .iter()
                    .map(|(name, at, desc)| json!({"name": name, "in": at, "required": *at == "path", "description": desc, "schema": {"type": "string"}}))
                    .collect(),
            );
        }
        if let Some(body) = e.body {
            op["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": body()}}});
        }
        if e.public {
            op["security"] = json!([]);
        }
        let entry = paths.entry(e.path.to_string()).or_insert_with(|| json!({}));
        entry[e.method] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "usher API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Everything the admin web UI does. Send an API key (Settings → API keys) as `Authorization: Bearer KEY` or `X-Api-Key: KEY`. Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`; lists are `{\"items\", \"next_cursor\"}` with `limit` and `cursor`; times are RFC 3339.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"apiKey": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            },
            "schemas": {"Error": error_schema()},
        },
        "paths": paths,
    })
}

/// The document as committed in `docs/openapi.json`.
pub fn document_text() -> String {
    let mut s = serde_json::to_string_pretty(&document()).expect("the document serialises");
    s.push('\n');
    s
}

pub async fn serve() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document_text(),
    )
        .into_response()
}

/// `/api/docs`: the endpoints, rendered on the server; no scripts, no CDN.
pub async fn docs(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, crate::web::error::AppError> {
    let endpoints: Vec<Tv> = super::endpoints()
        .into_iter()
        .map(|(e, _)| {
            let body = e.body.map(|b| serde_json::to_string_pretty(&b()).unwrap_or_default());
            context! {
                method => e.method.to_uppercase(), path => e.path, tag => e.tag, summary => e.summary, public => e.public,
                params => e.params.iter().map(|(n, at, d)| context! { name => *n, at => *at, desc => *d }).collect::<Vec<_>>(),
                body, status => e.status,
                response => serde_json::to_string_pretty(&(e.response)()).unwrap_or_default(),
            }
        })
        .collect();
    Ok(page(&state, &visitor, "api_docs.html", context! { endpoints })?.into_response())
}
