use sqlx::FromRow;

use super::{Result, Store};
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

impl Store {
    pub async fn append_event(&self, event: NewEvent<'_>, now: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO events (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(now)
        .bind(event.actor)
        .bind(event.action)
        .bind(event.subject)
        .bind(event.detail)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn recent_events(&self, limit: i64) -> Result<Vec<EventRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM events ORDER BY id DESC LIMIT ?")
                .bind(limit)
                .fetch_all(self.pool())
                .await?,
        )
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
