//! Access profiles (tiers): "Family", "Kids", "Trial 7 days". A profile names servers, libraries,
//! permissions and an access duration; invites and approvals are made from it, and an edited
//! profile can be pushed to every member who holds it.

pub mod api;
pub mod cli;
pub mod routes;

use crate::domain::access::{PermissionChanges, ServerChoice};
use crate::domain::ids::*;
use crate::state::AppState;
use crate::store::events::NewEvent;
use crate::store::profiles::ProfileRow;

/// This feature's pages and endpoints, as the router registers them.
pub fn routes(r: crate::web::Routes) -> crate::web::Routes {
    use crate::web::ADMIN;
    use routes::*;
    r.get("/admin/profiles", ADMIN, list)
        .post("/admin/profiles", ADMIN, create)
        .get("/admin/profiles/{id}", ADMIN, edit)
        .post("/admin/profiles/{id}", ADMIN, update)
        .post("/admin/profiles/{id}/duplicate", ADMIN, duplicate)
        .post("/admin/profiles/{id}/delete", ADMIN, delete)
        .api(api::endpoints())
}

#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub name: String,
    pub description: String,
    pub duration: String,
    /// (server id, sharing ids, changes to the server's default permissions)
    pub servers: Vec<(ServerId, Vec<String>, PermissionChanges)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("a profile name is 1–40 characters")]
    BadName,
    #[error("a profile with that name already exists")]
    NameTaken,
    #[error("the description is at most 200 characters")]
    BadDescription,
    #[error("write the access duration like 30d, or leave it empty for forever")]
    BadDuration,
    #[error("choose at least one server")]
    NoServer,
    #[error("choose at least one library on {0}")]
    NoLibrary(String),
    #[error("`{library}` is not offered on {server}")]
    UnknownLibrary { server: String, library: String },
    /// [`crate::store::servers::ServerRow::cannot_keep_note`].
    #[error("{0}")]
    CannotLimit(String),
    #[error("{server}: {source}")]
    Permission {
        server: String,
        source: crate::domain::access::PermissionError,
    },
    #[error("no such profile")]
    NotFound,
    #[error(
        "this profile is used by {invites} invites and {members} members: choose another profile for them first"
    )]
    InUse { invites: i64, members: i64 },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The owner's mistakes are explained in English words (the profile form shows them as they
