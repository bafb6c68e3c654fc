use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use usher::config::{Config, LogFormat, Sources};

#[derive(Parser)]
#[command(
    name = "usher",
    version,
    about = "A self-hosted doorman for personal media servers"
)]
struct Cli {
    /// Where the database and secret key live [env: USHER_DATA_DIR] [default: ./data]
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// A TOML configuration file
    #[arg(long, global = true, env = "USHER_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server
    Serve {
        /// Address to listen on [env: USHER_BIND] [default: 127.0.0.1:9450]
        #[arg(long)]
        bind: Option<String>,
    },
    /// Try usher without a media server: fake Plex and Jellyfin, an admin and an invite
    #[cfg(feature = "demo")]
    Demo {
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1:9450")]
        bind: String,
    },
    /// Manage admin accounts
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage connected media servers
    #[command(subcommand)]
    Server(usher::servers::cli::Command),
    /// Create and manage invite links
    #[command(subcommand)]
    Invite(InviteCommand),
    /// Members: list and filter, show, notes, access per server, pause, resume, remove, expiry
    #[command(subcommand)]
    Member(usher::members::cli::Command),
    /// Write a consistent copy of the database (works while serve runs)
    Backup {
        /// Where to write the copy (must not exist)
        #[arg(long)]
        out: PathBuf,
    },
    /// Replace the database with a backup (stop serve first; the current one is kept beside it)
    Restore {
        /// The backup file
        file: PathBuf,
    },
    /// Access requests
    #[command(subcommand)]
    Request(RequestCommand),
    /// API keys for scripts, each with a scope
    #[command(subcommand)]
    ApiKey(usher::api_keys::cli::Command),
    /// Print the OpenAPI document of the JSON API
    Openapi,
    /// Check that a running usher answers (exit 0 when healthy), for container health checks
    Healthcheck {
        /// Base URL to check [default: http://BIND]
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin account
    Create(Credentials),
    /// Set a new password for an admin (signs them out everywhere)
    ResetPassword(Credentials),
}

#[derive(clap::Args)]
struct InviteCreate {
    /// Server names, comma-separated (not needed with --profile)
    #[arg(long = "server", default_value = "")]
    servers: String,
    /// Make the invite from a profile; other flags override single fields
    #[arg(long)]
    profile: Option<String>,
    /// Create this many single-use invites at once (prints CSV: code,link)
    #[arg(long, default_value_t = 1)]
    count: u32,
    /// Library names, comma-separated (default: each server's pre-checked libraries)
    #[arg(long)]
    libraries: Option<String>,
    /// A number from 1 to 1000, or unlimited
    #[arg(long, default_value = "1")]
    uses: String,
    /// When the link stops working: a duration (7d), a date (2026-12-31) or never
    #[arg(long, default_value = "7d")]
    expires: String,
    /// How long access lasts after joining: a duration (30d) or forever (default: forever, or the profile's)
    #[arg(long, default_value = "")]
    duration: String,
    #[arg(long, default_value = "")]
    label: String,
    /// A custom code instead of a random one
    #[arg(long, default_value = "")]
    code: String,
    #[arg(long, default_value = "")]
    passphrase: String,
    #[arg(long)]
    allow_downloads: bool,
    #[arg(long)]
    allow_live_tv: bool,
    #[arg(long)]
    allow_camera_upload: bool,
    /// Jellyfin/Emby simultaneous streams, 1 to 100, or 0 for no limit (default: the server's)
    #[arg(long, value_name = "N")]
    max_streams: Option<u32>,
    /// Plex: a managed Plex Home user instead of a friend share
    #[arg(long)]
    plex_home: bool,
    /// Plex content filter for movies, e.g. "rating=G,PG | label!=horror"
    #[arg(long, value_name = "RULES")]
    filter_movies: Option<String>,
    /// Plex content filter for TV shows
    #[arg(long, value_name = "RULES")]
    filter_tv: Option<String>,
    /// Plex content filter for music
    #[arg(long, value_name = "RULES")]
    filter_music: Option<String>,
    /// Print a JSON object with at least `code` and `url`
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum InviteCommand {
    /// Create an invite and print its link
    Create(Box<InviteCreate>),
    /// List invites
    List {
        #[arg(long)]
        json: bool,
    },
    /// Switch an invite off (its link stops working)
    Disable { code: String },
    /// Switch an invite on again
    Enable { code: String },
    /// Delete an invite (members keep their access)
    Delete { code: String },
}

#[derive(Subcommand)]
enum RequestCommand {
    /// List requests, waiting ones first
    List {
        #[arg(long)]
        json: bool,
    },
    /// Approve a request with the default libraries of the requestable servers
    Approve { id: usher::domain::RequestId },
    /// Decline a request
    Decline {
        id: usher::domain::RequestId,
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Args)]
struct Credentials {
    #[arg(long)]
    username: String,
    /// Read the password from standard input (required: passwords never go on the command line)
    #[arg(long, required = true)]
    password_stdin: bool,
}

fn load_config(cli: &Cli, extra: Vec<(String, String)>) -> Result<Config, String> {
    let mut sources = Sources::from_process_env();
    sources.file = cli.config.clone();
    if let Some(dir) = &cli.data_dir {
        sources
            .flags
            .push(("data_dir".into(), dir.display().to_string()));
    }
    sources.flags.extend(extra);
    let loaded = Config::load(&sources).map_err(|e| format!("configuration error: {e}"))?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    Ok(loaded.config)
}

fn init_logging(config: &Config, default_filter: Option<&str>) {
    let filter = tracing_subscriber::EnvFilter::try_new(default_filter.unwrap_or(&config.log))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.with_target(false).init(),
    }
}

fn read_password() -> Result<String, String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("could not read the password from standard input: {e}"))?;
    let password = input.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err("no password on standard input: pipe it in, e.g. `printf '%s' \"$PW\" | usher admin create …`".into());
    }
    Ok(password)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let clock = usher::clock::Clock::from_env()?;
    match &cli.command {
        Command::Serve { bind } => {
            let flags = bind
                .iter()
                .map(|b| ("bind".to_string(), b.clone()))
                .collect();
            let config = load_config(&cli, flags)?;
            init_logging(&config, None);
            let app = usher::App::build_with_clock(config, clock)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(
                version = env!("CARGO_PKG_VERSION"),
                "usher listening on http://{}",
                app.local_addr()
            );
            if let Some(url) = app.setup_url() {
                tracing::info!("create the first admin at {url}");
            }
            app.run_until(usher::shutdown_signal())
                .await
                .map_err(|e| e.to_string())
        }
        #[cfg(feature = "demo")]
        Command::Demo { bind } => {
            let config = load_config(&cli, Vec::new())?;
            init_logging(&config, Some("warn"));
            usher::demo::run(usher::demo::DemoOptions {
                bind: bind.clone(),
                data_dir: cli.data_dir.clone(),
                clock,
                config,
            })
            .await
        }
        Command::Admin(cmd) => {
            let config = load_config(&cli, Vec::new())?;
            init_logging(&config, Some("warn"));
            let store = usher::open_store(&config, &clock)
                .await
                .map_err(|e| e.to_string())?;
            let result = match cmd {
                AdminCommand::Create(c) => {
                    let password = read_password()?;
                    usher::auth::create_admin(&store, &c.username, &password, clock.now())
                        .await
                        .map(|_| println!("admin `{}` created", c.username.trim()))
                }
                AdminCommand::ResetPassword(c) => {
                    let password = read_password()?;
                    usher::auth::reset_password(&store, &c.username, &password)
                        .await
                        .map(|_| {
                            println!(
                                "password for `{}` changed; their sessions were ended",
                                c.username.trim()
                            )
                        })
                }
            };
            store.close().await;
            result.map_err(|e| e.to_string())
        }
        Command::Server(cmd) => {
            let config = load_config(&cli, Vec::new())?;
            init_logging(&config, Some("warn"));
            let state = usher::build_state(config, clock)
                .await
                .map_err(|e| e.to_string())?;
            let result = usher::servers::cli::run(&state, cmd.clone()).await;
            state.store.close().await;
            result
        }
        Command::Invite(cmd) => {
            let config = load_config(&cli, Vec::new())?;
            init_logging(&config, Some("warn"));
            let state = usher::build_state(config, clock)
                .await
                .map_err(|e| e.to_string())?;
            let result = usher::invites::cli::run(&state, invite_args(cmd)).await;
            // Provisioning queued by the CLI is picked up by the running server's worker.
            state.store.close().await;
            result
        }
        Command::Member(cmd) => {
            let config = load_config(&cli, Vec::new())?;
            init_logging(&config, Some("warn"));
            let state = usher::build_state(config, clock)
                .await
                .map_err(|e| e.to_string())?;
            let result = usher::members::cli::run(&state, cmd.clone()).await;
            state.store.close().await;
            result
        }
        Command::Backup { out } => {
            let config = load_config(&cli, Vec::new())?;
            init_logging(&config, Some("warn"));
            let store = usher::open_store(&config, &clock)
                .await
                .map_err(|e| e.to_string())?;
            let result = usher::backup::backup(&store, out).await;
            store.close().await;
            let size = result.map_err(|e| e.to_string())?;
            println!("backup written to {} ({size} bytes)", out.display());
            println!("keep it with secret.key (or USHER_SECRET_KEY): stored server tokens need it");
            Ok(())
        }
        Command::Restore { file } => {
            let config = load_config(&cli, Vec::new())?;
            init_logging(&config, Some("warn"));
            usher::files::create_private_dir(&config.data_dir).map_err(|e| e.to_string())?;
            let now = clock.now();
            let (checked, kept) = usher::backup::restore(&config.data_dir, file, now)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "restored {} (schema {}, {} members, {} invites); the previous database is at {}",
                file.display(),
                checked.schema,
                checked.members,
                checked.invites,
                kept.display()
            );
            Ok(())
        }
        Command::Request(cmd) => {
            let config = load_config(&cli, Vec::new())?;
            init_logging(&config, Some("warn"));
            let state = usher::build_state(config, clock)
                .await
                .map_err(|e| e.to_string())?;
            let cmd = match cmd {
                RequestCommand::List { json } => {
                    usher::requests::cli::Command::List { json: *json }
                }
                RequestCommand::Approve { id } => {
                    usher::requests::cli::Command::Approve { id: *id }
                }
                RequestCommand::Decline { id, reason } => usher::requests::cli::Command::Decline {
                    id: *id,
                    reason: reason.clone(),
                },
            };
            let result = usher::requests::cli::run(&state, cmd).await;
            state.store.close().await;
            result
        }
        Command::ApiKey(cmd) => {
            let config = load_config(&cli, Vec::new())?;
            init_logging(&config, Some("warn"));
            let state = usher::build_state(config, clock)
                .await
                .map_err(|e| e.to_string())?;
            let result = usher::api_keys::cli::run(&state, cmd.clone()).await;
            state.store.close().await;
            result
        }
        Command::Openapi => {
            print!("{}", usher::router::openapi_text());
            Ok(())
        }
        Command::Healthcheck { url } => {
            let config = load_config(&cli, Vec::new())?;
            let base = url
                .clone()
                .unwrap_or_else(|| format!("http://{}", config.bind));
            usher::healthcheck(&base).await
        }
    }
}

