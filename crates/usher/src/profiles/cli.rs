//! `usher profile …`: access profiles from a terminal; a profile is written as the same JSON
//! the API takes (`{"name", "description", "duration", "servers": [{"server_id", "libraries",
//! "permissions"}]}`).

use std::io::Read;

use crate::domain::ids::ProfileId;
use crate::state::AppState;
use crate::web::error::for_terminal;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// List access profiles with how many invites and members use each
    List {
        #[arg(long)]
        json: bool,
    },
    /// One profile as JSON (the shape `save` reads)
    Show { id: ProfileId },
    /// Make a profile, or replace one with --id, from JSON on standard input
    Save {
        #[arg(long)]
        id: Option<ProfileId>,
    },
    /// Copy a profile under a new name
    Duplicate { id: ProfileId },
    /// Give every member who holds the profile what it gives now
    Apply { id: ProfileId },
    /// Delete a profile; --reassign moves its invites and members to another
    Delete {
        id: ProfileId,
        #[arg(long)]
        reassign: Option<ProfileId>,
    },
}

/// The profile a `--profile NAME` flag names, if one was given.
pub async fn named(state: &AppState, name: Option<&str>) -> Result<Option<ProfileId>, String> {
    let Some(name) = name else { return Ok(None) };
    let profile = state
        .store
        .profile_by_name(name)
        .await
        .map_err(|e| for_terminal(&state.i18n, &e))?
        .ok_or_else(|| format!("no profile named `{name}`: see `usher profile list`"))?;
    Ok(Some(profile.id))
}

pub async fn run(state: &AppState, cmd: Command) -> Result<(), String> {
    let fail = |e: super::ProfileError| for_terminal(&state.i18n, &e);
    let shown = |id| async move {
        super::api::profile_json(state, id).await.map_err(|e| {
            e.detail
                .unwrap_or_else(|| state.i18n.text("en", e.message_key))
        })
    };
    match cmd {
        Command::List { json } => {
            let profiles = state
                .store
                .profiles()
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            if json {
                let mut out = Vec::new();
                for p in &profiles {
                    out.push(super::api::usage_json(state, p).await.map_err(|e| {
                        e.detail
                            .unwrap_or_else(|| state.i18n.text("en", e.message_key))
                    })?);
                }
                println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            } else if profiles.is_empty() {
                println!("no profiles yet: make one with `usher profile save < profile.json`");
            } else {
                println!(
                    "{:<5} {:<32} {:<9} {:<8} MEMBERS",
                    "ID", "NAME", "DURATION", "INVITES"
                );
                for p in profiles {
                    let d = if p.profile.duration.is_empty() {
                        "forever"
                    } else {
                        &p.profile.duration
                    };
                    println!(
                        "{:<5} {:<32} {:<9} {:<8} {}",
                        p.profile.id, p.profile.name, d, p.invites, p.members
                    );
                }
            }
            Ok(())
        }
        Command::Show { id } => {
            println!(
                "{}",
                serde_json::to_string_pretty(&shown(id).await?).unwrap_or_default()
            );
            Ok(())
        }
        Command::Save { id } => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("could not read standard input: {e}"))?;
            let body: super::api::ProfileBody = serde_json::from_str(&text)
                .map_err(|e| format!("standard input is not a profile: {e}"))?;
            let saved = super::save(state, id, &body.input(), "cli")
                .await
                .map_err(fail)?;
            println!("profile {saved} saved");
            Ok(())
        }
        Command::Duplicate { id } => {
            let new = super::duplicate(state, id, "cli").await.map_err(fail)?;
            println!("profile {id} copied as profile {new}");
            Ok(())
        }
        Command::Apply { id } => {
            super::stored(state, id).await.map_err(fail)?;
            let report = super::apply_to_members(state, id, "cli")
                .await
                .map_err(|e| e.to_string())?;
            if report.results.is_empty() {
                println!("no member holds profile {id}");
            }
            for (member, name, server, outcome) in report.results {
                println!("member {member} ({name}) on {server}: {outcome}");
            }
            Ok(())
        }
        Command::Delete { id, reassign } => {
            super::delete(state, id, reassign, "cli")
                .await
                .map_err(fail)?;
            println!("profile {id} deleted");
            Ok(())
        }
    }
}
