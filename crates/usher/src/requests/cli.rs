//! `usher request list|approve|decline`.

use crate::domain::ids::*;
use crate::state::AppState;
use crate::web::error::for_terminal;

pub enum Command {
    List {
        json: bool,
    },
    Approve {
        id: RequestId,
    },
    Decline {
        id: RequestId,
        reason: Option<String>,
    },
}

pub async fn run(state: &AppState, cmd: Command) -> Result<(), String> {
    match cmd {
        Command::List { json } => {
            super::expire(state)
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            let rows = state
                .store
                .requests(10_000)
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            if json {
                let out: Vec<_> = rows
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "id": r.id, "name": r.name, "email": r.email, "note": r.note, "status": r.status,
                            "created_at": crate::clock::rfc3339(r.created_at), "expires_at": crate::clock::rfc3339(r.expires_at),
                            "decided_by": r.decided_by, "outcome": r.outcome,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            } else if rows.is_empty() {
                println!("no requests yet");
            } else {
                println!(
                    "{:<6} {:<10} {:<24} {:<30} NOTE",
                    "ID", "STATUS", "NAME", "EMAIL"
                );
                for r in rows {
                    println!(
                        "{:<6} {:<10} {:<24} {:<30} {}",
                        r.id,
                        r.status,
                        r.name.chars().take(24).collect::<String>(),
                        r.email,
                        r.note
                            .unwrap_or_default()
                            .chars()
                            .take(40)
                            .collect::<String>()
                    );
                }
            }
            Ok(())
        }
        Command::Approve { id } => {
            let settings = state
                .store
                .settings()
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            let selection = super::starting_selection(state, &settings)
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            let done = super::approve(state, id, &selection, "cli")
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            println!("request {id} approved: {}", done.summary);
            if let Some(url) = done.invite_url {
                println!("personal invite: {url}");
            }
            Ok(())
        }
        Command::Decline { id, reason } => {
            super::decline(state, id, reason.as_deref(), "cli")
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            println!("request {id} declined");
            Ok(())
        }
    }
}
