//! What every handler, worker and command is given: the database, the clock, the key, the
//! configuration, and the shared pieces built once at start. Passed explicitly; no global
//! statics. Everything here comes from the floors below; no feature is imported.

use std::sync::Arc;

use axum::http::HeaderValue;
use media::plex::PlexEndpoints;
use media::{ClientInfo, MediaClient, MediaError};
use minijinja::Environment;

use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::SecretKey;
use crate::metrics::Metrics;
use crate::public_url::PublicUrl;
use crate::ratelimit::{AttemptGuard, RateLimiter};
use crate::store::servers::ServerRow;
use crate::store::{Store, StoreError};
use crate::ui::assets::Assets;
use crate::ui::i18n::I18n;

/// Everything a handler may need, passed explicitly; no global statics. Every layer that holds
/// it clones it for every request, so it is one shared allocation: a clone is one atomic
/// increment, whatever it holds.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct Shared {
    pub store: Store,
    pub config: Arc<Config>,
    pub clock: Clock,
    pub key: Arc<SecretKey>,
    pub templates: Arc<Environment<'static>>,
    pub i18n: Arc<I18n>,
    pub assets: Arc<Assets>,
    pub limits: Arc<Limits>,
    pub metrics: Arc<Metrics>,
    pub media: Arc<MediaEnv>,
    /// Wakes the job worker when new work is queued.
    pub jobs_wake: Arc<tokio::sync::Notify>,
    /// Wakes the notification sender and holds its HTTP client.
    pub notifier: Arc<Notifier>,
    /// The Content-Security-Policy header, built once from the configuration.
    pub csp: HeaderValue,
    /// Where people reach usher: the base of every link.
    pub public: Arc<PublicUrl>,
    /// Public pages kept rendered while the database does not change.
    pub pages: Arc<crate::ui::kept_pages::PageCache>,
}

impl AppState {
    /// Writes one line of the audit log, stamped now: who did what to which subject.
    pub async fn record_event(
        &self,
        actor: &str,
        action: &str,
        subject: Option<&str>,
        detail: Option<&str>,
    ) -> Result<(), crate::store::StoreError> {
        self.store
            .append_event(
                crate::store::events::NewEvent {
                    actor,
                    action,
                    subject,
                    detail,
                },
                self.clock.now(),
            )
            .await
    }

    /// The client for a stored server.
    pub fn client_for(&self, server: &ServerRow) -> Result<MediaClient, ClientError> {
        let token = self
            .key
            .open(&server.token_sealed)
            .ok_or(ClientError::TokenUnreadable)?;
        self.client_with(server.kind, &server.url, &token)
    }

    /// A client for a server that is not stored yet (adding one, testing a new token).
    pub fn client_with(
        &self,
        kind: media::ServerKind,
        url: &str,
        token: &str,
    ) -> Result<MediaClient, ClientError> {
        Ok(MediaClient::new(
            kind,
            url,
            token,
            &self.media.info,
            &self.media.plex,
        )?)
    }

    /// plex.tv's sign-in API, for an owner or friend without a stored server.
    pub fn plex_auth(&self) -> Result<media::plex::PlexAuth, MediaError> {
        media::plex::PlexAuth::new(self.media.info.clone(), self.media.plex.clone())
    }
}

/// Why no client could be made for a server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "the stored token cannot be read: was the secret key changed? Edit the server and enter the token again"
    )]
    TokenUnreadable,
    #[error(transparent)]
    Media(#[from] MediaError),
}

/// The keyed rate limiters.
#[derive(Debug)]
pub struct Limits {
    /// Login attempts per client address.
    pub login_ip: RateLimiter,
    /// Failed sign-ins per (address, account), reserved before each check.
    pub login_attempts: AttemptGuard,
    /// Unknown invite codes tried per client address (against guessing).
    pub code_miss: RateLimiter,
    /// Redemption attempts per client address.
    pub redeem: RateLimiter,
    /// Access requests per client address (the limit itself is a setting).
    pub request_ip: RateLimiter,
    /// Access requests per email address, from any address.
    pub request_email: RateLimiter,
}

impl Limits {
    pub fn from_config(config: &Config) -> Self {
        Limits {
            login_ip: RateLimiter::new(20, 15 * 60),
            login_attempts: AttemptGuard::new(
                config.login_max_failures,
                config.login_lockout_minutes as i64 * 60,
            ),
            code_miss: RateLimiter::new(config.code_misses_per_hour as usize, 3600),
            redeem: RateLimiter::new(config.redemptions_per_hour as usize, 3600),
            request_ip: RateLimiter::new(5, 3600),
            request_email: RateLimiter::new(3, 86_400),
        }
    }
}

/// How usher talks to media servers: who it says it is and where plex.tv lives.
#[derive(Debug, Clone)]
pub struct MediaEnv {
    pub info: ClientInfo,
    pub plex: PlexEndpoints,
}

impl MediaEnv {
    /// The client identifier is generated once per installation and kept, so plex.tv sees one
    /// stable device rather than a new one at every start.
    pub async fn load(store: &Store, config: &Config, now: i64) -> Result<Self, StoreError> {
        let id = store
            .setting_or_insert(
                "client_identifier",
                &format!("usher-{}", crate::crypto::random_token()),
                now,
            )
            .await?;
        Ok(MediaEnv {
            info: ClientInfo::new(id),
            plex: PlexEndpoints {
                plex_tv: config.plex.tv_url.clone(),
                clients: config.plex.clients_url.clone(),
                app: config.plex.app_url.clone(),
            },
        })
    }
}

/// Wakes the delivery worker and carries the HTTP client deliveries use.
#[derive(Debug)]
pub struct Notifier {
    pub wake: tokio::sync::Notify,
    /// Made on the first send: most installs never notify anyone, and a client loads the
    /// system's root certificates and a TLS stack's worth of code when it is built.
    http: std::sync::OnceLock<Option<reqwest::Client>>,
}

impl Default for Notifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Notifier {
    pub fn new() -> Self {
        Notifier {
            wake: tokio::sync::Notify::new(),
            http: std::sync::OnceLock::new(),
        }
    }

    pub fn http(&self) -> Option<&reqwest::Client> {
        self.http
            .get_or_init(|| {
                media::http::install_crypto();
                reqwest::Client::builder()
                    .connect_timeout(std::time::Duration::from_secs(5))
                    .timeout(std::time::Duration::from_secs(15))
                    .user_agent(concat!("usher/", env!("CARGO_PKG_VERSION")))
                    // A receiver that redirects is misconfigured; following could leak the payload.
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| {
                        tracing::error!(error = %e.without_url(), "no HTTP client for notifications")
                    })
                    .ok()
            })
            .as_ref()
    }
}