fn invite_args(cmd: &InviteCommand) -> usher::invites::cli::Command {
    use usher::invites::cli::{Command as C, CreateArgs};
    match cmd {
        InviteCommand::Create(c) => {
            let InviteCreate {
                servers,
                libraries,
                uses,
                expires,
                duration,
                label,
                code,
                passphrase,
                allow_downloads,
                allow_live_tv,
                allow_camera_upload,
                max_streams,
                plex_home,
                filter_movies,
                filter_tv,
                filter_music,
                json,
                profile,
                count,
            } = c.as_ref();
            C::Create(Box::new(CreateArgs {
                servers: servers.clone(),
                libraries: libraries.clone(),
                uses: uses.clone(),
                expires: expires.clone(),
                duration: duration.clone(),
                label: label.clone(),
                code: code.clone(),
                passphrase: passphrase.clone(),
                allow_downloads: *allow_downloads,
                allow_live_tv: *allow_live_tv,
                allow_camera_upload: *allow_camera_upload,
                max_streams: *max_streams,
                plex_home: *plex_home,
                filter_movies: filter_movies.clone(),
                filter_television: filter_tv.clone(),
                filter_music: filter_music.clone(),
                json: *json,
                profile: profile.clone(),
                count: *count,
            }))
        }
        InviteCommand::List { json } => C::List { json: *json },
        InviteCommand::Disable { code } => C::Disable { code: code.clone() },
        InviteCommand::Enable { code } => C::Enable { code: code.clone() },
        InviteCommand::Delete { code } => C::Delete { code: code.clone() },
    }
}
