//! `usher member …` and `usher server sync`: members from a terminal or script.

use crate::domain::ids::*;
use crate::web::error::for_terminal;
use std::io::{IsTerminal, Write};

use super::{ExpiryChange, MemberError};
use crate::clock::{human, rfc3339};
use crate::domain::GrantStatus;
use crate::state::AppState;
use crate::store::members::MemberQuery;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// List members with their access on each server
    List {
        #[arg(long)]
        json: bool,
        /// Search name, email, user name or Plex account
        #[arg(long, default_value = "")]
        search: String,
        /// provisioning, pending, active, disabled, removed, failed, failing or gone
        #[arg(long)]
        status: Option<String>,
        /// Only members with access on this server (its name)
        #[arg(long)]
        server: Option<String>,
        /// invite, request or imported
        #[arg(long)]
        origin: Option<String>,
        /// name (default), created or expires
        #[arg(long)]
        sort: Option<String>,
        /// Newest, latest or Z first
        #[arg(long)]
        desc: bool,
    },
    /// One member with every grant, its libraries and permissions, and the notes
    Show {
        id: MemberId,
        #[arg(long)]
        json: bool,
    },
    /// Set when a member's access ends
    Expire {
        /// The member's id (see `usher member list`)
        id: String,
        /// A date (2026-12-31, through the end of that day UTC), a date and time
        /// (2026-12-31T18:00, UTC), a duration from now (30d) or never
        #[arg(long)]
        at: String,
    },
    /// Set the owner's private notes on a member ("" clears them)
    Notes {
        id: MemberId,
        #[arg(long)]
        set: String,
    },
    /// Change a member's libraries and permissions on one server
    Access {
        id: MemberId,
        /// The server's name
        #[arg(long)]
        server: String,
        /// Library names, comma-separated: every library the member keeps or gets there
        #[arg(long)]
        libraries: String,
        #[arg(long, value_name = "true|false")]
        allow_downloads: Option<bool>,
        #[arg(long, value_name = "true|false")]
        allow_live_tv: Option<bool>,
        #[arg(long, value_name = "true|false")]
        allow_camera_upload: Option<bool>,
        /// Simultaneous streams, 1 to 100, or 0 for no limit
        #[arg(long, value_name = "N")]
        max_streams: Option<u32>,
    },
    /// Pause a member's access on one server (where the server can pause)
    Pause {
        id: MemberId,
        #[arg(long)]
        server: String,
    },
    /// Resume a member's paused access on one server
    Resume {
        id: MemberId,
        #[arg(long)]
        server: String,
    },
    /// Remove a member's access on one server
    Remove {
        id: MemberId,
        #[arg(long)]
        server: String,
    },
}

