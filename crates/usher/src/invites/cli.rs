//! `usher invite …`: create, list, disable and delete invites from a terminal or script.

use super::{CreateInput, InviteChange, TargetInput};
use crate::state::AppState;
use crate::store::invites::InviteFilter;
use crate::web::error::for_terminal;

pub struct CreateArgs {
    pub servers: String,
    pub libraries: Option<String>,
    pub uses: String,
    pub expires: String,
    pub duration: String,
    pub label: String,
    pub code: String,
    pub passphrase: String,
    pub allow_downloads: bool,
    pub allow_live_tv: bool,
    pub allow_camera_upload: bool,
    /// 0 is no limit.
    pub max_streams: Option<u32>,
    pub plex_home: bool,
    pub filter_movies: Option<String>,
    pub filter_television: Option<String>,
    pub filter_music: Option<String>,
    pub json: bool,
    pub profile: Option<String>,
    pub count: u32,
}

pub enum Command {
    Create(Box<CreateArgs>),
    List { json: bool },
    Disable { code: String },
    Enable { code: String },
    Delete { code: String },
}

fn split(list: &str) -> Vec<String> {
    list.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

pub async fn run(state: &AppState, cmd: Command) -> Result<(), String> {
    match cmd {
        Command::Create(a) => create(state, *a).await,
        Command::List { json } => list(state, json).await,
        Command::Disable { code } => toggle(state, &code, InviteChange::Disable).await,
        Command::Enable { code } => toggle(state, &code, InviteChange::Enable).await,
        Command::Delete { code } => toggle(state, &code, InviteChange::Delete).await,
    }
}

async fn create(state: &AppState, a: CreateArgs) -> Result<(), String> {
    let profile = match &a.profile {
        Some(name) => Some(
            state
                .store
                .profile_by_name(name)
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?
                .ok_or_else(|| format!("no profile named `{name}`"))?,
        ),
        None => None,
    };
    let wanted_libraries = a.libraries.as_deref().map(split);
    // Flags switch permissions on; what no flag names keeps the server's default.
    let on = |flag: bool| flag.then_some(true);
    let changes = crate::domain::access::PermissionChanges {
        allow_downloads: on(a.allow_downloads),
        allow_live_tv: on(a.allow_live_tv),
        allow_camera_upload: on(a.allow_camera_upload),
        max_sessions: a.max_streams.map(|n| (n > 0).then_some(n)),
        plex_home: on(a.plex_home),
        filter_movies: a.filter_movies.clone(),
        filter_television: a.filter_television.clone(),
        filter_music: a.filter_music.clone(),
    };
    let mut targets = Vec::new();
    for name in split(&a.servers) {
        let server = state
            .store
            .server_by_name(&name)
            .await
            .map_err(|e| for_terminal(&state.i18n, &e))?
            .ok_or_else(|| format!("no server named `{name}`: see `usher server list`"))?;
        let libraries = match &wanted_libraries {
            None => None,
            Some(names) => {
                let libs = state
                    .store
                    .libraries(server.id)
                    .await
                    .map_err(|e| for_terminal(&state.i18n, &e))?;
                // Names are matched per server; a name missing on one server is fine when another
                // server of the invite has it.
                let ids: Vec<String> = libs
                    .iter()
                    .filter(|l| {
                        l.enabled
                            && l.present
                            && names.iter().any(|n| n.eq_ignore_ascii_case(&l.name))
                    })
                    .map(|l| l.remote_id.clone())
                    .collect();
                if ids.is_empty() {
                    return Err(format!(
                        "none of {} is a library offered on `{}`: see `usher server libraries {}`",
                        names.join(", "),
                        server.name,
                        server.name
                    ));
                }
                Some(ids)
            }
        };
        targets.push(TargetInput {
            server_id: server.id,
            libraries,
            permissions: Some(changes.clone()),
        });
    }
    if targets.is_empty() && profile.is_none() {
        return Err("name at least one server with --server NAME[,NAME], or a --profile".into());
    }
    if let Some(names) = &wanted_libraries {
        // Every library asked for must exist somewhere in the invite.
        for n in names {
            let mut found = false;
            for t in &targets {
                let libs = state
                    .store
                    .libraries(t.server_id)
                    .await
                    .map_err(|e| for_terminal(&state.i18n, &e))?;
                found |= libs.iter().any(|l| l.name.eq_ignore_ascii_case(n));
            }
            if !found {
                return Err(format!(
                    "no server of this invite has a library named `{n}`"
                ));
            }
        }
    }
    let input = CreateInput {
        targets,
        uses: a.uses,
        expires: a.expires,
        duration: a.duration,
        label: a.label,
        passphrase: a.passphrase,
        code: a.code,
        profile: profile.as_ref().map(|p| p.id),
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

async fn list(state: &AppState, json: bool) -> Result<(), String> {
    let now = state.clock.now();
    let invites = state
        .store
        .list_invites(InviteFilter::All, "", now, 10_000)
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
    let normalized = crate::domain::rules::InviteCode::parse(code)
        .ok_or_else(|| format!("`{code}` is not an invite code"))?;
    let invite = state
        .store
        .invite_by_code(&normalized)
        .await
        .map_err(|e| for_terminal(&state.i18n, &e))?
        .ok_or_else(|| format!("no invite has the code `{normalized}`: see `usher invite list`"))?;
    super::change(state, &invite, change, "cli")
        .await
        .map_err(|e| for_terminal(&state.i18n, &e))?;
    let action = change.done();
    println!("invite {} {action}", invite.code);
    Ok(())
}
