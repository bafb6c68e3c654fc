use sqlx::FromRow;

use super::{Result, Store};
use crate::clock::Timestamp;

#[derive(Debug, Clone, FromRow)]
pub struct AdminRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub failed_logins: i64,
    pub locked_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

impl Store {
    pub async fn admin_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM admins")
            .fetch_one(self.pool())
            .await?)
    }

    /// Inserts an admin. Fails with a unique violation when the name is taken.
    pub async fn insert_admin(
        &self,
        username: &str,
        hash: &str,
        now: Timestamp,
    ) -> Result<i64, sqlx::Error> {
        let id = sqlx::query_scalar(
            "INSERT INTO admins (username, password_hash, created_at) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(username)
        .bind(hash)
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        Ok(id)
    }

    /// Inserts the first admin only while there is none, atomically: two setup forms submitted
    /// at once cannot both create an account.
    pub async fn insert_first_admin(
        &self,
        username: &str,
        hash: &str,
        now: Timestamp,
    ) -> Result<Option<i64>> {
        let id = sqlx::query_scalar(
            "INSERT INTO admins (username, password_hash, created_at)
             SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM admins) RETURNING id",
        )
        .bind(username)
        .bind(hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        Ok(id)
    }

    pub async fn admin_by_name(&self, username: &str) -> Result<Option<AdminRow>> {
        Ok(sqlx::query_as("SELECT * FROM admins WHERE username = ?")
            .bind(username)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Sets a new password, clears any lockout and ends every session of that admin.
    pub async fn set_admin_password(&self, id: i64, hash: &str) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE admins SET password_hash = ?, failed_logins = 0, locked_until = NULL WHERE id = ?")
            .bind(hash)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE admin_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Counts a failed login; locks the account once `max` failures in a row are reached.
    /// Returns the lock expiry when this failure locked it.
    pub async fn record_login_failure(
        &self,
        id: i64,
        max: u32,
        lock_until: Timestamp,
    ) -> Result<Option<Timestamp>> {
        let row: (i64, Option<Timestamp>) = sqlx::query_as(
            "UPDATE admins SET
                failed_logins = failed_logins + 1,
                locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END
             WHERE id = ? RETURNING failed_logins, locked_until",
        )
        .bind(max as i64)
        .bind(lock_until)
        .bind(id)
        .fetch_one(self.pool())
        .await?;
        Ok(if row.0 >= max as i64 { row.1 } else { None })
    }

    pub async fn record_login_success(&self, id: i64, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE admins SET failed_logins = 0, locked_until = NULL, last_login_at = ? WHERE id = ?")
            .bind(now)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
