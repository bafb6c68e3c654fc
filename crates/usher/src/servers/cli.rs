//! `usher server …`: the same operations as the Servers page, for scripts and terminals.

use crate::web::error::for_terminal;
use std::io::Read;

use super::ServerInput;
use crate::domain::access::{PermissionChanges, TargetInput};
use crate::state::AppState;
use crate::store::servers::{LibraryRow, ServerDefaults, ServerRow};

/// Which servers a command gives access to, with which libraries and permissions: the flags
/// `usher invite create` and `usher request approve` share.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AccessArgs {
    /// Server names, comma-separated
    #[arg(long = "server", default_value = "")]
    pub servers: String,
    /// Library names, comma-separated, looked up on every server named (default: each server's
    /// pre-checked libraries)
    #[arg(long)]
    pub libraries: Option<String>,
    /// One server's libraries, as `SERVER=LIB,LIB` (repeat per server); wins over --libraries
    #[arg(long = "libraries-on", value_name = "SERVER=LIB,LIB")]
    pub libraries_on: Vec<String>,
    #[arg(long)]
    pub allow_downloads: bool,
    #[arg(long)]
    pub allow_live_tv: bool,
    #[arg(long)]
    pub allow_camera_upload: bool,
    /// Jellyfin/Emby simultaneous streams, 1 to 100, or 0 for no limit (default: the server's)
    #[arg(long, value_name = "N")]
    pub max_streams: Option<u32>,
    /// Plex: a managed Plex Home user instead of a friend share
    #[arg(long)]
    pub plex_home: bool,
    /// Plex content filter for movies, e.g. "rating=G,PG | label!=horror"
    #[arg(long, value_name = "RULES")]
    pub filter_movies: Option<String>,
    /// Plex content filter for TV shows
    #[arg(long = "filter-tv", value_name = "RULES")]
    pub filter_television: Option<String>,
    /// Plex content filter for music
    #[arg(long, value_name = "RULES")]
    pub filter_music: Option<String>,
}

fn split(list: &str) -> Vec<String> {
    list.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

impl AccessArgs {
    /// The permissions the flags name; what no flag names keeps where the grant starts.
    pub fn changes(&self) -> PermissionChanges {
        let on = |flag: bool| flag.then_some(true);
        PermissionChanges {
            allow_downloads: on(self.allow_downloads),
            allow_live_tv: on(self.allow_live_tv),
            allow_camera_upload: on(self.allow_camera_upload),
            max_sessions: self.max_streams.map(|n| (n > 0).then_some(n)),
            plex_home: on(self.plex_home),
            filter_movies: self.filter_movies.clone(),
            filter_television: self.filter_television.clone(),
            filter_music: self.filter_music.clone(),
        }
    }

    /// The servers named, each with the sharing ids of the libraries asked for (`None`: its
    /// pre-checked ones). A name in --libraries must exist on at least one server named; a name
    /// in --libraries-on must exist on that server.
    pub async fn targets(&self, state: &AppState) -> Result<Vec<TargetInput>, String> {
        let fail = |e: crate::store::StoreError| for_terminal(&state.i18n, &e);
        let mut per_server = Vec::new();
        for raw in &self.libraries_on {
            let (server, names) = raw
                .split_once('=')
                .ok_or_else(|| format!("--libraries-on takes SERVER=LIB,LIB, not `{raw}`"))?;
            per_server.push((server.trim().to_string(), names.to_string()));
        }
        let mut names = split(&self.servers);
        // A server given only through --libraries-on is part of the grant too.
        for (server, _) in &per_server {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(server)) {
                names.push(server.clone());
            }
        }
        let shared = self.libraries.as_deref().map(split);
        let changes = self.changes();
        let mut targets = Vec::new();
        let mut found_shared = vec![false; shared.as_ref().map_or(0, Vec::len)];
        for name in names {
            let server = by_name(state, &name).await?;
            let own = per_server.iter().find(|(s, _)| {
                s.eq_ignore_ascii_case(&name) || s.eq_ignore_ascii_case(&server.name)
            });
            let libraries = match (own, &shared) {
                (Some((_, list)), _) => Some(
                    named_libraries(state, &server, list)
                        .await?
                        .into_iter()
                        .map(|l| l.remote_id)
                        .collect(),
                ),
                (None, Some(wanted)) => {
                    let offered = state.store.libraries(server.id).await.map_err(fail)?;
                    // Matched per server: a name missing here is fine when another server of
                    // the grant has it.
                    let mut ids = Vec::new();
                    for l in offered.iter().filter(|l| l.enabled && l.present) {
                        if let Some(i) = wanted.iter().position(|n| n.eq_ignore_ascii_case(&l.name))
                        {
                            found_shared[i] = true;
                            ids.push(l.remote_id.clone());
                        }
                    }
                    if ids.is_empty() {
                        return Err(format!(
                            "none of {} is a library offered on `{}`: see `usher server libraries {}`",
                            wanted.join(", "),
                            server.name,
                            server.name
                        ));
                    }
                    Some(ids)
                }
                (None, None) => None,
            };
            targets.push(TargetInput {
                server_id: server.id,
                libraries,
                permissions: Some(changes.clone()),
            });
        }
        if let Some(missing) = shared
            .iter()
            .flatten()
            .zip(&found_shared)
            .find(|(_, found)| !**found)
        {
            return Err(format!(
                "no server named has a library `{}` it offers",
                missing.0
            ));
        }
        Ok(targets)
    }
}

