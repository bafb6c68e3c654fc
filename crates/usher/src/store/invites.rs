//! Invites, members, grants and provisioning jobs.

use crate::domain::ids::*;
use sqlx::FromRow;
use sqlx::types::Json;

use super::onboarding::StepRow;
use super::{Result, Store};
use crate::clock::Timestamp;

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct InviteRow {
    pub id: InviteId,
    pub code: String,
    pub label: Option<String>,
    pub max_uses: Option<i64>,
    pub used: i64,
    pub expires_at: Option<Timestamp>,
    pub access_seconds: Option<i64>,
    #[serde(skip)]
    pub passphrase_hash: Option<String>,
    pub disabled: bool,
    pub created_by: String,
    pub created_at: Timestamp,
    /// The owner chose the code (guessable), rather than usher generating it.
    #[serde(skip)]
    pub custom_code: bool,
    /// The profile members made from it keep.
    pub profile_id: Option<ProfileId>,
}

impl InviteRow {
    pub fn facts(&self) -> crate::domain::rules::InviteFacts {
        crate::domain::rules::InviteFacts {
            used: self.used,
            max_uses: self.max_uses,
            expires_at: self.expires_at,
            disabled: self.disabled,
        }
    }
}

/// One server an invite grants access to.
#[derive(Debug, Clone, FromRow, serde::Serialize, serde::Deserialize)]
pub struct InviteTargetRow {
    pub server_id: ServerId,
    pub server_name: String,
    #[sqlx(try_from = "String")]
    pub server_kind: media::ServerKind,
    /// Sharing ids.
    #[sqlx(json)]
    #[serde(deserialize_with = "json_column")]
    pub libraries: Vec<String>,
    #[sqlx(json)]
    #[serde(deserialize_with = "json_column")]
    pub permissions: media::Permissions,
    /// Sharing id → library name, for the server's libraries as last scanned.
    #[sqlx(json)]
    #[serde(deserialize_with = "json_column")]
    pub library_names: std::collections::BTreeMap<String, String>,
}

/// A JSON column read back from a JSON document: SQLite may hand it over as text holding the
/// JSON or as the value itself; an absent one is the type's default.
fn json_column<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned + Default,
{
    use serde::de::Error;
    match <serde_json::Value as serde::Deserialize>::deserialize(d)? {
        serde_json::Value::String(s) => serde_json::from_str(&s).map_err(D::Error::custom),
        serde_json::Value::Null => Ok(T::default()),
        other => serde_json::from_value(other).map_err(D::Error::custom),
    }
}

/// An invite as its public page and redemptions read it.
#[derive(Debug, Clone)]
pub struct InviteWithTargets {
    pub invite: InviteRow,
    pub targets: Vec<InviteTargetRow>,
    /// The owner's settings.
    pub settings: crate::domain::settings::Settings,
    /// The steps a person agrees to before joining, in order.
    pub rules: Vec<StepRow>,
}

/// The columns of [`InviteTargetRow`] for `invite_servers t JOIN servers s`.
const TARGET_COLUMNS: &str = "t.server_id, s.name AS server_name, s.kind AS server_kind,
    t.libraries, t.permissions,
    COALESCE((SELECT json_group_object(l.remote_id, l.name) FROM libraries l
              WHERE l.server_id = t.server_id), '{}') AS library_names";

pub struct NewInvite<'a> {
    pub code: &'a str,
    pub label: Option<&'a str>,
    pub max_uses: Option<i64>,
    pub expires_at: Option<Timestamp>,
    pub access_seconds: Option<i64>,
    pub passphrase_hash: Option<&'a str>,
    pub created_by: &'a str,
    pub custom_code: bool,
    /// The profile members made from it keep.
    pub profile_id: Option<ProfileId>,
    /// The bulk batch it belongs to.
    pub batch: Option<&'a str>,
}

pub struct NewTarget {
    pub server_id: ServerId,
    pub libraries: Vec<String>,
    pub permissions: media::Permissions,
}

/// Which invites a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteFilter {
    All,
    Active,
    Redeemed,
    Expired,
    UsedUp,
    Disabled,
}

