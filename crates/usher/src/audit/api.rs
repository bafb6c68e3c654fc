//! `/api/v1/events`: the audit log, with the Events page's filters, as JSON or CSV.

use crate::web::extract::Query;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::state::AppState;
use crate::store::events::{AuditRow, EventPage};
use crate::web::api::*;
use crate::web::error::AppResult;

/// The page's filters and the API's paging.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    limit: Option<String>,
    cursor: Option<String>,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    member: String,
    #[serde(default)]
    server: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

impl EventsQuery {
    fn filters(&self) -> super::Filters {
        super::Filters {
            actor: self.actor.clone(),
            action: self.action.clone(),
            member: self.member.clone(),
            server: self.server.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            ..Default::default()
        }
    }
}

pub(crate) fn event_json(e: &AuditRow) -> Value {
    let ev = &e.event;
    json!({
        "id": ev.id, "at": rfc3339(ev.at), "actor": ev.actor, "action": ev.action,
        "subject": ev.subject, "detail": ev.detail,
        "member_id": e.member_id, "member": e.member_name, "server_id": e.server_id, "server": e.server_name,
    })
}

pub(crate) async fn events_list(
    State(state): State<AppState>,
    _c: ApiCaller,
    Query(q): Query<EventsQuery>,
) -> AppResult<Response> {
    let page = Page::parse(q.limit.as_deref(), q.cursor.as_deref())?;
    let query = q.filters().query(
        &state,
        crate::ui::i18n::DEFAULT_LANG,
        &crate::clock::Zone::utc(),
    )?;
    let start = page.after.map_or(EventPage::Newest, EventPage::Before);
    let rows = state
        .store
        .list_events(&query, start, page.limit + 1)
        .await?;
    let next = (rows.len() as i64 > page.limit)
        .then(|| Page::cursor(rows[page.limit as usize - 1].event.id));
    let items = rows
        .iter()
        .take(page.limit as usize)
        .map(event_json)
        .collect();
    Ok(list(items, next))
}

pub(crate) async fn events_csv(
    State(state): State<AppState>,
    _c: ApiCaller,
    Query(q): Query<EventsQuery>,
) -> AppResult<Response> {
    if q.limit.is_some() || q.cursor.is_some() {
        return Err(crate::web::error::AppError::bad_request(
            "the export has every matching event: leave out limit and cursor",
        ));
    }
    let query = q.filters().query(
        &state,
        crate::ui::i18n::DEFAULT_LANG,
        &crate::clock::Zone::utc(),
    )?;
    super::csv_download(&state, query, EventPage::Newest).await
}

const EVENT_Q: &[Param] = &[
    LIMIT,
    CURSOR,
    Param::query("actor", "part of who did it", ParamKind::Text),
    Param::query(
        "action",
        "an action (request.approved) or a family (request.*)",
        ParamKind::Pattern("^[a-z._*]{0,64}$"),
    ),
    Param::query(
        "member",
        "a member id (#12 or 12) or part of a name or email",
        ParamKind::Text,
    ),
    Param::query("server", "a server id", ParamKind::IdOrEmpty),
    Param::query("from", "a day, 2026-11-01 (UTC), inclusive", ParamKind::Day),
    Param::query("to", "a day, 2026-11-30 (UTC), inclusive", ParamKind::Day),
];

/// This feature's API endpoints with their documentation.
pub fn endpoints() -> Vec<(Endpoint, MethodRouter<AppState>)> {
    vec![
        (
            endpoint(
                "get",
                "/api/v1/events",
                "events",
                "The audit log, newest first, filtered as on the Events page",
                EVENT_Q,
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
                        ("member_id", nullable(int())),
                        ("member", nullable(string())),
                        ("server_id", nullable(int())),
                        ("server", nullable(string())),
                    ]))
                },
            ),
            get(events_list),
        ),
        (
            answers(
                endpoint(
                    "get",
                    "/api/v1/events.csv",
                    "events",
                    "Every matching event as CSV, for a spreadsheet",
                    &EVENT_Q[2..],
                    None,
                    200,
                    string,
                ),
                "text/csv",
            ),
            get(events_csv),
        ),
    ]
}
