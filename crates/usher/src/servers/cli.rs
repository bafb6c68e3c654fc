//! `usher server …`: the same operations as the Servers page, for scripts and terminals.

use crate::web::error::for_terminal;
use std::io::Read;

use super::ServerInput;
use crate::state::AppState;

pub enum Command {
    Add {
        kind: String,
        name: String,
        url: String,
        /// For a kind that signs in (Navidrome): the administrator; the secret is their password.
        username: String,
        secret_from_stdin: bool,
    },
    List {
        json: bool,
    },
    Libraries {
        name: String,
        json: bool,
    },
    Test {
        name: String,
    },
    /// Compare accounts with members: one server, or all of them.
    Sync {
        name: Option<String>,
    },
}

pub async fn run(state: &AppState, cmd: Command) -> Result<(), String> {
    match cmd {
        Command::Add {
            kind,
            name,
            url,
            username,
            secret_from_stdin,
        } => {
            if !secret_from_stdin {
                return Err(
                    "pass the token on standard input with --token-stdin (Plex) or --api-key-stdin (Jellyfin, Emby, Audiobookshelf) or --username NAME --password-stdin (Navidrome); secrets never go on the command line"
                        .into(),
                );
            }
            let mut token = String::new();
            std::io::stdin()
                .read_to_string(&mut token)
                .map_err(|e| format!("could not read standard input: {e}"))?;
            let input = ServerInput {
                kind,
                name,
                url,
                // Only the line ending is the terminal's: a password may begin or end with a space.
                token: token.trim_end_matches(['\r', '\n']).into(),
                username,
            };
            let id = super::add(state, &input, "cli")
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            let libraries = state
                .store
                .libraries(id)
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            println!(
                "server `{}` added with {} libraries: {}",
                input.name.trim(),
                libraries.len(),
                libraries
                    .iter()
                    .map(|l| l.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(())
        }
        Command::List { json } => {
            let servers = state
                .store
                .servers()
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            if json {
                let out: Vec<_> = servers
                    .iter()
                    .map(|s| {
                        serde_json::json!({
                            "id": s.server.id,
                            "name": s.server.name,
                            "kind": s.server.kind,
                            "url": s.server.url,
                            "status": s.server.status,
                            "status_message": s.server.status_message,
                            "version": s.server.version,
                            "library_count": s.library_count,
                            "checked_at": s.server.checked_at.map(crate::clock::rfc3339),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            } else if servers.is_empty() {
                println!(
                    "no servers yet: add one with `usher server add plex|jellyfin|emby|audiobookshelf|navidrome …`"
                );
            } else {
                let rows: Vec<[String; 5]> = servers
                    .iter()
                    .map(|s| {
                        [
                            s.server.name.clone(),
                            s.server.kind.to_string(),
                            s.server.status.to_string(),
                            s.library_count.to_string(),
                            s.server.url.clone(),
                        ]
                    })
                    .collect();
                print_table(&["NAME", "KIND", "STATUS", "LIBRARIES", "URL"], &rows);
            }
            Ok(())
        }
        Command::Libraries { name, json } => {
            let server = state
                .store
                .server_by_name(&name)
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?
                .ok_or_else(|| format!("no server named `{name}`: see `usher server list`"))?;
            let libraries = state
                .store
                .libraries(server.id)
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            if json {
                let out: Vec<_> = libraries
                    .iter()
                    .map(|l| {
                        serde_json::json!({
                            "name": l.name,
                            "type": l.kind,
                            "sharing_id": l.remote_id,
                            "local_key": l.local_key,
                            "offered": l.enabled,
                            "default": l.is_default,
                            "present": l.present,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            } else {
                let rows: Vec<[String; 5]> = libraries
                    .iter()
                    .map(|l| {
                        [
                            l.name.clone(),
                            l.kind.clone(),
                            l.remote_id.clone(),
                            if l.enabled { "yes" } else { "no" }.into(),
                            if l.present { "" } else { "gone from server" }.into(),
                        ]
                    })
                    .collect();
                print_table(&["LIBRARY", "TYPE", "SHARING ID", "OFFERED", "NOTE"], &rows);
            }
            Ok(())
        }
        Command::Sync { name } => crate::members::cli::sync(state, name.as_deref()).await,
        Command::Test { name } => {
            let server = state
                .store
                .server_by_name(&name)
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?
                .ok_or_else(|| format!("no server named `{name}`: see `usher server list`"))?;
            match super::test(state, server.id).await {
                Ok(probe) => {
                    println!(
                        "ok: {} {} ({}), {} libraries",
                        probe.info.kind.display_name(),
                        probe.info.name,
                        probe.info.version,
                        probe.libraries.len()
                    );
                    if let Some(w) = probe.info.warning {
                        println!("warning: {w}");
                    }
                    Ok(())
                }
                Err(e) => Err(for_terminal(&state.i18n, &e)),
            }
        }
    }
}

fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == N {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}
