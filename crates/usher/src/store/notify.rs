//! Notification channels and the outbox of deliveries.

use crate::domain::ids::*;
use sqlx::FromRow;
use sqlx::types::Json;

use super::{Result, Store};
use crate::clock::Timestamp;

/// A channel as stored. Sealed fields stay sealed here; the notify module opens them to send.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct ChannelRow {
    pub id: ChannelId,
    pub kind: crate::domain::ChannelKind,
    pub name: String,
    #[serde(skip)]
    pub target_sealed: Option<String>,
    pub target_hint: Option<String>,
    pub address: Option<String>,
    #[serde(skip)]
    pub secret_sealed: Option<String>,
    /// JSON array of event kinds.
    pub events: String,
    pub lang: String,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ChannelRow {
    pub fn event_list(&self) -> Vec<String> {
        serde_json::from_str(&self.events).unwrap_or_default()
    }
}

pub struct NewChannel<'a> {
    pub kind: crate::domain::ChannelKind,
    pub name: &'a str,
    pub target_sealed: Option<&'a str>,
    pub target_hint: Option<&'a str>,
    pub address: Option<&'a str>,
    pub secret_sealed: Option<&'a str>,
    pub events: &'a [&'a str],
    pub lang: &'a str,
}

/// What an edit changes; `None` keeps the stored value.
pub struct ChannelChange<'a> {
    pub name: &'a str,
    pub events: &'a [&'a str],
    pub lang: &'a str,
    pub enabled: bool,
    pub target: Option<(&'a str, &'a str)>,
    pub address: Option<&'a str>,
}

/// One message waiting in (or gone through) the outbox.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct DeliveryRow {
    pub id: DeliveryId,
    pub channel_id: Option<ChannelId>,
    #[serde(skip)]
    pub recipient: Option<String>,
    pub event: String,
    pub lang: String,
    #[serde(skip)]
    #[sqlx(json)]
    pub payload: serde_json::Value,
    pub state: crate::domain::DeliveryState,
    pub attempts: i64,
    pub run_at: Timestamp,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A delivery to add to the outbox: for a channel, or an email to a person.
pub struct NewDelivery<'a> {
    pub channel_id: Option<ChannelId>,
    pub recipient: Option<&'a str>,
    pub event: &'a str,
    pub lang: &'a str,
    pub payload: &'a serde_json::Value,
}

const CHANNEL_COLUMNS: &str = "id, kind, name, target_sealed, target_hint, address, secret_sealed,
    events, lang, enabled, created_at, updated_at";
const DELIVERY_COLUMNS: &str = "id, channel_id, recipient, event, lang, payload, state, attempts,
    run_at, last_error, created_at, updated_at";

