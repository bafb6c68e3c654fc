//! Connected media servers: adding (by URL and token, or by signing in with Plex), testing,
//! scanning libraries, per-server defaults for new grants, editing and removing.

pub mod api;
pub mod cli;
pub mod routes;

use crate::domain::ids::*;
use media::{MediaClient, MediaError, ServerKind};

use crate::state::AppState;
use crate::store::events::NewEvent;
use crate::store::servers::{NewServer, ServerDefaults, ServerRow};

/// This feature's pages and endpoints, as the router registers them.
pub fn routes(r: crate::web::Routes) -> crate::web::Routes {
    let r = r.api(api::endpoints());
    use crate::web::{ADMIN, OWNER};
    use routes::*;
    r.get("/admin/servers", ADMIN, list)
        .post("/admin/servers", OWNER, create)
        .get("/admin/servers/new", OWNER, new_form)
        .post("/admin/servers/plex/signin", OWNER, plex_signin)
        .get("/admin/servers/plex/callback", OWNER, plex_callback)
        .post("/admin/servers/plex/add", OWNER, plex_add)
        .get("/admin/servers/{id}", ADMIN, detail)
        .post("/admin/servers/{id}/test", ADMIN, test)
        .post("/admin/servers/{id}/scan", ADMIN, scan)
        .post("/admin/servers/{id}/edit", OWNER, edit)
        .post("/admin/servers/{id}/defaults", ADMIN, defaults)
        .post("/admin/servers/{id}/libraries", ADMIN, libraries)
        .post("/admin/servers/{id}/remove", ADMIN, remove)
        .post("/admin/servers/{id}/expiry", ADMIN, expiry)
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A field a person typed is wrong; `key` is the Fluent message.
    #[error("{field}: {key}")]
    Invalid {
        field: &'static str,
        key: &'static str,
    },
    #[error("a server with that name already exists")]
    NameTaken,
    #[error("{0}")]
    KindMismatch(String),
    #[error("{0}")]
    Media(#[from] MediaError),
    #[error("no such server")]
    NotFound,
    #[error(
        "the stored token cannot be read: was the secret key changed? Edit the server and enter the token again"
    )]
    TokenUnreadable,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<crate::state::ClientError> for ServerError {
    fn from(e: crate::state::ClientError) -> Self {
        match e {
            crate::state::ClientError::TokenUnreadable => ServerError::TokenUnreadable,
            crate::state::ClientError::Media(m) => ServerError::Media(m),
        }
    }
}

impl From<sqlx::Error> for ServerError {
    fn from(e: sqlx::Error) -> Self {
        if crate::store::is_unique_violation(&e) {
            ServerError::NameTaken
        } else {
            ServerError::Store(e.into())
        }
    }
}

impl crate::web::error::Failure for ServerError {
    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode as S;
        match self {
            ServerError::Invalid { .. } | ServerError::KindMismatch(_) => S::UNPROCESSABLE_ENTITY,
            ServerError::NameTaken | ServerError::TokenUnreadable => S::CONFLICT,
            ServerError::Media(_) => S::BAD_GATEWAY,
            ServerError::NotFound => S::NOT_FOUND,
            ServerError::Store(_) => S::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ServerError::Invalid { .. } => "invalid",
            ServerError::NameTaken => "name_taken",
            ServerError::KindMismatch(_) => "kind_mismatch",
            ServerError::Media(_) => "server_refused",
            ServerError::NotFound => "not_found",
            ServerError::TokenUnreadable => "token_unreadable",
            ServerError::Store(_) => "internal",
        }
    }

    fn message_key(&self) -> &'static str {
        self.explain().0
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ServerError::Invalid { field, .. } => Some(field),
            ServerError::NameTaken => Some("name"),
            ServerError::KindMismatch(_) => Some("kind"),
            _ => None,
        }
    }

    fn detail(&self) -> Option<String> {
        self.explain().1
    }
}

impl ServerError {
    /// The Fluent key that explains this error, and a detail line in plain words where the
    /// server said something specific.
    pub fn explain(&self) -> (&'static str, Option<String>) {
        match self {
            ServerError::Invalid { key, .. } => (key, None),
            ServerError::NameTaken => ("server-name-taken", None),
            ServerError::KindMismatch(detail) => ("server-kind-mismatch", Some(detail.clone())),
            ServerError::Media(e) => (crate::web::error::media_error_key(e), Some(e.to_string())),
            ServerError::NotFound => ("error-not-found", None),
            ServerError::TokenUnreadable => ("server-token-unreadable", None),
            ServerError::Store(_) => ("error-internal", None),
        }
    }
}

