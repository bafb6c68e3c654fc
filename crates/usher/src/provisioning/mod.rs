//! Provisioning: making grants real on servers. Each job is written in the same transaction as
//! the redemption or decision that caused it, run at once, and otherwise retried with backoff by
//! the worker until it succeeds or fails for good. A job is claimed with a lease that is renewed
//! while it runs, so a job whose worker died (crash, kill -9) is picked up again soon after the
//! lease runs out, however long a slow server keeps a live worker busy.
//!
//! Besides provisioning, jobs change access that exists: `update` (libraries and permissions),
//! `disable`/`enable` (Jellyfin and Emby can pause an account) and `remove`. Jobs that end access
//! are never given up: they back off to an hour between tries and the owner is told once.

pub mod acceptance;

use crate::domain::ids::*;
use media::{GrantSpec, Identity, MediaError};

use crate::domain::rules::retry_delay;
use crate::domain::{GrantStatus, JobKind};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::events::NewEvent;
use crate::store::invites::{GrantRow, JobRow};

/// How long a claimed job is ours before another worker may take it over, unless renewed.
pub const LEASE_SECONDS: i64 = 30;
/// How often a running job renews its lease.
const LEASE_RENEWAL: std::time::Duration = std::time::Duration::from_secs(10);
/// Transient failures are retried this many times (about a day with the backoff) before the job
/// is given up.
pub const MAX_ATTEMPTS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server did it.
    Done,
    /// A transient failure; the job is queued again.
    Retrying(MediaError),
    /// The server refused for good (or a retryable failure ran out of attempts).
    Failed(MediaError),
    /// Someone else holds the job, or it is already finished.
    Skipped,
}

/// Who learns of a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// The background worker: nobody is waiting, so the owner's channels are told.
    Owner,
    /// Someone is waiting on a form (a friend redeeming, the owner approving): a refusal they can
    /// fix themselves (a taken name, a mistyped account) is answered to them there and is not
    /// a provisioning failure.
    Waiting,
}

/// Refusals the person filling the form can fix by changing what they typed.
fn fixable_on_the_form(e: &MediaError) -> bool {
    matches!(
        e,
        MediaError::AlreadyExists(_) | MediaError::Invalid(_) | MediaError::NotFound(_)
    )
}

/// Runs one job now if it can be claimed.
pub async fn run_job(state: &AppState, job_id: JobId) -> Result<Outcome, StoreError> {
    run_job_for(state, job_id, Audience::Owner).await
}

