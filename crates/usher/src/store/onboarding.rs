use crate::domain::ids::*;
use sqlx::FromRow;

use super::{Result, Store};
use crate::clock::Timestamp;

#[derive(Debug, Clone, FromRow, serde::Serialize, serde::Deserialize)]
pub struct StepRow {
    pub id: StepId,
    pub kind: crate::domain::OnboardingKind,
    pub position: i64,
    pub title: String,
    pub body: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The language the owner wrote it in; empty for steps from before languages were kept
    /// apart, which stand in for every language without its own.
    #[serde(default)]
    pub lang: String,
}

impl Store {
    pub async fn onboarding_steps(
        &self,
        kind: crate::domain::OnboardingKind,
    ) -> Result<Vec<StepRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM onboarding_steps WHERE kind = ? ORDER BY position, id")
                .bind(kind)
                .fetch_all(self.pool())
                .await?,
        )
    }

    pub async fn onboarding_step(&self, id: StepId) -> Result<Option<StepRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM onboarding_steps WHERE id = ?")
                .bind(id)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Replaces every step of a kind in one language at once (first edit copies the defaults
    /// in); the other languages' steps stay as they are.
    pub async fn replace_onboarding_steps(
        &self,
        kind: crate::domain::OnboardingKind,
        lang: &str,
        steps: &[(String, String)],
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM onboarding_steps WHERE kind = ? AND lang = ?")
            .bind(kind)
            .bind(lang)
            .execute(&mut *tx)
            .await?;
        for (i, (title, body)) in steps.iter().enumerate() {
            sqlx::query(
                "INSERT INTO onboarding_steps (kind, lang, position, title, body, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(kind)
            .bind(lang)
            .bind(i as i64)
            .bind(title)
            .bind(body)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
