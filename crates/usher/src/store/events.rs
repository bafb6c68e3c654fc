use crate::domain::ids::*;
use sqlx::FromRow;

use super::{Result, Store, like_pattern};
use crate::clock::Timestamp;

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct EventRow {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub detail: Option<String>,
}

/// An audit record to append.
#[derive(Debug, Clone, Default)]
pub struct NewEvent<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// An event as the audit log shows it: with the member and server it concerns, by name.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct AuditRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub event: EventRow,
    pub member_id: Option<MemberId>,
    pub member_name: Option<String>,
    pub server_id: Option<ServerId>,
    pub server_name: Option<String>,
}

/// What the audit log is narrowed to. Empty strings and `None` mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Part of the actor's name.
    pub actor: String,
    /// An action (`request.approved`), or a family of them (`request.*`).
    pub action: String,
    /// A member by id.
    pub member_id: Option<MemberId>,
    /// Part of a member's name, email, user name or Plex account.
    pub member: String,
    pub server_id: Option<ServerId>,
    /// From this instant (inclusive) to that one (exclusive).
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// Where a page of the audit log starts: the newest events, or those older or newer than an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventPage {
    Newest,
    Before(i64),
    After(i64),
}

/// `request.*` → `request.%` (escaped); anything else is matched exactly.
fn action_prefix(action: &str) -> String {
    match action.strip_suffix(".*") {
        Some(family) if !family.is_empty() => {
            let escaped = like_pattern(family);
            // `%family%` → `family.%`
            format!("{}.%", &escaped[1..escaped.len() - 1])
        }
        _ => String::new(),
    }
}

/// Writes one event on `conn`, so it can share a transaction with the change it records.
pub(super) async fn insert_event(
    conn: &mut sqlx::SqliteConnection,
    event: &NewEvent<'_>,
    member_id: Option<MemberId>,
    server_id: Option<ServerId>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO events (at, actor, action, subject, detail, member_id, server_id)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(now)
    .bind(event.actor)
    .bind(event.action)
    .bind(event.subject)
    .bind(event.detail)
    .bind(member_id)
    .bind(server_id)
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    pub async fn append_event(&self, event: NewEvent<'_>, now: Timestamp) -> Result<()> {
        self.append_event_about(event, None, None, now).await
    }

    /// Appends an event that concerns a member and/or a server, so it shows in the member's
    /// history and the audit log can be filtered by either.
    pub async fn append_event_about(
        &self,
        event: NewEvent<'_>,
        member_id: Option<MemberId>,
        server_id: Option<ServerId>,
        now: Timestamp,
    ) -> Result<()> {
        let mut conn = self.pool().acquire().await?;
        insert_event(&mut conn, &event, member_id, server_id, now).await?;
        Ok(())
    }

    pub async fn recent_events(&self, limit: i64) -> Result<Vec<EventRow>> {
        Ok(sqlx::query_as(
            "SELECT id, at, actor, action, subject, detail FROM events ORDER BY id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// One page of the audit log, newest first, with at most `limit` events.
    pub async fn list_events(
        &self,
        q: &EventQuery,
        page: EventPage,
        limit: i64,
    ) -> Result<Vec<AuditRow>> {
        let (before, after, order) = match page {
            EventPage::Newest => (0, 0, "DESC"),
            EventPage::Before(id) => (id, 0, "DESC"),
            EventPage::After(id) => (0, id, "ASC"),
        };
        let sql = format!(
            "SELECT e.id, e.at, e.actor, e.action, e.subject, e.detail, e.member_id,
                    m.display_name AS member_name, e.server_id, s.name AS server_name
             FROM events e
             LEFT JOIN members m ON m.id = e.member_id
             LEFT JOIN servers s ON s.id = e.server_id
             WHERE (?1 = '' OR e.actor LIKE ?1 ESCAPE '\\')
               AND (?2 = '' OR (?3 = '' AND e.action = ?2) OR (?3 != '' AND e.action LIKE ?3 ESCAPE '\\'))
               AND (?4 = 0 OR e.member_id = ?4)
               AND (?5 = '' OR e.member_id IN (
                    SELECT id FROM members WHERE display_name LIKE ?5 ESCAPE '\\'
                        OR email LIKE ?5 ESCAPE '\\' OR username LIKE ?5 ESCAPE '\\'
                        OR plex_account LIKE ?5 ESCAPE '\\'))
               AND (?6 = 0 OR e.server_id = ?6)
               AND (?7 IS NULL OR e.at >= ?7)
               AND (?8 IS NULL OR e.at < ?8)
               AND (?9 = 0 OR e.id < ?9)
               AND (?10 = 0 OR e.id > ?10)
             ORDER BY e.id {order}
             LIMIT ?11"
        );
        let mut rows: Vec<AuditRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(like_pattern(&q.actor))
            .bind(q.action.trim())
            .bind(action_prefix(q.action.trim()))
            .bind(q.member_id.map_or(0, MemberId::get))
            .bind(like_pattern(&q.member))
            .bind(q.server_id.map_or(0, ServerId::get))
            .bind(q.from)
            .bind(q.until)
            .bind(before)
            .bind(after)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        if matches!(page, EventPage::After(_)) {
            rows.reverse();
        }
        Ok(rows)
    }
}

impl Store {
    /// Events newest first, before the event id `before` when given.
    pub async fn events_page(&self, before: Option<i64>, limit: i64) -> Result<Vec<EventRow>> {
        Ok(sqlx::query_as(
            "SELECT id, at, actor, action, subject, detail FROM events
             WHERE (?1 IS NULL OR id < ?1) ORDER BY id DESC LIMIT ?2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_families_become_escaped_prefixes() {
        assert_eq!(action_prefix("request.*"), "request.%");
        assert_eq!(action_prefix("a_b.*"), "a\\_b.%");
        assert_eq!(action_prefix("request.created"), "");
        assert_eq!(action_prefix(".*"), "");
        assert_eq!(like_pattern(" 50% "), "%50\\%%");
        assert_eq!(like_pattern("  "), "");
    }
}
