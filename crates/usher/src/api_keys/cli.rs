//! `usher api-key create|list|revoke`.

use crate::domain::ids::ApiKeyId;
use crate::state::AppState;
use crate::web::error::for_terminal;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Make an API key and print it (the only time it is shown)
    Create {
        #[arg(long)]
        name: String,
        /// read (every GET), requests (the requests queue) or full
        #[arg(long)]
        scope: String,
        #[arg(long)]
        json: bool,
    },
    /// List API keys with their scope and last use (never the keys)
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke an API key: scripts using it stop at once
    Revoke { id: ApiKeyId },
}

pub async fn run(state: &AppState, cmd: Command) -> Result<(), String> {
    let fail = |e: super::KeyError| for_terminal(&state.i18n, &e);
    match cmd {
        Command::Create { name, scope, json } => {
            let (row, key) = super::create(state, &name, &scope, "cli")
                .await
                .map_err(fail)?;
            if json {
                let mut out = super::api::key_json(&row);
                out["key"] = serde_json::Value::String(key);
                println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            } else {
                eprintln!(
                    "API key {} ({}) made; it is shown only this once:",
                    row.name, row.scope
                );
                println!("{key}");
            }
        }
        Command::List { json } => {
            let keys = state
                .store
                .api_keys()
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            if json {
                let out: Vec<_> = keys.iter().map(super::api::key_json).collect();
                println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            } else if keys.is_empty() {
                println!("no API keys yet");
            } else {
                println!(
                    "{:<5} {:<24} {:<9} {:<10} LAST USED",
                    "ID", "NAME", "SCOPE", "PREFIX"
                );
                for k in keys {
                    let used = k
                        .last_used_at
                        .map_or_else(|| "never".to_string(), crate::clock::rfc3339);
                    let state = if k.revoked_at.is_some() {
                        " (revoked)"
                    } else {
                        ""
                    };
                    println!(
                        "{:<5} {:<24} {:<9} {:<10} {used}{state}",
                        k.id,
                        k.name.chars().take(24).collect::<String>(),
                        k.scope,
                        format!("{}…", k.prefix)
                    );
                }
            }
        }
        Command::Revoke { id } => {
            super::revoke(state, id, "cli").await.map_err(fail)?;
            println!("API key {id} revoked");
        }
    }
    Ok(())
}
