//! Members across servers: the paged list, per-grant changes and their jobs, expiry, reminders,
//! sync with servers, member history and once-only owner notices.

use crate::domain::ids::*;
use sqlx::FromRow;
use sqlx::types::Json;

use super::events::{EventRow, NewEvent};
use super::invites::{GrantRow, MemberRow, NewMember};
use super::{Result, Store, like_pattern};
use crate::clock::Timestamp;

/// Grant statuses that still mean access on the server (or access being set up).
const LIVE: &str = "('provisioning', 'pending', 'active', 'disabled')";

/// What the members list can be narrowed to by the state of a member's grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Provisioning,
    Pending,
    Active,
    Disabled,
    Removed,
    Failed,
    /// A job for one of the grants is being retried after a failure.
    Failing,
    /// The last sync did not find the access on the server.
    Gone,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 8] = [
        StatusFilter::Active,
        StatusFilter::Pending,
        StatusFilter::Provisioning,
        StatusFilter::Disabled,
        StatusFilter::Removed,
        StatusFilter::Failing,
        StatusFilter::Gone,
        StatusFilter::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Provisioning => "provisioning",
            StatusFilter::Pending => "pending",
            StatusFilter::Active => "active",
            StatusFilter::Disabled => "disabled",
            StatusFilter::Removed => "removed",
            StatusFilter::Failed => "failed",
            StatusFilter::Failing => "failing",
            StatusFilter::Gone => "gone",
        }
    }

    pub fn parse(s: &str) -> Option<StatusFilter> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// A condition on grant `g` (already limited to the member and, when asked, the server).
    fn grant_condition(self) -> &'static str {
        match self {
            StatusFilter::Failing => {
                "EXISTS (SELECT 1 FROM jobs j WHERE j.grant_id = g.id
                         AND j.state IN ('queued', 'running') AND j.last_error IS NOT NULL)"
            }
            StatusFilter::Gone => "g.gone_at IS NOT NULL AND g.status != 'removed'",
            _ => "g.status = ?4",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberSort {
    Name,
    Created,
    Expires,
}

impl MemberSort {
    pub fn parse(s: &str) -> Option<MemberSort> {
        match s {
            "name" => Some(MemberSort::Name),
            "created" => Some(MemberSort::Created),
            "expires" => Some(MemberSort::Expires),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MemberSort::Name => "name",
            MemberSort::Created => "created",
            MemberSort::Expires => "expires",
        }
    }

    /// The ORDER BY terms over members `m`, each walking an index (see the migrations).
    fn order_by(self, descending: bool) -> &'static str {
        match (self, descending) {
            (MemberSort::Name, false) => "m.display_name COLLATE NOCASE ASC, m.id ASC",
            (MemberSort::Name, true) => "m.display_name COLLATE NOCASE DESC, m.id DESC",
            (MemberSort::Created, false) => "m.created_at ASC, m.id ASC",
            (MemberSort::Created, true) => "m.created_at DESC, m.id DESC",
            // Members without an expiry come last either way.
            (MemberSort::Expires, false) => "(m.earliest_expiry IS NULL), m.earliest_expiry, m.id",
            (MemberSort::Expires, true) => {
                "(m.earliest_expiry IS NOT NULL) DESC, m.earliest_expiry DESC, m.id DESC"
            }
        }
    }
}

/// One page of the members list.
#[derive(Debug, Clone)]
pub struct MemberQuery {
    pub search: String,
    pub server_id: Option<ServerId>,
    pub status: Option<StatusFilter>,
    /// `invite`, `request` or `imported`.
    pub origin: Option<crate::domain::MemberOrigin>,
    pub sort: MemberSort,
    pub descending: bool,
    pub limit: i64,
    pub offset: i64,
}

impl Default for MemberQuery {
    fn default() -> Self {
        MemberQuery {
            search: String::new(),
            server_id: None,
            status: None,
            origin: None,
            sort: MemberSort::Name,
            descending: false,
            limit: 50,
            offset: 0,
        }
    }
}

/// A member as the list shows it: the earliest expiry of their live grants, and how many members
/// matched the whole query.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct MemberListRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub member: MemberRow,
    pub expires_at: Option<Timestamp>,
}

