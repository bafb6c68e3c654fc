//! Clients for the media servers usher grants access to.
//!
//! This crate knows HTTP and the servers' contracts, nothing else: no database, no web, no
//! runtime-specific sleeping or spawning (retries and backoff belong to the caller's job layer).
//! Every base URL is configurable so tests and `usher demo` can point the clients at the fakes.
//!
//! The set of server kinds is closed, so [`MediaClient`] dispatches with an enum rather than a
//! trait object.

pub mod audiobookshelf;
pub mod error;
pub mod http;
pub mod jellyfin;
pub mod kavita;
pub mod komga;
pub mod navidrome;
pub mod plex;
mod reply;
pub mod romm;

use std::fmt;
use std::str::FromStr;

pub use error::MediaError;
pub use http::ClientInfo;

/// What a kind of server lets usher do; see [`ServerKind::capabilities`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Capabilities {
    /// Each member gets an account of their own on the server (user name and password), rather
    /// than a share with an account they already have elsewhere (plex.tv).
    pub local_accounts: bool,
    /// An account can be paused and resumed; otherwise ending access removes it.
    pub can_disable: bool,
    /// Access can be given as a managed user in the owner's household (Plex Home).
    pub home_users: bool,
    /// The owner chooses whether members may upload from their phone's camera.
    pub camera_upload: bool,
    /// The number of streams at once can be limited per member.
    pub session_limit: bool,
    /// What a member sees can be limited by rating and label.
    pub content_filters: bool,
    /// The owner chooses whether members may download.
    pub downloads: bool,
    /// The owner chooses whether members may watch Live TV.
    pub live_tv: bool,
    /// usher signs in with an administrator's user name and password (a [`Login`]), because
    /// the server has no API keys.
    pub signs_in: bool,
    /// A member signs in with their email rather than a user name they choose (Komga).
    pub login_is_email: bool,
    /// Every account needs an email besides its user name, though the login is the name
    /// (Kavita).
    pub email_required: bool,
    /// Which user names the server takes.
    pub usernames: UsernameRule,
}

/// Which user names a server takes, loosest first: an invite to several servers asks for a
/// name every one of them takes, the greatest rule among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UsernameRule {
    /// Letters of any script, digits and the server's usual signs (Jellyfin, Emby, …).
    Any,
    /// ASCII letters, digits and `- . _ @ + /` (Kavita).
    Ascii,
    /// 3 or more ASCII letters, digits, `_` or `-` (RomM).
    Plain,
}

impl UsernameRule {
    /// Whether `name` follows this rule (for [`UsernameRule::Any`], always: the caller's own
    /// rule applies).
    pub fn allows(self, name: &str) -> bool {
        match self {
            UsernameRule::Any => true,
            UsernameRule::Ascii => {
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-._@+/".contains(c))
            }
            UsernameRule::Plain => {
                name.len() >= 3
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
            }
        }
    }
}

/// The kinds of media server usher can connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerKind {
    Plex,
    Jellyfin,
    Emby,
    Audiobookshelf,
    Navidrome,
    Komga,
    Kavita,
    Romm,
}

