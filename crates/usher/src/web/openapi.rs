//! The OpenAPI 3 document, built from the endpoints the features register, and a self-contained
//! docs page.

use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use minijinja::{Value as Tv, context};
use serde_json::{Map, Value, json};

use super::api::{Endpoint, obj, string};
use crate::domain::ApiScope;
use crate::state::AppState;
use crate::web::page;
use crate::web::visitor::Visitor;

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

/// A success answer: no body for 204, JSON with its schema, or another media type as text.
fn success(e: &Endpoint) -> Value {
    if e.status == 204 {
        return json!({"description": "done; no body"});
    }
    let schema = if e.content == "application/json" {
        (e.response)()
    } else {
        json!({"type": "string"})
    };
    json!({"description": "success", "content": {e.content: {"schema": schema}}})
}

/// Every request body refuses fields it does not name (`deny_unknown_fields` on every body the
/// API reads), so each object in one says so.
fn closed(schema: &mut Value) {
    match schema {
        Value::Object(m) => {
            if m.get("type") == Some(&json!("object")) && m.contains_key("properties") {
                m.insert("additionalProperties".into(), Value::Bool(false));
            }
            for v in m.values_mut() {
                closed(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(closed),
        _ => {}
    }
}

/// The whole document. Deterministic, so the committed copy can be compared byte for byte.
pub fn document(endpoints: &[Endpoint]) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for e in endpoints {
        let mut op = json!({
            "tags": [e.tag],
            "summary": e.summary,
            "operationId": format!("{}_{}", e.method, e.path.trim_start_matches("/api/v1/").replace(['/', '{', '}'], "_").trim_matches('_')),
            "responses": {
                e.status.to_string(): success(e),
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
                    .map(|p| json!({"name": p.name, "in": p.at, "required": p.at == "path", "description": p.description, "schema": p.schema()}))
                    .collect(),
            );
        }
        if let Some(body) = e.body {
            let mut schema = body();
            closed(&mut schema);
            op["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": schema}}});
        }
        if e.public {
            op["security"] = json!([]);
        } else {
            let scopes: Vec<&str> = ApiScope::ALL
                .into_iter()
                .filter(|s| s.allows(e.method, e.path))
                .map(ApiScope::as_str)
                .collect();
            op["description"] = Value::from(format!(
                "API keys that may call this: {}.",
                scopes.join(", ")
            ));
            op["x-scopes"] = json!(scopes);
        }
        let entry = paths.entry(e.path.to_string()).or_insert_with(|| json!({}));
        entry[e.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "usher API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Everything the admin web UI does. Send an API key (Settings → API keys) as `Authorization: Bearer KEY` or `X-Api-Key: KEY`. A key's scope is `read` (every GET), `requests` (the requests queue) or `full`; a call outside it answers 403 `forbidden_scope`. Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`; lists are `{\"items\", \"next_cursor\"}` with `limit` and `cursor`; times are RFC 3339.",
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
pub fn document_text(endpoints: &[Endpoint]) -> String {
    let mut s =
        serde_json::to_string_pretty(&document(endpoints)).expect("the document serialises");
    s.push('\n');
    s
}

/// `GET /api/v1/openapi.json`: the document, as text made once.
pub fn serve(text: &Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], text.clone()).into_response()
}

/// `/api/docs`: the endpoints, rendered on the server; no scripts, no CDN.
pub fn docs(
    state: &AppState,
    visitor: &Visitor,
    endpoints: &[Endpoint],
) -> Result<Response, crate::web::error::AppError> {
    let endpoints: Vec<Tv> = endpoints
        .iter()
        .map(|e| {
            let body = e.body.map(|b| serde_json::to_string_pretty(&b()).unwrap_or_default());
            context! {
                method => e.method.to_uppercase(), path => e.path, tag => e.tag, summary => e.summary, public => e.public,
                scopes => ApiScope::ALL.into_iter().filter(|s| s.allows(e.method, e.path)).map(ApiScope::as_str).collect::<Vec<_>>(),
                params => e.params.iter().map(|p| context! { name => p.name, at => p.at, desc => p.description }).collect::<Vec<_>>(),
                body, status => e.status,
                response => serde_json::to_string_pretty(&(e.response)()).unwrap_or_default(),
            }
        })
        .collect();
    Ok(page(state, visitor, "api_docs.html", context! { endpoints })?.into_response())
}