impl InviteFilter {
    pub const ALL: [InviteFilter; 6] = [
        InviteFilter::All,
        InviteFilter::Active,
        InviteFilter::Redeemed,
        InviteFilter::Expired,
        InviteFilter::UsedUp,
        InviteFilter::Disabled,
    ];

    /// How links and the API name the filter.
    pub fn as_str(self) -> &'static str {
        match self {
            InviteFilter::All => "all",
            InviteFilter::Active => "active",
            InviteFilter::Redeemed => "redeemed",
            InviteFilter::Expired => "expired",
            InviteFilter::UsedUp => "used_up",
            InviteFilter::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<InviteFilter> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    fn sql(self) -> &'static str {
        match self {
            InviteFilter::All => "1",
            InviteFilter::Active => {
                "(i.disabled = 0 AND (i.expires_at IS NULL OR i.expires_at > ?1)
                  AND (i.max_uses IS NULL OR i.used < i.max_uses))"
            }
            InviteFilter::Redeemed => "(i.used > 0)",
            InviteFilter::Expired => "(i.expires_at IS NOT NULL AND i.expires_at <= ?1)",
            InviteFilter::UsedUp => "(i.max_uses IS NOT NULL AND i.used >= i.max_uses)",
            InviteFilter::Disabled => "(i.disabled = 1)",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, FromRow, serde::Serialize)]
pub struct InviteCounts {
    pub all: i64,
    pub active: i64,
    pub redeemed: i64,
    pub expired: i64,
    pub used_up: i64,
    pub disabled: i64,
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct MemberRow {
    pub id: MemberId,
    pub display_name: String,
    pub email: Option<String>,
    pub plex_account: Option<String>,
    pub username: Option<String>,
    pub identity_key: String,
    pub origin: crate::domain::MemberOrigin,
    pub invite_id: Option<InviteId>,
    pub invite_code: Option<String>,
    pub notes: Option<String>,
    pub created_at: Timestamp,
    /// The language of the page they joined through; what usher writes to them uses it.
    pub lang: String,
}

pub struct NewMember<'a> {
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub plex_account: Option<&'a str>,
    pub username: Option<&'a str>,
    pub identity_key: &'a str,
    pub origin: crate::domain::MemberOrigin,
    pub invite_id: Option<InviteId>,
    pub invite_code: Option<&'a str>,
    pub lang: &'a str,
}

