//! `usher invite …`: create, list, disable and delete invites from a terminal or script.

use super::{CreateInput, InviteChange};
use crate::state::AppState;
use crate::store::invites::InviteFilter;
use crate::web::error::for_terminal;

#[derive(Debug, Clone, clap::Args)]
pub struct CreateArgs {
    /// Make the invite from a profile; other flags override single fields
    #[arg(long)]
    pub profile: Option<String>,
    /// Create this many single-use invites at once (prints CSV: code,link)
    #[arg(long, default_value_t = 1)]
    pub count: u32,
    /// A number from 1 to 1000, or unlimited
    #[arg(long, default_value = "1")]
    pub uses: String,
    /// When the link stops working: a duration (7d), a date (2026-12-31) or never
    #[arg(long, default_value = "7d")]
    pub expires: String,
    /// How long access lasts after joining: a duration (30d) or forever (default: forever, or the profile's)
    #[arg(long, default_value = "")]
    pub duration: String,
    #[arg(long, default_value = "")]
    pub label: String,
    /// A custom code instead of a random one
    #[arg(long, default_value = "")]
    pub code: String,
    #[arg(long, default_value = "")]
    pub passphrase: String,
    #[command(flatten)]
    pub access: crate::servers::cli::AccessArgs,
    /// Print a JSON object with at least `code` and `url`
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Create an invite and print its link
    Create(Box<CreateArgs>),
    /// List invites
    List {
        #[arg(long)]
        json: bool,
        /// all (default), active, redeemed, expired, used_up or disabled
        #[arg(long, default_value = "all")]
        filter: String,
        /// Search codes and labels
        #[arg(long, default_value = "")]
        search: String,
    },
    /// One invite: what it gives on each server, and who redeemed it when
    Show {
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// An invite's link as a QR code: drawn in the terminal, or as an SVG file's text
    Qr {
        code: String,
        #[arg(long)]
        svg: bool,
    },
    /// Every invite (or one batch made with --count) as CSV: code,link
    Export {
        /// The batch id a `create --count` printed on the invites page
        #[arg(long, default_value = "")]
        batch: String,
    },
    /// Switch an invite off (its link stops working)
    Disable { code: String },
    /// Switch an invite on again
    Enable { code: String },
    /// Delete an invite (members keep their access)
    Delete { code: String },
}

pub async fn run(state: &AppState, cmd: Command) -> Result<(), String> {
    match cmd {
        Command::Create(a) => create(state, *a).await,
        Command::List {
            json,
            filter,
            search,
        } => list(state, json, &filter, &search).await,
        Command::Show { code, json } => show(state, &code, json).await,
        Command::Qr { code, svg } => {
            let invite = find(state, &code).await?;
            let url = super::invite_url(state, &invite.code);
            let drawn = if svg {
                crate::web::svg::qr(&url)
            } else {
                crate::web::svg::qr_terminal(&url)
            };
            println!("{}", drawn.ok_or("the link is too long for a QR code")?);
            if !svg {
                println!("{url}");
            }
            Ok(())
        }
        Command::Export { batch } => {
            let csv = super::csv_text(state, &batch)
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            print!("{csv}");
            Ok(())
        }
        Command::Disable { code } => toggle(state, &code, InviteChange::Disable).await,
        Command::Enable { code } => toggle(state, &code, InviteChange::Enable).await,
        Command::Delete { code } => toggle(state, &code, InviteChange::Delete).await,
    }
}

async fn create(state: &AppState, a: CreateArgs) -> Result<(), String> {
    let profile = crate::profiles::cli::named(state, a.profile.as_deref()).await?;
    let targets = a.access.targets(state).await?;
    if targets.is_empty() && profile.is_none() {
        return Err("name at least one server with --server NAME[,NAME], or a --profile".into());
    }
    let input = CreateInput {
        targets,
        uses: a.uses,
        expires: a.expires,
        duration: a.duration,
        label: a.label,
        passphrase: a.passphrase,
        code: a.code,
        profile,
    };
    if a.count > 1 {
        let (_, invites) = super::create_many(state, &input, a.count, "cli")
            .await
            .map_err(|e| for_terminal(&state.i18n, &e))?;
        if a.json {
            let out: Vec<_> = invites
                .iter()
                .map(|i| serde_json::json!({"code": i.code, "url": super::invite_url(state, &i.code)}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        } else {
            println!("code,link");
            for i in &invites {
                println!("{},{}", i.code, super::invite_url(state, &i.code));
            }
        }
        return Ok(());
    }
    let invite = super::create(state, &input, "cli")
        .await
        .map_err(|e| for_terminal(&state.i18n, &e))?;
    let url = super::invite_url(state, &invite.code);
    if a.json {
        println!(
            "{}",
            serde_json::json!({
                "code": invite.code,
                "url": url,
                "label": invite.label,
                "max_uses": invite.max_uses,
                "expires_at": invite.expires_at.map(crate::clock::rfc3339),
                "access_days": invite.access_seconds.map(|s| (s + 86_399) / 86_400),
            })
        );
    } else {
        println!("{url}");
    }
    Ok(())
}

/// The invite a code typed in any case names.
async fn find(state: &AppState, code: &str) -> Result<crate::store::invites::InviteRow, String> {
    let normalized = crate::domain::rules::InviteCode::parse(code)
        .ok_or_else(|| format!("`{code}` is not an invite code"))?;
    state
        .store
        .invite_by_code(&normalized)
        .await
        .map_err(|e| for_terminal(&state.i18n, &e))?
        .ok_or_else(|| format!("no invite has the code `{normalized}`: see `usher invite list`"))
}

async fn show(state: &AppState, code: &str, json: bool) -> Result<(), String> {
    let invite = find(state, code).await?;
    let detail = super::api::invite_detail(state, &invite)
        .await
        .map_err(|e| for_terminal(&state.i18n, &e))?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&detail).unwrap_or_default()
        );
        return Ok(());
    }
    let text = |v: &serde_json::Value| {
        v.as_str()
            .map(String::from)
            .unwrap_or_else(|| v.to_string())
    };
    println!(
        "{} {}",
        detail["code"].as_str().unwrap_or_default(),
        text(&detail["url"])
    );
    for (label, key) in [
        ("label", "label"),
        ("uses", "used"),
        ("of", "max_uses"),
        ("link ends", "expires_at"),
        ("access days", "access_days"),
    ] {
        if !detail[key].is_null() {
            println!("  {label}: {}", text(&detail[key]));
        }
    }
    for t in detail["servers"].as_array().into_iter().flatten() {
        println!("  {}: {}", text(&t["name"]), text(&t["libraries"]));
    }
    let redemptions = detail["redemptions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if redemptions.is_empty() {
        println!("  not redeemed yet");
    }
    for r in redemptions {
        println!(
            "  redeemed {} by {} (member {})",
            text(&r["created_at"]),
            text(&r["name"]),
            text(&r["id"])
        );
    }
    Ok(())
}