/// What an owner typed to add or edit a server.
#[derive(Debug, Clone, Default)]
pub struct ServerInput {
    pub kind: String,
    pub name: String,
    pub url: String,
    /// The token or API key; for a kind that signs in (Navidrome), the administrator's password.
    pub token: media::Secret,
    /// For a kind that signs in: the administrator's user name.
    pub username: String,
}

pub fn validate_name(name: &str) -> Result<&str, ServerError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(crate::text::unprintable) {
        return Err(ServerError::Invalid {
            field: "name",
            key: "server-bad-name",
        });
    }
    Ok(name)
}

pub fn parse_kind(kind: &str) -> Result<ServerKind, ServerError> {
    kind.parse().map_err(|_| ServerError::Invalid {
        field: "kind",
        key: "server-bad-kind",
    })
}

fn validate_url(url: &str) -> Result<String, ServerError> {
    media::http::parse_base_url(url).map_err(|_| ServerError::Invalid {
        field: "url",
        key: "server-bad-url",
    })
}

fn validate_token(token: &str) -> Result<&str, ServerError> {
    let token = token.trim();
    if token.is_empty()
        || token.len() > 512
        || token.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ServerError::Invalid {
            field: "token",
            key: "server-bad-token",
        });
    }
    Ok(token)
}

/// The secret usher keeps for a server: the token or key as typed, or for a kind that signs in
/// (Navidrome) the administrator's user name and password together.
fn credential(kind: ServerKind, username: &str, secret: &str) -> Result<String, ServerError> {
    if !kind.capabilities().signs_in {
        return validate_token(secret).map(str::to_string);
    }
    let username = username.trim();
    if username.is_empty() || username.chars().count() > 255 {
        return Err(ServerError::Invalid {
            field: "username",
            key: "server-need-username",
        });
    }
    if secret.is_empty() || secret.len() > 512 || secret.chars().any(char::is_control) {
        return Err(ServerError::Invalid {
            field: "token",
            key: "server-bad-password",
        });
    }
    Ok(media::Login {
        username: username.to_string(),
        password: secret.into(),
    }
    .encode())
}

/// What a connection test found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Probe {
    pub info: media::ServerInfo,
    pub libraries: Vec<media::Library>,
}

/// Probes a server and lists its libraries, refusing a server of another kind than chosen.
async fn probe(client: &MediaClient, kind: ServerKind) -> Result<Probe, ServerError> {
    let info = client.probe().await?;
    if info.kind != kind {
        return Err(ServerError::KindMismatch(
            info.warning.clone().unwrap_or_else(|| {
                format!(
                    "this server is {}, not {}",
                    info.kind.display_name(),
                    kind.display_name()
                )
            }),
        ));
    }
    let libraries = client.libraries().await?;
    Ok(Probe { info, libraries })
}

/// Adds a server after proving usher can reach and manage it, and stores its libraries.
pub async fn add(
    state: &AppState,
    input: &ServerInput,
    actor: &str,
) -> Result<ServerId, ServerError> {
    let kind = parse_kind(&input.kind)?;
    let name = validate_name(&input.name)?;
    let url = validate_url(&input.url)?;
    let credential = credential(kind, &input.username, input.token.expose())?;
    let token = credential.as_str();
    if state.store.server_by_name(name).await?.is_some() {
        return Err(ServerError::NameTaken);
    }
    let client = state.client_with(kind, &url, token)?;
    let found = probe(&client, kind).await?;
    let now = state.clock.now();
    let sealed = state.key.seal(token);
    let id = state
        .store
        .insert_server(
            NewServer {
                name,
                kind: kind.as_str(),
                url: &url,
                token_sealed: &sealed,
                remote_id: Some(&found.info.id),
                version: Some(&found.info.version),
                warning: found.info.warning.as_deref(),
            },
            now,
        )
        .await?;
    state
        .store
        .replace_libraries(id, &found.libraries, now)
        .await?;
    state
        .store
        .append_event_about(
            NewEvent {
                actor,
                action: "server.added",
                subject: Some(name),
                detail: Some(&format!(
                    "{} {} at {url}, {} libraries",
                    kind.display_name(),
                    found.info.version,
                    found.libraries.len()
                )),
            },
            None,
            Some(id),
            now,
        )
        .await?;
    tracing::info!(server = name, kind = kind.as_str(), "server added");
    Ok(id)
}

async fn load(state: &AppState, id: ServerId) -> Result<ServerRow, ServerError> {
    state.store.server(id).await?.ok_or(ServerError::NotFound)
}

