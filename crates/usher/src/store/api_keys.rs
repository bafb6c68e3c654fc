use crate::domain::ids::*;
use sqlx::FromRow;

use super::{Result, Store};
use crate::clock::Timestamp;

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct ApiKeyRow {
    pub id: ApiKeyId,
    pub name: String,
    /// The first characters of the key, to recognise it in lists.
    pub prefix: String,
    #[serde(skip)]
    pub key_hash: String,
    pub created_by: String,
    pub scope: crate::domain::ApiScope,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl Store {
    pub async fn insert_api_key(
        &self,
        name: &str,
        prefix: &str,
        hash: &str,
        scope: crate::domain::ApiScope,
        by: &str,
        now: Timestamp,
    ) -> Result<ApiKeyId> {
        Ok(sqlx::query_scalar(
            "INSERT INTO api_keys (name, prefix, key_hash, scope, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(name)
        .bind(prefix)
        .bind(hash)
        .bind(scope)
        .bind(by)
        .bind(now)
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn api_keys(&self) -> Result<Vec<ApiKeyRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM api_keys ORDER BY revoked_at IS NOT NULL, created_at DESC, id DESC",
        )
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn api_key(&self, id: ApiKeyId) -> Result<Option<ApiKeyRow>> {
        Ok(sqlx::query_as("SELECT * FROM api_keys WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }

    /// The live key with this hash.
    pub async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL")
                .bind(hash)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Records use, at most once a minute per key so reads stay cheap.
    pub async fn touch_api_key(&self, id: ApiKeyId, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)")
            .bind(now)
            .bind(id)
            .bind(now - 60)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn revoke_api_key(&self, id: ApiKeyId, now: Timestamp) -> Result<bool> {
        Ok(
            sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(self.pool())
                .await?
                .rows_affected()
                == 1,
        )
    }
}