impl Store {
    pub async fn channels(&self) -> Result<Vec<ChannelRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CHANNEL_COLUMNS} FROM notify_channels ORDER BY name COLLATE NOCASE, id"
        )))
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn channel(&self, id: ChannelId) -> Result<Option<ChannelRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CHANNEL_COLUMNS} FROM notify_channels WHERE id = ?"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Switched-on channels that chose `event`.
    pub async fn channels_for(&self, event: &str) -> Result<Vec<ChannelRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CHANNEL_COLUMNS} FROM notify_channels
             WHERE enabled = 1 AND EXISTS (SELECT 1 FROM json_each(events) WHERE value = ?)
             ORDER BY id"
        )))
        .bind(event)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn insert_channel(&self, c: NewChannel<'_>, now: Timestamp) -> Result<ChannelId> {
        Ok(sqlx::query_scalar(
            "INSERT INTO notify_channels (kind, name, target_sealed, target_hint, address,
                 secret_sealed, events, lang, enabled, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id",
        )
        .bind(c.kind)
        .bind(c.name)
        .bind(c.target_sealed)
        .bind(c.target_hint)
        .bind(c.address)
        .bind(c.secret_sealed)
        .bind(Json(c.events))
        .bind(c.lang)
        .bind(now)
        .bind(now)
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn update_channel(
        &self,
        id: ChannelId,
        c: ChannelChange<'_>,
        now: Timestamp,
    ) -> Result<bool> {
        let (sealed, hint) = c.target.unzip();
        Ok(sqlx::query(
            "UPDATE notify_channels SET name = ?, events = ?, lang = ?, enabled = ?,
                 target_sealed = COALESCE(?, target_sealed), target_hint = COALESCE(?, target_hint),
                 address = COALESCE(?, address), updated_at = ?
             WHERE id = ?",
        )
        .bind(c.name)
        .bind(Json(c.events))
        .bind(c.lang)
        .bind(c.enabled)
        .bind(sealed)
        .bind(hint)
        .bind(c.address)
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1)
    }

    pub async fn set_channel_secret(
        &self,
        id: ChannelId,
        sealed: &str,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(
            sqlx::query(
                "UPDATE notify_channels SET secret_sealed = ?, updated_at = ? WHERE id = ?",
            )
            .bind(sealed)
            .bind(now)
            .bind(id)
            .execute(self.pool())
            .await?
            .rows_affected()
                == 1,
        )
    }

    /// Deletes a channel and whatever it still had waiting.
    pub async fn delete_channel(&self, id: ChannelId) -> Result<bool> {
        Ok(sqlx::query("DELETE FROM notify_channels WHERE id = ?")
            .bind(id)
            .execute(self.pool())
            .await?
            .rows_affected()
            == 1)
    }

    /// Adds deliveries to the outbox, due now, in one transaction.
    pub async fn queue_deliveries(&self, items: &[NewDelivery<'_>], now: Timestamp) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool().begin().await?;
        for d in items {
            sqlx::query(
                "INSERT INTO notify_deliveries (channel_id, recipient, event, lang, payload, state,
                     attempts, run_at, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?)",
            )
            .bind(d.channel_id)
            .bind(d.recipient)
            .bind(d.event)
            .bind(d.lang)
            .bind(Json(d.payload))
            .bind(now)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether the bot's announcement of a request is still waiting to go out.
    pub async fn bot_announcement_waiting(&self, request_id: RequestId) -> Result<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM notify_deliveries
                 WHERE event = 'bot.announce' AND state IN ('queued', 'sending')
                   AND json_extract(payload, '$.request_id') = ?)",
        )
        .bind(request_id)
        .fetch_one(self.pool())
        .await?)
    }

    /// Deliveries due now: waiting ones whose time came, and ones whose sender's lease ran out.
    pub async fn due_deliveries(&self, now: Timestamp, limit: i64) -> Result<Vec<DeliveryId>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM notify_deliveries
             WHERE (state = 'queued' AND run_at <= ?1) OR (state = 'sending' AND locked_until <= ?1)
             ORDER BY run_at, id LIMIT ?2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// When the next waiting delivery is due.
    pub async fn next_delivery_time(&self) -> Result<Option<Timestamp>> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(CASE state WHEN 'queued' THEN run_at ELSE locked_until END)
             FROM notify_deliveries WHERE state IN ('queued', 'sending')",
        )
        .fetch_one(self.pool())
        .await?)
    }

    /// Takes a due delivery for sending, counting the attempt; `None` when someone else has it
    /// or it is not due.
    pub async fn claim_delivery(
        &self,
        id: DeliveryId,
        now: Timestamp,
        lease: i64,
    ) -> Result<Option<DeliveryRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE notify_deliveries
             SET state = 'sending', attempts = attempts + 1, locked_until = ?1, updated_at = ?2
             WHERE id = ?3
               AND ((state = 'queued' AND run_at <= ?2) OR (state = 'sending' AND locked_until <= ?2))
             RETURNING {DELIVERY_COLUMNS}"
        )))
        .bind(now + lease)
        .bind(now)
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn delivery_sent(&self, id: DeliveryId, now: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE notify_deliveries SET state = 'sent', locked_until = NULL, last_error = NULL,
                 updated_at = ? WHERE id = ?",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn delivery_retry(
        &self,
        id: DeliveryId,
        run_at: Timestamp,
        error: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE notify_deliveries SET state = 'queued', run_at = ?, locked_until = NULL,
                 last_error = ?, updated_at = ? WHERE id = ?",
        )
        .bind(run_at)
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn delivery_failed(&self, id: DeliveryId, error: &str, now: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE notify_deliveries SET state = 'failed', locked_until = NULL, last_error = ?,
                 updated_at = ? WHERE id = ?",
        )
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The latest deliveries, newest first (all channels, and emails to people).
    pub async fn recent_deliveries(&self, limit: i64) -> Result<Vec<DeliveryRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM notify_deliveries ORDER BY id DESC LIMIT ?"
        )))
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Sent deliveries older than `before` are dropped; failures are kept for the owner to see.
    pub async fn prune_deliveries(&self, before: Timestamp) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM notify_deliveries WHERE state = 'sent' AND updated_at < ?")
                .bind(before)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }
}