async fn run_job_for(
    state: &AppState,
    job_id: JobId,
    audience: Audience,
) -> Result<Outcome, StoreError> {
    let now = state.clock.now();
    let Some(job) = state.store.claim_job(job_id, now, LEASE_SECONDS).await? else {
        return Ok(Outcome::Skipped);
    };
    let Some(grant) = state.store.grant(job.grant_id).await? else {
        return Ok(Outcome::Skipped);
    };
    let work = async {
        match job.kind {
            JobKind::Provision => provision(state, &job, &grant).await,
            JobKind::Remove => remove(state, &grant).await,
            JobKind::Update => update(state, &grant).await.map(|_| None),
            JobKind::Disable => set_disabled(state, &grant, true).await.map(|_| None),
            JobKind::Enable => set_disabled(state, &grant, false).await.map(|_| None),
        }
    };
    let result = holding_lease(state, job.id, work).await;
    let now = state.clock.now();
    match result {
        Ok(done) => {
            let (status, remote_id, remote_user_id) = match (job.kind, done) {
                (JobKind::Provision, Some(o)) => (
                    if o.pending {
                        GrantStatus::Pending
                    } else {
                        GrantStatus::Active
                    },
                    o.remote_id,
                    o.remote_user_id,
                ),
                (JobKind::Provision, None) => (GrantStatus::Active, String::new(), None),
                (kind, _) => (
                    kind.status_after(grant.status),
                    grant.remote_id.clone().unwrap_or_default(),
                    grant.remote_user_id.clone(),
                ),
            };
            state
                .store
                .complete_provisioning(
                    job.id,
                    grant.id,
                    status,
                    &remote_id,
                    remote_user_id.as_deref(),
                    now,
                )
                .await?;
            event(state, job.kind.done_action(), &grant, None).await?;
            if status == GrantStatus::Pending && grant.server_kind.is_plex() {
                acceptance::plan(state, grant.id).await?;
            }
            if job.kind == JobKind::Remove {
                notify(state, crate::notify::Kind::MemberRemoved, &grant, None).await;
            }
            Ok(Outcome::Done)
        }
        Err(e) if keeps_trying(&job, &e) => {
            let delay = match &e {
                MediaError::RateLimited {
                    retry_after: Some(d),
                } => (d.as_secs() as i64).max(retry_delay(job.attempts - 1)),
                _ => retry_delay(job.attempts - 1),
            };
            let message = e.to_string();
            tracing::warn!(job = %job.id, grant = %grant.id, server = %grant.server_name, error = %message, "job will be retried");
            state
                .store
                .retry_job(job.id, grant.id, now + delay, &message, now)
                .await?;
            if job.kind.ends_access() {
                // The person still has access: the owner hears about it once, and the job
                // keeps trying until the server confirms.
                crate::notify::notice_once(
                    state,
                    crate::notify::Notice::EndingFailing {
                        job_id: job.id,
                        kind: job.kind,
                        grant: &grant,
                        error: &message,
                    },
                )
                .await?;
            }
            Ok(Outcome::Retrying(e))
        }
        Err(e) => {
            let message = e.to_string();
            tracing::warn!(job = %job.id, grant = %grant.id, server = %grant.server_name, error = %message, "job failed for good");
            // Only provisioning fails a grant; a change that could not be made leaves the access
            // as it was, with the reason shown.
            let status = if job.kind == JobKind::Provision {
                GrantStatus::Failed
            } else {
                grant.status
            };
            state
                .store
                .fail_job(job.id, grant.id, status, &message, now)
                .await?;
            if audience == Audience::Waiting && fixable_on_the_form(&e) {
                // Answered on the form; the caller undoes the half-made member.
                event(state, "grant.refused", &grant, Some(&message)).await?;
                return Ok(Outcome::Failed(e));
            }
            event(state, "grant.failed", &grant, Some(&message)).await?;
            if job.kind == JobKind::Provision {
                let kind = crate::notify::Kind::ProvisioningFailed;
                notify(state, kind, &grant, Some(&message)).await;
            }
            Ok(Outcome::Failed(e))
        }
    }
}

/// Runs `work` while renewing the job's lease, so no other worker takes over a job that is
/// merely slow.
async fn holding_lease<T>(state: &AppState, job_id: JobId, work: impl Future<Output = T>) -> T {
    let mut work = std::pin::pin!(work);
    let mut renew = tokio::time::interval(LEASE_RENEWAL);
    renew.tick().await;
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = renew.tick() => {
                let now = state.clock.now();
                if let Err(e) = state.store.renew_lease(job_id, now, LEASE_SECONDS).await {
                    tracing::warn!(job = %job_id, error = %e, "could not renew a job's lease");
                }
            }
        }
    }
}

fn keeps_trying(job: &JobRow, e: &MediaError) -> bool {
    if job.kind.ends_access() {
        // Only a server that cannot do this at all (Plex has no disable) stops the retries.
        return !matches!(e, MediaError::Unsupported(_));
    }
    e.is_retryable() && job.attempts < MAX_ATTEMPTS
}

async fn event(
    state: &AppState,
    action: &str,
    grant: &GrantRow,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    let subject = crate::domain::grant_subject(&grant.identity, &grant.server_name);
    grant_event(
        state,
        (grant.member_id, grant.server_id),
        "usher",
        action,
        &subject,
        detail,
    )
    .await
}

/// Tells the owner's channels about a grant.
async fn notify(
    state: &AppState,
    kind: crate::notify::Kind,
    grant: &GrantRow,
    error: Option<&str>,
) {
    let mut event = crate::notify::Event::new(kind, state.clock.now())
        .with("member_id", grant.member_id)
        .with("member", grant.identity.as_str())
        .with("server_id", grant.server_id)
        .with("server", grant.server_name.as_str())
        .link(state, &format!("/admin/members/{}", grant.member_id));
    if let Some(e) = error {
        event = event.with("error", e);
    }
    crate::notify::emit(state, event).await;
}

