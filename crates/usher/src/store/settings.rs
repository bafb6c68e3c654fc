use super::{Result, Store};
use crate::clock::Timestamp;
use crate::domain::settings::Settings;

/// The settings row holding the owner's [`Settings`] as one JSON document.
pub(crate) const SETTINGS_KEY: &str = "app_settings";

/// The settings in a stored document (the defaults when there is none, or when it is unreadable:
/// the owner can save them again, while refusing every page would lock them out).
pub(crate) fn decode_settings(json: Option<&str>) -> Settings {
    match json {
        Some(json) => serde_json::from_str(json).unwrap_or_else(|e| {
            tracing::error!(error = %e, "stored settings are unreadable; using defaults");
            Settings::default()
        }),
        None => Settings::default(),
    }
}

impl Store {
    /// The owner's settings (the defaults before any were saved).
    pub async fn settings(&self) -> Result<Settings> {
        Ok(decode_settings(
            self.setting(SETTINGS_KEY).await?.as_deref(),
        ))
    }

    pub async fn save_settings(&self, settings: &Settings, now: Timestamp) -> Result<()> {
        let json = serde_json::to_string(settings).expect("settings always serialise");
        self.set_setting(SETTINGS_KEY, &json, now).await
    }

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

    /// Stores a logo and the settings that point at it, in one transaction; the logo it
    /// replaces goes.
    pub async fn save_brand_logo(
        &self,
        settings: &Settings,
        logo: Option<(&str, &[u8])>,
        now: Timestamp,
    ) -> Result<()> {
        let json = serde_json::to_string(settings).expect("settings always serialise");
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM brand_logo")
            .execute(&mut *tx)
            .await?;
        if let Some((fingerprint, bytes)) = logo {
            sqlx::query("INSERT INTO brand_logo (fingerprint, bytes, updated_at) VALUES (?, ?, ?)")
                .bind(fingerprint)
                .bind(bytes)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(SETTINGS_KEY)
        .bind(&json)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The logo with this fingerprint, if it is the stored one.
    pub async fn brand_logo(&self, fingerprint: &str) -> Result<Option<Vec<u8>>> {
        Ok(
            sqlx::query_scalar("SELECT bytes FROM brand_logo WHERE fingerprint = ?")
                .bind(fingerprint)
                .fetch_optional(self.pool())
                .await?,
        )
    }
}