async fn list(state: &AppState, json: bool, filter: &str, search: &str) -> Result<(), String> {
    let now = state.clock.now();
    let filter = InviteFilter::parse(filter).ok_or_else(|| {
        format!("--filter is all, active, redeemed, expired, used_up or disabled, not `{filter}`")
    })?;
    let invites = state
        .store
        .list_invites(filter, search, now, 10_000)
        .await
        .map_err(|e| for_terminal(&state.i18n, &e))?;
    if json {
        let out: Vec<_> = invites
            .iter()
            .map(|i| {
                serde_json::json!({
                    "code": i.code,
                    "url": super::invite_url(state, &i.code),
                    "label": i.label,
                    "used": i.used,
                    "max_uses": i.max_uses,
                    "expires_at": i.expires_at.map(crate::clock::rfc3339),
                    "disabled": i.disabled,
                    "badges": i.facts().badges(now).iter().map(|b| b.as_str()).collect::<Vec<_>>(),
                    "created_at": crate::clock::rfc3339(i.created_at),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return Ok(());
    }
    if invites.is_empty() {
        println!("no invites yet: create one with `usher invite create --server NAME`");
        return Ok(());
    }
    println!(
        "{:<12} {:<10} {:<20} {:<26} LABEL",
        "CODE", "USES", "EXPIRES", "STATE"
    );
    for i in &invites {
        let uses = match i.max_uses {
            Some(m) => format!("{}/{}", i.used, m),
            None => format!("{}/∞", i.used),
        };
        let expires = i
            .expires_at
            .map(crate::clock::human)
            .unwrap_or_else(|| "never".into());
        let badges: Vec<&str> = i.facts().badges(now).iter().map(|b| b.as_str()).collect();
        println!(
            "{:<12} {:<10} {:<20} {:<26} {}",
            i.code,
            uses,
            expires,
            badges.join(","),
            i.label.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

/// Disables (`Some(true)`), enables (`Some(false)`) or deletes (`None`) an invite.
async fn toggle(state: &AppState, code: &str, change: InviteChange) -> Result<(), String> {
    let invite = find(state, code).await?;
    super::change(state, &invite, change, "cli")
        .await
        .map_err(|e| for_terminal(&state.i18n, &e))?;
    let action = change.done();
    println!("invite {} {action}", invite.code);
    Ok(())
}