async fn provision(
    state: &AppState,
    job: &JobRow,
    grant: &GrantRow,
) -> Result<Option<media::GrantOutcome>, MediaError> {
    let client = server_client(state, grant.server_id).await?;
    let mut terms = grant.terms().map_err(unreadable)?;
    // A Plex account has one share per server: a second grant to it joins the first.
    let one_share = grant.server_kind.is_plex() && !terms.permissions.plex_home;
    let mut joined = Vec::new();
    if one_share {
        joined = state
            .store
            .same_account_grants(grant.server_id, grant.id, &grant.identity, None, None)
            .await
            .map_err(store_failed)?;
        terms = combined(&joined, Some(&terms))?.unwrap_or(terms);
    }
    let identity = if grant.server_kind.is_plex() {
        Identity::PlexUser {
            email_or_username: grant.identity.clone(),
        }
    } else {
        let password = job
            .payload
            .as_deref()
            .and_then(|p| state.key.open(p))
            .ok_or_else(|| {
                MediaError::Invalid(
                    "the password for this account is no longer available; create the member again"
                        .into(),
                )
            })?;
        let email = state
            .store
            .member(grant.member_id)
            .await
            .ok()
            .flatten()
            .and_then(|m| m.email);
        Identity::Account {
            username: grant.identity.clone(),
            password: password.into(),
            email,
        }
    };
    let spec = GrantSpec {
        identity,
        libraries: terms.libraries.clone(),
        permissions: terms.permissions.clone(),
    };
    let made_here = match (&spec.identity, &client) {
        (Identity::Account { username, .. }, client) if client.kind().uses_local_accounts() => {
            let marked = job
                .creating
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(username));
            // The name is recorded once seen free, before the account is made: a retry can then
            // tell the account its own attempt made from one that had the name before.
            if !marked && client.name_is_free(username).await? {
                state
                    .store
                    .mark_creating(job.id, username)
                    .await
                    .map_err(store_failed)?;
            }
            marked
        }
        _ => false,
    };
    let result = if job.attempts > 1 {
        // An earlier attempt may have made the account and died before recording it.
        client.grant_again(&spec, made_here).await
    } else {
        client.grant(&spec).await
    };
    let outcome = match result {
        Err(MediaError::AlreadyExists(why)) => reactivate(state, &client, grant, &spec)
            .await?
            .ok_or(MediaError::AlreadyExists(why))?,
        other => other?,
    };
    if one_share {
        // The same account under another spelling (a username for an email) shows only now,
        // by the share plex.tv answered with.
        let late: Vec<GrantRow> = state
            .store
            .same_account_grants(
                grant.server_id,
                grant.id,
                &grant.identity,
                Some(&outcome.remote_id),
                outcome.remote_user_id.as_deref(),
            )
            .await
            .map_err(store_failed)?
            .into_iter()
            .filter(|g| !joined.iter().any(|j| j.id == g.id))
            .collect();
        if !late.is_empty() {
            let wider = combined(&late, Some(&terms))?.unwrap_or(terms.clone());
            if wider != terms {
                client
                    .update_access(&outcome.remote_id, &wider.libraries, &wider.permissions)
                    .await?;
            }
            terms = wider;
            joined.extend(late);
        }
        if !joined.is_empty() {
            join_share(state, grant, &terms, &joined)
                .await
                .map_err(store_failed)?;
        }
    }
    Ok(Some(outcome))
}

/// The access of `existing` grants (oldest first) and then `newer`, as one.
fn combined(
    existing: &[GrantRow],
    newer: Option<&crate::domain::access::Terms>,
) -> Result<Option<crate::domain::access::Terms>, MediaError> {
    let mut all = Vec::with_capacity(existing.len() + 1);
    for g in existing {
        all.push(g.terms().map_err(unreadable)?);
    }
    all.extend(newer.cloned());
    let mut all = all.into_iter();
    let first = all.next();
    Ok(first.map(|first| all.fold(first, |acc, t| acc.combined_with(&t))))
}