impl ServerKind {
    pub const ALL: [ServerKind; 8] = [
        ServerKind::Plex,
        ServerKind::Jellyfin,
        ServerKind::Emby,
        ServerKind::Audiobookshelf,
        ServerKind::Navidrome,
        ServerKind::Komga,
        ServerKind::Kavita,
        ServerKind::Romm,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServerKind::Plex => "plex",
            ServerKind::Jellyfin => "jellyfin",
            ServerKind::Emby => "emby",
            ServerKind::Audiobookshelf => "audiobookshelf",
            ServerKind::Navidrome => "navidrome",
            ServerKind::Komga => "komga",
            ServerKind::Kavita => "kavita",
            ServerKind::Romm => "romm",
        }
    }

    /// The name people know the product by.
    pub fn display_name(self) -> &'static str {
        match self {
            ServerKind::Plex => "Plex",
            ServerKind::Jellyfin => "Jellyfin",
            ServerKind::Emby => "Emby",
            ServerKind::Audiobookshelf => "Audiobookshelf",
            ServerKind::Navidrome => "Navidrome",
            ServerKind::Komga => "Komga",
            ServerKind::Kavita => "Kavita",
            ServerKind::Romm => "RomM",
        }
    }

    /// What usher can do with this kind of server, written once per kind: everything that
    /// differs between kinds asks this (or the kind's client), so a new kind is one match arm
    /// here that the compiler asks for.
    pub fn capabilities(self) -> Capabilities {
        match self {
            ServerKind::Plex => Capabilities {
                local_accounts: false,
                can_disable: false,
                home_users: true,
                camera_upload: true,
                session_limit: false,
                content_filters: true,
                downloads: true,
                live_tv: true,
                signs_in: false,
                login_is_email: false,
                email_required: false,
                usernames: UsernameRule::Any,
            },
            ServerKind::Jellyfin | ServerKind::Emby => Capabilities {
                local_accounts: true,
                can_disable: true,
                home_users: false,
                camera_upload: false,
                session_limit: true,
                content_filters: false,
                downloads: true,
                live_tv: true,
                signs_in: false,
                login_is_email: false,
                email_required: false,
                usernames: UsernameRule::Any,
            },
            // Pausing is `isActive: false`, which the server enforces at sign-in and on every
            // token, so it is a real pause.
            ServerKind::Audiobookshelf => Capabilities {
                local_accounts: true,
                can_disable: true,
                home_users: false,
                camera_upload: false,
                session_limit: false,
                content_filters: false,
                downloads: true,
                live_tv: false,
                signs_in: false,
                login_is_email: false,
                email_required: false,
                usernames: UsernameRule::Any,
            },
            // No way to pause an account (a user has no disabled flag), and downloads are a
            // server-wide setting, not a user's.
            ServerKind::Navidrome => Capabilities {
                local_accounts: true,
                can_disable: false,
                home_users: false,
                camera_upload: false,
                session_limit: false,
                content_filters: false,
                downloads: false,
                live_tv: false,
                signs_in: true,
                login_is_email: false,
                email_required: false,
                usernames: UsernameRule::Any,
            },
            // No way to pause an account: what Komga would accept (emptied libraries, fewer
            // roles) leaves its sessions and API keys working, so ending access removes it.
            ServerKind::Komga => Capabilities {
                local_accounts: true,
                can_disable: false,
                home_users: false,
                camera_upload: false,
                session_limit: false,
                content_filters: false,
                downloads: true,
                live_tv: false,
                signs_in: false,
                login_is_email: true,
                email_required: false,
                usernames: UsernameRule::Any,
            },
            // Pausing is `enabled=false`, checked on every request the account makes.
            ServerKind::Romm => Capabilities {
                local_accounts: true,
                can_disable: true,
                home_users: false,
                camera_upload: false,
                session_limit: false,
                content_filters: false,
                downloads: false,
                live_tv: false,
                signs_in: false,
                login_is_email: false,
                email_required: false,
                usernames: UsernameRule::Plain,
            },
            // Taking the `Login` role away leaves signed-in apps working for days (their
            // tokens are refreshed without a role check), so there is no real pause.
            ServerKind::Kavita => Capabilities {
                local_accounts: true,
                can_disable: false,
                home_users: false,
                camera_upload: false,
                session_limit: false,
                content_filters: false,
                downloads: true,
                live_tv: false,
                signs_in: false,
                login_is_email: false,
                email_required: true,
                usernames: UsernameRule::Ascii,
            },
        }
    }

    /// Plex shares with an existing plex.tv account; Jellyfin and Emby get a new local account.
    pub fn uses_local_accounts(self) -> bool {
        self.capabilities().local_accounts
    }

    /// Whether an account can be paused without removing it (Plex cannot).
    pub fn can_disable(self) -> bool {
        self.capabilities().can_disable
    }

    /// Whether a server of this kind running `version` can give someone fewer than all its
    /// libraries. RomM before 5.0 shows every platform to every user.
    pub fn limits_libraries(self, version: &str) -> bool {
        match self {
            ServerKind::Romm => version
                .trim()
                .split('.')
                .next()
                .and_then(|major| major.parse::<u32>().ok())
                // A development build reports `development`: it is the newest code.
                .is_none_or(|major| major >= 5),
            _ => true,
        }
    }

    /// Whether access can be limited by content filters and given as a managed Home user, and
    /// one account holds one share per server (Plex).
    pub fn is_plex(self) -> bool {
        matches!(self, ServerKind::Plex)
    }
}

impl TryFrom<String> for ServerKind {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ServerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "plex" => Ok(ServerKind::Plex),
            "jellyfin" => Ok(ServerKind::Jellyfin),
            "emby" => Ok(ServerKind::Emby),
            "audiobookshelf" | "abs" => Ok(ServerKind::Audiobookshelf),
            "navidrome" => Ok(ServerKind::Navidrome),
            "komga" => Ok(ServerKind::Komga),
            "kavita" => Ok(ServerKind::Kavita),
            "romm" => Ok(ServerKind::Romm),
            other => Err(format!(
                "unknown server kind `{other}`: use {}",
                ServerKind::ALL.map(ServerKind::as_str).join(", ")
            )),
        }
    }
}

