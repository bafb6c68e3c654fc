//! `usher onboarding …`: the steps people see after joining, from a terminal. Steps are written
//! as the JSON the API takes: `{"steps": [{"title", "body"}], "lang": "es"}`, bodies in
//! Markdown, each language's steps kept apart.

use std::io::Read;

use crate::domain::OnboardingKind;
use crate::state::AppState;
use crate::web::error::for_terminal;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// A kind's steps: plex, plex_home, jellyfin, emby, audiobookshelf, navidrome, komga,
    /// kavita, romm, or before (the house rules)
    Show {
        kind: String,
        #[arg(long)]
        json: bool,
        /// The language: en or es
        #[arg(long, default_value = "en")]
        lang: String,
    },
    /// Replace a kind's steps in one language from JSON on standard input
    Save { kind: String },
    /// Go back to the built-in steps in one language
    Reset {
        kind: String,
        /// The language: en or es
        #[arg(long, default_value = "en")]
        lang: String,
    },
}

fn kind_of(raw: &str) -> Result<OnboardingKind, String> {
    OnboardingKind::parse(raw).ok_or_else(|| {
        format!(
            "`{raw}` is not a kind of steps: {}",
            OnboardingKind::ALL.map(OnboardingKind::as_str).join(", ")
        )
    })
}

fn language(raw: &str) -> Result<crate::ui::i18n::Language, String> {
    crate::ui::i18n::Language::parse(raw)
        .ok_or_else(|| format!("`{raw}` is not a language usher keeps steps in: en or es"))
}

pub async fn run(state: &AppState, cmd: Command) -> Result<(), String> {
    let fail = |e: super::StepsError| for_terminal(&state.i18n, &e);
    let store = |e: crate::store::StoreError| for_terminal(&state.i18n, &e);
    match cmd {
        Command::Show { kind, json, lang } => {
            let kind = kind_of(&kind)?;
            let lang = language(&lang)?;
            let shown = super::api::steps_json(state, kind, lang.code())
                .await
                .map_err(store)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&shown).unwrap_or_default()
                );
                return Ok(());
            }
            let whose = if shown["custom"] == true {
                "yours"
            } else {
                "the defaults"
            };
            println!("{} steps ({whose}):", kind.as_str());
            for (i, step) in shown["steps"].as_array().into_iter().flatten().enumerate() {
                println!(
                    "\n{}. {}",
                    i + 1,
                    step["title"].as_str().unwrap_or_default()
                );
                println!("{}", step["body"].as_str().unwrap_or_default());
            }
            Ok(())
        }
        Command::Save { kind } => {
            let kind = kind_of(&kind)?;
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("could not read standard input: {e}"))?;
            let body: super::api::StepsBody = serde_json::from_str(&text)
                .map_err(|e| format!("standard input is not {{\"steps\": [...]}}: {e}"))?;
            let lang = body
                .language()
                .map_err(|_| "`lang` must be en or es".to_string())?;
            let steps = body.into_steps();
            let n = steps.len();
            super::save_steps(state, kind, lang, steps, "cli")
                .await
                .map_err(fail)?;
            println!("{} steps saved for {} ({})", n, kind.as_str(), lang.code());
            Ok(())
        }
        Command::Reset { kind, lang } => {
            let kind = kind_of(&kind)?;
            let lang = language(&lang)?;
            super::save_steps(state, kind, lang, Vec::new(), "cli")
                .await
                .map_err(fail)?;
            println!(
                "{} ({}) is back to the built-in steps",
                kind.as_str(),
                lang.code()
            );
            Ok(())
        }
    }
}