/// A grant with what the members pages need besides: reminder and drift marks, and the job that
/// is being retried after a failure, if any.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct MemberGrantRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub grant: GrantRow,
    pub reminded_at: Option<Timestamp>,
    pub gone_at: Option<Timestamp>,
    /// The kind of a waiting or running job (`remove`, `disable`, …).
    pub open_job: Option<crate::domain::JobKind>,
    /// The kind of the job that failed and is being retried, and why it failed.
    pub failing_kind: Option<crate::domain::JobKind>,
    pub failing_error: Option<String>,
}

const MEMBER_GRANT_SELECT: &str =
    "SELECT g.id, g.member_id, g.server_id, s.name AS server_name, s.kind AS server_kind,
        g.status, g.identity, g.libraries, g.permissions, g.remote_id, g.remote_user_id,
        g.expires_at, g.last_error, g.created_at, g.updated_at, g.reminded_at, g.gone_at,
        o.kind AS open_job,
        CASE WHEN o.last_error IS NOT NULL THEN o.kind END AS failing_kind,
        o.last_error AS failing_error
 FROM grants g JOIN servers s ON s.id = g.server_id
 LEFT JOIN jobs o ON o.id = (SELECT j.id FROM jobs j WHERE j.grant_id = g.id
                             AND j.state IN ('queued', 'running') ORDER BY j.id DESC LIMIT 1)";

/// A grant whose expiry passed, with its server's expiry setting and whether a job that ends
/// access is already under way.
#[derive(Debug, Clone, FromRow)]
pub struct ExpiredGrant {
    pub id: GrantId,
    pub member_id: MemberId,
    pub server_id: ServerId,
    pub status: crate::domain::GrantStatus,
    pub identity: String,
    pub expires_at: Timestamp,
    pub server_name: String,
    #[sqlx(try_from = "String")]
    pub server_kind: media::ServerKind,
    pub expiry_action: crate::domain::ExpiryAction,
    pub expiry_remove_after_days: i64,
}

/// A grant of one server as sync compares it with the server's accounts.
#[derive(Debug, Clone, FromRow)]
pub struct SyncGrant {
    pub id: GrantId,
    pub member_id: MemberId,
    pub status: crate::domain::GrantStatus,
    pub identity: String,
    pub remote_id: Option<String>,
    pub gone_at: Option<Timestamp>,
}

/// Access found on a server that usher did not make.
pub struct ImportedGrant<'a> {
    pub server_id: ServerId,
    pub status: crate::domain::GrantStatus,
    pub identity: &'a str,
    pub libraries: Vec<String>,
    pub remote_id: &'a str,
    pub remote_user_id: Option<&'a str>,
}

/// Where a member to import comes from: a new imported member, or a known one (same account
/// name) who has no access on that server yet.
pub enum ImportInto<'a> {
    New(NewMember<'a>),
    Existing(MemberId),
}

