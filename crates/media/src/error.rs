//! One error type for every media server, phrased so an owner knows what to do next.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// The token or API key was refused.
    #[error("the server refused the token: check it is current and belongs to an administrator")]
    Unauthorized,
    /// The token is valid but does not own this server.
    #[error("this token does not own the server: sign in with the server owner's account")]
    NotOwner,
    #[error("not found: {0}")]
    NotFound(String),
    /// Plex "already sharing", Jellyfin/Emby duplicate user name.
    #[error("{0}")]
    AlreadyExists(String),
    /// Plex refuses more friends or shares.
    #[error("the server's share limit is reached: remove an unused friend first ({0})")]
    LimitReached(String),
    #[error("this needs Plex Pass on the owner's account")]
    PlexPassRequired,
    #[error("the server asked to slow down; usher will retry")]
    RateLimited { retry_after: Option<Duration> },
    #[error("could not reach the server ({0}): check the URL and that it is running")]
    Unreachable(String),
    #[error("the server took too long to answer; usher will retry")]
    Timeout,
    /// The endpoint is gone (HTTP 410), e.g. a retired plex.tv API.
    #[error("the server no longer offers this call ({0}); usher needs an update")]
    EndpointRemoved(String),
    /// Input refused before or by the server, with a message for a person.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unsupported(String),
    /// Any other non-success answer.
    #[error("the server answered {status}: {message}")]
    Server { status: u16, message: String },
    /// An answer usher could not read.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
}

impl MediaError {
    /// A new account's name someone already has. Sign-ins ignore case on every server with
    /// local accounts, so names that differ only in case count as the same.
    pub fn name_taken(username: &str) -> MediaError {
        MediaError::AlreadyExists(format!(
            "that name is taken: `{username}` already has an account (names ignore upper and lower case), choose another"
        ))
    }

    /// Whether trying again later may succeed. Jobs retry these with backoff and give up on the
    /// rest at once.
    pub fn is_retryable(&self) -> bool {
        match self {
            MediaError::RateLimited { .. } | MediaError::Unreachable(_) | MediaError::Timeout => {
                true
            }
            MediaError::Server { status, .. } => *status >= 500 || *status == 408,
            _ => false,
        }
    }

    /// A short machine-readable name, stable for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::Unauthorized => "unauthorized",
            MediaError::NotOwner => "not_owner",
            MediaError::NotFound(_) => "not_found",
            MediaError::AlreadyExists(_) => "already_exists",
            MediaError::LimitReached(_) => "limit_reached",
            MediaError::PlexPassRequired => "plex_pass_required",
            MediaError::RateLimited { .. } => "rate_limited",
            MediaError::Unreachable(_) => "unreachable",
            MediaError::Timeout => "timeout",
            MediaError::EndpointRemoved(_) => "endpoint_removed",
            MediaError::Invalid(_) => "invalid",
            MediaError::Unsupported(_) => "unsupported",
            MediaError::Server { .. } => "server_error",
            MediaError::Protocol(_) => "protocol",
        }
    }

    /// Maps a transport failure. The message never contains the URL's query (tokens travel there).
    pub fn from_transport(err: &reqwest::Error) -> Self {
        if err.is_timeout() {
            return MediaError::Timeout;
        }
        let host = err
            .url()
            .map(|u| {
                let mut s = format!("{}://{}", u.scheme(), u.host_str().unwrap_or("?"));
                if let Some(p) = u.port() {
                    s.push_str(&format!(":{p}"));
                }
                s
            })
            .unwrap_or_else(|| "the server".into());
        if err.is_connect() {
            MediaError::Unreachable(format!("{host}: connection failed"))
        } else if err.is_decode() {
            MediaError::Protocol(format!("{host}: unreadable body"))
        } else {
            MediaError::Unreachable(host)
        }
    }
}

impl From<reqwest::Error> for MediaError {
    fn from(err: reqwest::Error) -> Self {
        MediaError::from_transport(&err)
    }
}