/// are); a missing profile is a 404 and a database failure a 500.
impl crate::web::error::Failure for ProfileError {
    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode as S;
        match self {
            ProfileError::NotFound => S::NOT_FOUND,
            ProfileError::NameTaken | ProfileError::InUse { .. } => S::CONFLICT,
            ProfileError::Store(_) => S::INTERNAL_SERVER_ERROR,
            _ => S::UNPROCESSABLE_ENTITY,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ProfileError::NotFound => "not_found",
            ProfileError::NameTaken => "name_taken",
            ProfileError::InUse { .. } => "in_use",
            ProfileError::Store(_) => "internal",
            _ => "invalid",
        }
    }

    fn message_key(&self) -> &'static str {
        match self {
            ProfileError::NotFound => "error-not-found",
            ProfileError::Store(_) => "error-internal",
            _ => "error-bad-request",
        }
    }

    fn detail(&self) -> Option<String> {
        match self {
            ProfileError::NotFound | ProfileError::Store(_) => None,
            other => Some(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for ProfileError {
    fn from(e: sqlx::Error) -> Self {
        if crate::store::is_unique_violation(&e) {
            ProfileError::NameTaken
        } else {
            ProfileError::Store(e.into())
        }
    }
}

async fn validated(
    state: &AppState,
    input: &ProfileInput,
) -> Result<Vec<(ServerId, Vec<String>, media::Permissions)>, ProfileError> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 40 || name.chars().any(crate::text::unprintable) {
        return Err(ProfileError::BadName);
    }
    if input.description.chars().count() > 200 {
        return Err(ProfileError::BadDescription);
    }
    crate::domain::rules::AccessLength::parse(&input.duration)
        .map_err(|_| ProfileError::BadDuration)?;
    if input.servers.is_empty() {
        return Err(ProfileError::NoServer);
    }
    let mut out = Vec::new();
    for (server_id, libraries, changes) in &input.servers {
        let server = state
            .store
            .server(*server_id)
            .await?
            .ok_or(ProfileError::NoServer)?;
        if libraries.is_empty() {
            return Err(ProfileError::NoLibrary(server.name));
        }
        let offered = state.store.libraries(server.id).await?;
        for l in libraries {
            if !offered
                .iter()
                .any(|o| &o.remote_id == l && o.enabled && o.present)
            {
                return Err(ProfileError::UnknownLibrary {
                    server: server.name.clone(),
                    library: l.clone(),
                });
            }
        }
        if server.cannot_keep_to(&offered, libraries) {
            return Err(ProfileError::CannotLimit(server.cannot_keep_note()));
        }
        let permissions =
            server
                .permissions_with(Some(changes))
                .map_err(|source| ProfileError::Permission {
                    server: server.name.clone(),
                    source,
                })?;
        out.push((server.id, libraries.clone(), permissions));
    }
    Ok(out)
}

pub async fn save(
    state: &AppState,
    id: Option<ProfileId>,
    input: &ProfileInput,
    actor: &str,
) -> Result<ProfileId, ProfileError> {
    if let Some(id) = id {
        state
            .store
            .profile(id)
            .await?
            .ok_or(ProfileError::NotFound)?;
    }
    let servers = validated(state, input).await?;
    let duration = if input.duration.trim() == "forever" {
        ""
    } else {
        input.duration.trim()
    };
    let pid = state
        .store
        .save_profile(
            id,
            input.name.trim(),
            input.description.trim(),
            duration,
            &servers,
            state.clock.now(),
        )
        .await?;
    let action = if id.is_some() {
        "profile.updated"
    } else {
        "profile.created"
    };
    state
        .record_event(actor, action, Some(input.name.trim()), None)
        .await?;
    Ok(pid)
}

/// The profile and what it grants on each server, as stored.
pub async fn stored(
    state: &AppState,
    id: ProfileId,
) -> Result<(ProfileRow, Vec<ServerChoice>), ProfileError> {
    let p = state
        .store
        .profile(id)
        .await?
        .ok_or(ProfileError::NotFound)?;
    let mut servers = Vec::new();
    for s in state.store.profile_servers(id).await? {
        let owner = || format!("profile {id}");
        servers.push(ServerChoice {
            server_id: s.server_id,
            libraries: crate::store::decode_json("libraries", owner, &s.libraries)?,
            permissions: crate::store::decode_json("permissions", owner, &s.permissions)?,
        });
    }
    Ok((p, servers))
}

/// The profile's settings as an editable input.
pub async fn input_of(
    state: &AppState,
    id: ProfileId,
) -> Result<(ProfileRow, ProfileInput), ProfileError> {
    let (p, servers) = stored(state, id).await?;
    let input = ProfileInput {
        name: p.name.clone(),
        description: p.description.clone(),
        duration: p.duration.clone(),
        servers: servers
            .into_iter()
            .map(|c| (c.server_id, c.libraries, c.permissions.into()))
            .collect(),
    };
    Ok((p, input))
}

pub async fn duplicate(
    state: &AppState,
    id: ProfileId,
    actor: &str,
) -> Result<ProfileId, ProfileError> {
    let (p, mut input) = input_of(state, id).await?;
    let mut n = 2;
    loop {
        input.name = format!("{} ({n})", p.name).chars().take(40).collect();
        if state.store.profile_by_name(&input.name).await?.is_none() {
            break;
        }
        n += 1;
    }
    save(state, None, &input, actor).await
}

pub async fn delete(
    state: &AppState,
    id: ProfileId,
    reassign_to: Option<ProfileId>,
    actor: &str,
) -> Result<(), ProfileError> {
    let usage = state
        .store
        .profiles()
        .await?
        .into_iter()
        .find(|p| p.profile.id == id)
        .ok_or(ProfileError::NotFound)?;
    if let Some(other) = reassign_to {
        if other == id || state.store.profile(other).await?.is_none() {
            return Err(ProfileError::NotFound);
        }
    } else if usage.invites > 0 || usage.members > 0 {
        return Err(ProfileError::InUse {
            invites: usage.invites,
            members: usage.members,
        });
    }
    state.store.delete_profile(id, reassign_to).await?;
    state
        .store
        .append_event(
            NewEvent {
                actor,
                action: "profile.deleted",
                subject: Some(&usage.profile.name),
                detail: None,
            },
            state.clock.now(),
        )
        .await?;
    Ok(())
}

/// An invite's targets from a profile.
pub async fn invite_targets(
    state: &AppState,
    id: ProfileId,
) -> Result<(ProfileRow, Vec<crate::domain::access::TargetInput>), ProfileError> {
    let (p, servers) = stored(state, id).await?;
    let targets = servers
        .into_iter()
        .map(|c| crate::domain::access::TargetInput {
            server_id: c.server_id,
            libraries: Some(c.libraries),
            permissions: Some(c.permissions.into()),
        })
        .collect();
    Ok((p, targets))
}

/// An approval's selection from a profile.
pub async fn selection(
    state: &AppState,
    id: ProfileId,
) -> Result<crate::domain::access::Selection, ProfileError> {
    let (p, servers) = stored(state, id).await?;
    Ok(crate::domain::access::Selection {
        servers,
        duration: p.duration,
        profile_id: Some(id),
    })
}

/// What applying an edited profile did, member by member.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ApplyReport {
    /// (member id, member name, server name, outcome): "done", "retrying: …" or "failed: …".
    pub results: Vec<(MemberId, String, String, String)>,
}

/// Pushes a profile's libraries and permissions to every live grant made from it. Failures are
/// retried by the job worker like any provisioning.
pub async fn apply_to_members(
    state: &AppState,
    id: ProfileId,
    actor: &str,
) -> Result<ApplyReport, ProfileError> {
    let (_, servers) = stored(state, id).await?;
    let mut report = ApplyReport::default();
    for (member_id, grant_id, server_id) in state.store.profile_grants(id).await? {
        let Some(choice) = servers.iter().find(|c| c.server_id == server_id) else {
            continue;
        };
        // Everything the profile sets, content filters included.
        let access = crate::members::AccessInput {
            libraries: choice.libraries.clone(),
            changes: choice.permissions.clone().into(),
        };
        let name = state
            .store
            .member(member_id)
            .await?
            .map(|m| m.display_name)
            .unwrap_or_default();
        let server = state
            .store
            .server(server_id)
            .await?
            .map(|s| s.name)
            .unwrap_or_default();
        let outcome =
            match crate::members::change_access(state, member_id, grant_id, &access, actor).await {
                Ok(crate::provisioning::Outcome::Done)
                | Ok(crate::provisioning::Outcome::Skipped) => "done".to_string(),
                Ok(crate::provisioning::Outcome::Retrying(e)) => format!("retrying: {e}"),
                Ok(crate::provisioning::Outcome::Failed(e)) => format!("failed: {e}"),
                Err(e) => format!("failed: {e}"),
            };
        report.results.push((member_id, name, server, outcome));
    }
    Ok(report)
}
