use crate::domain::ids::*;
use sqlx::FromRow;
use sqlx::types::Json;

use super::{Result, Store};
use crate::clock::Timestamp;

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct ProfileRow {
    pub id: ProfileId,
    pub name: String,
    pub description: String,
    pub duration: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct ProfileServerRow {
    pub server_id: ServerId,
    pub server_name: String,
    pub server_kind: String,
    pub libraries: String,
    pub permissions: String,
}

/// A profile with how much uses it.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct ProfileUsage {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub profile: ProfileRow,
    pub invites: i64,
    pub members: i64,
}

impl Store {
    pub async fn profiles(&self) -> Result<Vec<ProfileUsage>> {
        Ok(sqlx::query_as(
            "SELECT p.*,
                (SELECT COUNT(*) FROM invites i WHERE i.profile_id = p.id) AS invites,
                (SELECT COUNT(DISTINCT g.member_id) FROM grants g
                  WHERE g.profile_id = p.id AND g.status IN ('provisioning', 'pending', 'active', 'disabled')) AS members
             FROM profiles p ORDER BY p.name COLLATE NOCASE",
        )
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn profile(&self, id: ProfileId) -> Result<Option<ProfileRow>> {
        Ok(sqlx::query_as("SELECT * FROM profiles WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }

    pub async fn profile_by_name(&self, name: &str) -> Result<Option<ProfileRow>> {
        Ok(sqlx::query_as("SELECT * FROM profiles WHERE name = ?")
            .bind(name.trim())
            .fetch_optional(self.pool())
            .await?)
    }

    pub async fn profile_servers(&self, id: ProfileId) -> Result<Vec<ProfileServerRow>> {
        Ok(sqlx::query_as(
            "SELECT ps.server_id, s.name AS server_name, s.kind AS server_kind, ps.libraries, ps.permissions
             FROM profile_servers ps JOIN servers s ON s.id = ps.server_id
             WHERE ps.profile_id = ? ORDER BY s.name COLLATE NOCASE",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Creates (`id` None) or replaces a profile with its servers.
    pub async fn save_profile(
        &self,
        id: Option<ProfileId>,
        name: &str,
        description: &str,
        duration: &str,
        servers: &[(ServerId, Vec<String>, media::Permissions)],
        now: Timestamp,
    ) -> Result<ProfileId, sqlx::Error> {
        let mut tx = self.pool().begin().await?;
        let id = match id {
            Some(id) => {
                sqlx::query("UPDATE profiles SET name = ?, description = ?, duration = ?, updated_at = ? WHERE id = ?")
                    .bind(name)
                    .bind(description)
                    .bind(duration)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                id
            }
            None => {
                sqlx::query_scalar(
                    "INSERT INTO profiles (name, description, duration, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                )
                .bind(name)
                .bind(description)
                .bind(duration)
                .bind(now)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        sqlx::query("DELETE FROM profile_servers WHERE profile_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for (server_id, libraries, permissions) in servers {
            sqlx::query("INSERT INTO profile_servers (profile_id, server_id, libraries, permissions) VALUES (?, ?, ?, ?)")
                .bind(id)
                .bind(server_id)
                .bind(Json(libraries))
                .bind(Json(permissions))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Deletes a profile, first moving its invites and grants to `reassign_to` (or to none).
    pub async fn delete_profile(
        &self,
        id: ProfileId,
        reassign_to: Option<ProfileId>,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE invites SET profile_id = ? WHERE profile_id = ?")
            .bind(reassign_to)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE grants SET profile_id = ? WHERE profile_id = ?")
            .bind(reassign_to)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM profiles WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Live grants made from a profile: (member id, grant id, server id).
    pub async fn profile_grants(
        &self,
        id: ProfileId,
    ) -> Result<Vec<(MemberId, GrantId, ServerId)>> {
        Ok(sqlx::query_as(
            "SELECT member_id, id, server_id FROM grants
             WHERE profile_id = ? AND status IN ('pending', 'active', 'disabled') ORDER BY member_id, id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn set_invite_profile(
        &self,
        invite_id: InviteId,
        profile_id: Option<ProfileId>,
        batch: Option<&str>,
    ) -> Result<()> {
        sqlx::query("UPDATE invites SET profile_id = ?, batch = ? WHERE id = ?")
            .bind(profile_id)
            .bind(batch)
            .bind(invite_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Invites of one bulk batch, oldest first: (code, id).
    pub async fn batch_invites(&self, batch: &str) -> Result<Vec<(String, InviteId)>> {
        Ok(
            sqlx::query_as("SELECT code, id FROM invites WHERE batch = ? ORDER BY id")
                .bind(batch)
                .fetch_all(self.pool())
                .await?,
        )
    }
}