/// Where a command reads a server's secret: never from the command line.
#[derive(Debug, Clone, clap::Args)]
pub struct Secret {
    /// Read the Plex token from standard input
    #[arg(long)]
    token_stdin: bool,
    /// Read the API key (Jellyfin, Emby, Audiobookshelf, Komga, Kavita, RomM) from standard input
    #[arg(long)]
    api_key_stdin: bool,
    /// The administrator usher signs in as (Navidrome), with --password-stdin
    #[arg(long)]
    username: Option<String>,
    /// Read that administrator's password from standard input
    #[arg(long)]
    password_stdin: bool,
}

impl Secret {
    fn given(&self) -> bool {
        self.token_stdin || self.api_key_stdin || self.password_stdin
    }

    /// The secret from standard input; only the line ending is the terminal's (a password may
    /// begin or end with a space).
    fn read(&self) -> Result<String, String> {
        let mut token = String::new();
        std::io::stdin()
            .read_to_string(&mut token)
            .map_err(|e| format!("could not read standard input: {e}"))?;
        Ok(token.trim_end_matches(['\r', '\n']).to_string())
    }
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Connect a server (usher checks it before saving)
    Add {
        /// plex, jellyfin, emby, audiobookshelf, navidrome, komga, kavita or romm
        kind: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        url: String,
        #[command(flatten)]
        secret: Secret,
    },
    /// List connected servers
    List {
        #[arg(long)]
        json: bool,
    },
    /// One server: its status, addresses, where new access starts, what expiry does, and its
    /// libraries
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// List a server's libraries with the ids used for sharing
    Libraries {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Test the connection to a server
    Test { name: String },
    /// Compare a server's accounts with usher's members (all servers without NAME): import
    /// accounts usher did not add, mark accepted Plex invites, flag access gone from the server
    Sync { name: Option<String> },
    /// Rename, move or re-key a server (a new URL or secret is checked before it is saved)
    Edit {
        name: String,
        #[arg(long)]
        new_name: Option<String>,
        #[arg(long)]
        url: Option<String>,
        /// The address friends open (a domain or a reverse proxy); "" clears it
        #[arg(long)]
        friend_url: Option<String>,
        #[command(flatten)]
        secret: Secret,
    },
    /// Read a server's libraries again
    Rescan { name: String },
    /// Where new access on a server starts; what is not given stays
    Defaults {
        name: String,
        #[arg(long, value_name = "true|false")]
        allow_downloads: Option<bool>,
        #[arg(long, value_name = "true|false")]
        allow_live_tv: Option<bool>,
        #[arg(long, value_name = "true|false")]
        allow_camera_upload: Option<bool>,
        /// Simultaneous streams, 1 to 100, or 0 for no limit
        #[arg(long, value_name = "N")]
        max_streams: Option<i64>,
        /// Whether approving a request starts with this server ticked
        #[arg(long, value_name = "true|false")]
        requests: Option<bool>,
    },
    /// Which libraries friends may be given, and which a new invite starts with
    Choose {
        name: String,
        /// Library names, comma-separated: the libraries offered
        #[arg(long)]
        offer: String,
        /// Library names, comma-separated, among the offered: pre-checked on new invites
        #[arg(long, default_value = "")]
        precheck: String,
    },
    /// What happens to access on this server when it ends
    Expiry {
        name: String,
        /// disable, remove or disable_then_remove
        #[arg(long)]
        action: String,
        /// With disable_then_remove: days between pausing and removing
        #[arg(long, value_name = "DAYS")]
        after_days: Option<i64>,
    },
    /// Forget a server and its libraries (nobody's access on the server itself is changed)
    Remove {
        name: String,
        /// Confirm: this cannot be undone
        #[arg(long)]
        yes: bool,
    },
}

async fn by_name(state: &AppState, name: &str) -> Result<ServerRow, String> {
    state
        .store
        .server_by_name(name)
        .await
        .map_err(|e| for_terminal(&state.i18n, &e))?
        .ok_or_else(|| format!("no server named `{name}`: see `usher server list`"))
}

/// The libraries of `server` that comma-separated `names` name, each one named if it is not there.
async fn named_libraries(
    state: &AppState,
    server: &ServerRow,
    names: &str,
) -> Result<Vec<LibraryRow>, String> {
    let libraries = state
        .store
        .libraries(server.id)
        .await
        .map_err(|e| for_terminal(&state.i18n, &e))?;
    names
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            libraries
                .iter()
                .find(|l| l.name.eq_ignore_ascii_case(n))
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "`{n}` is not a library of {}: {}",
                        server.name,
                        libraries
                            .iter()
                            .map(|l| l.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
        })
        .collect()
}

