//! Access requests.

use crate::domain::ids::*;
use sqlx::FromRow;
use sqlx::types::Json;

use super::{Result, Store};
use crate::clock::Timestamp;

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct RequestRow {
    pub id: RequestId,
    pub name: String,
    pub email: String,
    pub note: Option<String>,
    pub status: crate::domain::RequestStatus,
    #[serde(skip)]
    pub client_ip: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<String>,
    pub decline_reason: Option<String>,
    pub member_id: Option<MemberId>,
    pub invite_id: Option<InviteId>,
    pub outcome: Option<String>,
    pub telegram_chat_id: Option<i64>,
    pub telegram_message_id: Option<i64>,
    /// The library picker's selection (library row ids).
    #[sqlx(json(nullable))]
    pub picker: Option<Vec<i64>>,
    /// The language of the form the request came through.
    pub lang: String,
}

pub struct NewRequest<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub note: Option<&'a str>,
    pub client_ip: &'a str,
    pub expires_at: Timestamp,
    pub lang: &'a str,
}

impl Store {
    /// Records a request; `None` when this email already has one pending.
    pub async fn insert_request(
        &self,
        r: NewRequest<'_>,
        now: Timestamp,
    ) -> Result<Option<RequestId>> {
        let result = sqlx::query_scalar(
            "INSERT INTO requests (name, email, note, status, client_ip, created_at, expires_at, lang)
             VALUES (?, ?, ?, 'pending', ?, ?, ?, ?) RETURNING id",
        )
        .bind(r.name)
        .bind(r.email)
        .bind(r.note)
        .bind(r.client_ip)
        .bind(now)
        .bind(r.expires_at)
        .bind(r.lang)
        .fetch_one(self.pool())
        .await;
        match result {
            Ok(id) => Ok(Some(id)),
            Err(e) if super::is_unique_violation(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn request(&self, id: RequestId) -> Result<Option<RequestRow>> {
        Ok(sqlx::query_as("SELECT * FROM requests WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Pending requests first (oldest first), then decided ones (newest first).
    pub async fn requests(&self, limit: i64) -> Result<Vec<RequestRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM requests
             ORDER BY status = 'pending' DESC,
                      CASE WHEN status = 'pending' THEN created_at END ASC,
                      COALESCE(decided_at, created_at) DESC, id DESC
             LIMIT ?",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn has_pending_request(&self, email: &str) -> Result<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM requests WHERE email = ? AND status = 'pending')",
        )
        .bind(email)
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn pending_requests(&self) -> Result<Vec<RequestRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM requests WHERE status = 'pending' ORDER BY created_at, id",
        )
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn pending_request_count(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM requests WHERE status = 'pending'")
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// Moves a pending request to a decided state. Only one caller wins: a double tap or a
    /// replayed button finds it no longer pending and gets `false`.
    pub async fn decide_request(
        &self,
        id: RequestId,
        status: crate::domain::RequestStatus,
        by: &str,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE requests SET status = ?, decided_by = ?, decline_reason = ?, decided_at = ?
             WHERE id = ? AND status = 'pending' AND expires_at > ?",
        )
        .bind(status)
        .bind(by)
        .bind(reason)
        .bind(now)
        .bind(id)
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1)
    }

    /// Puts a request back to pending after an approval that could not be carried out, so it can
    /// be retried.
    pub async fn reopen_request(&self, id: RequestId, outcome: &str) -> Result<()> {
        sqlx::query(
            "UPDATE requests SET status = 'pending', decided_by = NULL, decided_at = NULL, outcome = ?
             WHERE id = ? AND status = 'approved'",
        )
        .bind(outcome)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn set_request_outcome(
        &self,
        id: RequestId,
        member_id: Option<MemberId>,
        invite_id: Option<InviteId>,
        outcome: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE requests SET member_id = COALESCE(?, member_id), invite_id = COALESCE(?, invite_id), outcome = ? WHERE id = ?")
            .bind(member_id)
            .bind(invite_id)
            .bind(outcome)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Marks pending requests whose time ran out as expired; returns them.
    pub async fn expire_requests(&self, now: Timestamp) -> Result<Vec<RequestRow>> {
        Ok(sqlx::query_as(
            "UPDATE requests SET status = 'expired', decided_at = ?
             WHERE status = 'pending' AND expires_at <= ? RETURNING *",
        )
        .bind(now)
        .bind(now)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn set_request_telegram(
        &self,
        id: RequestId,
        chat_id: i64,
        message_id: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE requests SET telegram_chat_id = ?, telegram_message_id = ? WHERE id = ?",
        )
        .bind(chat_id)
        .bind(message_id)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn set_request_picker(&self, id: RequestId, picker: &[i64]) -> Result<()> {
        sqlx::query("UPDATE requests SET picker = ? WHERE id = ?")
            .bind(Json(picker))
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