/// Records that `grant` now holds the share `others` held: it gets the combined `terms`, they
/// end, and both members' histories say so.
async fn join_share(
    state: &AppState,
    grant: &GrantRow,
    terms: &crate::domain::access::Terms,
    others: &[GrantRow],
) -> Result<(), StoreError> {
    let now = state.clock.now();
    let newcomer = state.store.member(grant.member_id).await?;
    let (name, code) = newcomer
        .map(|m| (m.display_name, m.invite_code))
        .unwrap_or_default();
    let through = match &code {
        Some(c) => format!("{name} (invite {c})"),
        None => name.clone(),
    };
    let ids: Vec<GrantId> = others.iter().map(|g| g.id).collect();
    state
        .store
        .take_over_access(
            grant.id,
            terms,
            &ids,
            &format!("the share moved to {through}"),
            now,
        )
        .await?;
    let libraries = state
        .store
        .library_names(grant.server_id, &terms.libraries)
        .await?;
    let ends = terms
        .expires_at
        .map(|t| format!("until {}", &crate::clock::rfc3339(t)[..10]))
        .unwrap_or_else(|| "with no end".into());
    let filters = if terms.filtered() {
        "; content filters kept"
    } else {
        ""
    };
    let mut earlier = Vec::new();
    for g in others {
        let who = state
            .store
            .member(g.member_id)
            .await?
            .map(|m| m.display_name)
            .unwrap_or_default();
        earlier.push(who);
        event(
            state,
            "grant.superseded",
            g,
            Some(&format!(
                "the same Plex account's share now belongs to {through}"
            )),
        )
        .await?;
    }
    let detail = format!(
        "{} already had this Plex share (through {}); one share now gives {libraries}, {ends}{filters}",
        grant.identity,
        earlier.join(", ")
    );
    event(state, "grant.combined", grant, Some(&detail)).await
}

/// A stored value usher cannot read stops the job for good, loudly: guessing would make a grant
/// with no libraries or the wrong permissions.
fn unreadable(e: StoreError) -> MediaError {
    tracing::error!(error = %e, "a grant's stored access cannot be read");
    MediaError::Protocol(format!("usher's own record is damaged: {e}"))
}

/// The database failed mid-job: the job is tried again later.
fn store_failed(e: StoreError) -> MediaError {
    MediaError::Server {
        status: 500,
        message: e.to_string(),
    }
}

/// A re-invited person whose earlier account usher left disabled on the server:
/// switch it back on with the new libraries and password instead of refusing the name. Only an
/// account usher itself made for this name is taken over, never a stranger's.
async fn reactivate(
    state: &AppState,
    client: &media::MediaClient,
    grant: &GrantRow,
    spec: &GrantSpec,
) -> Result<Option<media::GrantOutcome>, MediaError> {
    if !client.kind().uses_local_accounts() {
        return Ok(None);
    }
    let Identity::Account {
        username, password, ..
    } = &spec.identity
    else {
        return Ok(None);
    };
    let previous = state
        .store
        .previous_account(grant.server_id, username, grant.id)
        .await
        .map_err(store_failed)?;
    let Some((previous_grant, remote_id)) = previous else {
        return Ok(None);
    };
    // The account must still be there: if the server deleted it, the name belongs to someone else.
    let accounts = client.accounts().await?;
    if !accounts
        .iter()
        .any(|a| a.remote_id == remote_id && a.username.eq_ignore_ascii_case(username))
    {
        return Ok(None);
    }
    if client.can_disable() {
        client.set_disabled(&remote_id, false).await?;
    }
    client
        .update_access(&remote_id, &spec.libraries, &spec.permissions)
        .await?;
    client.set_password(&remote_id, password.expose()).await?;
    // The earlier period ends here, so its expiry can never touch the account again.
    state
        .store
        .supersede_grant(previous_grant, state.clock.now())
        .await
        .map_err(store_failed)?;
    Ok(Some(media::GrantOutcome {
        remote_id,
        remote_user_id: None,
        username: username.clone(),
        pending: false,
    }))
}