/// What a server says about itself when probed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServerInfo {
    /// Plex `machineIdentifier`, Jellyfin/Emby server `Id`; empty where the API has none.
    pub id: String,
    pub name: String,
    pub version: String,
    /// The kind the server turned out to be (may differ from the configured kind).
    pub kind: ServerKind,
    /// Something the owner should know, e.g. "this looks like Emby, not Jellyfin".
    pub warning: Option<String>,
}

/// A library on a server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Library {
    /// The id the sharing API needs: Plex global section id, Jellyfin folder `Id`, Emby folder `Guid`.
    pub id: String,
    /// The server-local key (Plex section key, Emby numeric id); informational only.
    pub local_key: String,
    pub name: String,
    /// movie, show, artist, photo, music, tvshows, …
    pub kind: String,
}

impl Library {
    /// A library from a server's JSON list entry: its `id` (a string or a number, which is the
    /// sharing id and the local key alike), its `name`, and `kind` (or the entry's `kind_key`).
    pub(crate) fn from_entry(
        entry: &serde_json::Value,
        kind_key: &str,
        kind: &str,
    ) -> Option<Library> {
        let id = match entry.get("id")? {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return None,
        };
        let text = |key: &str| entry.get(key).and_then(serde_json::Value::as_str);
        Some(Library {
            local_key: id.clone(),
            id,
            name: text("name").unwrap_or_default().to_string(),
            kind: text(kind_key).unwrap_or(kind).to_string(),
        })
    }

    /// The sharing ids of `wanted`, each checked against what the server has now and given once.
    pub(crate) fn choose<'a>(
        available: &'a [Library],
        wanted: &[String],
        product: &str,
    ) -> Result<Vec<&'a Library>, MediaError> {
        let mut chosen: Vec<&Library> = Vec::with_capacity(wanted.len());
        for want in wanted {
            let Some(library) = available.iter().find(|l| l.id == want.trim()) else {
                return Err(MediaError::Invalid(format!(
                    "library `{want}` is not on the {product} server any more: refresh the library list and choose again"
                )));
            };
            if !chosen.iter().any(|c| c.id == library.id) {
                chosen.push(library);
            }
        }
        Ok(chosen)
    }
}

/// What a grant allows besides the libraries.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Permissions {
    pub allow_downloads: bool,
    pub allow_live_tv: bool,
    pub allow_camera_upload: bool,
    /// Jellyfin/Emby simultaneous streams; `None` means unlimited.
    pub max_sessions: Option<u32>,
    /// Plex: make a managed Plex Home user instead of a friend share.
    pub plex_home: bool,
    /// Plex content filters, e.g. `contentRating=G,PG`; empty means none.
    pub filter_movies: String,
    pub filter_television: String,
    pub filter_music: String,
}

/// A password or token. `Debug` prints it hidden, so a logged or panicking value never shows
/// it; [`Secret::expose`] is the one way to the text.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Self {
        Secret(text.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(hidden)")
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Secret(text)
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Self {
        Secret(text.to_string())
    }
}

/// Who receives a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// Plex: an existing plex.tv account by email or username.
    PlexUser { email_or_username: String },
    /// Jellyfin/Emby: a new local account.
    Account {
        username: String,
        password: Secret,
        email: Option<String>,
    },
}

/// What to make real on a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantSpec {
    pub identity: Identity,
    /// Sharing ids (see [`Library::id`]); empty means no library.
    pub libraries: Vec<String>,
    pub permissions: Permissions,
}

impl GrantSpec {
    /// The user name, password and email of a new local account on `product`, refusing a
    /// blank name or password.
    pub(crate) fn account(&self, product: &str) -> Result<(&str, &str, Option<&str>), MediaError> {
        match &self.identity {
            Identity::Account {
                username,
                password,
                email,
            } => {
                if username.trim().is_empty() {
                    return Err(MediaError::Invalid("choose a user name".into()));
                }
                if password.expose().is_empty() {
                    return Err(MediaError::Invalid(
                        "choose a password: an account without one lets anyone sign in".into(),
                    ));
                }
                Ok((username, password.expose(), email.as_deref()))
            }
            Identity::PlexUser { .. } => Err(MediaError::Invalid(format!(
                "{product} needs a new account's user name and password, not a Plex user"
            ))),
        }
    }
}

/// An administrator's user name and password, for a server that has no API keys (Navidrome).
/// It is kept as one secret, like a token: [`Login::encode`] gives the text to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub username: String,
    pub password: Secret,
}

