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
    pub totp_secret_sealed: Option<String>,
    pub totp_enabled_at: Option<Timestamp>,
    pub totp_last_step: Option<i64>,
    pub webauthn_handle: Option<String>,
    /// How many passkeys the admin has (counted by the `admins!` queries).
    pub passkeys: i64,
}

impl AdminRow {
    /// Whether signing in takes a second step after the password: an authenticator code or a
    /// passkey.
    pub fn has_second_step(&self) -> bool {
        self.totp_enabled_at.is_some() || self.passkeys > 0
    }

    /// Whether authenticator codes are switched on.
    pub fn totp_on(&self) -> bool {
        self.totp_enabled_at.is_some()
    }
}

/// A query reading whole admins, with how many passkeys each has, and then `$rest`.
macro_rules! admins {
    ($rest:literal) => {
        concat!(
            "SELECT admins.*,
                (SELECT COUNT(*) FROM admin_passkeys p WHERE p.admin_id = admins.id) AS passkeys
             FROM admins ",
            $rest
        )
    };
}

/// Replaces an admin's recovery codes, inside a transaction that switches a second step on.
pub(super) async fn replace_recovery_codes(
    tx: &mut sqlx::SqliteConnection,
    admin_id: AdminId,
    hashes: &[String],
) -> Result<()> {
    sqlx::query("DELETE FROM admin_recovery_codes WHERE admin_id = ?")
        .bind(admin_id)
        .execute(&mut *tx)
        .await?;
    for hash in hashes {
        sqlx::query("INSERT INTO admin_recovery_codes (admin_id, code_hash) VALUES (?, ?)")
            .bind(admin_id)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// Switches authenticator codes off and forgets their secret, inside a transaction; the
/// recovery codes go too unless a passkey still needs them.
async fn totp_off(tx: &mut sqlx::SqliteConnection, id: AdminId) -> Result<()> {
    sqlx::query(
        "UPDATE admins SET totp_secret_sealed = NULL, totp_enabled_at = NULL, totp_last_step = NULL
         WHERE id = ?",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    forget_recovery_codes_without_second_step(tx, id).await
}

/// Drops an admin's recovery codes once nothing is left for them to stand in for (no
/// authenticator codes, no passkey), inside the transaction that switched the last one off.
pub(super) async fn forget_recovery_codes_without_second_step(
    tx: &mut sqlx::SqliteConnection,
    admin_id: AdminId,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM admin_recovery_codes WHERE admin_id = ?1
           AND NOT EXISTS (SELECT 1 FROM admin_passkeys WHERE admin_id = ?1)
           AND (SELECT totp_enabled_at IS NULL FROM admins WHERE id = ?1)",
    )
    .bind(admin_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
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
        Ok(sqlx::query_as(admins!("WHERE username = ?"))
            .bind(username)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Sets a new password and ends every session of that admin but `keep` (the hash of the
    /// session that changed it, when the admin did so themselves).
    pub async fn set_admin_password(
        &self,
        id: AdminId,
        hash: &str,
        keep: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE admins SET password_hash = ? WHERE id = ?")
            .bind(hash)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE admin_id = ? AND id_hash IS NOT ?")
            .bind(id)
            .bind(keep)
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
            sqlx::query_as(admins!("ORDER BY role = 'owner' DESC, username"))
                .fetch_all(self.pool())
                .await?,
        )
    }

    pub async fn admin(&self, id: AdminId) -> Result<Option<AdminRow>> {
        Ok(sqlx::query_as(admins!("WHERE id = ?"))
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

/// A link that brings in another admin, as the owner's page lists it.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct AdminInviteRow {
    pub id: AdminInviteId,
    pub role: Role,
    pub created_by: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub used_by: Option<String>,
}

/// Why an admin invite could not be taken up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteRefused {
    /// Used, revoked, expired or never made: the same answer for all, so a link says nothing.
    Gone,
    /// The name is someone else's already.
    NameTaken,
}

impl Store {
    pub async fn insert_admin_invite(
        &self,
        token_hash: &str,
        role: Role,
        created_by: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<AdminInviteId> {
        Ok(sqlx::query_scalar(
            "INSERT INTO admin_invites (token_hash, role, created_by, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(token_hash)
        .bind(role)
        .bind(created_by)
        .bind(now)
        .bind(expires_at)
        .fetch_one(self.pool())
        .await?)
    }

    /// Links not yet used nor expired, and the ones used or expired in the last week.
    pub async fn admin_invites(&self, now: Timestamp) -> Result<Vec<AdminInviteRow>> {
        Ok(sqlx::query_as(
            "SELECT id, role, created_by, created_at, expires_at, used_at, used_by
             FROM admin_invites WHERE MAX(expires_at, COALESCE(used_at, 0)) > ? - 7 * 86400
             ORDER BY created_at DESC",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await?)
    }

    /// The role an unused, unexpired link gives.
    pub async fn open_admin_invite(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Role>> {
        Ok(sqlx::query_scalar(
            "SELECT role FROM admin_invites
             WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Ends a link before it is used (it expires at once); false when it was used or gone.
    pub async fn revoke_admin_invite(&self, id: AdminInviteId, now: Timestamp) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE admin_invites SET expires_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?",
        )
        .bind(now)
        .bind(id)
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1)
    }

    /// Takes up a link: marks it used and makes the admin with its role, in one transaction, so
    /// two people racing for one link make one account.
    pub async fn redeem_admin_invite(
        &self,
        token_hash: &str,
        username: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<std::result::Result<(AdminId, Role), InviteRefused>> {
        let mut tx = self.pool().begin().await?;
        let role: Option<Role> = sqlx::query_scalar(
            "UPDATE admin_invites SET used_at = ?1, used_by = ?2
             WHERE token_hash = ?3 AND used_at IS NULL AND expires_at > ?1 RETURNING role",
        )
        .bind(now)
        .bind(username)
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(role) = role else {
            return Ok(Err(InviteRefused::Gone));
        };
        let id = sqlx::query_scalar(
            "INSERT INTO admins (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)
             RETURNING id",
        )
        .bind(username)
        .bind(password_hash)
        .bind(role)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        match id {
            Ok(id) => {
                tx.commit().await?;
                Ok(Ok((id, role)))
            }
            Err(e) if super::is_unique_violation(&e) => Ok(Err(InviteRefused::NameTaken)),
            Err(e) => Err(e.into()),
        }
    }

    /// Records a browser an admin signed in from; true when it had not been seen before.
    pub async fn remember_device(
        &self,
        admin_id: AdminId,
        device_hash: &str,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(sqlx::query(
            "INSERT INTO admin_devices (admin_id, device_hash, first_seen_at) VALUES (?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(admin_id)
        .bind(device_hash)
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1)
    }

    /// Links a Telegram account to an admin (`None` unlinks). Fails with a unique violation when
    /// another admin has it.
    pub async fn set_admin_telegram(
        &self,
        id: AdminId,
        telegram_id: Option<i64>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE admins SET telegram_id = ? WHERE id = ?")
            .bind(telegram_id)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The admin a Telegram account is linked to.
    pub async fn admin_by_telegram(&self, telegram_id: i64) -> Result<Option<AdminRow>> {
        Ok(sqlx::query_as(admins!("WHERE telegram_id = ?"))
            .bind(telegram_id)
            .fetch_optional(self.pool())
            .await?)
    }
}

/// A sign-in waiting for its second step.
#[derive(Debug, Clone, FromRow)]
pub struct SignInStep {
    pub admin_id: AdminId,
    pub next: String,
    pub expires_at: Timestamp,
}

impl Store {
    /// Keeps a secret being enrolled (sealed), not yet switched on; replaces any earlier one.
    pub async fn set_pending_totp(&self, id: AdminId, sealed: &str) -> Result<()> {
        sqlx::query(
            "UPDATE admins SET totp_secret_sealed = ?, totp_enabled_at = NULL, totp_last_step = NULL
             WHERE id = ?",
        )
        .bind(sealed)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Switches authenticator codes on and replaces the recovery codes, in one transaction.
    pub async fn enable_totp(
        &self,
        id: AdminId,
        step: i64,
        recovery_hashes: &[String],
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE admins SET totp_enabled_at = ?, totp_last_step = ? WHERE id = ?")
            .bind(now)
            .bind(step)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        replace_recovery_codes(&mut tx, id, recovery_hashes).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Switches authenticator codes off and forgets the secret; the recovery codes go too
    /// unless a passkey still needs them.
    pub async fn clear_totp(&self, id: AdminId) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        totp_off(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes every second step away (authenticator codes, passkeys, recovery codes): the
    /// operator's way back in for an admin who lost them all. Returns how many passkeys went.
    pub async fn clear_second_steps(&self, id: AdminId) -> Result<u64> {
        let mut tx = self.pool().begin().await?;
        let passkeys = sqlx::query("DELETE FROM admin_passkeys WHERE admin_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        totp_off(&mut tx, id).await?;
        tx.commit().await?;
        Ok(passkeys)
    }

    /// Records the step of a code just used, unless a later one was recorded meanwhile: false
    /// then, so two sign-ins racing with one code cannot both pass.
    pub async fn use_totp_step(&self, id: AdminId, step: i64) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE admins SET totp_last_step = ?1
             WHERE id = ?2 AND (totp_last_step IS NULL OR totp_last_step < ?1)",
        )
        .bind(step)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1)
    }

    /// Uses a recovery code: true when it was one of the admin's and unused (now it is used).
    pub async fn use_recovery_code(&self, id: AdminId, hash: &str, now: Timestamp) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE admin_recovery_codes SET used_at = ?
             WHERE admin_id = ? AND code_hash = ? AND used_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(hash)
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1)
    }

    pub async fn unused_recovery_codes(&self, id: AdminId) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM admin_recovery_codes WHERE admin_id = ? AND used_at IS NULL",
        )
        .bind(id)
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn insert_sign_in_step(
        &self,
        token_hash: &str,
        admin_id: AdminId,
        next: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sign_in_steps (token_hash, admin_id, next, expires_at) VALUES (?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(admin_id)
        .bind(next)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn sign_in_step(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SignInStep>> {
        Ok(sqlx::query_as(
            "SELECT admin_id, next, expires_at FROM sign_in_steps WHERE token_hash = ? AND expires_at > ?",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Ends a waiting sign-in (done, or abandoned), and every expired one with it.
    pub async fn delete_sign_in_step(&self, token_hash: &str, now: Timestamp) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_steps WHERE token_hash = ? OR expires_at <= ?")
            .bind(token_hash)
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
