//! The audit log: `/admin/events`, every recorded event with filters (actor, action, member,
//! server, dates) and paging, and `/admin/events.csv` with the same filters for spreadsheets.

pub mod api;
pub mod cli;
pub mod sentence;

use crate::domain::ids::*;
use crate::web::extract::Query;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;

use crate::clock::{Timestamp, Zone};
use crate::state::AppState;
use crate::store::events::{AuditRow, EventPage, EventQuery};
use crate::web::error::{AppError, AppResult};
use crate::web::visitor::Admin;
use crate::web::{page, ser};

pub const PAGE_SIZE: i64 = 50;
/// Rows per database read while a CSV export streams.
const CSV_BATCH: i64 = 500;

pub fn routes(r: crate::web::Routes) -> crate::web::Routes {
    use crate::web::ADMIN;
    r.api(api::endpoints())
        .get("/admin/events", ADMIN, list)
        .get("/admin/events.csv", ADMIN, csv)
}

/// The filters as they arrive in the query string. Unknown values are refused with a 400 that
/// names the field, so a hand-edited link never silently shows the wrong events.
#[derive(Deserialize, Default, Debug, Clone)]
pub struct Filters {
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
    #[serde(default)]
    before: String,
    #[serde(default)]
    after: String,
}

/// `2026-11-22` → the first second of that day in `zone`.
fn parse_day(s: &str, zone: &Zone) -> Option<Timestamp> {
    // The strict shape first: the civil parser would also take a time or an offset.
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt).ok()?;
    zone.instant(s, "00:00")
}

fn bad(field: &'static str, detail: &str) -> AppError {
    AppError::bad_request(detail.to_string()).with_field(field)
}