impl Store {
    /// One page of members matching a search and filters, and how many match in all. The page
    /// walks the sort's index and skips to its offset; the count is a second statement, left out
    /// when the page itself shows where the list ends.
    pub async fn list_members(&self, q: &MemberQuery) -> Result<(Vec<MemberListRow>, i64)> {
        let status = q.status.map(StatusFilter::grant_condition).unwrap_or("1");
        // ?4 (the filter's name) is named either way, so both statements take the same four
        // arguments whichever condition a filter uses.
        let status_clause = if q.status.is_some() {
            format!(
                "?4 <> '' AND EXISTS (SELECT 1 FROM grants g WHERE g.member_id = m.id
                                      AND (?3 = 0 OR g.server_id = ?3) AND {status})"
            )
        } else {
            "?4 = ''".to_string()
        };
        let filter = format!(
            "FROM members m
             WHERE (?1 = '' OR m.display_name LIKE ?1 ESCAPE '\\' OR m.email LIKE ?1 ESCAPE '\\'
                    OR m.username LIKE ?1 ESCAPE '\\' OR m.plex_account LIKE ?1 ESCAPE '\\')
               AND (?2 = '' OR m.origin = ?2)
               AND (?3 = 0 OR EXISTS (SELECT 1 FROM grants g
                                      WHERE g.member_id = m.id AND g.server_id = ?3))
               AND {status_clause}"
        );
        let pattern = like_pattern(&q.search);
        let origin = q
            .origin
            .map(crate::domain::MemberOrigin::as_str)
            .unwrap_or("");
        let server = q.server_id.map_or(0, ServerId::get);
        let status = q.status.map(StatusFilter::as_str).unwrap_or("");
        let rows: Vec<MemberListRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT m.*, m.earliest_expiry AS expires_at {filter}
             ORDER BY {} LIMIT ?5 OFFSET ?6",
            q.sort.order_by(q.descending)
        )))
        .bind(&pattern)
        .bind(origin)
        .bind(server)
        .bind(status)
        .bind(q.limit)
        .bind(q.offset)
        .fetch_all(self.pool())
        .await?;
        // A page short of full, with something on it, ends the list.
        if !rows.is_empty() && (rows.len() as i64) < q.limit {
            let total = q.offset + rows.len() as i64;
            return Ok((rows, total));
        }
        if rows.is_empty() && q.offset == 0 {
            return Ok((rows, 0));
        }
        let total: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {filter}")))
                .bind(&pattern)
                .bind(origin)
                .bind(server)
                .bind(status)
                .fetch_one(self.pool())
                .await?;
        Ok((rows, total))
    }

    /// The grants of several members, in one statement.
    pub async fn grants_of_members(&self, member_ids: &[MemberId]) -> Result<Vec<MemberGrantRow>> {
        if member_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = serde_json::to_string(member_ids).unwrap_or_else(|_| "[]".into());
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{MEMBER_GRANT_SELECT}
             WHERE g.member_id IN (SELECT value FROM json_each(?))
             ORDER BY g.member_id, s.name COLLATE NOCASE, g.id"
        )))
        .bind(ids)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn member_grant(&self, grant_id: GrantId) -> Result<Option<MemberGrantRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{MEMBER_GRANT_SELECT} WHERE g.id = ?"
        )))
        .bind(grant_id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Events that concern a member, newest first.
    pub async fn member_events(&self, member_id: MemberId, limit: i64) -> Result<Vec<EventRow>> {
        Ok(sqlx::query_as(
            "SELECT id, at, actor, action, subject, detail FROM events
             WHERE member_id = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(member_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Appends an event that concerns a member, so it shows in their history.
    pub async fn append_member_event(
        &self,
        event: NewEvent<'_>,
        member_id: MemberId,
        now: Timestamp,
    ) -> Result<()> {
        self.append_event_about(event, Some(member_id), None, now)
            .await
    }

    /// Records a notice for the owner and its event, unless a notice with this key was recorded
    /// before. True when this call recorded it.
    pub async fn record_notice_once(
        &self,
        key: &str,
        kind: &str,
        member_id: Option<MemberId>,
        server_id: Option<ServerId>,
        event: NewEvent<'_>,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        let fresh = sqlx::query(
            "INSERT INTO owner_notices (key, kind, member_id, at) VALUES (?, ?, ?, ?)
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(kind)
        .bind(member_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if fresh {
            super::events::insert_event(&mut tx, &event, member_id, server_id, now).await?;
        }
        tx.commit().await?;
        Ok(fresh)
    }

    pub async fn set_member_notes(&self, member_id: MemberId, notes: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE members SET notes = ? WHERE id = ?")
            .bind(notes)
            .bind(member_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Queues a job of `kind` for a grant unless one is already waiting or running, and cancels
    /// waiting jobs it supersedes (`cancels`). Returns the job to run.
    pub async fn queue_grant_job(
        &self,
        grant_id: GrantId,
        kind: crate::domain::JobKind,
        cancels: &[crate::domain::JobKind],
        now: Timestamp,
    ) -> Result<JobId> {
        let mut tx = self.pool().begin().await?;
        let open = queue_once(&mut tx, grant_id, kind, cancels, now).await?;
        tx.commit().await?;
        Ok(open)
    }

    /// Stores new libraries and permissions for a grant and queues the job that pushes them to
    /// the server, together.
    pub async fn set_grant_access(
        &self,
        grant_id: GrantId,
        libraries: &[String],
        permissions: &media::Permissions,
        now: Timestamp,
    ) -> Result<JobId> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "UPDATE grants SET libraries = ?, permissions = ?, last_error = NULL, updated_at = ?
             WHERE id = ?",
        )
        .bind(Json(libraries))
        .bind(Json(permissions))
        .bind(now)
        .bind(grant_id)
        .execute(&mut *tx)
        .await?;
        let job = queue_once(&mut tx, grant_id, crate::domain::JobKind::Update, &[], now).await?;
        tx.commit().await?;
        Ok(job)
    }

    /// Sets when a grant ends; a new date earns a new reminder.
    pub async fn set_grant_expiry(
        &self,
        grant_id: GrantId,
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE grants SET expires_at = ?, reminded_at = NULL, updated_at = ? WHERE id = ?",
        )
        .bind(expires_at)
        .bind(now)
        .bind(grant_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    // --- expiry -------------------------------------------------------------------------------

    /// Live grants that expire in `(now, until]` and were not reminded of yet.
    pub async fn grants_to_remind(
        &self,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<MemberGrantRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{MEMBER_GRANT_SELECT}
             WHERE g.expires_at > ? AND g.expires_at <= ? AND g.reminded_at IS NULL
               AND g.status IN ('pending', 'active')
             ORDER BY g.expires_at, g.id"
        )))
        .bind(now)
        .bind(until)
        .fetch_all(self.pool())
        .await?)
    }

    /// Marks a grant reminded; false when it already was (another sweep got there first).
    pub async fn mark_reminded(&self, grant_id: GrantId, now: Timestamp) -> Result<bool> {
        Ok(
            sqlx::query("UPDATE grants SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL")
                .bind(now)
                .bind(grant_id)
                .execute(self.pool())
                .await?
                .rows_affected()
                == 1,
        )
    }

    /// Grants whose expiry passed that may still need disabling or removing: no job ending
    /// their access is under way.
    pub async fn expired_grants(&self, now: Timestamp) -> Result<Vec<ExpiredGrant>> {
        Ok(sqlx::query_as(
            "SELECT g.id, g.member_id, g.server_id, g.status, g.identity, g.expires_at,
                    s.name AS server_name,
                    s.kind AS server_kind, s.expiry_action, s.expiry_remove_after_days
             FROM grants g JOIN servers s ON s.id = g.server_id
             WHERE g.expires_at IS NOT NULL AND g.expires_at <= ?
               AND g.status IN ('pending', 'active', 'disabled')
               AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.grant_id = g.id
                               AND j.kind IN ('remove', 'disable')
                               AND j.state IN ('queued', 'running'))
             ORDER BY g.expires_at, g.id",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn set_server_expiry(
        &self,
        server_id: ServerId,
        action: crate::domain::ExpiryAction,
        remove_after_days: i64,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE servers SET expiry_action = ?, expiry_remove_after_days = ?, updated_at = ?
             WHERE id = ?",
        )
        .bind(action)
        .bind(remove_after_days)
        .bind(now)
        .bind(server_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    // --- sync ---------------------------------------------------------------------------------

    pub async fn sync_grants(&self, server_id: ServerId) -> Result<Vec<SyncGrant>> {
        Ok(sqlx::query_as(
            "SELECT id, member_id, status, identity, remote_id, gone_at FROM grants
             WHERE server_id = ? ORDER BY id",
        )
        .bind(server_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// A Plex invite was accepted.
    pub async fn activate_pending_grant(&self, grant_id: GrantId, now: Timestamp) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE grants SET status = 'active', updated_at = ? WHERE id = ? AND status = 'pending'",
        )
        .bind(now)
        .bind(grant_id)
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1)
    }

    /// Marks a grant as missing from its server (`Some`), or found again (`None`).
    pub async fn set_grant_gone(
        &self,
        grant_id: GrantId,
        gone_at: Option<Timestamp>,
    ) -> Result<()> {
        sqlx::query("UPDATE grants SET gone_at = ? WHERE id = ?")
            .bind(gone_at)
            .bind(grant_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// A member known by one of `names` (Plex account or email for Plex, user name otherwise)
    /// who has no live access on the server yet.
    pub async fn member_to_import_into(
        &self,
        server_id: ServerId,
        plex: bool,
        names: &[&str],
    ) -> Result<Option<MemberId>> {
        let names = serde_json::to_string(names).unwrap_or_else(|_| "[]".into());
        let column = if plex {
            "(m.plex_account IN (SELECT value FROM json_each(?1))
              OR m.email IN (SELECT value FROM json_each(?1)))"
        } else {
            "m.username IN (SELECT value FROM json_each(?1))"
        };
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT m.id FROM members m WHERE {column}
               AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.member_id = m.id
                               AND g.server_id = ?2 AND g.status IN {LIVE})
             ORDER BY m.id LIMIT 1"
        )))
        .bind(names)
        .bind(server_id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Records access found on a server: the member (new, or known) and the grant, together.
    pub async fn import_account(
        &self,
        into: ImportInto<'_>,
        grant: ImportedGrant<'_>,
        now: Timestamp,
    ) -> Result<(MemberId, GrantId)> {
        let mut tx = self.pool().begin().await?;
        let member_id = match into {
            ImportInto::New(m) => super::invites::insert_member(&mut tx, &m, now).await?,
            ImportInto::Existing(id) => id,
        };
        let grant_id: GrantId = sqlx::query_scalar(
            "INSERT INTO grants (member_id, server_id, status, identity, libraries, permissions,
                                 remote_id, remote_user_id, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, '{}', ?, ?, ?, ?) RETURNING id",
        )
        .bind(member_id)
        .bind(grant.server_id)
        .bind(grant.status)
        .bind(grant.identity)
        .bind(Json(&grant.libraries))
        .bind(grant.remote_id)
        .bind(grant.remote_user_id)
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((member_id, grant_id))
    }

    pub async fn set_server_synced(
        &self,
        server_id: ServerId,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query("UPDATE servers SET synced_at = ?, sync_error = ? WHERE id = ?")
            .bind(now)
            .bind(error)
            .bind(server_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Servers not synced since `before`.
    pub async fn servers_due_for_sync(&self, before: Timestamp) -> Result<Vec<ServerId>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM servers WHERE synced_at IS NULL OR synced_at <= ? ORDER BY id",
        )
        .bind(before)
        .fetch_all(self.pool())
        .await?)
    }
}

/// The body of [`Store::queue_grant_job`], for use inside a larger transaction.
async fn queue_once(
    tx: &mut sqlx::SqliteConnection,
    grant_id: GrantId,
    kind: crate::domain::JobKind,
    cancels: &[crate::domain::JobKind],
    now: Timestamp,
) -> Result<JobId> {
    if !cancels.is_empty() {
        sqlx::query(
            "UPDATE jobs SET state = 'failed', payload = NULL, last_error = 'cancelled', updated_at = ?
             WHERE grant_id = ? AND state = 'queued' AND kind IN (SELECT value FROM json_each(?))",
        )
        .bind(now)
        .bind(grant_id)
        .bind(serde_json::to_string(cancels).unwrap_or_else(|_| "[]".into()))
        .execute(&mut *tx)
        .await?;
    }
    let open: Option<JobId> = sqlx::query_scalar(
        "SELECT id FROM jobs WHERE grant_id = ? AND kind = ? AND state IN ('queued', 'running')
         ORDER BY id LIMIT 1",
    )
    .bind(grant_id)
    .bind(kind)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = open {
        return Ok(id);
    }
    Ok(sqlx::query_scalar(
        "INSERT INTO jobs (kind, grant_id, state, run_at, created_at, updated_at)
         VALUES (?, ?, 'queued', ?, ?, ?) RETURNING id",
    )
    .bind(kind)
    .bind(grant_id)
    .bind(now)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_wildcards_are_taken_literally() {
        assert_eq!(like_pattern("  "), "");
        assert_eq!(like_pattern("ana"), "%ana%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn status_filters_round_trip() {
        for f in StatusFilter::ALL {
            assert_eq!(StatusFilter::parse(f.as_str()), Some(f));
        }
        assert_eq!(StatusFilter::parse("nope"), None);
    }
}
