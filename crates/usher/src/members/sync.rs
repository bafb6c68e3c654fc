//! Sync: comparing a server's accounts with usher's members. Accounts usher did not make are
//! imported as members (origin `imported`); Plex invites the friend accepted become active;
//! access usher knows but the server no longer has is flagged "gone from server" (history is
//! kept). Running it again changes nothing.

use crate::domain::ids::*;
use std::collections::HashSet;

use media::{AccountStatus, RemoteAccount};
use serde::Serialize;

use crate::domain::GrantStatus;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::invites::NewMember;
use crate::store::members::{ImportInto, ImportedGrant, SyncGrant};
use crate::store::servers::ServerRow;

/// What one server's sync found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub server_id: ServerId,
    pub server: String,
    /// Accounts on the server (administrators excluded).
    pub accounts: usize,
    pub imported: usize,
    /// Plex invites accepted since the last look.
    pub activated: usize,
    /// Access usher knows that the server no longer has.
    pub gone: usize,
    /// Access flagged gone before that is back.
    pub back: usize,
}

impl SyncReport {
    /// `12 accounts, 2 imported, 1 gone` (and what else happened).
    pub fn summary(&self) -> String {
        let mut out = format!(
            "{} account{}, {} imported, {} gone",
            self.accounts,
            if self.accounts == 1 { "" } else { "s" },
            self.imported,
            self.gone
        );
        if self.activated > 0 {
            out.push_str(&format!(", {} accepted", self.activated));
        }
        if self.back > 0 {
            out.push_str(&format!(", {} back", self.back));
        }
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("no such server")]
    NotFound,
    #[error("{0}")]
    Client(#[from] crate::state::ClientError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl crate::web::error::Failure for SyncError {
    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode as S;
        match self {
            SyncError::NotFound => S::NOT_FOUND,
            SyncError::Client(crate::state::ClientError::TokenUnreadable) => S::CONFLICT,
            SyncError::Client(crate::state::ClientError::Media(_)) => S::BAD_GATEWAY,
            SyncError::Store(_) => S::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            SyncError::NotFound => "not_found",
            SyncError::Client(crate::state::ClientError::TokenUnreadable) => "token_unreadable",
            SyncError::Client(crate::state::ClientError::Media(_)) => "server_refused",
            SyncError::Store(_) => "internal",
        }
    }

    fn message_key(&self) -> &'static str {
        match self {
            SyncError::NotFound => "error-not-found",
            SyncError::Client(crate::state::ClientError::TokenUnreadable) => {
                "server-token-unreadable"
            }
            SyncError::Client(crate::state::ClientError::Media(e)) => {
                crate::web::error::media_error_key(e)
            }
            SyncError::Store(_) => "error-internal",
        }
    }

    /// The server's own words, where it said something.
    fn detail(&self) -> Option<String> {
        match self {
            SyncError::Client(crate::state::ClientError::Media(e)) => Some(e.to_string()),
            _ => None,
        }
    }
}

/// Syncs one server and records when (and whether it worked) on the server.
pub async fn sync_server(state: &AppState, server_id: ServerId) -> Result<SyncReport, SyncError> {
    sync_server_as(state, server_id, None).await
}