pub async fn run(state: &AppState, cmd: Command) -> Result<(), String> {
    match cmd {
        Command::Add {
            kind,
            name,
            url,
            secret,
        } => {
            if !secret.given() {
                return Err(
                    "pass the token on standard input with --token-stdin (Plex) or --api-key-stdin (Jellyfin, Emby, Audiobookshelf) or --username NAME --password-stdin (Navidrome); secrets never go on the command line"
                        .into(),
                );
            }
            let input = ServerInput {
                kind,
                name,
                url,
                token: secret.read()?.into(),
                username: secret.username.unwrap_or_default(),
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
                let out: Vec<_> = servers.iter().map(super::api::server_json).collect();
                println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            } else if servers.is_empty() {
                println!("no servers yet: add one with `usher server add KIND …`");
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
                crate::text::print_table(&["NAME", "KIND", "STATUS", "LIBRARIES", "URL"], &rows);
            }
            Ok(())
        }
        Command::Show { name, json } => {
            let server = by_name(state, &name).await?;
            let store = |e: crate::store::StoreError| for_terminal(&state.i18n, &e);
            let summary = state
                .store
                .servers()
                .await
                .map_err(store)?
                .into_iter()
                .find(|s| s.server.id == server.id)
                .ok_or_else(|| format!("no server named `{name}`"))?;
            let libraries = state.store.libraries(server.id).await.map_err(store)?;
            let mut shown = super::api::server_json(&summary);
            shown["libraries"] = libraries.iter().map(super::api::library_json).collect();
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&shown).unwrap_or_default()
                );
                return Ok(());
            }
            let text = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => "(none)".into(),
                other => other.to_string(),
            };
            for key in [
                "name",
                "kind",
                "status",
                "status_message",
                "version",
                "url",
                "friend_url",
                "checked_at",
            ] {
                println!("{key}: {}", text(&shown[key]));
            }
            for section in ["defaults", "expiry"] {
                println!("{section}:");
                for (k, v) in shown[section].as_object().into_iter().flatten() {
                    println!("  {k}: {}", text(v));
                }
            }
            let rows: Vec<[String; 4]> = libraries
                .iter()
                .map(|l| {
                    [
                        l.name.clone(),
                        if l.enabled { "yes" } else { "no" }.into(),
                        if l.is_default { "yes" } else { "" }.into(),
                        if l.present { "" } else { "gone from server" }.into(),
                    ]
                })
                .collect();
            crate::text::print_table(&["LIBRARY", "OFFERED", "PRE-CHECKED", "NOTE"], &rows);
            Ok(())
        }
        Command::Libraries { name, json } => {
            let server = by_name(state, &name).await?;
            let libraries = state
                .store
                .libraries(server.id)
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            if json {
                let out: Vec<_> = libraries.iter().map(super::api::library_json).collect();
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
                crate::text::print_table(
                    &["LIBRARY", "TYPE", "SHARING ID", "OFFERED", "NOTE"],
                    &rows,
                );
            }
            Ok(())
        }
        Command::Sync { name } => crate::members::cli::sync(state, name.as_deref()).await,
        Command::Edit {
            name,
            new_name,
            url,
            friend_url,
            secret,
        } => {
            let server = by_name(state, &name).await?;
            let input = ServerInput {
                kind: server.kind.as_str().into(),
                name: new_name.unwrap_or_else(|| server.name.clone()),
                url: url.unwrap_or_else(|| server.url.clone()),
                token: if secret.given() {
                    secret.read()?
                } else {
                    String::new()
                }
                .into(),
                username: secret.username.clone().unwrap_or_default(),
            };
            let fail = |e: super::ServerError| for_terminal(&state.i18n, &e);
            super::edit(state, server.id, &input, "cli")
                .await
                .map_err(fail)?;
            if let Some(friend_url) = friend_url {
                super::set_friend_url(state, server.id, &friend_url, "cli")
                    .await
                    .map_err(fail)?;
            }
            println!("server `{}` saved", input.name.trim());
            Ok(())
        }
        Command::Rescan { name } => {
            let server = by_name(state, &name).await?;
            let count = super::scan(state, server.id, "cli")
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            println!("{}: {count} libraries", server.name);
            Ok(())
        }
        Command::Defaults {
            name,
            allow_downloads,
            allow_live_tv,
            allow_camera_upload,
            max_streams,
            requests,
        } => {
            let server = by_name(state, &name).await?;
            let d = ServerDefaults {
                allow_downloads: allow_downloads.unwrap_or(server.default_allow_downloads),
                allow_live_tv: allow_live_tv.unwrap_or(server.default_allow_live_tv),
                allow_camera_upload: allow_camera_upload
                    .unwrap_or(server.default_allow_camera_upload),
                max_sessions: match max_streams {
                    Some(0) => None,
                    Some(n) => Some(n),
                    None => server.default_max_sessions,
                },
                request_default: requests.unwrap_or(server.request_default),
            };
            super::set_defaults(state, server.id, d, "cli")
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            println!("defaults of `{}` saved", server.name);
            Ok(())
        }
        Command::Choose {
            name,
            offer,
            precheck,
        } => {
            let server = by_name(state, &name).await?;
            let ids = |libraries: Vec<LibraryRow>| {
                libraries.into_iter().map(|l| l.id).collect::<Vec<_>>()
            };
            let offered = ids(named_libraries(state, &server, &offer).await?);
            let defaults = ids(named_libraries(state, &server, &precheck).await?);
            if let Some(d) = defaults.iter().find(|d| !offered.contains(d)) {
                return Err(format!(
                    "library {d} is pre-checked but not offered: add it to --offer"
                ));
            }
            super::set_library_choices(state, server.id, &offered, &defaults, "cli")
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            println!(
                "`{}`: {} libraries offered, {} pre-checked",
                server.name,
                offered.len(),
                defaults.len()
            );
            Ok(())
        }
        Command::Expiry {
            name,
            action,
            after_days,
        } => {
            let server = by_name(state, &name).await?;
            let days = after_days.map(|d| d.to_string()).unwrap_or_default();
            super::set_expiry_policy(state, server.id, &action, &days, "cli")
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            println!("when access on `{}` ends: {action}", server.name);
            Ok(())
        }
        Command::Remove { name, yes } => {
            let server = by_name(state, &name).await?;
            if !yes {
                return Err(format!(
                    "removing `{}` forgets it and its libraries: add --yes to confirm",
                    server.name
                ));
            }
            super::remove(state, server.id, "cli")
                .await
                .map_err(|e| for_terminal(&state.i18n, &e))?;
            println!("server `{}` removed from usher", server.name);
            Ok(())
        }
        Command::Test { name } => {
            let server = by_name(state, &name).await?;
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
