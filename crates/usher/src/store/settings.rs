use super::{Result, Store};
use crate::clock::Timestamp;

impl Store {
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
                .bind(key)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    pub async fn set_setting(&self, key: &str, value: &str, now: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Sets a value only if none exists, and returns whichever value is stored afterwards.
    /// Two processes starting at once agree on one value.
    pub async fn setting_or_insert(
        &self,
        key: &str,
        value: &str,
        now: Timestamp,
    ) -> Result<String> {
        sqlx::query("INSERT OR IGNORE INTO settings (key, value, updated_at) VALUES (?, ?, ?)")
            .bind(key)
            .bind(value)
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(self
            .setting(key)
            .await?
            .unwrap_or_else(|| value.to_string()))
    }

    pub async fn delete_setting(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM settings WHERE key = ?")
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