pub async fn run(state: &AppState, cmd: Command) -> Result<(), String> {
    let fail = |e: MemberError| for_terminal(&state.i18n, &e);
    match cmd {
        Command::List {
            json,
            search,
            status,
            server,
            origin,
            sort,
            desc,
        } => {
            let server_id = match server {
                Some(name) => Some(server_named(state, &name).await?.id),
                None => None,
            };
            let filters = super::ListFilters {
                search,
                status,
                server_id,
                origin,
                sort,
                order: desc.then(|| "desc".to_string()),
            };
            list(state, &filters, json).await
        }
        Command::Show { id, json } => show(state, id, json).await,
        Command::Expire { id, at } => expire(state, &id, &at).await,
        Command::Notes { id, set } => {
            super::set_notes(state, id, &set, "cli")
                .await
                .map_err(fail)?;
            println!("notes of member {id} saved");
            Ok(())
        }
        Command::Access {
            id,
            server,
            libraries,
            allow_downloads,
            allow_live_tv,
            allow_camera_upload,
            max_streams,
        } => {
            let (server, grant) = grant_on(state, id, &server).await?;
            let all = state
                .store
                .libraries(server.id)
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            let chosen = libraries
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| {
                    all.iter()
                        .find(|l| l.name.eq_ignore_ascii_case(n))
                        .map(|l| l.remote_id.clone())
                        .ok_or_else(|| format!("`{n}` is not a library of {}", server.name))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let input = super::AccessInput {
                libraries: chosen,
                changes: crate::domain::access::PermissionChanges {
                    allow_downloads,
                    allow_live_tv,
                    allow_camera_upload,
                    max_sessions: max_streams.map(|n| (n != 0).then_some(n)),
                    ..Default::default()
                },
            };
            let outcome = super::change_access(state, id, grant, &input, "cli")
                .await
                .map_err(fail)?;
            println!(
                "access of member {id} on {}: {}",
                server.name,
                said(&outcome)
            );
            Ok(())
        }
        Command::Pause { id, server } => pause_or_resume(state, id, &server, true).await,
        Command::Resume { id, server } => pause_or_resume(state, id, &server, false).await,
        Command::Remove { id, server } => {
            let (server, grant) = grant_on(state, id, &server).await?;
            let outcome = super::remove_grant(state, id, grant, "cli")
                .await
                .map_err(fail)?;
            println!(
                "access of member {id} on {}: {}",
                server.name,
                said(&outcome)
            );
            Ok(())
        }
    }
}

async fn server_named(
    state: &AppState,
    name: &str,
) -> Result<crate::store::servers::ServerRow, String> {
    state
        .store
        .server_by_name(name)
        .await
        .map_err(|e| for_terminal(&state.i18n, &e))?
        .ok_or_else(|| format!("no server named `{name}`: see `usher server list`"))
}

/// The member's grant on the server called `name`: the live one, else the newest.
async fn grant_on(
    state: &AppState,
    member: MemberId,
    name: &str,
) -> Result<(crate::store::servers::ServerRow, GrantId), String> {
    let server = server_named(state, name).await?;
    let grants = state
        .store
        .member_grants(member)
        .await
        .map_err(|e| for_terminal(&state.i18n, &e))?;
    let on: Vec<_> = grants.iter().filter(|g| g.server_id == server.id).collect();
    let grant = on
        .iter()
        .find(|g| g.status.is_live())
        .or_else(|| on.iter().max_by_key(|g| g.id))
        .ok_or_else(|| {
            format!(
                "member {member} has no access on {}: see `usher member show {member}`",
                server.name
            )
        })?;
    Ok((server, grant.id))
}

/// What a change did on the server, in a few words.
fn said(outcome: &crate::provisioning::Outcome) -> String {
    use crate::provisioning::Outcome;
    match outcome {
        Outcome::Done => "done".into(),
        Outcome::Retrying(e) => format!("the server did not answer yet; usher keeps trying ({e})"),
        Outcome::Failed(e) => format!("the server refused: {e}"),
        Outcome::Skipped => "already under way".into(),
    }
}

async fn pause_or_resume(
    state: &AppState,
    id: MemberId,
    server: &str,
    pause: bool,
) -> Result<(), String> {
    let (server, grant) = grant_on(state, id, server).await?;
    let outcome = super::set_paused(state, id, grant, pause, "cli")
        .await
        .map_err(|e| for_terminal(&state.i18n, &e))?;
    let what = if pause { "paused" } else { "resumed" };
    println!(
        "access of member {id} on {} {what}: {}",
        server.name,
        said(&outcome)
    );
    Ok(())
}

async fn show(state: &AppState, id: MemberId, json: bool) -> Result<(), String> {
    let err = |e: crate::store::StoreError| for_terminal(&state.i18n, &e);
    let member = state
        .store
        .member(id)
        .await
        .map_err(err)?
        .ok_or_else(|| format!("no member has the id {id}: see `usher member list`"))?;
    let grants = state.store.member_grants(id).await.map_err(err)?;
    if json {
        let out = super::api::member_json(&member, &grants.iter().collect::<Vec<_>>());
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return Ok(());
    }
    println!(
        "{} (member {id}, {})",
        member.display_name,
        member.origin.as_str()
    );
    for (label, value) in [
        ("email", member.email.as_deref()),
        ("user name", member.username.as_deref()),
        ("Plex account", member.plex_account.as_deref()),
        ("invite", member.invite_code.as_deref()),
        ("notes", member.notes.as_deref()),
    ] {
        if let Some(v) = value {
            println!("  {label}: {v}");
        }
    }
    for g in &grants {
        let names = state
            .store
            .library_names(g.server_id, &g.library_ids().unwrap_or_default())
            .await
            .map_err(err)?;
        println!(
            "  {} ({}): {} as {}, libraries {}, ends {}",
            g.server_name,
            g.server_kind.display_name(),
            g.status,
            g.identity,
            if names.is_empty() { "-".into() } else { names },
            g.expires_at.map_or_else(|| "never".to_string(), human)
        );
        if let Some(e) = &g.last_error {
            println!("    last error: {e}");
        }
    }
    Ok(())
}

async fn list(state: &AppState, filters: &super::ListFilters, json: bool) -> Result<(), String> {
    let err = |e: crate::store::StoreError| for_terminal(&state.i18n, &e);
    let mut rows = Vec::new();
    let mut offset = 0;
    // Page through, so memory stays flat however many members there are.
    loop {
        let query: MemberQuery = filters
            .query(500, offset)
            .map_err(|e| for_terminal(&state.i18n, &e))?;
        let (page, _) = state.store.list_members(&query).await.map_err(err)?;
        let done = page.len() < 500;
        offset += 500;
        rows.extend(page);
        if done {
            break;
        }
    }
    let ids: Vec<MemberId> = rows.iter().map(|r| r.member.id).collect();
    let mut grants = Vec::new();
    for chunk in ids.chunks(500) {
        grants.extend(state.store.grants_of_members(chunk).await.map_err(err)?);
    }
    let state_of = |g: &crate::store::members::MemberGrantRow| {
        if g.failing_kind.is_some() {
            "failing".to_string()
        } else if g.gone_at.is_some() && g.grant.status != GrantStatus::Removed {
            format!("{} (gone from server)", g.grant.status)
        } else {
            g.grant.status.to_string()
        }
    };
    if json {
        let out: Vec<_> = rows
            .iter()
            .map(|r| {
                let m = &r.member;
                let mine: Vec<_> = grants
                    .iter()
                    .filter(|g| g.grant.member_id == m.id)
                    .map(|g| {
                        serde_json::json!({
                            "id": g.grant.id,
                            "server": g.grant.server_name,
                            "kind": g.grant.server_kind,
                            "status": g.grant.status,
                            "failing": g.failing_error,
                            "gone_from_server": g.gone_at.is_some() && g.grant.status != GrantStatus::Removed,
                            "libraries": g.grant.library_ids().ok(),
                            "expires_at": g.grant.expires_at.map(rfc3339),
                        })
                    })
                    .collect();
                serde_json::json!({
                    "id": m.id,
                    "name": m.display_name,
                    "email": m.email,
                    "username": m.username,
                    "plex_account": m.plex_account,
                    "origin": m.origin,
                    "invite_code": m.invite_code,
                    "created_at": rfc3339(m.created_at),
                    "expires_at": r.expires_at.map(rfc3339),
                    "grants": mine,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return Ok(());
    }
    if rows.is_empty() {
        println!(
            "no members yet: they appear when someone redeems an invite, or run `usher server sync NAME` to import existing accounts"
        );
        return Ok(());
    }
    println!(
        "{:<6} {:<24} {:<9} {:<20} ACCESS",
        "ID", "NAME", "ORIGIN", "EXPIRES"
    );
    for r in &rows {
        let mine: Vec<_> = grants
            .iter()
            .filter(|g| g.grant.member_id == r.member.id)
            .collect();
        let live = mine.iter().any(|g| g.grant.status.is_live());
        let access: Vec<String> = mine
            .iter()
            .map(|g| format!("{}: {}", g.grant.server_name, state_of(g)))
            .collect();
        println!(
            "{:<6} {:<24} {:<9} {:<20} {}",
            r.member.id,
            r.member.display_name,
            r.member.origin.as_str(),
            match (r.expires_at, live) {
                (Some(t), _) => human(t),
                (None, true) => "never".into(),
                (None, false) => "-".into(),
            },
            access.join(", ")
        );
    }
    Ok(())
}

async fn expire(state: &AppState, id: &str, at: &str) -> Result<(), String> {
    let member_id: MemberId = id
        .trim()
        .parse()
        .map_err(|_| format!("`{id}` is not a member id: see `usher member list`"))?;
    let change = match crate::domain::rules::parse_expiry(at, state.clock.now()) {
        Ok(None) => ExpiryChange::Clear,
        Ok(Some(t)) => ExpiryChange::Set(t),
        Err(e) => return Err(format!("--at: {e}")),
    };
    let member = state
        .store
        .member(member_id)
        .await
        .map_err(|e| for_terminal(&state.i18n, &e))?
        .ok_or_else(|| format!("no member has the id {member_id}: see `usher member list`"))?;
    match super::change_expiry(state, member_id, change, "cli").await {
        Ok(Some(t)) => {
            println!(
                "member {member_id} ({}) now expires {}",
                member.display_name,
                human(t)
            );
            Ok(())
        }
        Ok(None) => {
            println!(
                "member {member_id} ({}) now never expires",
                member.display_name
            );
            Ok(())
        }
        Err(MemberError::Conflict { .. }) => Err(format!(
            "member {member_id} ({}) has no access left to expire",
            member.display_name
        )),
        Err(e) => Err(for_terminal(&state.i18n, &e)),
    }
}

/// `usher server sync [NAME]`: one line per server, e.g.
/// `syncing Home Plex… 12 accounts, 2 imported, 1 gone`.
pub async fn sync(state: &AppState, name: Option<&str>) -> Result<(), String> {
    let servers = match name {
        Some(n) => vec![
            state
                .store
                .server_by_name(n)
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?
                .ok_or_else(|| format!("no server named `{n}`: see `usher server list`"))?,
        ],
        None => state
            .store
            .servers()
            .await
            .map_err(|e| for_terminal(&state.i18n, &e))?
            .into_iter()
            .map(|s| s.server)
            .collect(),
    };
    if servers.is_empty() {
        return Err("no servers yet: add one with `usher server add …`".into());
    }
    let terminal = std::io::stdout().is_terminal();
    let mut failed = Vec::new();
    for server in servers {
        let mut out = std::io::stdout();
        if terminal {
            // The line is finished when the server answers.
            let _ = write!(out, "syncing {}… ", server.name);
            let _ = out.flush();
        }
        match super::sync::sync_server(state, server.id).await {
            Ok(r) => {
                if terminal {
                    println!("{}", r.summary());
                } else {
                    println!("syncing {}… {}", server.name, r.summary());
                }
            }
            Err(e) => {
                let why = for_terminal(&state.i18n, &e);
                if terminal {
                    println!("failed");
                } else {
                    println!("syncing {}… failed", server.name);
                }
                failed.push(format!("{}: {why}", server.name));
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}