impl Login {
    pub fn encode(&self) -> String {
        serde_json::json!({ "username": self.username, "password": self.password.expose() })
            .to_string()
    }

    /// The login [`encode`](Self::encode) made; `None` for anything else or a blank part.
    pub fn decode(text: &str) -> Option<Login> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let username = v.get("username")?.as_str()?.trim();
        let password = v.get("password")?.as_str()?;
        (!username.is_empty() && !password.is_empty()).then(|| Login {
            username: username.to_string(),
            password: Secret::new(password),
        })
    }
}

/// The result of a grant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GrantOutcome {
    /// The server's id for the person or share: Plex shared-server id, Jellyfin/Emby user id.
    pub remote_id: String,
    /// The server-side user id where it differs from `remote_id` (Plex account id).
    pub remote_user_id: Option<String>,
    pub username: String,
    /// Plex invites stay pending until the friend accepts the email.
    pub pending: bool,
}

/// The state of an account or share as the server reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    Pending,
    Active,
    Disabled,
}

/// Somebody with access to a server, as the server reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RemoteAccount {
    /// The same id [`GrantOutcome::remote_id`] returns for this person.
    pub remote_id: String,
    pub remote_user_id: Option<String>,
    pub username: String,
    pub email: Option<String>,
    pub status: AccountStatus,
    /// Sharing ids of the libraries this account can see; `all_libraries` when unrestricted.
    pub libraries: Vec<String>,
    pub all_libraries: bool,
    /// Server administrators and the owner are never managed by usher.
    pub is_admin: bool,
}

/// One connected server, whatever its kind.
#[derive(Debug, Clone)]
pub enum MediaClient {
    Plex(plex::PlexServerClient),
    Jellyfin(jellyfin::JellyfinClient),
    Audiobookshelf(audiobookshelf::AudiobookshelfClient),
    Navidrome(navidrome::NavidromeClient),
    Komga(komga::KomgaClient),
    Kavita(kavita::KavitaClient),
    Romm(romm::RommClient),
}

/// Calls the same method on whichever client this is.
macro_rules! each {
    ($self:expr, $c:ident => $call:expr) => {
        match $self {
            MediaClient::Plex($c) => $call,
            MediaClient::Jellyfin($c) => $call,
            MediaClient::Audiobookshelf($c) => $call,
            MediaClient::Navidrome($c) => $call,
            MediaClient::Komga($c) => $call,
            MediaClient::Kavita($c) => $call,
            MediaClient::Romm($c) => $call,
        }
    };
}

impl MediaClient {
    /// Builds the right client for a server of `kind` at `url` authenticated with `token`
    /// (Plex token, or the server's API key).
    pub fn new(
        kind: ServerKind,
        url: &str,
        token: &str,
        info: &ClientInfo,
        endpoints: &plex::PlexEndpoints,
    ) -> Result<Self, MediaError> {
        Ok(match kind {
            ServerKind::Plex => MediaClient::Plex(plex::PlexServerClient::new(
                url,
                token,
                info.clone(),
                endpoints.clone(),
            )?),
            ServerKind::Jellyfin | ServerKind::Emby => MediaClient::Jellyfin(
                jellyfin::JellyfinClient::new(kind, url, token, info.clone())?,
            ),
            ServerKind::Audiobookshelf => {
                MediaClient::Audiobookshelf(audiobookshelf::AudiobookshelfClient::new(url, token)?)
            }
            ServerKind::Navidrome => {
                MediaClient::Navidrome(navidrome::NavidromeClient::new(url, token)?)
            }
            ServerKind::Komga => MediaClient::Komga(komga::KomgaClient::new(url, token)?),
            ServerKind::Kavita => MediaClient::Kavita(kavita::KavitaClient::new(url, token)?),
            ServerKind::Romm => MediaClient::Romm(romm::RommClient::new(url, token)?),
        })
    }

    pub fn kind(&self) -> ServerKind {
        match self {
            MediaClient::Plex(_) => ServerKind::Plex,
            MediaClient::Jellyfin(c) => c.kind(),
            MediaClient::Audiobookshelf(_) => ServerKind::Audiobookshelf,
            MediaClient::Navidrome(_) => ServerKind::Navidrome,
            MediaClient::Komga(_) => ServerKind::Komga,
            MediaClient::Kavita(_) => ServerKind::Kavita,
            MediaClient::Romm(_) => ServerKind::Romm,
        }
    }

    pub async fn probe(&self) -> Result<ServerInfo, MediaError> {
        each!(self, c => c.probe().await)
    }