/// Tests the connection, records the outcome on the server, and returns what was found.
pub async fn test(state: &AppState, id: ServerId) -> Result<Probe, ServerError> {
    let server = load(state, id).await?;
    let kind = server.kind;
    let result = match state.client_for(&server) {
        Ok(client) => probe(&client, kind).await,
        Err(e) => Err(e.into()),
    };
    let now = state.clock.now();
    match &result {
        Ok(p) => {
            state
                .store
                .set_server_status(
                    id,
                    Some((&p.info.id, &p.info.version, p.info.warning.as_deref())),
                    None,
                    now,
                )
                .await?
        }
        Err(e) => {
            let (_, detail) = e.explain();
            let message = detail.unwrap_or_else(|| e.to_string());
            state
                .store
                .set_server_status(id, None, Some(&message), now)
                .await?
        }
    }
    result
}

/// Rescans libraries and stores them.
pub async fn scan(state: &AppState, id: ServerId, actor: &str) -> Result<usize, ServerError> {
    let probe = test(state, id).await?;
    state
        .store
        .replace_libraries(id, &probe.libraries, state.clock.now())
        .await?;
    let count = probe.libraries.len();
    let server = load(state, id).await?;
    server_event(
        state,
        &server,
        actor,
        "server.scanned",
        &format!("{count} libraries"),
    )
    .await?;
    Ok(count)
}

/// Sets the address friends open for a server (empty: fall back to the connection URL when it
/// is public).
pub async fn set_friend_url(
    state: &AppState,
    id: ServerId,
    raw: &str,
    actor: &str,
) -> Result<(), ServerError> {
    let server = load(state, id).await?;
    let url = match raw.trim() {
        "" => None,
        raw => Some(
            crate::domain::base_url::BaseUrl::parse(raw)
                .map_err(|_| ServerError::Invalid {
                    field: "friend_url",
                    key: "server-bad-friend-url",
                })?
                .to_string(),
        ),
    };
    if url == server.friend_url {
        return Ok(());
    }
    state
        .store
        .set_server_friend_url(id, url.as_deref(), state.clock.now())
        .await?;
    state
        .store
        .append_event(
            NewEvent {
                actor,
                action: "server.updated",
                subject: Some(&server.name),
                detail: Some(&format!(
                    "address for friends: {}",
                    url.as_deref().unwrap_or("none")
                )),
            },
            state.clock.now(),
        )
        .await?;
    Ok(())
}

/// Renames, moves or re-keys a server. A new URL or token is proven before it is saved.
pub async fn edit(
    state: &AppState,
    id: ServerId,
    input: &ServerInput,
    actor: &str,
) -> Result<(), ServerError> {
    let server = load(state, id).await?;
    let kind = server.kind;
    let name = validate_name(&input.name)?;
    let url = validate_url(&input.url)?;
    let new_token = if input.token.expose().trim().is_empty() {
        None
    } else {
        // A new password alone keeps the administrator the server already signs in as.
        let kept = state
            .key
            .open(&server.token_sealed)
            .and_then(|t| media::Login::decode(&t))
            .map(|l| l.username)
            .unwrap_or_default();
        let username = if input.username.trim().is_empty() {
            kept.as_str()
        } else {
            input.username.as_str()
        };
        Some(credential(kind, username, input.token.expose())?)
    };
    if let Some(other) = state.store.server_by_name(name).await?
        && other.id != id
    {
        return Err(ServerError::NameTaken);
    }
    if url != server.url || new_token.is_some() {
        let token = match &new_token {
            Some(t) => t.clone(),
            None => state
                .key
                .open(&server.token_sealed)
                .ok_or(ServerError::TokenUnreadable)?,
        };
        let client = state.client_with(kind, &url, &token)?;
        let found = probe(&client, kind).await?;
        if server
            .remote_id
            .as_deref()
            .is_some_and(|r| r != found.info.id)
        {
            return Err(ServerError::KindMismatch(format!(
                "that URL answers as another server ({}), not {}",
                found.info.name, server.name
            )));
        }
    }
    let sealed = new_token.as_deref().map(|t| state.key.seal(t));
    let now = state.clock.now();
    state
        .store
        .update_server(id, name, &url, sealed.as_deref(), now)
        .await?;
    state
        .store
        .append_event_about(
            NewEvent {
                actor,
                action: "server.updated",
                subject: Some(name),
                detail: new_token.as_ref().map(|_| "token replaced"),
            },
            None,
            Some(id),
            now,
        )
        .await?;
    Ok(())
}

/// Sets where every new grant on a server starts (downloads, Live TV, camera upload, streams)
/// and whether approving a request starts with it ticked.
pub async fn set_defaults(
    state: &AppState,
    id: ServerId,
    defaults: ServerDefaults,
    actor: &str,
) -> Result<(), ServerError> {
    let server = load(state, id).await?;
    if defaults
        .max_sessions
        .is_some_and(|n| !(1..=100).contains(&n))
    {
        return Err(ServerError::Invalid {
            field: "max_sessions",
            key: "server-bad-max-sessions",
        });
    }
    let now = state.clock.now();
    state.store.set_server_defaults(id, defaults, now).await?;
    let on_off = |v: bool| if v { "on" } else { "off" };
    let detail = format!(
        "downloads {}, live TV {}, camera upload {}, streams {}, requests {}",
        on_off(defaults.allow_downloads),
        on_off(defaults.allow_live_tv),
        on_off(defaults.allow_camera_upload),
        defaults
            .max_sessions
            .map_or_else(|| "unlimited".to_string(), |n| n.to_string()),
        on_off(defaults.request_default),
    );
    server_event(state, &server, actor, "server.defaults_changed", &detail).await
}