/// Syncs one server for an admin who asked (`Some(name)`) or on schedule (`None`). The audit log
/// records a sync an admin asked for, and any sync that changed something or failed; drift
/// (accounts new on the server, access gone from it) is also sent to the owner's channels.
pub async fn sync_server_as(
    state: &AppState,
    server_id: ServerId,
    admin: Option<&str>,
) -> Result<SyncReport, SyncError> {
    let server = state
        .store
        .server(server_id)
        .await?
        .ok_or(SyncError::NotFound)?;
    let mut drift = Drift::default();
    let result = read_and_apply(state, &server, &mut drift).await;
    let error = match &result {
        Err(SyncError::Client(e)) => Some(e.to_string()),
        _ => None,
    };
    if !matches!(result, Err(SyncError::Store(_))) {
        state
            .store
            .set_server_synced(server.id, error.as_deref(), state.clock.now())
            .await?;
    }
    let changed = result
        .as_ref()
        .is_ok_and(|r| r.imported + r.gone + r.activated + r.back > 0);
    if admin.is_some() || changed || error.is_some() {
        let (action, detail) = match (&result, &error) {
            (Ok(r), _) => ("server.synced", r.summary()),
            (Err(_), Some(e)) => ("server.sync_failed", e.clone()),
            (Err(e), None) => ("server.sync_failed", e.to_string()),
        };
        state
            .store
            .append_event_about(
                crate::store::events::NewEvent {
                    actor: admin.unwrap_or("sync"),
                    action,
                    subject: Some(&server.name),
                    detail: Some(&detail),
                },
                None,
                Some(server.id),
                state.clock.now(),
            )
            .await?;
    }
    if !drift.imported.is_empty() || !drift.gone.is_empty() {
        let event = crate::notify::Event::new(crate::notify::Kind::SyncDrift, state.clock.now())
            .with("server_id", server.id)
            .with("server", server.name.as_str())
            .with("imported_count", drift.imported.len())
            .with("gone_count", drift.gone.len())
            .with("imported", drift.imported)
            .with("gone", drift.gone)
            .link(state, &format!("/admin/members?server={}", server.id));
        crate::notify::emit(state, event).await;
    }
    result
}

/// What a sync found that the owner did not do through usher: who they are.
#[derive(Debug, Default)]
struct Drift {
    imported: Vec<String>,
    gone: Vec<String>,
}

async fn read_and_apply(
    state: &AppState,
    server: &ServerRow,
    drift: &mut Drift,
) -> Result<SyncReport, SyncError> {
    let client = state.client_for(server)?;
    let accounts: Vec<RemoteAccount> = client
        .accounts()
        .await
        .map_err(crate::state::ClientError::from)?
        .into_iter()
        .filter(|a| !a.is_admin)
        .collect();
    let now = state.clock.now();
    let grants = state.store.sync_grants(server.id).await?;
    let plex = server.kind.is_plex();
    let mut report = SyncReport {
        server_id: server.id,
        server: server.name.clone(),
        accounts: accounts.len(),
        imported: 0,
        activated: 0,
        gone: 0,
        back: 0,
    };
    let all_libraries: Vec<String> = state
        .store
        .libraries(server.id)
        .await?
        .into_iter()
        .filter(|l| l.present)
        .map(|l| l.remote_id)
        .collect();
    let mut seen: HashSet<&str> = HashSet::new();
    for account in &accounts {
        seen.insert(account.remote_id.as_str());
        let known = grants
            .iter()
            .find(|g| g.remote_id.as_deref() == Some(account.remote_id.as_str()));
        match known {
            Some(g) => {
                if g.status == GrantStatus::Pending
                    && account.status == AccountStatus::Active
                    && state.store.activate_pending_grant(g.id, now).await?
                {
                    report.activated += 1;
                    event(state, g, server, "grant.accepted", None).await?;
                }
                if g.gone_at.is_some() {
                    state.store.set_grant_gone(g.id, None).await?;
                    report.back += 1;
                    event(state, g, server, "grant.back_on_server", None).await?;
                }
            }
            None if being_provisioned(&grants, account) => {}
            None => {
                let name = import(state, server, plex, account, &all_libraries).await?;
                drift.imported.push(name);
                report.imported += 1;
            }
        }
    }
    for g in &grants {
        let on_server = g.status.is_made();
        let Some(remote_id) = g.remote_id.as_deref().filter(|r| !r.is_empty()) else {
            continue;
        };
        if on_server && g.gone_at.is_none() && !seen.contains(remote_id) {
            state.store.set_grant_gone(g.id, Some(now)).await?;
            drift.gone.push(g.identity.clone());
            report.gone += 1;
            event(state, g, server, "grant.gone_from_server", None).await?;
        }
    }
    Ok(report)
}

