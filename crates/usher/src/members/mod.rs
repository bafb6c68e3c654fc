//! Members: everyone with (or who had) access through usher or found on a server, with their
//! grants. The owner changes libraries and permissions, pauses and resumes accounts, removes
//! access, sets when it ends and keeps notes; every change to a server goes through a job, so a
//! server that is down only delays it.

pub mod api;
pub mod cli;
pub mod expiry;
pub mod routes;
pub mod sync;

use crate::clock::Timestamp;
use crate::domain::grant_subject;
use crate::domain::ids::*;
use crate::domain::{GrantStatus, JobKind};
use crate::provisioning::{self, Outcome, grant_event};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::events::NewEvent;
use crate::store::invites::{GrantRow, MemberRow};
use crate::store::members::MemberGrantRow;

/// The longest member note, in characters.
pub const MAX_NOTES: usize = 2000;

#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    #[error("no such member")]
    NotFound,
    /// Something the owner typed is wrong; `key` is the Fluent message.
    #[error("{field}: {key}")]
    Invalid {
        field: &'static str,
        key: &'static str,
        detail: Option<String>,
    },
    /// The member or grant is not in a state that allows this; `key` says why.
    #[error("{key}")]
    Conflict { key: &'static str },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// How a member error is answered, on pages and in the API alike.
impl crate::web::error::Failure for MemberError {
    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode as S;
        match self {
            MemberError::NotFound => S::NOT_FOUND,
            MemberError::Invalid { .. } => S::UNPROCESSABLE_ENTITY,
            MemberError::Conflict { .. } => S::CONFLICT,
            MemberError::Store(_) => S::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            MemberError::NotFound => "not_found",
            MemberError::Invalid { .. } => "invalid",
            MemberError::Conflict { .. } => "conflict",
            MemberError::Store(_) => "internal",
        }
    }

    fn message_key(&self) -> &'static str {
        match self {
            MemberError::NotFound => "error-not-found",
            MemberError::Invalid { key, .. } | MemberError::Conflict { key } => key,
            MemberError::Store(_) => "error-internal",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            MemberError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    fn detail(&self) -> Option<String> {
        match self {
            MemberError::Invalid { detail, .. } => detail.clone(),
            _ => None,
        }
    }
}

impl MemberError {
    fn invalid(field: &'static str, key: &'static str) -> Self {
        MemberError::Invalid {
            field,
            key,
            detail: None,
        }
    }

    fn conflict(key: &'static str) -> Self {
        MemberError::Conflict { key }
    }
}

/// A member with their grants.
pub struct Loaded {
    pub member: MemberRow,
    pub grants: Vec<MemberGrantRow>,
}

pub async fn load(state: &AppState, member_id: MemberId) -> Result<Loaded, MemberError> {
    let member = state
        .store
        .member(member_id)
        .await?
        .ok_or(MemberError::NotFound)?;
    let grants = state.store.grants_of_members(&[member_id]).await?;
    Ok(Loaded { member, grants })
}

/// One of a member's grants; a grant of somebody else is "not found", not a way to reach it.
async fn grant_of(
    state: &AppState,
    member_id: MemberId,
    grant_id: GrantId,
) -> Result<MemberGrantRow, MemberError> {
    state
        .store
        .member_grant(grant_id)
        .await?
        .filter(|g| g.grant.member_id == member_id)
        .ok_or(MemberError::NotFound)
}

/// Appends an event to a member's history.
pub(crate) async fn member_event(
    state: &AppState,
    member_id: MemberId,
    actor: &str,
    action: &str,
    subject: &str,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    state
        .store
        .append_member_event(
            NewEvent {
                actor,
                action,
                subject: Some(subject),
                detail,
            },
            member_id,
            state.clock.now(),
        )
        .await
}

/// Runs a queued job now and wakes the worker for whatever is left (a retry).
async fn run_now(state: &AppState, job_id: JobId) -> Result<Outcome, MemberError> {
    let outcome = provisioning::run_job(state, job_id).await?;
    state.jobs_wake.notify_one();
    Ok(outcome)
}

/// The member list's filters as a person or a script gives them (the API's query, the CLI's
/// flags); [`ListFilters::query`] checks them.
#[derive(Debug, Clone, Default)]
pub struct ListFilters {
    pub search: String,
    pub status: Option<String>,
    pub server_id: Option<ServerId>,
    pub origin: Option<String>,
    pub sort: Option<String>,
    pub order: Option<String>,
}

impl ListFilters {
    /// The query for one page; a value the list does not know is refused with the values it
    /// does, never ignored.
    pub fn query(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<crate::store::members::MemberQuery, MemberError> {
        use crate::store::members::{MemberSort, StatusFilter};
        fn pick<T>(
            raw: &Option<String>,
            field: &'static str,
            parse: impl Fn(&str) -> Option<T>,
            allowed: &str,
        ) -> Result<Option<T>, MemberError> {
            // Taken as sent: the filters are words from a list, not typed text.
            match raw.as_deref().filter(|r| !r.is_empty()) {
                None => Ok(None),
                Some(r) => parse(r).map(Some).ok_or_else(|| MemberError::Invalid {
                    field,
                    key: "member-bad-filter",
                    detail: Some(format!("{field} is {allowed}")),
                }),
            }
        }
        Ok(crate::store::members::MemberQuery {
            search: self.search.trim().chars().take(100).collect(),
            server_id: self.server_id,
            status: pick(
                &self.status,
                "status",
                StatusFilter::parse,
                "provisioning, pending, active, disabled, removed, failed, failing or gone",
            )?,
            origin: pick(
                &self.origin,
                "origin",
                crate::domain::MemberOrigin::parse,
                "invite, request or imported",
            )?,
            sort: pick(
                &self.sort,
                "sort",
                MemberSort::parse,
                "name, created or expires",
            )?
            .unwrap_or(MemberSort::Name),
            descending: pick(
                &self.order,
                "order",
                |o| match o {
                    "asc" => Some(false),
                    "desc" => Some(true),
                    _ => None,
                },
                "asc or desc",
            )?
            .unwrap_or(false),
            limit,
            offset,
        })
    }
}

/// What the owner chose for a grant on the member page.
#[derive(Debug, Clone, Default)]
pub struct AccessInput {
    pub libraries: Vec<String>,
    /// Applied to the grant's current permissions; what is left out stays.
    pub changes: crate::domain::access::PermissionChanges,
}

/// Changes a grant's libraries and permissions and pushes them to the server.
pub async fn change_access(
    state: &AppState,
    member_id: MemberId,
    grant_id: GrantId,
    input: &AccessInput,
    actor: &str,
) -> Result<Outcome, MemberError> {
    let g = grant_of(state, member_id, grant_id).await?;
    if !g.grant.status.is_made() {
        return Err(MemberError::conflict("member-grant-not-live"));
    }
    if g.open_job == Some(JobKind::Remove) {
        return Err(MemberError::conflict("member-grant-removing"));
    }
    if input.libraries.is_empty() {
        return Err(MemberError::invalid("libraries", "member-no-library"));
    }
    let current = g.grant.library_ids()?;
    let known = state.store.libraries(g.grant.server_id).await?;
    for id in &input.libraries {
        // Offered libraries, and ones the member already has that are still on the server.
        let ok = known
            .iter()
            .any(|l| &l.remote_id == id && l.present && (l.enabled || current.contains(id)));
        if !ok {
            return Err(MemberError::Invalid {
                field: "libraries",
                key: "member-unknown-library",
                detail: Some(id.chars().take(64).collect()),
            });
        }
    }
    if let Some(server) = state.store.server(g.grant.server_id).await?
        && server.cannot_keep_to(&known, &input.libraries)
    {
        return Err(MemberError::invalid("libraries", "access-cannot-limit"));
    }
    let mut libraries = input.libraries.clone();
    libraries.dedup();
    // What the page does not edit (Plex Home; streams on Plex, camera upload elsewhere) stays.
    let plex = g.grant.server_kind.is_plex();
    let mut changes = input.changes.clone();
    changes.plex_home = None;
    if plex {
        changes.max_sessions = None;
    } else {
        changes.allow_camera_upload = None;
    }
    let permissions = changes
        .applied_to(&g.grant.permission_set()?, plex)
        .map_err(|e| match e {
            crate::domain::access::PermissionError::MaxSessions => {
                MemberError::invalid("max_sessions", "member-bad-max-sessions")
            }
            crate::domain::access::PermissionError::Filter(field, e) => MemberError::Invalid {
                field,
                key: "invite-bad-permission",
                detail: Some(e.to_string()),
            },
        })?;
    let now = state.clock.now();
    let job = state
        .store
        .set_grant_access(grant_id, &libraries, &permissions, now)
        .await?;
    let names: Vec<&str> = libraries
        .iter()
        .map(|id| {
            known
                .iter()
                .find(|l| &l.remote_id == id)
                .map(|l| l.name.as_str())
                .unwrap_or(id)
        })
        .collect();
    grant_event(
        state,
        (member_id, g.grant.server_id),
        actor,
        "member.access_changed",
        &grant_subject(&g.grant.identity, &g.grant.server_name),
        Some(&names.join(", ")),
    )
    .await?;
    run_now(state, job).await
}

/// How the owner changes when access ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryChange {
    Set(Timestamp),
    Clear,
    /// Later by this many days, keeping the time of day.
    Extend(i64),
}

/// Changes when every live grant of a member ends. Returns the member's new expiry (the
/// earliest of their grants).
pub async fn change_expiry(
    state: &AppState,
    member_id: MemberId,
    change: ExpiryChange,
    actor: &str,
) -> Result<Option<Timestamp>, MemberError> {
    let loaded = load(state, member_id).await?;
    let live: Vec<&GrantRow> = loaded
        .grants
        .iter()
        .map(|g| &g.grant)
        .filter(|g| g.status.is_live())
        .collect();
    if live.is_empty() {
        return Err(MemberError::conflict("member-no-live-access"));
    }
    let now = state.clock.now();
    let mut earliest: Option<Timestamp> = None;
    for g in &live {
        let at = match change {
            ExpiryChange::Set(t) => Some(t),
            ExpiryChange::Clear => None,
            ExpiryChange::Extend(days) => Some(expiry::extend(g.expires_at, now, days)),
        };
        state.store.set_grant_expiry(g.id, at, now).await?;
        if let Some(t) = at {
            earliest = Some(earliest.map_or(t, |e: Timestamp| e.min(t)));
        }
    }
    let (action, detail) = match (change, earliest) {
        (ExpiryChange::Clear, _) | (_, None) => ("member.expiry_cleared", None),
        (ExpiryChange::Extend(days), Some(t)) => (
            "member.expiry_extended",
            Some(format!("+{days} days, until {}", crate::clock::human(t))),
        ),
        (ExpiryChange::Set(_), Some(t)) => (
            "member.expiry_set",
            Some(format!("until {}", crate::clock::human(t))),
        ),
    };
    member_event(
        state,
        member_id,
        actor,
        action,
        &loaded.member.display_name,
        detail.as_deref(),
    )
    .await?;
    Ok(earliest)
}

/// Pauses (`disabled`) or resumes a grant. Plex cannot pause a share: the owner removes it
/// instead.
pub async fn set_paused(
    state: &AppState,
    member_id: MemberId,
    grant_id: GrantId,
    disabled: bool,
    actor: &str,
) -> Result<Outcome, MemberError> {
    let g = grant_of(state, member_id, grant_id).await?;
    if !g.grant.server_kind.can_disable() {
        return Err(MemberError::conflict("member-cannot-disable"));
    }
    if g.open_job == Some(JobKind::Remove) {
        return Err(MemberError::conflict("member-grant-removing"));
    }
    let now = state.clock.now();
    let (kind, cancels) = if disabled {
        if !matches!(g.grant.status, GrantStatus::Active | GrantStatus::Pending) {
            return Err(MemberError::conflict("member-grant-not-active"));
        }
        (JobKind::Disable, [JobKind::Enable])
    } else {
        if g.grant.status != GrantStatus::Disabled {
            return Err(MemberError::conflict("member-grant-not-disabled"));
        }
        if g.grant.expires_at.is_some_and(|t| t <= now) {
            // The sweep would pause it again at once.
            return Err(MemberError::conflict("member-enable-expired"));
        }
        (JobKind::Enable, [JobKind::Disable])
    };
    let job = state
        .store
        .queue_grant_job(grant_id, kind, &cancels, now)
        .await?;
    grant_event(
        state,
        (member_id, g.grant.server_id),
        actor,
        if disabled {
            "member.disable_requested"
        } else {
            "member.enable_requested"
        },
        &grant_subject(&g.grant.identity, &g.grant.server_name),
        None,
    )
    .await?;
    run_now(state, job).await
}

/// Ends a grant on its server. The member stays listed, with the removal retried, until the
/// server confirms.
pub async fn remove_grant(
    state: &AppState,
    member_id: MemberId,
    grant_id: GrantId,
    actor: &str,
) -> Result<Outcome, MemberError> {
    let g = grant_of(state, member_id, grant_id).await?;
    if g.grant.status == GrantStatus::Removed {
        return Err(MemberError::conflict("member-grant-already-removed"));
    }
    let job = queue_removal(state, grant_id).await?;
    grant_event(
        state,
        (member_id, g.grant.server_id),
        actor,
        "member.remove_requested",
        &grant_subject(&g.grant.identity, &g.grant.server_name),
        None,
    )
    .await?;
    run_now(state, job).await
}

/// Queues a grant's removal, stopping whatever else was waiting for it.
pub(crate) async fn queue_removal(
    state: &AppState,
    grant_id: GrantId,
) -> Result<JobId, StoreError> {
    let now = state.clock.now();
    state.store.cancel_provisioning(grant_id, now).await?;
    state
        .store
        .queue_grant_job(
            grant_id,
            JobKind::Remove,
            &[JobKind::Update, JobKind::Disable, JobKind::Enable],
            now,
        )
        .await
}

pub async fn set_notes(
    state: &AppState,
    member_id: MemberId,
    notes: &str,
    actor: &str,
) -> Result<(), MemberError> {
    let member = state
        .store
        .member(member_id)
        .await?
        .ok_or(MemberError::NotFound)?;
    let notes = notes.trim();
    if notes.chars().count() > MAX_NOTES {
        return Err(MemberError::invalid("notes", "member-notes-too-long"));
    }
    state
        .store
        .set_member_notes(member_id, (!notes.is_empty()).then_some(notes))
        .await?;
    member_event(
        state,
        member_id,
        actor,
        "member.notes_changed",
        &member.display_name,
        None,
    )
    .await?;
    Ok(())
}
