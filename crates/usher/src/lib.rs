//! usher: a self-hosted doorman for personal media servers.
//!
//! [`App::build`] turns a [`Config`] into a ready-to-run application (database migrated, listener
//! bound, setup token issued); [`App::run_until`] serves until a shutdown signal. Tests drive the
//! same two calls on port 0 with a manual clock.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod clock;
pub mod config;
pub mod crypto;
#[cfg(feature = "demo")]
pub mod demo;
pub mod domain;
pub mod files;
pub mod home;
pub mod invites;
pub mod members;
pub mod metrics;
pub mod notify;
pub mod onboarding;
pub mod profiles;
pub mod provisioning;
pub mod public_url;
pub mod ratelimit;
pub mod requests;
pub mod router;
pub mod servers;
pub mod settings;
pub mod state;
pub mod store;
pub mod telegram;
pub mod text;
pub mod ui;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clock::Clock;
pub use config::Config;
use state::AppState;
use store::Store;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("could not create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Key(#[from] crypto::KeyError),
    #[error("could not open the database: {0}")]
    Store(#[from] store::StoreError),
    #[error("could not listen on {addr}: {source} (is another usher running? set USHER_BIND)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Auth(#[from] auth::AuthError),
    #[error("{0}")]
    Backup(#[from] backup::BackupError),
}

/// How long in-flight requests get to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

pub struct App {
    state: AppState,
    listener: tokio::net::TcpListener,
    setup_token: Option<String>,
    /// Held while serving so `usher restore` refuses to swap the database underneath.
    lock: backup::DataDirLock,
}

/// Opens the data directory and database the way every command does (serve and the CLI).
pub async fn open_store(config: &Config, clock: &Clock) -> Result<Store, StartError> {
    crate::files::create_private_dir(&config.data_dir).map_err(|source| StartError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let store = Store::open(&config.database_path()).await?;
    store.migrate(clock.now()).await?;
    Ok(store)
}

pub fn secret_key(config: &Config) -> Result<crypto::SecretKey, StartError> {
    Ok(match &config.secret_key {
        Some(text) => crypto::SecretKey::parse(text)?,
        None => crypto::SecretKey::load_or_create(&config.data_dir)?,
    })
}

/// Everything the web server and the CLI share: database (migrated), secret key, media client
/// settings, templates and translations.
pub async fn build_state(config: Config, clock: Clock) -> Result<AppState, StartError> {
    let store = open_store(&config, &clock).await?;
    let key = secret_key(&config)?;
    let media = state::MediaEnv::load(&store, &config, clock.now()).await?;
    let i18n = Arc::new(ui::i18n::I18n::load());
    let assets = Arc::new(ui::assets::Assets::load());
    let override_dir = config.data_dir.join("templates");
    let templates = Arc::new(ui::templates::environment(
        i18n.clone(),
        assets.clone(),
        override_dir.is_dir().then_some(override_dir),
    ));
    let limits = Arc::new(state::Limits::from_config(&config));
    let csp = web::content_security_policy(&config);
    let public = public_url::PublicUrl::load(&store, config.public_url.as_deref(), config.bind)
        .await
        .map_err(StartError::Store)?;
    Ok(AppState::new(state::Shared {
        store,
        config: Arc::new(config),
        clock,
        key: Arc::new(key),
        templates,
        i18n,
        assets,
        limits,
        metrics: Arc::new(metrics::Metrics::default()),
        media: Arc::new(media),
        jobs_wake: Arc::new(tokio::sync::Notify::new()),
        notifier: Arc::new(state::Notifier::new()),
        csp,
        public: Arc::new(public),
        pages: Arc::default(),
    }))
}

impl App {
    pub async fn build(config: Config) -> Result<App, StartError> {
        Self::build_with_clock(config, Clock::System).await
    }

    pub async fn build_with_clock(mut config: Config, clock: Clock) -> Result<App, StartError> {
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.bind,
                source,
            })?;
        // Port 0 becomes the real port, so links built from the bind address work.
        config.bind = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.bind,
            source,
        })?;
        crate::files::create_private_dir(&config.data_dir).map_err(|source| {
            StartError::DataDir {
                path: config.data_dir.display().to_string(),
                source,
            }
        })?;
        let lock = backup::lock_data_dir(&config.data_dir)?;
        let state = build_state(config, clock).await?;
        state
            .public
            .record_listening(&state.store, state.config.bind, state.clock.now())
            .await?;
        if let Some(reach) = state.public.needs_attention() {
            tracing::warn!(
                ?reach,
                "links say {}, which people elsewhere cannot open; set the public address in Settings or USHER_PUBLIC_URL",
                state.public.base()
            );
        }
        let setup_token = auth::issue_setup_token(&state.store, state.clock.now()).await?;
        Ok(App {
            state,
            listener,
            setup_token,
            lock,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The one-time link that creates the first admin, while there is none.
    pub fn setup_url(&self) -> Option<String> {
        let base = self.state.public.base();
        self.setup_token
            .as_ref()
            .map(|t| format!("{base}/setup?token={t}"))
    }

    /// Serves until `shutdown` resolves, then gives in-flight requests up to
    /// [`SHUTDOWN_GRACE`] to finish and closes the database cleanly.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let App {
            state,
            listener,
            lock,
            ..
        } = self;
        let store = state.store.clone();
        let router = router::router(state.clone());
        let signalled = Arc::new(tokio::sync::Notify::new());
        let notify = signalled.clone();
        let graceful = async move {
            shutdown.await;
            notify.notify_waiters();
            tracing::info!("shutting down: finishing requests in flight");
        };
        let serve = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(graceful);
        let deadline = async {
            signalled.notified().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        let housekeeping = tokio::spawn(housekeeping(state.clone()));
        let watch_store = state.store.clone();
        let watcher = tokio::spawn(async move { watch_store.watch_other_writers().await });
        // With a manual clock (tests) background work is driven on demand instead.
        let background: Vec<_> = if state.clock.runs_by_itself() {
            vec![
                tokio::spawn(provisioning::worker(state.clone())),
                tokio::spawn(telegram::polling_loop(state.clone())),
                tokio::spawn(request_expiry(state.clone())),
                tokio::spawn(backup::worker(state.clone())),
                tokio::spawn(members::expiry::worker(state.clone())),
                tokio::spawn(notify::worker(state.clone())),
            ]
        } else {
            Vec::new()
        };
        let result = tokio::select! {
            r = serve => r,
            _ = deadline => {
                tracing::warn!("requests still running after {}s; closing anyway", SHUTDOWN_GRACE.as_secs());
                Ok(())
            }
        };
        housekeeping.abort();
        watcher.abort();
        for task in background {
            task.abort();
        }
        store.close().await;
        drop(lock);
        tracing::info!("stopped");
        result
    }
}

/// Periodic chores that need no owner: dropping expired sessions and passkey prompts never
/// answered.
async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let now = state.clock.now();
        match state.store.delete_expired_sessions(now).await {
            Ok(n) if n > 0 => tracing::debug!(removed = n, "expired sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
        }
        if let Err(e) = state.store.delete_expired_ceremonies(now).await {
            tracing::warn!(error = %e, "could not remove expired passkey ceremonies");
        }
    }
}

