//! `usher request list|approve|decline`: the requests queue from a terminal.

use crate::domain::ids::*;
use crate::state::AppState;
use crate::web::error::for_terminal;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// List requests, waiting ones first
    List {
        #[arg(long)]
        json: bool,
    },
    /// Approve a request: with what the request settings give (their profile, or the
    /// requestable servers' pre-checked libraries), a --profile, or the servers named
    Approve {
        id: RequestId,
        /// Start from this profile (its name) instead
        #[arg(long)]
        profile: Option<String>,
        /// How long access lasts: a duration (30d) or forever (default: where it starts)
        #[arg(long)]
        duration: Option<String>,
        #[command(flatten)]
        access: crate::servers::cli::AccessArgs,
        /// Print the approved request as JSON (with `member_id` and `invite_url`)
        #[arg(long)]
        json: bool,
    },
    /// Decline a request
    Decline {
        id: RequestId,
        #[arg(long)]
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
                let out: Vec<_> = rows.iter().map(super::api::request_json).collect();
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
        Command::Approve {
            id,
            profile,
            duration,
            access,
            json,
        } => {
            let profile = crate::profiles::cli::named(state, profile.as_deref()).await?;
            let targets = access.targets(state).await?;
            let targets = (!targets.is_empty()).then_some(targets);
            let selection = super::chosen_selection(state, profile, targets, duration)
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            let done = super::approve(state, id, &selection, "cli")
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            if json {
                let v = super::api::approved_json(state, id, &done)
                    .await
                    .map_err(|e| {
                        e.detail
                            .unwrap_or_else(|| state.i18n.text("en", e.message_key))
                    })?;
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                return Ok(());
            }
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
