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
            }
            .map_err(fail)?;
            println!("{} settings saved", section.as_str());
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