async fn remove(
    state: &AppState,
    grant: &GrantRow,
) -> Result<Option<media::GrantOutcome>, MediaError> {
    let Some(remote_id) = grant.remote_id.as_deref().filter(|r| !r.is_empty()) else {
        // Never made on the server: nothing to remove.
        return Ok(None);
    };
    let client = server_client(state, grant.server_id).await?;
    let permissions = grant.permission_set().map_err(unreadable)?;
    if let media::MediaClient::Plex(plex) = &client {
        // A share another live grant still holds stays, with that grant's access.
        let others = state
            .store
            .same_account_grants(
                grant.server_id,
                grant.id,
                &grant.identity,
                Some(remote_id),
                grant.remote_user_id.as_deref(),
            )
            .await
            .map_err(store_failed)?;
        if let Some(keep) = combined(&others, None)? {
            client
                .update_access(remote_id, &keep.libraries, &keep.permissions)
                .await?;
            let mut holders = Vec::new();
            for g in &others {
                if let Some(m) = state
                    .store
                    .member(g.member_id)
                    .await
                    .map_err(store_failed)?
                {
                    holders.push(m.display_name);
                }
            }
            let detail = format!(
                "the Plex share stays for {}, with only their access",
                holders.join(", ")
            );
            event(state, "grant.share_kept", grant, Some(&detail))
                .await
                .map_err(store_failed)?;
            return Ok(None);
        }
        client.remove(remote_id).await?;
        // A managed Home user exists only for this access: it leaves the owner's Home too.
        if permissions.plex_home
            && let Some(user) = grant.remote_user_id.as_deref().filter(|u| !u.is_empty())
        {
            plex.remove_home_user(user).await?;
        }
        return Ok(None);
    }
    client.remove(remote_id).await.map(|_| None)
}

/// Pushes a grant's stored libraries and permissions to the server.
async fn update(state: &AppState, grant: &GrantRow) -> Result<(), MediaError> {
    let remote_id = made_on_server(grant)?;
    let client = server_client(state, grant.server_id).await?;
    let terms = grant.terms().map_err(unreadable)?;
    client
        .update_access(remote_id, &terms.libraries, &terms.permissions)
        .await
}

async fn set_disabled(
    state: &AppState,
    grant: &GrantRow,
    disabled: bool,
) -> Result<(), MediaError> {
    if disabled && grant.remote_id.as_deref().is_none_or(str::is_empty) {
        // Never made on the server: nothing to pause.
        return Ok(());
    }
    let remote_id = made_on_server(grant)?;
    let client = server_client(state, grant.server_id).await?;
    match client.set_disabled(remote_id, disabled).await {
        // An account deleted on the server gives no access either; sync flags it as gone.
        Err(MediaError::NotFound(_)) if disabled => Ok(()),
        other => other,
    }
}

/// The server's id for a grant, which exists once provisioning succeeded.
fn made_on_server(grant: &GrantRow) -> Result<&str, MediaError> {
    grant
        .remote_id
        .as_deref()
        .filter(|r| !r.is_empty())
        .ok_or_else(|| MediaError::Invalid("this access is not set up on the server yet".into()))
}

pub(crate) async fn server_client(
    state: &AppState,
    server_id: ServerId,
) -> Result<media::MediaClient, MediaError> {
    let server = state
        .store
        .server(server_id)
        .await
        .map_err(store_failed)?
        .ok_or_else(|| MediaError::NotFound("the server was removed from usher".into()))?;
    state.client_for(&server).map_err(|e| match e {
        crate::state::ClientError::Media(m) => m,
        other => MediaError::Invalid(other.to_string()),
    })
}

/// Provisions a new member's grants at once. Transient failures stay queued for the worker;
/// the first permanent refusal is returned with the grant it hit.
async fn provision_now(
    state: &AppState,
    member_id: MemberId,
    job_ids: &[JobId],
) -> Result<(Vec<GrantRow>, Option<(GrantId, MediaError)>), StoreError> {
    let mut refused = None;
    for job in job_ids {
        if let Outcome::Failed(e) = run_job_for(state, *job, Audience::Waiting).await? {
            let grant_id = state.store.grant_of_job(*job).await?;
            refused.get_or_insert((grant_id, e));
        }
    }
    state.jobs_wake.notify_one();
    Ok((state.store.member_grants(member_id).await?, refused))
}