pub struct NewGrant {
    pub server_id: ServerId,
    pub identity: String,
    pub libraries: Vec<String>,
    pub permissions: media::Permissions,
    pub expires_at: Option<Timestamp>,
    /// Sealed secrets the provisioning job needs.
    pub payload: Option<String>,
    /// The profile the grant was made from.
    pub profile_id: Option<ProfileId>,
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct GrantRow {
    pub id: GrantId,
    pub member_id: MemberId,
    pub server_id: ServerId,
    pub server_name: String,
    #[sqlx(try_from = "String")]
    pub server_kind: media::ServerKind,
    pub status: crate::domain::GrantStatus,
    pub identity: String,
    pub libraries: String,
    pub permissions: String,
    pub remote_id: Option<String>,
    pub remote_user_id: Option<String>,
    pub expires_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl GrantRow {
    /// The sharing ids of the grant's libraries.
    pub fn library_ids(&self) -> Result<Vec<String>> {
        super::decode_json(
            "libraries",
            || format!("grant {}", self.id),
            &self.libraries,
        )
    }

    pub fn permission_set(&self) -> Result<media::Permissions> {
        super::decode_json(
            "permissions",
            || format!("grant {}", self.id),
            &self.permissions,
        )
    }

    /// Everything the grant gives.
    pub fn terms(&self) -> Result<crate::domain::access::Terms> {
        Ok(crate::domain::access::Terms {
            libraries: self.library_ids()?,
            permissions: self.permission_set()?,
            expires_at: self.expires_at,
        })
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct JobRow {
    pub id: JobId,
    pub kind: crate::domain::JobKind,
    pub grant_id: GrantId,
    pub payload: Option<String>,
    pub state: crate::domain::JobState,
    pub attempts: i64,
    pub run_at: Timestamp,
    pub last_error: Option<String>,
    /// The account name this job found free and set out to create (see migration 11).
    pub creating: Option<String>,
}

/// What a successful reservation created.
#[derive(Debug, Clone)]
pub struct Reservation {
    pub member_id: MemberId,
    pub job_ids: Vec<JobId>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    /// Used up, expired or disabled at the moment of reservation.
    #[error("the invite can no longer be redeemed")]
    NotAvailable,
    /// This person already redeemed this invite.
    #[error("already redeemed by this person")]
    Duplicate,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

const GRANT_SELECT: &str =
    "SELECT g.id, g.member_id, g.server_id, s.name AS server_name, s.kind AS server_kind,
        g.status, g.identity, g.libraries, g.permissions, g.remote_id, g.remote_user_id,
        g.expires_at, g.last_error, g.created_at, g.updated_at
 FROM grants g JOIN servers s ON s.id = g.server_id";

impl Store {
    /// Records an invite with its servers and the event saying so, in one transaction.
    pub async fn insert_invite(
        &self,
        invite: NewInvite<'_>,
        targets: &[NewTarget],
        event: super::events::NewEvent<'_>,
        now: Timestamp,
    ) -> Result<InviteRow, sqlx::Error> {
        let mut tx = self.pool().begin().await?;
        let row: InviteRow = sqlx::query_as(
            "INSERT INTO invites (code, label, max_uses, expires_at, access_seconds, passphrase_hash,
                                  created_by, created_at, custom_code, profile_id, batch)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(invite.code)
        .bind(invite.label)
        .bind(invite.max_uses)
        .bind(invite.expires_at)
        .bind(invite.access_seconds)
        .bind(invite.passphrase_hash)
        .bind(invite.created_by)
        .bind(now)
        .bind(invite.custom_code)
        .bind(invite.profile_id)
        .bind(invite.batch)
        .fetch_one(&mut *tx)
        .await?;
        let id = row.id;
        for t in targets {
            sqlx::query("INSERT INTO invite_servers (invite_id, server_id, libraries, permissions) VALUES (?, ?, ?, ?)")
                .bind(id)
                .bind(t.server_id)
                .bind(Json(&t.libraries))
                .bind(Json(&t.permissions))
                .execute(&mut *tx)
                .await?;
        }
        super::events::insert_event(&mut tx, &event, None, None, now).await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn invite_by_code(&self, code: &str) -> Result<Option<InviteRow>> {
        Ok(sqlx::query_as("SELECT * FROM invites WHERE code = ?")
            .bind(code)
            .fetch_optional(self.pool())
            .await?)
    }

    pub async fn invite_by_id(&self, id: InviteId) -> Result<Option<InviteRow>> {
        Ok(sqlx::query_as("SELECT * FROM invites WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }

    /// The names of the servers each of `invites` grants, in one statement for a whole list.
    pub async fn invite_server_names(
        &self,
        invites: &[InviteId],
    ) -> Result<Vec<(InviteId, String)>> {
        let ids = serde_json::to_string(invites).expect("ids serialise");
        Ok(sqlx::query_as(
            "SELECT t.invite_id, s.name FROM invite_servers t JOIN servers s ON s.id = t.server_id
             WHERE t.invite_id IN (SELECT value FROM json_each(?)) ORDER BY s.name",
        )
        .bind(ids)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn invite_targets(&self, invite_id: InviteId) -> Result<Vec<InviteTargetRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {TARGET_COLUMNS}
             FROM invite_servers t JOIN servers s ON s.id = t.server_id
             WHERE t.invite_id = ? ORDER BY s.name COLLATE NOCASE"
        )))
        .bind(invite_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// An invite with its targets and what its public page shows besides (the settings
    /// document, the steps to agree to before joining), in one statement: every visit to an
    /// invite page and every redemption starts here, and each statement is a trip to the
    /// database's thread.
    pub async fn invite_with_targets(&self, code: &str) -> Result<Option<InviteWithTargets>> {
        let sql = format!(
            "SELECT i.*, (SELECT json_group_array(json_object(
                    'server_id', x.server_id, 'server_name', x.server_name,
                    'server_kind', x.server_kind, 'libraries', x.libraries,
                    'permissions', x.permissions, 'library_names', x.library_names))
                FROM (SELECT {TARGET_COLUMNS}
                      FROM invite_servers t JOIN servers s ON s.id = t.server_id
                      WHERE t.invite_id = i.id) x) AS targets,
                (SELECT value FROM settings WHERE key = ?2) AS settings,
                (SELECT json_group_array(json_object(
                    'id', o.id, 'kind', o.kind, 'position', o.position, 'title', o.title,
                    'body', o.body, 'created_at', o.created_at, 'updated_at', o.updated_at,
                    'lang', o.lang))
                FROM onboarding_steps o WHERE o.kind = 'before') AS rules
             FROM invites i WHERE i.code = ?1"
        );
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(code)
            .bind(super::settings::SETTINGS_KEY)
            .fetch_optional(self.pool())
            .await?
        else {
            return Ok(None);
        };
        let decode = |e: serde_json::Error| sqlx::Error::Decode(Box::new(e));
        let invite = InviteRow::from_row(&row)?;
        let json: String = sqlx::Row::try_get(&row, "targets")?;
        let mut targets: Vec<InviteTargetRow> = serde_json::from_str(&json).map_err(decode)?;
        // COLLATE NOCASE folds ASCII only; so does this.
        targets.sort_by_key(|t| t.server_name.to_ascii_lowercase());
        let json: String = sqlx::Row::try_get(&row, "rules")?;
        let mut rules: Vec<StepRow> = serde_json::from_str(&json).map_err(decode)?;
        rules.sort_by_key(|r| (r.position, r.id));
        Ok(Some(InviteWithTargets {
            invite,
            targets,
            settings: super::settings::decode_settings(
                sqlx::Row::try_get::<Option<String>, _>(&row, "settings")?.as_deref(),
            ),
            rules,
        }))
    }

    /// Invites matching a filter and a search (code, label, or a member's name, email or user
    /// name), newest first.
    pub async fn list_invites(
        &self,
        filter: InviteFilter,
        search: &str,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<InviteRow>> {
        let like = super::like_pattern(search);
        let sql = format!(
            "SELECT i.* FROM invites i
             WHERE {} AND (?2 = '' OR i.code LIKE ?2 ESCAPE '\\' OR i.label LIKE ?2 ESCAPE '\\' OR EXISTS (
                SELECT 1 FROM members m WHERE m.invite_id = i.id
                AND (m.display_name LIKE ?2 ESCAPE '\\' OR m.email LIKE ?2 ESCAPE '\\'
                     OR m.username LIKE ?2 ESCAPE '\\' OR m.plex_account LIKE ?2 ESCAPE '\\')))
             ORDER BY i.created_at DESC, i.id DESC LIMIT ?3",
            filter.sql()
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(like)
            .bind(limit)
            .fetch_all(self.pool())
            .await?)
    }

    pub async fn invite_counts(&self, now: Timestamp) -> Result<InviteCounts> {
        Ok(sqlx::query_as(
            "SELECT COUNT(*) AS all_,
               COALESCE(SUM(disabled = 0 AND (expires_at IS NULL OR expires_at > ?1)
                            AND (max_uses IS NULL OR used < max_uses)), 0) AS active,
               COALESCE(SUM(used > 0), 0) AS redeemed,
               COALESCE(SUM(expires_at IS NOT NULL AND expires_at <= ?1), 0) AS expired,
               COALESCE(SUM(max_uses IS NOT NULL AND used >= max_uses), 0) AS used_up,
               COALESCE(SUM(disabled = 1), 0) AS disabled
             FROM invites",
        )
        .bind(now)
        .fetch_one(self.pool())
        .await
        .map(|row: InviteCountsRow| row.into())?)
    }

    pub async fn set_invite_disabled(&self, id: InviteId, disabled: bool) -> Result<()> {
        sqlx::query("UPDATE invites SET disabled = ? WHERE id = ?")
            .bind(disabled)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Deletes an invite; its members and grants stay (they keep the code as text).
    pub async fn delete_invite(&self, id: InviteId) -> Result<()> {
        sqlx::query("DELETE FROM invites WHERE id = ?")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Reserves one use of an invite and records the member, the grants and their provisioning
    /// jobs, all in one transaction. The reservation is the first statement, so the write lock is
    /// taken before anything is read and concurrent redemptions queue on it.
    pub async fn reserve_redemption(
        &self,
        invite_id: InviteId,
        member: NewMember<'_>,
        grants: &[NewGrant],
        now: Timestamp,
    ) -> Result<Reservation, ReserveError> {
        let mut tx = self.pool().begin().await?;
        let reserved = sqlx::query(
            "UPDATE invites SET used = used + 1
             WHERE id = ? AND disabled = 0 AND (max_uses IS NULL OR used < max_uses)
               AND (expires_at IS NULL OR expires_at > ?)",
        )
        .bind(invite_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if reserved == 0 {
            return Err(ReserveError::NotAvailable);
        }
        let reservation = insert_member_and_grants(&mut tx, &member, grants, now).await?;
        tx.commit().await?;
        Ok(reservation)
    }

    /// Records a member with grants and their provisioning jobs (an approved request), in one
    /// transaction.
    pub async fn create_member(
        &self,
        member: NewMember<'_>,
        grants: &[NewGrant],
        now: Timestamp,
    ) -> Result<Reservation, ReserveError> {
        let mut tx = self.pool().begin().await?;
        let reservation = insert_member_and_grants(&mut tx, &member, grants, now).await?;
        tx.commit().await?;
        Ok(reservation)
    }

    /// Forgets a member whose setup was refused and fully undone.
    pub async fn delete_member(&self, member_id: MemberId) -> Result<()> {
        sqlx::query("DELETE FROM members WHERE id = ?")
            .bind(member_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Undoes a redemption that failed for good: forgets the member and frees the use.
    pub async fn release_redemption(&self, member_id: MemberId, invite_id: InviteId) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE invites SET used = used - 1 WHERE id = ? AND used > 0")
            .bind(invite_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM members WHERE id = ?")
            .bind(member_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn member(&self, id: MemberId) -> Result<Option<MemberRow>> {
        Ok(sqlx::query_as("SELECT * FROM members WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }

    pub async fn member_grants(&self, member_id: MemberId) -> Result<Vec<GrantRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{GRANT_SELECT} WHERE g.member_id = ? ORDER BY s.name"
        )))
        .bind(member_id)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn grant(&self, id: GrantId) -> Result<Option<GrantRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{GRANT_SELECT} WHERE g.id = ?"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Everyone who redeemed an invite, newest first.
    pub async fn invite_members(&self, invite_id: InviteId) -> Result<Vec<MemberRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM members WHERE invite_id = ? ORDER BY created_at DESC, id DESC",
        )
        .bind(invite_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Grants of several members at once (for redemption lists).
    pub async fn grants_of_invite(&self, invite_id: InviteId) -> Result<Vec<GrantRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{GRANT_SELECT} WHERE g.member_id IN (SELECT id FROM members WHERE invite_id = ?) ORDER BY s.name"
        )))
        .bind(invite_id)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn grant_count_for_server(&self, server_id: ServerId) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM grants WHERE server_id = ? AND status NOT IN ('removed', 'failed')")
            .bind(server_id)
            .fetch_one(self.pool())
            .await?)
    }

    // --- jobs ---------------------------------------------------------------------------------

    /// Takes a job for running unless another worker holds a live lease on it.
    pub async fn claim_job(&self, id: JobId, now: Timestamp, lease: i64) -> Result<Option<JobRow>> {
        Ok(sqlx::query_as(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = ?, updated_at = ?
             WHERE id = ? AND (state = 'queued' OR (state = 'running' AND locked_until < ?))
             RETURNING id, kind, grant_id, payload, state, attempts, run_at, last_error, creating",
        )
        .bind(now + lease)
        .bind(now)
        .bind(id)
        .bind(now)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Records that a job found `name` free on its server and is about to create it.
    pub async fn mark_creating(&self, job_id: JobId, name: &str) -> Result<()> {
        sqlx::query("UPDATE jobs SET creating = ? WHERE id = ?")
            .bind(name)
            .bind(job_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Extends the lease on a job that is still running.
    pub async fn renew_lease(&self, id: JobId, now: Timestamp, lease: i64) -> Result<()> {
        sqlx::query("UPDATE jobs SET locked_until = ? WHERE id = ? AND state = 'running'")
            .bind(now + lease)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Jobs due now, and running jobs whose lease ran out (their worker died).
    pub async fn due_jobs(&self, now: Timestamp, limit: i64) -> Result<Vec<JobId>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM jobs WHERE (state = 'queued' AND run_at <= ?1)
                OR (state = 'running' AND locked_until < ?1)
             ORDER BY run_at, id LIMIT ?2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// When the job worker has something to do next: a job or an acceptance check.
    pub async fn next_job_time(&self) -> Result<Option<Timestamp>> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(t) FROM (
                SELECT MIN(COALESCE(CASE WHEN state = 'running' THEN locked_until END, run_at)) AS t
                FROM jobs WHERE state IN ('queued', 'running')
                UNION ALL SELECT MIN(next_at) FROM acceptance_checks)",
        )
        .fetch_one(self.pool())
        .await?)
    }

    /// Plans the checks of a pending Plex grant: the first at `first`.
    pub async fn plan_acceptance_checks(
        &self,
        grant_id: GrantId,
        first: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO acceptance_checks (grant_id, next_at, checks, since) VALUES (?, ?, 0, ?)
             ON CONFLICT (grant_id) DO UPDATE SET next_at = excluded.next_at, checks = 0,
                                                  since = excluded.since",
        )
        .bind(grant_id)
        .bind(first)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Checks that are due: (grant id, checks so far, since when).
    pub async fn due_acceptance_checks(
        &self,
        now: Timestamp,
    ) -> Result<Vec<(GrantId, i64, Timestamp)>> {
        Ok(sqlx::query_as(
            "SELECT grant_id, checks, since FROM acceptance_checks WHERE next_at <= ?
             ORDER BY next_at LIMIT 100",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await?)
    }

    /// The next check of a grant, or none (`None`): accepted, gone, or left to the full sync.
    pub async fn next_acceptance_check(
        &self,
        grant_id: GrantId,
        at: Option<Timestamp>,
    ) -> Result<()> {
        match at {
            Some(at) => sqlx::query(
                "UPDATE acceptance_checks SET next_at = ?, checks = checks + 1 WHERE grant_id = ?",
            )
            .bind(at)
            .bind(grant_id)
            .execute(self.pool())
            .await?,
            None => {
                sqlx::query("DELETE FROM acceptance_checks WHERE grant_id = ?")
                    .bind(grant_id)
                    .execute(self.pool())
                    .await?
            }
        };
        Ok(())
    }

    /// Marks a grant provisioned and its job done, together.
    pub async fn complete_provisioning(
        &self,
        job_id: JobId,
        grant_id: GrantId,
        status: crate::domain::GrantStatus,
        remote_id: &str,
        remote_user_id: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "UPDATE grants SET status = ?, remote_id = ?, remote_user_id = ?, last_error = NULL, updated_at = ?
             WHERE id = ?",
        )
        .bind(status)
        .bind(remote_id)
        .bind(remote_user_id)
        .bind(now)
        .bind(grant_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE jobs SET state = 'done', payload = NULL, locked_until = NULL, last_error = NULL, updated_at = ? WHERE id = ?")
            .bind(now)
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Puts a job back in the queue after a transient failure.
    pub async fn retry_job(
        &self,
        job_id: JobId,
        grant_id: GrantId,
        run_at: Timestamp,
        error: &str,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE jobs SET state = 'queued', run_at = ?, locked_until = NULL, last_error = ?, updated_at = ? WHERE id = ?")
            .bind(run_at)
            .bind(error)
            .bind(now)
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE grants SET last_error = ?, updated_at = ? WHERE id = ?")
            .bind(error)
            .bind(now)
            .bind(grant_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a job for good; its grant is marked with `grant_status` and the reason.
    pub async fn fail_job(
        &self,
        job_id: JobId,
        grant_id: GrantId,
        grant_status: crate::domain::GrantStatus,
        error: &str,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE jobs SET state = 'failed', payload = NULL, locked_until = NULL, last_error = ?, updated_at = ? WHERE id = ?")
            .bind(error)
            .bind(now)
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE grants SET status = ?, last_error = ?, updated_at = ? WHERE id = ?")
            .bind(grant_status)
            .bind(error)
            .bind(now)
            .bind(grant_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues the removal of a grant's access on its server (undoing part of a failed
    /// redemption, or ending access later).
    pub async fn queue_removal(&self, grant_id: GrantId, now: Timestamp) -> Result<JobId> {
        Ok(sqlx::query_scalar(
            "INSERT INTO jobs (kind, grant_id, state, run_at, created_at, updated_at)
             VALUES ('remove', ?, 'queued', ?, ?, ?) RETURNING id",
        )
        .bind(grant_id)
        .bind(now)
        .bind(now)
        .bind(now)
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn jobs_of_grant(&self, grant_id: GrantId) -> Result<Vec<JobRow>> {
        Ok(sqlx::query_as(
            "SELECT id, kind, grant_id, payload, state, attempts, run_at, last_error, creating FROM jobs WHERE grant_id = ? ORDER BY id",
        )
        .bind(grant_id)
        .fetch_all(self.pool())
        .await?)
    }

    // --- statistics ---------------------------------------------------------------------------

    pub async fn redemptions_since(&self, since: Timestamp) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM members WHERE origin = 'invite' AND created_at >= ?",
        )
        .bind(since)
        .fetch_one(self.pool())
        .await?)
    }

    /// Redemptions per UTC day since `since`, as (day number since the epoch, count).
    pub async fn redemptions_per_day(&self, since: Timestamp) -> Result<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT created_at / 86400 AS day, COUNT(*) FROM members
             WHERE origin = 'invite' AND created_at >= ? GROUP BY day ORDER BY day",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?)
    }

    /// Members with live access per server: (server name, count).
    pub async fn members_per_server(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT s.name, COUNT(DISTINCT g.member_id) FROM servers s
             LEFT JOIN grants g ON g.server_id = s.id AND g.status IN ('provisioning', 'pending', 'active')
             GROUP BY s.id ORDER BY s.name COLLATE NOCASE",
        )
        .fetch_all(self.pool())
        .await?)
    }
}

#[derive(FromRow)]
struct InviteCountsRow {
    all_: i64,
    active: i64,
    redeemed: i64,
    expired: i64,
    used_up: i64,
    disabled: i64,
}

impl From<InviteCountsRow> for InviteCounts {
    fn from(r: InviteCountsRow) -> Self {
        InviteCounts {
            all: r.all_,
            active: r.active,
            redeemed: r.redeemed,
            expired: r.expired,
            used_up: r.used_up,
            disabled: r.disabled,
        }
    }
}

async fn insert_member_and_grants(
    tx: &mut sqlx::SqliteConnection,
    member: &NewMember<'_>,
    grants: &[NewGrant],
    now: Timestamp,
) -> Result<Reservation, ReserveError> {
    let member_id = insert_member(&mut *tx, member, now).await.map_err(|e| {
        if super::is_unique_violation(&e) {
            ReserveError::Duplicate
        } else {
            ReserveError::Db(e)
        }
    })?;
    let mut job_ids = Vec::with_capacity(grants.len());
    for g in grants {
        job_ids.push(insert_grant_and_job(&mut *tx, member_id, g, now).await?);
    }
    Ok(Reservation { member_id, job_ids })
}

pub(super) async fn insert_member(
    tx: &mut sqlx::SqliteConnection,
    m: &NewMember<'_>,
    now: Timestamp,
) -> Result<MemberId, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO members (display_name, email, plex_account, username, identity_key, origin,
                              invite_id, invite_code, created_at, lang)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(m.display_name)
    .bind(m.email)
    .bind(m.plex_account)
    .bind(m.username)
    .bind(m.identity_key)
    .bind(m.origin)
    .bind(m.invite_id)
    .bind(m.invite_code)
    .bind(now)
    .bind(m.lang)
    .fetch_one(tx)
    .await
}

async fn insert_grant_and_job(
    tx: &mut sqlx::SqliteConnection,
    member_id: MemberId,
    g: &NewGrant,
    now: Timestamp,
) -> Result<JobId, sqlx::Error> {
    let grant_id: GrantId = sqlx::query_scalar(
        "INSERT INTO grants (member_id, server_id, status, identity, libraries, permissions, expires_at,
                             profile_id, created_at, updated_at)
         VALUES (?, ?, 'provisioning', ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(member_id)
    .bind(g.server_id)
    .bind(&g.identity)
    .bind(Json(&g.libraries))
    .bind(Json(&g.permissions))
    .bind(g.expires_at)
    .bind(g.profile_id)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query_scalar(
        "INSERT INTO jobs (kind, grant_id, payload, state, run_at, created_at, updated_at)
         VALUES ('provision', ?, ?, 'queued', ?, ?, ?) RETURNING id",
    )
    .bind(grant_id)
    .bind(&g.payload)
    .bind(now)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
}

impl Store {
    /// The grant a job works on.
    pub async fn grant_of_job(&self, job_id: JobId) -> Result<GrantId> {
        Ok(sqlx::query_scalar("SELECT grant_id FROM jobs WHERE id = ?")
            .bind(job_id)
            .fetch_one(self.pool())
            .await?)
    }
}

impl Store {
    /// Stops queued provisioning of a grant (its redemption is being undone).
    pub async fn cancel_provisioning(&self, grant_id: GrantId, now: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET state = 'failed', payload = NULL, last_error = 'cancelled', updated_at = ?
             WHERE grant_id = ? AND kind = 'provision' AND state = 'queued'",
        )
        .bind(now)
        .bind(grant_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

impl Store {
    /// An earlier grant of usher's for the same account name on a server whose account was left
    /// on the server (disabled, or removed without deleting): (grant id, remote id).
    pub async fn previous_account(
        &self,
        server_id: ServerId,
        identity: &str,
        except_grant: GrantId,
    ) -> Result<Option<(GrantId, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, remote_id FROM grants
             WHERE server_id = ? AND identity = ? COLLATE NOCASE AND id != ? AND remote_id IS NOT NULL
               AND remote_id != '' AND status IN ('disabled', 'removed')
             ORDER BY id DESC LIMIT 1",
        )
        .bind(server_id)
        .bind(identity)
        .bind(except_grant)
        .fetch_optional(self.pool())
        .await?)
    }
}

impl Store {
    /// Ends an earlier grant whose account a new grant took over.
    pub async fn supersede_grant(&self, grant_id: GrantId, now: Timestamp) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        end_superseded(&mut tx, grant_id, "taken over by a new invite", now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Live grants other than `except` on `server_id` that belong to the same account: the same
    /// name in any case or, once the server has answered, the same share or server-side user.
    pub async fn same_account_grants(
        &self,
        server_id: ServerId,
        except: GrantId,
        identity: &str,
        remote_id: Option<&str>,
        remote_user_id: Option<&str>,
    ) -> Result<Vec<GrantRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{GRANT_SELECT}
             WHERE g.server_id = ? AND g.id != ? AND g.status IN ('pending', 'active', 'disabled')
               AND (g.identity = ? COLLATE NOCASE
                    OR (g.remote_id != '' AND g.remote_id = ?)
                    OR (g.remote_user_id != '' AND g.remote_user_id = ?))
             ORDER BY g.id"
        )))
        .bind(server_id)
        .bind(except)
        .bind(identity)
        .bind(remote_id)
        .bind(remote_user_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Makes `grant_id` the account's one grant on its server: it gets `terms`, and the grants
    /// in `others` end as `why` says, without a job (the server keeps the access through
    /// `grant_id`). One transaction, so the account is never without a live grant or with two.
    pub async fn take_over_access(
        &self,
        grant_id: GrantId,
        terms: &crate::domain::access::Terms,
        others: &[GrantId],
        why: &str,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "UPDATE grants SET libraries = ?, permissions = ?, expires_at = ?, updated_at = ?
             WHERE id = ?",
        )
        .bind(Json(&terms.libraries))
        .bind(Json(&terms.permissions))
        .bind(terms.expires_at)
        .bind(now)
        .bind(grant_id)
        .execute(&mut *tx)
        .await?;
        for other in others {
            end_superseded(&mut tx, *other, why, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Ends a grant whose access another grant now holds, and stops its queued work.
async fn end_superseded(
    tx: &mut sqlx::SqliteConnection,
    grant_id: GrantId,
    why: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE grants SET status = 'removed', last_error = ?, updated_at = ? WHERE id = ?",
    )
    .bind(why)
    .bind(now)
    .bind(grant_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE jobs SET state = 'failed', payload = NULL, last_error = 'cancelled', updated_at = ?
         WHERE grant_id = ? AND state = 'queued'",
    )
    .bind(now)
    .bind(grant_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