/// Ends pending requests whose time ran out, every minute.
async fn request_expiry(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(e) = requests::expire(&state).await {
            tracing::warn!(error = %e, "could not expire requests");
        }
    }
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed by the call itself, not by the
/// first poll: `serve` calls this before it says it is listening, so a signal sent the moment
/// that line appears (a supervisor, a test) ends usher cleanly instead of taking the default
/// action and killing it mid-start.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt()).ok();
        let terminate = signal(SignalKind::terminate()).ok();
        async move {
            let heard = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = heard(interrupt) => {},
                _ = heard(terminate) => {},
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// `usher healthcheck`: asks a running usher for `/healthz`.
pub async fn healthcheck(base: &str) -> Result<(), String> {
    let url = format!("{}/healthz", base.trim_end_matches('/'));
    let client = media::http::client().map_err(|e| e.to_string())?;
    let res = client
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("{url}: {}", media::MediaError::from_transport(&e)))?;
    let status = res.status();
    let body = res.text().await.unwrap_or_default();
    if status.is_success() {
        println!("{body}");
        Ok(())
    } else {
        Err(format!("{url} answered {status}: {body}"))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    /// A SIGTERM that comes while usher is still starting (between the call and the first
    /// poll) must end it cleanly; with no handler yet, the default action kills the process.
    #[cfg(unix)]
    #[tokio::test]
    async fn a_terminate_signal_before_the_first_poll_is_heard() {
        let shutdown = super::shutdown_signal();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success());
        tokio::time::timeout(Duration::from_secs(10), shutdown)
            .await
            .expect("the signal was heard");
    }
}