/// An account whose grant is still being made has no server id in usher yet: it is ours.
fn being_provisioned(grants: &[SyncGrant], account: &RemoteAccount) -> bool {
    grants.iter().any(|g| {
        g.status == GrantStatus::Provisioning
            && (g.identity.eq_ignore_ascii_case(&account.username)
                || account
                    .email
                    .as_deref()
                    .is_some_and(|e| g.identity.eq_ignore_ascii_case(e)))
    })
}

async fn import(
    state: &AppState,
    server: &ServerRow,
    plex: bool,
    account: &RemoteAccount,
    all_libraries: &[String],
) -> Result<String, SyncError> {
    let username = account.username.trim();
    let email = account
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    let identity = if username.is_empty() {
        email.unwrap_or_default()
    } else {
        username
    };
    let display_name = identity.split('@').next().unwrap_or(identity).to_string();
    let identity_key = identity.to_lowercase();
    let mut names = vec![identity];
    names.extend(email);
    let into = match state
        .store
        .member_to_import_into(server.id, plex, &names)
        .await?
    {
        Some(id) => ImportInto::Existing(id),
        None => ImportInto::New(NewMember {
            display_name: &display_name,
            email,
            plex_account: plex.then_some(identity),
            username: (!plex).then_some(identity),
            identity_key: &identity_key,
            origin: crate::domain::MemberOrigin::Imported,
            invite_id: None,
            invite_code: None,
            lang: crate::ui::i18n::DEFAULT_LANG,
        }),
    };
    let libraries = if account.all_libraries {
        all_libraries.to_vec()
    } else {
        account.libraries.clone()
    };
    let status = match account.status {
        AccountStatus::Pending => GrantStatus::Pending,
        AccountStatus::Active => GrantStatus::Active,
        AccountStatus::Disabled => GrantStatus::Disabled,
    };
    let now = state.clock.now();
    let (member_id, _) = state
        .store
        .import_account(
            into,
            ImportedGrant {
                server_id: server.id,
                status,
                identity,
                libraries,
                remote_id: &account.remote_id,
                remote_user_id: account.remote_user_id.as_deref(),
            },
            now,
        )
        .await?;
    crate::provisioning::grant_event(
        state,
        (member_id, server.id),
        "sync",
        "member.imported",
        &crate::domain::grant_subject(identity, &server.name),
        Some("found on the server, not added through usher"),
    )
    .await?;
    Ok(identity.to_string())
}

async fn event(
    state: &AppState,
    g: &SyncGrant,
    server: &ServerRow,
    action: &str,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    let subject = crate::domain::grant_subject(&g.identity, &server.name);
    crate::provisioning::grant_event(
        state,
        (g.member_id, server.id),
        "sync",
        action,
        &subject,
        detail,
    )
    .await
}

/// Syncs every server, one after the other; each result stands alone.
pub async fn sync_all(
    state: &AppState,
) -> Result<Vec<(String, Result<SyncReport, SyncError>)>, StoreError> {
    sync_all_as(state, None).await
}

/// [`sync_all`] for an admin who asked.
pub async fn sync_all_as(
    state: &AppState,
    admin: Option<&str>,
) -> Result<Vec<(String, Result<SyncReport, SyncError>)>, StoreError> {
    let mut out = Vec::new();
    for s in state.store.servers().await? {
        let result = sync_server_as(state, s.server.id, admin).await;
        out.push((s.server.name, result));
    }
    Ok(out)
}

/// Syncs the servers not synced for `sync_hours`; returns how many were tried.
pub async fn sync_due(state: &AppState) -> Result<usize, StoreError> {
    let hours = i64::from(state.config.sync_hours);
    if hours == 0 {
        return Ok(0);
    }
    let due = state
        .store
        .servers_due_for_sync(state.clock.now() - hours * 3600)
        .await?;
    for id in &due {
        match sync_server(state, *id).await {
            Ok(r) => tracing::info!(server = %r.server, summary = %r.summary(), "synced"),
            Err(e) => tracing::warn!(server = %id, error = %e, "sync failed"),
        }
    }
    Ok(due.len())
}
