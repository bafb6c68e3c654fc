//! Admins' passkeys and the WebAuthn ceremonies under way. The credentials and ceremony states
//! are JSON written by the auth feature; this module only keeps them.

use sqlx::FromRow;

use super::{Result, Store};
use crate::clock::Timestamp;
use crate::domain::ids::*;

/// One passkey as the account page lists it; `passkey` is the credential itself.
#[derive(Debug, Clone, FromRow)]
pub struct PasskeyRow {
    pub id: PasskeyId,
    pub admin_id: AdminId,
    pub name: String,
    pub credential_id: String,
    pub passkey: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

#[derive(FromRow)]
struct WithHandle {
    #[sqlx(flatten)]
    passkey: PasskeyRow,
    webauthn_handle: Option<String>,
}

/// What a ceremony is for, so one begun for registration cannot finish a sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(rename_all = "snake_case")]
pub enum Ceremony {
    Register,
    SignIn,
    SecondStep,
}

/// How many ceremonies may wait at once, across every browser: a flood of sign-in attempts
/// from many addresses fills this, not the disk.
pub const MAX_CEREMONIES: i64 = 1_000;

/// A ceremony taken back by its token.
#[derive(Debug, Clone, FromRow)]
pub struct CeremonyRow {
    pub admin_id: Option<AdminId>,
    pub state: String,
}

impl Store {
    /// The admin's WebAuthn handle, `fresh` made theirs if they had none yet.
    pub async fn webauthn_handle(&self, admin_id: AdminId, fresh: &str) -> Result<String> {
        Ok(sqlx::query_scalar(
            "UPDATE admins SET webauthn_handle = COALESCE(webauthn_handle, ?) WHERE id = ?
             RETURNING webauthn_handle",
        )
        .bind(fresh)
        .bind(admin_id)
        .fetch_one(self.pool())
        .await?)
    }

    /// Whether any admin has a passkey (the sign-in page offers them only then).
    pub async fn any_passkeys(&self) -> Result<bool> {
        Ok(
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM admin_passkeys)")
                .fetch_one(self.pool())
                .await?,
        )
    }

    pub async fn passkeys(&self, admin_id: AdminId) -> Result<Vec<PasskeyRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM admin_passkeys WHERE admin_id = ? ORDER BY created_at, id",
        )
        .bind(admin_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// The passkey an authenticator answered with, with its admin's handle.
    pub async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<(PasskeyRow, Option<String>)>> {
        let row: Option<WithHandle> = sqlx::query_as(
            "SELECT p.*, a.webauthn_handle FROM admin_passkeys p
             JOIN admins a ON a.id = p.admin_id WHERE p.credential_id = ?",
        )
        .bind(credential_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| (r.passkey, r.webauthn_handle)))
    }

    /// Adds a passkey. When it is the account's first second step (no authenticator codes and
    /// no other passkey), the recovery codes are replaced by `recovery_hashes` in the same
    /// transaction; returns whether they were. `None` when the credential is registered already.
    pub async fn insert_passkey(
        &self,
        admin_id: AdminId,
        name: &str,
        credential_id: &str,
        passkey: &str,
        recovery_hashes: &[String],
        now: Timestamp,
    ) -> Result<Option<bool>> {
        let mut tx = self.pool().begin().await?;
        let first: bool = sqlx::query_scalar(
            "SELECT NOT EXISTS (SELECT 1 FROM admin_passkeys WHERE admin_id = ?1)
                AND (SELECT totp_enabled_at IS NULL FROM admins WHERE id = ?1)",
        )
        .bind(admin_id)
        .fetch_one(&mut *tx)
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO admin_passkeys (admin_id, name, credential_id, passkey, created_at)
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (credential_id) DO NOTHING",
        )
        .bind(admin_id)
        .bind(name)
        .bind(credential_id)
        .bind(passkey)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            return Ok(None);
        }
        if first {
            super::admins::replace_recovery_codes(&mut tx, admin_id, recovery_hashes).await?;
        }
        tx.commit().await?;
        Ok(Some(first))
    }

    /// Keeps what a sign-in changed in the credential (its counter, its backup state).
    pub async fn passkey_used(
        &self,
        id: PasskeyId,
        passkey: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE admin_passkeys SET last_used_at = ?, passkey = COALESCE(?, passkey) WHERE id = ?",
        )
        .bind(now)
        .bind(passkey)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Renames one of the admin's passkeys; false when it is not theirs.
    pub async fn rename_passkey(
        &self,
        admin_id: AdminId,
        id: PasskeyId,
        name: &str,
    ) -> Result<bool> {
        Ok(
            sqlx::query("UPDATE admin_passkeys SET name = ? WHERE id = ? AND admin_id = ?")
                .bind(name)
                .bind(id)
                .bind(admin_id)
                .execute(self.pool())
                .await?
                .rows_affected()
                == 1,
        )
    }

    /// Removes one of the admin's passkeys and returns its name; when no second step is left
    /// (no other passkey, no authenticator codes), the recovery codes go with it.
    pub async fn delete_passkey(&self, admin_id: AdminId, id: PasskeyId) -> Result<Option<String>> {
        let mut tx = self.pool().begin().await?;
        let name: Option<String> = sqlx::query_scalar(
            "DELETE FROM admin_passkeys WHERE id = ? AND admin_id = ? RETURNING name",
        )
        .bind(id)
        .bind(admin_id)
        .fetch_optional(&mut *tx)
        .await?;
        if name.is_some() {
            super::admins::forget_recovery_codes_without_second_step(&mut tx, admin_id).await?;
        }
        tx.commit().await?;
        Ok(name)
    }

    /// Keeps a ceremony's state until its answer comes, unless [`MAX_CEREMONIES`] are waiting
    /// (false then). Expired ones are dropped first.
    pub async fn insert_ceremony(
        &self,
        token_hash: &str,
        admin_id: Option<AdminId>,
        purpose: Ceremony,
        state: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool> {
        self.delete_expired_ceremonies(now).await?;
        Ok(sqlx::query(
            "INSERT INTO webauthn_ceremonies (token_hash, admin_id, purpose, state, expires_at)
             SELECT ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM webauthn_ceremonies) < ?",
        )
        .bind(token_hash)
        .bind(admin_id)
        .bind(purpose)
        .bind(state)
        .bind(expires_at)
        .bind(MAX_CEREMONIES)
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1)
    }

    /// Takes a ceremony back, once: the row is deleted as it is read, so an answer cannot be
    /// replayed against the same challenge.
    pub async fn take_ceremony(
        &self,
        token_hash: &str,
        purpose: Ceremony,
        now: Timestamp,
    ) -> Result<Option<CeremonyRow>> {
        Ok(sqlx::query_as(
            "DELETE FROM webauthn_ceremonies WHERE token_hash = ? AND purpose = ? AND expires_at > ?
             RETURNING admin_id, state",
        )
        .bind(token_hash)
        .bind(purpose)
        .bind(now)
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn delete_expired_ceremonies(&self, now: Timestamp) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at <= ?")
                .bind(now)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }
}
