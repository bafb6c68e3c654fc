//! `usher settings …`: the settings from a terminal. A section is changed with the JSON the API
//! takes on standard input (so secrets never go on the command line); what it leaves out stays.

use std::io::Read;

use super::change::*;
use crate::state::AppState;
use crate::web::error::for_terminal;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// The settings (secrets only as whether one is set)
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Change one section from JSON on standard input, e.g.
    /// `echo '{"enabled": true, "expiry_hours": 48}' | usher settings set requests`
    Set { section: Section },
    /// Send a test message to the Telegram chat requests are announced in
    TestTelegram,
    /// Send a test email through the saved mail server
    TestEmail { to: String },
    /// Set the logo friend pages show (a PNG, JPEG or WebP of at most 256 KB), or remove it
    Logo {
        /// The image file
        #[arg(required_unless_present = "remove")]
        file: Option<std::path::PathBuf>,
        #[arg(long, conflicts_with = "file")]
        remove: bool,
    },
}

pub async fn run(state: &AppState, cmd: Command) -> Result<(), String> {
    let fail = |e: SettingsError| for_terminal(&state.i18n, &e);
    match cmd {
        Command::Show { json } => {
            let s = super::api::settings_json(state)
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
            } else {
                print_settings(&s);
            }
            Ok(())
        }
        Command::Set { section } => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("could not read standard input: {e}"))?;
            let unreadable = |e: serde_json::Error| {
                format!(
                    "standard input is not the {} section's JSON: {e}",
                    section.as_str()
                )
            };
            match section {
                Section::General => {
                    let c = serde_json::from_str(&text).map_err(unreadable)?;
                    change_general(state, &c, "cli").await
                }
                Section::Requests => {
                    let c = serde_json::from_str(&text).map_err(unreadable)?;
                    change_requests(state, &c, "cli").await
                }
                Section::Telegram => {
                    let c = serde_json::from_str(&text).map_err(unreadable)?;
                    change_telegram(state, &c, "cli").await
                }
                Section::Email => {
                    let c = serde_json::from_str(&text).map_err(unreadable)?;
                    change_email(state, &c, "cli").await
                }
                Section::Branding => {
                    let c = serde_json::from_str(&text).map_err(unreadable)?;
                    change_branding(state, &c, "cli").await
                }
            }
            .map_err(fail)?;
            println!("{} settings saved", section.as_str());
            Ok(())
        }
        Command::Logo { file, remove } => {
            let bytes = match (&file, remove) {
                (Some(path), false) => Some(
                    std::fs::read(path)
                        .map_err(|e| format!("could not read {}: {e}", path.display()))?,
                ),
                _ => None,
            };
            set_logo(state, bytes.as_deref(), "cli")
                .await
                .map_err(fail)?;
            println!(
                "{}",
                if bytes.is_some() {
                    "logo saved"
                } else {
                    "logo removed"
                }
            );
            Ok(())
        }
        Command::TestTelegram => {
            test_telegram(state, "en", "cli").await.map_err(fail)?;
            println!("test message sent: check the Telegram chat");
            Ok(())
        }
        Command::TestEmail { to } => {
            test_email(state, &to, "en", "cli").await.map_err(fail)?;
            println!("test email sent to {to}");
            Ok(())
        }
    }
}

/// Each section as `key: value` lines, nested sections indented.
fn print_settings(s: &serde_json::Value) {
    fn value(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::String(s) if s.is_empty() => "(none)".into(),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "(none)".into(),
            other => other.to_string(),
        }
    }
    let Some(map) = s.as_object() else { return };
    for (k, v) in map.iter().filter(|(_, v)| !v.is_object()) {
        println!("{k}: {}", value(v));
    }
    for (k, v) in map.iter().filter(|(_, v)| v.is_object()) {
        println!("{k}:");
        for (k, v) in v.as_object().into_iter().flatten() {
            println!("  {k}: {}", value(v));
        }
    }
}

/// `usher channel …`: notification channels, written as the JSON the API takes
/// (`{"kind", "name", "url", "address", "events", "lang", "enabled"}`).
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ChannelCommand {
    /// List the channels (receiver URLs only as their host)
    List {
        #[arg(long)]
        json: bool,
    },
    /// Make a channel from JSON on standard input; a webhook's signing secret is printed once
    Add,
    /// Change a channel from JSON on standard input (a URL left out keeps the stored one)
    Edit { id: crate::domain::ChannelId },
    /// Send a test message through a channel now
    Test { id: crate::domain::ChannelId },
    /// Replace a webhook channel's signing secret and print the new one
    Secret { id: crate::domain::ChannelId },
    /// Delete a channel
    Remove {
        id: crate::domain::ChannelId,
        /// Confirm: this cannot be undone
        #[arg(long)]
        yes: bool,
    },
}

fn channel_body() -> Result<super::api::ChannelBody, String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| format!("could not read standard input: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("standard input is not a channel: {e}"))
}

pub async fn run_channel(state: &AppState, cmd: ChannelCommand) -> Result<(), String> {
    use crate::notify::channels;
    let fail = |e: channels::ChannelError| for_terminal(&state.i18n, &e);
    let store = |e: crate::store::StoreError| for_terminal(&state.i18n, &e);
    match cmd {
        ChannelCommand::List { json } => {
            let all = state.store.channels().await.map_err(store)?;
            if json {
                let out: Vec<_> = all.iter().map(super::api::channel_json).collect();
                println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            } else if all.is_empty() {
                println!("no channels yet: make one with `usher channel add < channel.json`");
            } else {
                println!(
                    "{:<5} {:<9} {:<24} {:<4} EVENTS",
                    "ID", "KIND", "NAME", "ON"
                );
                for c in all {
                    println!(
                        "{:<5} {:<9} {:<24} {:<4} {}",
                        c.id,
                        c.kind.as_str(),
                        c.name,
                        if c.enabled { "yes" } else { "no" },
                        c.event_list().join(",")
                    );
                }
            }
            Ok(())
        }
        ChannelCommand::Add => {
            let input: channels::ChannelInput = channel_body()?.into();
            let made = channels::create(state, &input, "cli").await.map_err(fail)?;
            if !input.enabled {
                channels::update(state, made.id, &input, "cli")
                    .await
                    .map_err(fail)?;
            }
            println!("channel {} made", made.id);
            if let Some(secret) = made.secret {
                println!("signing secret (shown once): {}", secret.expose());
            }
            Ok(())
        }
        ChannelCommand::Edit { id } => {
            channels::update(state, id, &channel_body()?.into(), "cli")
                .await
                .map_err(fail)?;
            println!("channel {id} saved");
            Ok(())
        }
        ChannelCommand::Test { id } => {
            channels::send_test(state, id, "cli")
                .await
                .map_err(fail)?
                .map_err(|e| format!("the test did not get through: {e}"))?;
            println!("test sent through channel {id}");
            Ok(())
        }
        ChannelCommand::Secret { id } => {
            let secret = channels::new_secret(state, id, "cli").await.map_err(fail)?;
            println!("new signing secret (shown once): {secret}");
            Ok(())
        }
        ChannelCommand::Remove { id, yes } => {
            if !yes {
                return Err(format!(
                    "this deletes channel {id} for good: add --yes to confirm"
                ));
            }
            channels::delete(state, id, "cli").await.map_err(fail)?;
            println!("channel {id} deleted");
            Ok(())
        }
    }
}
