//! `/api/v1/events`: the audit log.

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use serde_json::json;

use crate::clock::rfc3339;
use crate::state::AppState;
use crate::web::api::*;
use crate::web::error::AppResult;

pub(crate) async fn events_list(
    State(state): State<AppState>,
    _c: ApiCaller,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let page = Page::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    let rows = state.store.events_page(page.after, page.limit + 1).await?;
    let next =
        (rows.len() as i64 > page.limit).then(|| Page::cursor(rows[page.limit as usize - 1].id));
    let items = rows
        .iter()
        .take(page.limit as usize)
        .map(|e| json!({"id": e.id, "at": rfc3339(e.at), "actor": e.actor, "action": e.action, "subject": e.subject, "detail": e.detail}))
        .collect();
    Ok(list(items, next))
}

/// This feature's API endpoints with their documentation.
pub fn endpoints() -> Vec<(Endpoint, MethodRouter<AppState>)> {
    vec![(
        endpoint(
            "get",
            "/api/v1/events",
            "events",
            "The audit log, newest first",
            PAGED,
            None,
            200,
            || {
                page_of(obj(&[
                    ("id", int()),
                    ("at", time()),
                    ("actor", string()),
                    ("action", string()),
                    ("subject", nullable(string())),
                    ("detail", nullable(string())),
                ]))
            },
        ),
        get(events_list),
    )]
}
