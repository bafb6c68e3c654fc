use crate::domain::Role;
use crate::domain::ids::*;
use sqlx::FromRow;

use super::{Result, Store};
use crate::clock::Timestamp;

#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub admin_id: AdminId,
    pub username: String,
    pub role: Role,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    /// Requests waiting for a decision, read with the session so every admin page can show the
    /// count in its menu without a statement of its own.
    pub waiting: i64,
    /// The owner's time zone from the settings (`None` for UTC), read with the session for the
    /// same reason.
    pub time_zone: Option<String>,
}

impl Store {
    pub async fn insert_session(
        &self,
        id_hash: &str,
        admin_id: AdminId,
        now: Timestamp,
        expires_at: Timestamp,
        user_agent: Option<&str>,
        address: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, admin_id, created_at, last_seen_at, expires_at, user_agent, address)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id_hash)
        .bind(admin_id)
        .bind(now)
        .bind(now)
        .bind(expires_at)
        .bind(user_agent)
        .bind(address)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The live session with this hash, with its admin's name.
    pub async fn session(&self, id_hash: &str, now: Timestamp) -> Result<Option<SessionRow>> {
        Ok(sqlx::query_as(
            "SELECT s.id_hash, s.admin_id, a.username, a.role, s.created_at, s.last_seen_at, s.expires_at,
                    (SELECT COUNT(*) FROM requests WHERE status = 'pending') AS waiting,
                    (SELECT json_extract(value, '$.time_zone') FROM settings WHERE key = 'app_settings') AS time_zone
             FROM sessions s JOIN admins a ON a.id = s.admin_id
             WHERE s.id_hash = ? AND s.expires_at > ?",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Slides a session's expiry forward.
    pub async fn touch_session(
        &self,
        id_hash: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?")
            .bind(now)
            .bind(expires_at)
            .bind(id_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(id_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(now)
            .execute(self.pool())
            .await?
            .rows_affected())
    }
}

/// One signed-in browser, as its admin's account page lists it.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct SessionInfo {
    pub id: SessionId,
    #[serde(skip)]
    pub id_hash: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub user_agent: Option<String>,
    pub address: Option<String>,
}

impl Store {
    /// An admin's live sessions, the most recently used first.
    pub async fn sessions_of(&self, admin_id: AdminId, now: Timestamp) -> Result<Vec<SessionInfo>> {
        Ok(sqlx::query_as(
            "SELECT rowid AS id, id_hash, created_at, last_seen_at, user_agent, address
             FROM sessions WHERE admin_id = ? AND expires_at > ?
             ORDER BY last_seen_at DESC, created_at DESC",
        )
        .bind(admin_id)
        .bind(now)
        .fetch_all(self.pool())
        .await?)
    }

    /// Ends one of an admin's sessions; false when it was not theirs or is gone already.
    pub async fn end_session_of(&self, admin_id: AdminId, id: SessionId) -> Result<bool> {
        Ok(
            sqlx::query("DELETE FROM sessions WHERE rowid = ? AND admin_id = ?")
                .bind(id)
                .bind(admin_id)
                .execute(self.pool())
                .await?
                .rows_affected()
                == 1,
        )
    }

    /// Ends every session of an admin but `keep` (the hash of the one asking), if given.
    pub async fn end_sessions_except(&self, admin_id: AdminId, keep: Option<&str>) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM sessions WHERE admin_id = ? AND id_hash IS NOT ?")
                .bind(admin_id)
                .bind(keep)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }
}
