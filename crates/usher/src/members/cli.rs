//! `usher member …` and `usher server sync`: members from a terminal or script.

use crate::domain::ids::*;
use crate::web::error::for_terminal;
use std::io::{IsTerminal, Write};

use super::{ExpiryChange, MemberError};
use crate::clock::{human, rfc3339};
use crate::domain::GrantStatus;
use crate::state::AppState;
use crate::store::members::MemberQuery;

pub enum Command {
    List { json: bool },
    Expire { id: String, at: String },
}

pub async fn run(state: &AppState, cmd: Command) -> Result<(), String> {
    match cmd {
        Command::List { json } => list(state, json).await,
        Command::Expire { id, at } => expire(state, &id, &at).await,
    }
}

async fn list(state: &AppState, json: bool) -> Result<(), String> {
    let err = |e: crate::store::StoreError| for_terminal(&state.i18n, &e);
    let mut rows = Vec::new();
    let mut offset = 0;
    // Page through, so memory stays flat however many members there are.
    loop {
        let query = MemberQuery {
            limit: 500,
            offset,
            ..MemberQuery::default()
        };
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
