use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use usher::config::{Config, LogFormat, Sources};

/// The version and the commit it was built from: `0.1.0 (3f2a9c1b7d4e)`.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("USHER_GIT_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "usher",
    version = VERSION,
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
    Admin(usher::auth::cli::Command),
    /// Manage connected media servers
    #[command(subcommand)]
    Server(usher::servers::cli::Command),
    /// Create and manage invite links
    #[command(subcommand)]
    Invite(usher::invites::cli::Command),
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
    Request(usher::requests::cli::Command),
    /// Access profiles: what an invite or approval gives on each server, and for how long
    #[command(subcommand)]
    Profile(usher::profiles::cli::Command),
    /// The settings: show them, change a section, send a test
    #[command(subcommand)]
    Settings(usher::settings::cli::Command),
    /// Notification channels: Telegram, Discord, email and webhooks
    #[command(subcommand)]
    Channel(usher::settings::cli::ChannelCommand),
    /// The steps people see after joining, and the house rules before
    #[command(subcommand)]
    Onboarding(usher::onboarding::cli::Command),
    /// The audit log, with the Events page's filters, as a table, JSON or CSV
    Events(usher::audit::cli::Args),
    /// Numbers at a glance: invites, requests waiting, redemptions, members per server
    Stats {
        #[arg(long)]
        json: bool,
    },
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

/// Runs `work` with the app's state opened on the data dir (the CLI commands that change or read
/// what the pages do), closing the database cleanly afterwards, whatever `work` returned. Jobs it
/// queues are picked up by the running server's worker.
async fn with_state<F, Fut>(cli: &Cli, clock: usher::clock::Clock, work: F) -> Result<(), String>
where
    F: FnOnce(usher::state::AppState) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let config = load_config(cli, Vec::new())?;
    init_logging(&config, Some("warn"));
    let state = usher::build_state(config, clock)
        .await
        .map_err(|e| e.to_string())?;
    let result = work(state.clone()).await;
    state.store.close().await;
    result
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
            let shutdown = usher::shutdown_signal();
            let app = usher::App::build_with_clock(config, clock)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(
                version = VERSION,
                "usher listening on http://{}",
                app.local_addr()
            );
            if let Some(url) = app.setup_url() {
                tracing::info!("create the first admin at {url}");
            }
            app.run_until(shutdown).await.map_err(|e| e.to_string())
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
            with_state(&cli, clock, |state| async move {
                usher::auth::cli::run(&state, cmd.clone()).await
            })
            .await
        }
        Command::Server(cmd) => {
            with_state(&cli, clock, |state| async move {
                usher::servers::cli::run(&state, cmd.clone()).await
            })
            .await
        }
        Command::Invite(cmd) => {
            with_state(&cli, clock, |state| async move {
                usher::invites::cli::run(&state, cmd.clone()).await
            })
            .await
        }
        Command::Member(cmd) => {
            with_state(&cli, clock, |state| async move {
                usher::members::cli::run(&state, cmd.clone()).await
            })
            .await
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
            with_state(&cli, clock, |state| async move {
                usher::requests::cli::run(&state, cmd.clone()).await
            })
            .await
        }
        Command::Settings(cmd) => {
            with_state(&cli, clock, |state| async move {
                usher::settings::cli::run(&state, cmd.clone()).await
            })
            .await
        }
        Command::Channel(cmd) => {
            with_state(&cli, clock, |state| async move {
                usher::settings::cli::run_channel(&state, cmd.clone()).await
            })
            .await
        }
        Command::Onboarding(cmd) => {
            with_state(&cli, clock, |state| async move {
                usher::onboarding::cli::run(&state, cmd.clone()).await
            })
            .await
        }
        Command::Profile(cmd) => {
            with_state(&cli, clock, |state| async move {
                usher::profiles::cli::run(&state, cmd.clone()).await
            })
            .await
        }
        Command::Events(args) => {
            with_state(&cli, clock, |state| async move {
                usher::audit::cli::run(&state, args.clone()).await
            })
            .await
        }
        Command::Stats { json } => {
            with_state(&cli, clock, |state| async move {
                let n = usher::home::numbers(&state)
                    .await
                    .map_err(|e| e.to_string())?;
                if *json {
                    println!("{}", serde_json::to_string_pretty(&n).unwrap_or_default());
                    return Ok(());
                }
                println!("requests waiting: {}", n["pending_requests"]);
                println!(
                    "redeemed in 7 days: {}, in 30 days: {}",
                    n["redeemed_7_days"], n["redeemed_30_days"]
                );
                if let Some(counts) = n["invites"].as_object() {
                    let parts: Vec<String> =
                        counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
                    println!("invites: {}", parts.join(", "));
                }
                for s in n["members_per_server"].as_array().into_iter().flatten() {
                    println!(
                        "{}: {} members",
                        s["server"].as_str().unwrap_or_default(),
                        s["members"]
                    );
                }
                Ok(())
            })
            .await
        }
        Command::ApiKey(cmd) => {
            with_state(&cli, clock, |state| async move {
                usher::api_keys::cli::run(&state, cmd.clone()).await
            })
            .await
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
