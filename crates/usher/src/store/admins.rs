use crate::domain::Role;
use crate::domain::ids::*;
use sqlx::FromRow;

use super::{Result, Store};
use crate::clock::Timestamp;

#[derive(Debug, Clone, FromRow)]
pub struct AdminRow {
    pub id: AdminId,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub telegram_id: Option<i64>,
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
        role: Role,
        now: Timestamp,
    ) -> Result<AdminId, sqlx::Error> {
        let id = sqlx::query_scalar(
            "INSERT INTO admins (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)
             RETURNING id",
        )
        .bind(username)
        .bind(hash)
        .bind(role)
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        Ok(id)
    }

    /// Inserts the first admin, an owner, only while there is none, atomically: two setup forms submitted
    /// at once cannot both create an account.
    pub async fn insert_first_admin(
        &self,
        username: &str,
        hash: &str,
        now: Timestamp,
    ) -> Result<Option<AdminId>> {
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

    /// Sets a new password and ends every session of that admin.
    pub async fn set_admin_password(&self, id: AdminId, hash: &str) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE admins SET password_hash = ? WHERE id = ?")
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

    pub async fn record_login_success(&self, id: AdminId, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE admins SET last_login_at = ? WHERE id = ?")
            .bind(now)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// A role change or a removal that would leave usher without an owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastOwner;

impl Store {
    pub async fn admins(&self) -> Result<Vec<AdminRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM admins ORDER BY role = 'owner' DESC, username")
                .fetch_all(self.pool())
                .await?,
        )
    }

    pub async fn admin(&self, id: AdminId) -> Result<Option<AdminRow>> {
        Ok(sqlx::query_as("SELECT * FROM admins WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Gives an admin another role, unless it is the last owner losing theirs: checked in the
    /// same statement, so two owners demoting each other at once cannot both succeed.
    pub async fn set_admin_role(
        &self,
        id: AdminId,
        role: Role,
    ) -> Result<std::result::Result<(), LastOwner>> {
        let changed = sqlx::query(
            "UPDATE admins SET role = ?1 WHERE id = ?2
             AND (?1 = 'owner' OR role <> 'owner'
                  OR (SELECT COUNT(*) FROM admins WHERE role = 'owner') > 1)",
        )
        .bind(role)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(if changed == 1 { Ok(()) } else { Err(LastOwner) })
    }

    /// Deletes an admin and, with it, their sessions, unless it is the last owner.
    pub async fn delete_admin(&self, id: AdminId) -> Result<std::result::Result<(), LastOwner>> {
        let deleted = sqlx::query(
            "DELETE FROM admins WHERE id = ?
             AND (role <> 'owner' OR (SELECT COUNT(*) FROM admins WHERE role = 'owner') > 1)",
        )
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(if deleted == 1 { Ok(()) } else { Err(LastOwner) })
    }
}