/// Sets which of a server's libraries are offered (`offered`, library ids as
/// [`crate::store::servers::LibraryRow::id`]) and which of those are pre-checked (`defaults`).
/// An id that is not this server's library is refused, not ignored.
pub async fn set_library_choices(
    state: &AppState,
    id: ServerId,
    offered: &[i64],
    defaults: &[i64],
    actor: &str,
) -> Result<(), ServerError> {
    let server = load(state, id).await?;
    let libraries = state.store.libraries(id).await?;
    if offered
        .iter()
        .chain(defaults)
        .any(|l| !libraries.iter().any(|row| row.id == *l))
    {
        return Err(ServerError::Invalid {
            field: "libraries",
            key: "server-unknown-library",
        });
    }
    state.store.set_library_flags(id, offered, defaults).await?;
    let pre_checked = defaults.iter().filter(|d| offered.contains(d)).count();
    let detail = format!("{} offered, {pre_checked} pre-checked", offered.len());
    server_event(state, &server, actor, "server.libraries_changed", &detail).await
}

/// Records a change to a server in the audit log.
async fn server_event(
    state: &AppState,
    server: &crate::store::servers::ServerRow,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<(), ServerError> {
    state
        .store
        .append_event_about(
            NewEvent {
                actor,
                action,
                subject: Some(&server.name),
                detail: Some(detail),
            },
            None,
            Some(server.id),
            state.clock.now(),
        )
        .await?;
    Ok(())
}

pub async fn remove(state: &AppState, id: ServerId, actor: &str) -> Result<(), ServerError> {
    let server = load(state, id).await?;
    state.store.delete_server(id).await?;
    state
        .store
        .append_event(
            NewEvent {
                actor,
                action: "server.removed",
                subject: Some(&server.name),
                detail: None,
            },
            state.clock.now(),
        )
        .await?;
    Ok(())
}

/// The longest wait between pausing and removing an expired grant.
pub const MAX_REMOVE_AFTER_DAYS: i64 = 3650;

/// Sets what happens to a server's grants when they expire: an [`crate::domain::ExpiryAction`], and for
/// `disable_then_remove` the days between pausing and removing (`0`–[`MAX_REMOVE_AFTER_DAYS`],
/// empty keeps the current value).
pub async fn set_expiry_policy(
    state: &AppState,
    server_id: ServerId,
    action: &str,
    remove_after_days: &str,
    actor: &str,
) -> Result<(), ServerError> {
    let server = state
        .store
        .server(server_id)
        .await?
        .ok_or(ServerError::NotFound)?;
    let action = crate::domain::ExpiryAction::parse(action).ok_or(ServerError::Invalid {
        field: "expiry_action",
        key: "server-expiry-bad-action",
    })?;
    let days = match remove_after_days.trim() {
        "" => server.expiry_remove_after_days,
        d => d
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=MAX_REMOVE_AFTER_DAYS).contains(n))
            .ok_or(ServerError::Invalid {
                field: "remove_after_days",
                key: "server-expiry-bad-days",
            })?,
    };
    let now = state.clock.now();
    state
        .store
        .set_server_expiry(server_id, action, days, now)
        .await?;
    let detail = if action == crate::domain::ExpiryAction::DisableThenRemove {
        format!("{action}, after {days} days")
    } else {
        action.to_string()
    };
    state
        .store
        .append_event_about(
            crate::store::events::NewEvent {
                actor,
                action: "server.expiry_changed",
                subject: Some(&server.name),
                detail: Some(&detail),
            },
            None,
            Some(server_id),
            now,
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_urls_and_tokens_are_checked_before_any_call() {
        assert_eq!(validate_name("  Home Plex ").unwrap(), "Home Plex");
        assert!(validate_name("").is_err());
        assert!(validate_name(&"x".repeat(65)).is_err());
        assert!(validate_url("http://10.0.0.2:32400/").is_ok());
        assert!(validate_url("10.0.0.2:32400").is_err());
        assert!(validate_url("ftp://x").is_err());
        assert!(validate_token("abc def").is_err());
        assert!(validate_token("").is_err());
        assert!(parse_kind("Jellyfin").is_ok());
        assert!(parse_kind("kodi").is_err());
    }
}
