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
    /// Manage admin accounts
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage connected media servers
    #[command(subcommand)]
    Server(ServerCommand),
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

#[derive(Subcommand)]
enum ServerCommand {
    /// Connect a server (usher checks it before saving)
    Add {
        /// plex, jellyfin or emby
        kind: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        url: String,
        /// Read the Plex token from standard input
        #[arg(long)]
        token_stdin: bool,
        /// Read the Jellyfin/Emby API key from standard input
        #[arg(long)]
        api_key_stdin: bool,
    },
    /// List connected servers
    List {
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
    match &cli.command {
        Command::Serve { bind } => {
            let flags = bind
                .iter()
                .map(|b| ("bind".to_string(), b.clone()))
                .collect();
            let config = load_config(&cli, flags)?;
            init_logging(&config, None);
            let app = usher::App::build(config).await.map_err(|e| e.to_string())?;
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
        Command::Admin(cmd) => {
            let config = load_config(&cli, Vec::new())?;
            init_logging(&config, Some("warn"));
            let clock = usher::clock::Clock::System;
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
            let state = usher::build_state(config, usher::clock::Clock::System)
                .await
                .map_err(|e| e.to_string())?;
            let result = usher::servers::cli::run(&state, cmd_to_args(cmd)).await;
            state.store.close().await;
            result
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

fn cmd_to_args(cmd: &ServerCommand) -> usher::servers::cli::Command {
    use usher::servers::cli::Command as C;
    match cmd {
        ServerCommand::Add {
            kind,
            name,
            url,
            token_stdin,
            api_key_stdin,
        } => C::Add {
            kind: kind.clone(),
            name: name.clone(),
            url: url.clone(),
            secret_from_stdin: *token_stdin || *api_key_stdin,
        },
        ServerCommand::List { json } => C::List { json: *json },
        ServerCommand::Libraries { name, json } => C::Libraries {
            name: name.clone(),
            json: *json,
        },
        ServerCommand::Test { name } => C::Test { name: name.clone() },
    }
}