/// What setting up a new member's access came to.
pub enum Setup {
    /// Every grant is made or queued for the worker.
    Made(Vec<GrantRow>),
    /// A server refused for good; what was made elsewhere is being taken back.
    Refused { server: String, error: MediaError },
}

/// Provisions a new member's grants at once. On a permanent refusal it takes back what was
/// already made on other servers and, once all of it is undone, forgets the member, freeing
/// the use of `invite` when the member came through one. The one path for redemptions and
/// approvals alike.
pub async fn provision_or_undo(
    state: &AppState,
    member_id: MemberId,
    job_ids: &[JobId],
    invite: Option<InviteId>,
) -> Result<Setup, StoreError> {
    let (grants, refused) = provision_now(state, member_id, job_ids).await?;
    let Some((failed, error)) = refused else {
        return Ok(Setup::Made(grants));
    };
    let server = grants
        .iter()
        .find(|g| g.id == failed)
        .map(|g| g.server_name.clone())
        .unwrap_or_default();
    if undo_grants(state, &grants, failed).await? {
        match invite {
            Some(invite_id) => state.store.release_redemption(member_id, invite_id).await?,
            None => state.store.delete_member(member_id).await?,
        }
    }
    Ok(Setup::Refused { server, error })
}

/// Takes back what a refused setup already made on other servers: queued provisioning is
/// cancelled and made access is removed. True when everything is undone now; otherwise the
/// removals stay queued and the member must be kept so the access is not forgotten.
async fn undo_grants(
    state: &AppState,
    grants: &[GrantRow],
    except: GrantId,
) -> Result<bool, StoreError> {
    let mut all_undone = true;
    for g in grants
        .iter()
        .filter(|g| g.id != except && g.status != GrantStatus::Failed)
    {
        state
            .store
            .cancel_provisioning(g.id, state.clock.now())
            .await?;
        let job = state.store.queue_removal(g.id, state.clock.now()).await?;
        if run_job(state, job).await? != Outcome::Done {
            all_undone = false;
        }
    }
    Ok(all_undone)
}

/// Runs every job that is due now, then the due acceptance checks; returns how many jobs ran.
/// The worker calls this in a loop; tests call it after moving the clock.
pub async fn run_due(state: &AppState) -> Result<usize, StoreError> {
    let ran = run_due_jobs(state).await?;
    acceptance::run_due(state).await?;
    Ok(ran)
}

async fn run_due_jobs(state: &AppState) -> Result<usize, StoreError> {
    let mut ran = 0;
    loop {
        let due = state.store.due_jobs(state.clock.now(), 50).await?;
        if due.is_empty() {
            return Ok(ran);
        }
        let mut progressed = false;
        for id in due {
            if run_job(state, id).await? != Outcome::Skipped {
                ran += 1;
                progressed = true;
            }
        }
        if !progressed {
            return Ok(ran);
        }
    }
}

/// The background worker: runs due jobs, then sleeps until the next one is due or it is woken
/// (new work was queued), checking at least every 30 seconds.
pub async fn worker(state: AppState) {
    loop {
        if let Err(e) = run_due(&state).await {
            tracing::error!(error = %e, "job worker could not read the queue");
        }
        let now = state.clock.now();
        let wait = match state.store.next_job_time().await {
            Ok(Some(t)) if t > now => (t - now).min(30),
            Ok(Some(_)) => 1,
            _ => 30,
        };
        tokio::select! {
            _ = state.jobs_wake.notified() => {}
            _ = tokio::time::sleep(std::time::Duration::from_secs(wait as u64)) => {}
        }
    }
}

/// Appends an event about one of a member's grants: in the member's history, and found by the
/// grant's server in the audit log.
pub(crate) async fn grant_event(
    state: &AppState,
    grant: (MemberId, ServerId),
    actor: &str,
    action: &str,
    subject: &str,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    let (member_id, server_id) = grant;
    state
        .store
        .append_event_about(
            NewEvent {
                actor,
                action,
                subject: Some(subject),
                detail,
            },
            Some(member_id),
            Some(server_id),
            state.clock.now(),
        )
        .await
}