    pub async fn libraries(&self) -> Result<Vec<Library>, MediaError> {
        each!(self, c => c.libraries().await)
    }

    /// Makes the access real. Idempotent where the server allows: an existing Plex share is
    /// updated; where members get accounts of their own, a half-made account is deleted before
    /// an error is returned.
    pub async fn grant(&self, spec: &GrantSpec) -> Result<GrantOutcome, MediaError> {
        each!(self, c => c.grant(spec).await)
    }

    /// [`grant`](Self::grant) again after an attempt that may have been cut off halfway: the
    /// account that attempt made is finished rather than refused as taken (`made_here`: the
    /// caller saw the name free before that attempt; see
    /// [`jellyfin::JellyfinClient::grant_again`]).
    pub async fn grant_again(
        &self,
        spec: &GrantSpec,
        made_here: bool,
    ) -> Result<GrantOutcome, MediaError> {
        match self {
            MediaClient::Plex(c) => c.grant(spec).await,
            MediaClient::Jellyfin(c) => c.grant_again(spec, made_here).await,
            MediaClient::Audiobookshelf(c) => c.grant_again(spec).await,
            MediaClient::Navidrome(c) => c.grant_again(spec).await,
            MediaClient::Komga(c) => c.grant_again(spec).await,
            MediaClient::Kavita(c) => c.grant_again(spec).await,
            MediaClient::Romm(c) => c.grant_again(spec).await,
        }
    }

    pub async fn update_access(
        &self,
        remote_id: &str,
        libraries: &[String],
        permissions: &Permissions,
    ) -> Result<(), MediaError> {
        each!(self, c => c.update_access(remote_id, libraries, permissions).await)
    }

    /// Whether the server can disable an account without removing it (Plex cannot).
    pub fn can_disable(&self) -> bool {
        self.kind().can_disable()
    }

    pub async fn set_disabled(&self, remote_id: &str, disabled: bool) -> Result<(), MediaError> {
        match self {
            MediaClient::Plex(_) => Err(MediaError::Unsupported(
                "Plex cannot disable a share; remove it instead".into(),
            )),
            MediaClient::Jellyfin(c) => c.set_disabled(remote_id, disabled).await,
            MediaClient::Audiobookshelf(c) => c.set_disabled(remote_id, disabled).await,
            MediaClient::Romm(c) => c.set_disabled(remote_id, disabled).await,
            MediaClient::Navidrome(_) | MediaClient::Komga(_) | MediaClient::Kavita(_) => {
                Err(MediaError::Unsupported(format!(
                    "{} cannot pause an account; remove it instead",
                    self.kind().display_name()
                )))
            }
        }
    }

    /// Removes the access. Removing what is already gone succeeds.
    pub async fn remove(&self, remote_id: &str) -> Result<(), MediaError> {
        each!(self, c => c.remove(remote_id).await)
    }

    pub async fn accounts(&self) -> Result<Vec<RemoteAccount>, MediaError> {
        each!(self, c => c.accounts().await)
    }

    /// Whether no account is called `username` (servers with local accounts; names compare
    /// ignoring case, as the servers' sign-ins do). Plex has no names of its own: always free.
    pub async fn name_is_free(&self, username: &str) -> Result<bool, MediaError> {
        match self {
            MediaClient::Plex(_) => Ok(true),
            MediaClient::Jellyfin(c) => c.name_is_free(username).await,
            MediaClient::Audiobookshelf(c) => c.name_is_free(username).await,
            MediaClient::Navidrome(c) => c.name_is_free(username).await,
            MediaClient::Komga(c) => c.name_is_free(username).await,
            MediaClient::Kavita(c) => c.name_is_free(username).await,
            MediaClient::Romm(c) => c.name_is_free(username).await,
        }
    }

    /// Sets a member account's password without knowing the old one (servers with local
    /// accounts).
    pub async fn set_password(&self, remote_id: &str, password: &str) -> Result<(), MediaError> {
        match self {
            MediaClient::Plex(_) => Err(MediaError::Unsupported(
                "Plex friends sign in with their own plex.tv password".into(),
            )),
            MediaClient::Jellyfin(c) => c.set_password(remote_id, password).await,
            MediaClient::Audiobookshelf(c) => c.set_password(remote_id, password).await,
            MediaClient::Navidrome(c) => c.set_password(remote_id, password).await,
            MediaClient::Komga(c) => c.set_password(remote_id, password).await,
            MediaClient::Kavita(c) => c.set_password(remote_id, password).await,
            MediaClient::Romm(c) => c.set_password(remote_id, password).await,
        }
    }
}