impl Filters {
    /// The query for the store, or a 400 naming what is wrong.
    /// Days are read in `zone`: the owner's on the page, UTC for the API.
    fn query(&self, state: &AppState, lang: &str, zone: &Zone) -> AppResult<EventQuery> {
        let text = |key: &str| state.i18n.text(lang, key);
        let actor: String = self.actor.trim().chars().take(100).collect();
        let action = self.action.trim();
        let action_ok = action.is_empty()
            || (action.len() <= 64
                && action
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || matches!(c, '.' | '_' | '*')));
        if !action_ok {
            return Err(bad("action", &text("events-bad-action")));
        }
        let member = self.member.trim();
        let (member_id, member_text) = match member.strip_prefix('#').unwrap_or(member).parse() {
            Ok(id) if id > 0 => (Some(MemberId(id)), String::new()),
            _ => (None, member.chars().take(100).collect()),
        };
        // The server and the days come from a select and date inputs, never typed: a blank
        // field is empty, and anything else (whitespace included) must be what it claims to be.
        let server_id = match self.server.as_str() {
            "" => None,
            s => Some(
                s.parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .map(ServerId)
                    .ok_or_else(|| bad("server", &text("events-bad-server")))?,
            ),
        };
        let day = |s: &str, field| match s {
            "" => Ok(None),
            d => parse_day(d, zone)
                .map(Some)
                .ok_or_else(|| bad(field, &text("events-bad-date"))),
        };
        let from = day(&self.from, "from")?;
        // The end of the day: the next day's first second, which a clock change can move.
        let until = match self.to.as_str() {
            "" => None,
            d => Some(
                time::Date::parse(
                    d,
                    &time::macros::format_description!("[year]-[month]-[day]"),
                )
                .ok()
                .and_then(|d| d.next_day())
                .and_then(|next| parse_day(&next.to_string(), zone))
                .ok_or_else(|| bad("to", &text("events-bad-date")))?,
            ),
        };
        if let (Some(f), Some(u)) = (from, until)
            && f >= u
        {
            // Each day is fine on its own; together they make no sense.
            return Err(AppError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "events-bad-range",
            )
            .with_field("to"));
        }
        Ok(EventQuery {
            actor,
            action: action.to_string(),
            member_id,
            member: member_text,
            server_id,
            from,
            until,
        })
    }

    fn page(&self) -> AppResult<EventPage> {
        let id = |s: &str, field| {
            s.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| bad(field, "not an event id"))
        };
        Ok(match (self.before.trim(), self.after.trim()) {
            ("", "") => EventPage::Newest,
            (b, "") => EventPage::Before(id(b, "before")?),
            ("", a) => EventPage::After(id(a, "after")?),
            _ => return Err(bad("after", "use before or after, not both")),
        })
    }

    /// The filters as query-string pairs, without paging, for links and the export.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("actor", &self.actor),
            ("action", &self.action),
            ("member", &self.member),
            ("server", &self.server),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k, v.trim().to_string()))
        .collect()
    }

    fn link(&self, path: &str, extra: Option<(&'static str, String)>) -> String {
        let mut pairs = self.pairs();
        pairs.extend(extra);
        if pairs.is_empty() {
            return path.to_string();
        }
        format!(
            "{path}?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    }
}

/// The "What" filter: the families by name, and the exact action a link asked for (a member's
/// history links to one), named by its own sentence's family.
fn action_options(state: &AppState, lang: &str, chosen: &str) -> Vec<minijinja::Value> {
    let mut options: Vec<minijinja::Value> = sentence::FAMILIES
        .iter()
        .map(|(family, key)| {
            context! { value => format!("{family}.*"), name => state.i18n.text(lang, key) }
        })
        .collect();
    let known = sentence::FAMILIES
        .iter()
        .any(|(f, _)| chosen.strip_suffix(".*") == Some(*f));
    if !chosen.is_empty() && !known {
        options.push(context! { value => chosen, name => chosen });
    }
    options
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(f): Query<Filters>,
) -> AppResult<Response> {
    let lang = admin.visitor.lang;
    // A filter the page cannot use keeps what was typed and says what is wrong beside it.
    let (query, page_at) = match f
        .query(&state, lang, &admin.session.zone)
        .and_then(|q| Ok((q, f.page()?)))
    {
        Ok(ok) => ok,
        Err(e) => return render(&state, &admin, &f, None, Some(e)).await,
    };
    render(&state, &admin, &f, Some((query, page_at)), None).await
}

async fn render(
    state: &AppState,
    admin: &Admin,
    f: &Filters,
    query: Option<(EventQuery, EventPage)>,
    error: Option<AppError>,
) -> AppResult<Response> {
    let lang = admin.visitor.lang;
    let (mut rows, mut newer, mut older) = (Vec::new(), false, false);
    if let Some((query, page_at)) = &query {
        rows = state.store.list_events(query, *page_at, PAGE_SIZE).await?;
        if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
            newer = !state
                .store
                .list_events(query, EventPage::After(first.event.id), 1)
                .await?
                .is_empty();
            older = !state
                .store
                .list_events(query, EventPage::Before(last.event.id), 1)
                .await?
                .is_empty();
        }
    }
    let servers = state.store.servers().await?;
    let filtered = !f.pairs().is_empty();
    let at_newest = query.as_ref().is_none_or(|(_, p)| *p == EventPage::Newest);
    let status = error.as_ref().map(|e| e.status);
    let error = error.map(|e| {
        let message = e
            .detail
            .clone()
            .unwrap_or_else(|| state.i18n.text(lang, e.message_key));
        context! { field => e.field, message }
    });
    let events = sentence::describe_all(&state.i18n, lang, &admin.session.username, &rows);
    let mut res = page(
        state,
        &admin.visitor,
        "admin/events.html",
        context! {
            events => ser(&events),
            f => context! {
                actor => f.actor.trim(), action => f.action.trim(), member => f.member.trim(),
                server => f.server.as_str(), from => f.from.as_str(), to => f.to.as_str(),
            },
            filtered,
            error,
            servers => servers.iter().map(|s| context! { id => s.server.id.to_string(), name => &s.server.name }).collect::<Vec<_>>(),
            actions => action_options(state, lang, f.action.trim()),
            newer => newer.then(|| rows.first().map(|r| f.link("/admin/events", Some(("after", r.event.id.to_string()))))).flatten(),
            older => older.then(|| rows.last().map(|r| f.link("/admin/events", Some(("before", r.event.id.to_string()))))).flatten(),
            newest => (!at_newest).then(|| f.link("/admin/events", None)),
            csv => f.link("/admin/events.csv", None),
        },
    )?
    .into_response();
    if let Some(status) = status {
        *res.status_mut() = status;
    }
    Ok(res)
}

/// One CSV field: quoted when it holds a comma, quote or line break, and defused when a
/// spreadsheet would read it as a formula (`=`, `+`, `-`, `@`, tab or carriage return first).
pub fn csv_field(value: &str) -> String {
    let defused;
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        defused = format!("'{value}");
        defused.as_str()
    } else {
        value
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

pub const CSV_HEADER: &str = "id,at,actor,action,subject,detail,member_id,member,server_id,server";

/// One event as a CSV line (CRLF-terminated, as RFC 4180 says).
pub fn csv_line(e: &AuditRow) -> String {
    let opt_id = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let ev = &e.event;
    let fields = [
        ev.id.to_string(),
        crate::clock::rfc3339(ev.at),
        csv_field(&ev.actor),
        csv_field(&ev.action),
        csv_field(ev.subject.as_deref().unwrap_or_default()),
        csv_field(ev.detail.as_deref().unwrap_or_default()),
        opt_id(e.member_id.map(MemberId::get)),
        csv_field(e.member_name.as_deref().unwrap_or_default()),
        opt_id(e.server_id.map(ServerId::get)),
        csv_field(e.server_name.as_deref().unwrap_or_default()),
    ];
    let mut line = fields.join(",");
    line.push_str("\r\n");
    line
}

/// Streams every matching event, newest first, reading the database a batch at a time so a
/// large log never sits in memory whole.
pub async fn csv(
    State(state): State<AppState>,
    admin: Admin,
    Query(f): Query<Filters>,
) -> AppResult<Response> {
    let query = f.query(&state, admin.visitor.lang, &admin.session.zone)?;
    csv_download(&state, query, f.page()?).await
}

/// Every event `query` matches from `start`, as a CSV download streamed a batch at a time.
pub(crate) async fn csv_download(
    state: &AppState,
    query: EventQuery,
    start: EventPage,
) -> AppResult<Response> {
    let first = state.store.list_events(&query, start, CSV_BATCH).await?;
    let head = format!("\u{feff}{CSV_HEADER}\r\n");
    use futures_util::StreamExt;
    let stream = futures_util::stream::unfold(
        (Some(head), first, state.store.clone(), query),
        |(head, rows, store, query)| async move {
            if let Some(head) = head {
                return Some((Ok::<_, std::io::Error>(head), (None, rows, store, query)));
            }
            let last = rows.last()?.event.id;
            let chunk: String = rows.iter().map(csv_line).collect();
            let next = if (rows.len() as i64) < CSV_BATCH {
                Vec::new()
            } else {
                match store
                    .list_events(&query, EventPage::Before(last), CSV_BATCH)
                    .await
                {
                    Ok(next) => next,
                    Err(e) => {
                        tracing::error!(error = %e, "the events export stopped early");
                        return Some((
                            Err(std::io::Error::other("database error")),
                            (None, Vec::new(), store, query),
                        ));
                    }
                }
            };
            Some((Ok(chunk), (None, next, store, query)))
        },
    )
    // The gzip layer polls its body once more after the end; a bare `unfold` panics then.
    .fuse();
    let day = crate::clock::rfc3339(state.clock.now());
    let filename = format!("usher-events-{}.csv", day.get(..10).unwrap_or("export"));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn csv_fields_that_look_like_formulas_are_defused() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("-2"), "'-2");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("\tx"), "'\tx");
        assert_eq!(csv_field("a=b"), "a=b");
    }

    #[test]
    fn days_parse_as_utc_midnight_and_nonsense_does_not() {
        let utc = Zone::utc();
        assert_eq!(parse_day("2026-11-22", &utc), Some(1_795_305_600));
        assert_eq!(parse_day("2026-02-30", &utc), None);
        assert_eq!(parse_day("yesterday", &utc), None);
        assert_eq!(parse_day("2026-11-22T10:00", &utc), None);
        let madrid = Zone::parse("Europe/Madrid").unwrap();
        assert_eq!(
            parse_day("2026-11-22", &madrid),
            Some(1_795_305_600 - 3_600)
        );
    }
}
