//! The HTTP client every connector shares, and who usher says it is.

use std::sync::{Once, OnceLock};
use std::time::Duration;

/// How usher identifies itself to media servers. `client_identifier` is generated once per
/// installation and stored, so servers see one stable device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    pub product: String,
    pub version: String,
    pub client_identifier: String,
    pub device_name: String,
    pub platform: String,
}

impl ClientInfo {
    pub fn new(client_identifier: impl Into<String>) -> Self {
        ClientInfo {
            product: "usher".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            client_identifier: client_identifier.into(),
            device_name: "usher".into(),
            platform: std::env::consts::OS.into(),
        }
    }
}

/// Connect timeout for every call: servers on a LAN answer in milliseconds.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Whole-request timeout: long enough for a slow plex.tv, short enough that a job can retry.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

static CRYPTO: Once = Once::new();

/// Installs rustls' ring provider for the process, once. Any reqwest client built in this
/// process (ours or a test's) needs it.
pub fn install_crypto() {
    CRYPTO.call_once(|| {
        // Another part of the process may have installed a provider already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

static SHARED: OnceLock<reqwest::Client> = OnceLock::new();

/// The process's HTTP client, with timeouts set; a clone shares its connections. It is made
/// once: a new client reads and parses every root certificate of the system and starts with an
/// empty pool, so one per server call cost milliseconds and memory each time and never reused
/// a connection. TLS uses rustls with the ring provider, installed once for the process.
pub fn client() -> Result<reqwest::Client, crate::MediaError> {
    if let Some(client) = SHARED.get() {
        return Ok(client.clone());
    }
    install_crypto();
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("usher/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| crate::MediaError::Protocol(format!("could not build HTTP client: {e}")))?;
    Ok(SHARED.get_or_init(|| client).clone())
}

/// Joins a configured base URL and a path without doubling or dropping the slash.
pub fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Checks a configured base URL is an absolute http(s) URL.
pub fn parse_base_url(raw: &str) -> Result<String, crate::MediaError> {
    let url = url::Url::parse(raw.trim()).map_err(|_| {
        crate::MediaError::Invalid(format!(
            "`{raw}` is not a URL: write it like http://192.168.1.10:8096"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(crate::MediaError::Invalid(format!(
            "`{raw}` must start with http:// or https:// and name a host"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// One path segment, percent-encoded (an id from a server is never trusted into a path as is).
pub fn encode_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
