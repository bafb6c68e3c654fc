//! Audiobookshelf: local accounts that name the libraries they may open.
//!
//! Follows `reference/more-servers-api.md` §1.1. Three things a client easily gets wrong are
//! handled here: a new user is inactive unless `isActive: true` is sent; a user can see every
//! library unless `accessAllLibraries: false` is sent with the list; and an update only applies
//! `librariesAccessible` when a `permissions` object travels in the same body. Every change is
//! checked against the account the server answers with, so a silently ignored field is an error,
//! not a success. The server's duplicate-name check is case-sensitive while its sign-in ignores
//! case, so usher refuses a name that differs only in case itself.

use std::fmt;
use std::sync::Arc;

use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::http::{encode_segment, join, parse_base_url};
use crate::reply::{Reply, rolled_back};
use crate::{
    AccountStatus, GrantOutcome, GrantSpec, Library, MediaError, Permissions, RemoteAccount,
    ServerInfo, ServerKind,
};

const PRODUCT: &str = "Audiobookshelf";

/// An Audiobookshelf server, reached with an administrator's API key (Settings → API Keys,
/// 2.26 and later) or an older administrator's token.
#[derive(Clone)]
pub struct AudiobookshelfClient {
    base: String,
    http: reqwest::Client,
    /// `Bearer <key>`, marked sensitive.
    authorization: HeaderValue,
    /// Kept to scrub it from anything the server echoes back.
    api_key: Arc<str>,
}

impl fmt::Debug for AudiobookshelfClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AudiobookshelfClient")
            .field("base", &self.base)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

/// A user as the server describes one.
struct User {
    id: String,
    username: String,
    email: Option<String>,
    kind: String,
    active: bool,
    all_libraries: bool,
    libraries: Vec<String>,
    download: bool,
}

impl User {
    fn from_value(v: &Value) -> Option<User> {
        let permissions = v.get("permissions");
        let flag = |key: &str| {
            permissions
                .and_then(|p| p.get(key))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        Some(User {
            id: v.get("id")?.as_str()?.to_string(),
            username: v.get("username")?.as_str()?.to_string(),
            email: v
                .get("email")
                .and_then(Value::as_str)
                .filter(|e| !e.is_empty())
                .map(String::from),
            kind: v
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("user")
                .to_string(),
            active: v.get("isActive").and_then(Value::as_bool).unwrap_or(false),
            all_libraries: flag("accessAllLibraries"),
            libraries: v
                .get("librariesAccessible")
                .and_then(Value::as_array)
                .map(|ids| {
                    ids.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
            download: flag("download"),
        })
    }

    /// `root` (the first account) and `admin` users are the owner's, never a member's.
    fn is_admin(&self) -> bool {
        matches!(self.kind.as_str(), "root" | "admin")
    }

    /// Whether the account holds exactly `libraries` (in any order) and nothing more.
    fn holds_exactly(&self, libraries: &[String]) -> bool {
        !self.all_libraries
            && self.libraries.len() == libraries.len()
            && libraries.iter().all(|l| self.libraries.contains(l))
    }
}

impl AudiobookshelfClient {
    pub fn new(url: &str, api_key: &str) -> Result<Self, MediaError> {
        let base = parse_base_url(url)?;
        let api_key = api_key.trim();
        if api_key.is_empty() {
            return Err(MediaError::Invalid(
                "enter an API key: create one in Audiobookshelf under Settings → API Keys, for an administrator"
                    .into(),
            ));
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {api_key}")).map_err(|_| {
            MediaError::Invalid(
                "the API key contains characters that cannot be sent: copy it again from Audiobookshelf"
                    .into(),
            )
        })?;
        authorization.set_sensitive(true);
        Ok(AudiobookshelfClient {
            base,
            http: crate::http::client()?,
            authorization,
            api_key: api_key.into(),
        })
    }

    /// Checks the address is Audiobookshelf and the key an administrator's.
    pub async fn probe(&self) -> Result<ServerInfo, MediaError> {
        let status: Value = self
            .exchange(self.http.get(join(&self.base, "/status")))
            .await?
            .ok("reading the server's status")?
            .json("the server's status")?;
        if status.get("app").and_then(Value::as_str) != Some("audiobookshelf") {
            return Err(MediaError::Protocol(
                "this does not look like an Audiobookshelf server: check the URL and port".into(),
            ));
        }
        let version = status
            .get("serverVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let me: Value = self
            .send(Method::POST, "/api/authorize")
            .await?
            .ok("checking the API key")?
            .json("the key's account")?;
        let user = me
            .get("user")
            .and_then(User::from_value)
            .ok_or_else(|| MediaError::Protocol("the key's account has no user".into()))?;
        if !user.is_admin() {
            return Err(MediaError::NotOwner);
        }
        let name = me
            .pointer("/serverSettings/name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or(PRODUCT)
            .to_string();
        Ok(ServerInfo {
            // The API names no server of its own (the key holder's id would change with the
            // key), so there is none to compare when the server is edited.
            id: String::new(),
            name,
            version,
            kind: ServerKind::Audiobookshelf,
            warning: None,
        })
    }

    /// The libraries; [`Library::id`] is the uuid `librariesAccessible` takes.
    pub async fn libraries(&self) -> Result<Vec<Library>, MediaError> {
        let list: Value = self
            .send(Method::GET, "/api/libraries")
            .await?
            .ok("reading the libraries")?
            .json("the library list")?;
        let items = list
            .get("libraries")
            .and_then(Value::as_array)
            .ok_or_else(|| MediaError::Protocol("the library list has no libraries".into()))?;
        // `mediaType` is `book` or `podcast`.
        Ok(items
            .iter()
            .filter_map(|l| Library::from_entry(l, "mediaType", "book"))
            .collect())
    }

    /// Creates an active account that opens only `spec.libraries`. If the server does not hold
    /// what was asked, the account is deleted again before the error is returned.
    pub async fn grant(&self, spec: &GrantSpec) -> Result<GrantOutcome, MediaError> {
        let (username, password, email) = spec.account(PRODUCT)?;
        let libraries = self.resolve(&spec.libraries).await?;
        if !self.name_is_free(username).await? {
            return Err(MediaError::name_taken(username));
        }
        let mut body = json!({
            "username": username,
            "password": password,
            "type": "user",
            "isActive": true,
            "permissions": member_permissions(&spec.permissions),
            "librariesAccessible": libraries,
        });
        if let Some(email) = email {
            body["email"] = Value::String(email.to_string());
        }
        let reply = self.send_json(Method::POST, "/api/users", &body).await?;
        if reply.status == StatusCode::BAD_REQUEST {
            let said = reply.message();
            return Err(if said.to_ascii_lowercase().contains("taken") {
                MediaError::name_taken(username)
            } else {
                MediaError::Invalid(format!("{PRODUCT} refused the account: {said}"))
            });
        }
        let created: Value = reply.ok("creating the account")?.json("the new account")?;
        let user = created
            .get("user")
            .and_then(User::from_value)
            .ok_or_else(|| MediaError::Protocol("the new account has no id".into()))?;
        if let Err(err) = self.check_holds(&user, &libraries, &spec.permissions, true) {
            return Err(self.roll_back(&user.id, username, err).await);
        }
        Ok(GrantOutcome {
            remote_id: user.id,
            remote_user_id: None,
            username: user.username,
            pending: false,
        })
    }

    /// [`grant`](Self::grant) again after an attempt that may have been cut off: an ordinary
    /// account with the name that the member's password signs in to is the one that attempt
    /// made, so it gets the member's access instead of being refused as taken.
    pub async fn grant_again(&self, spec: &GrantSpec) -> Result<GrantOutcome, MediaError> {
        let taken = match self.grant(spec).await {
            Err(MediaError::AlreadyExists(taken)) => taken,
            other => return other,
        };
        let (username, password, _) = spec.account(PRODUCT)?;
        let Some(user) = self.account_opened_by(username, password).await? else {
            return Err(MediaError::AlreadyExists(taken));
        };
        self.update_access(&user.id, &spec.libraries, &spec.permissions)
            .await?;
        self.set_disabled(&user.id, false).await?;
        Ok(GrantOutcome {
            remote_id: user.id,
            remote_user_id: None,
            username: user.username,
            pending: false,
        })
    }

    /// Replaces the libraries and the download permission of a member's account.
    pub async fn update_access(
        &self,
        remote_id: &str,
        libraries: &[String],
        permissions: &Permissions,
    ) -> Result<(), MediaError> {
        let libraries = self.resolve(libraries).await?;
        let user = self.get_member(remote_id).await?;
        // The list is only read when a permissions object comes with it.
        let body = json!({
            "permissions": member_permissions(permissions),
            "librariesAccessible": libraries,
        });
        let saved = self.patch_user(&user.id, &body).await?;
        // Pausing is not this call's business: the account stays as active as it was.
        self.check_holds(&saved, &libraries, permissions, user.active)
    }

    /// Pauses or resumes a member's account. A paused account can neither sign in nor use a
    /// token it already has.
    pub async fn set_disabled(&self, remote_id: &str, disabled: bool) -> Result<(), MediaError> {
        let user = self.get_member(remote_id).await?;
        let saved = self
            .patch_user(&user.id, &json!({ "isActive": !disabled }))
            .await?;
        if saved.active == disabled {
            return Err(MediaError::Protocol(format!(
                "{PRODUCT} did not {} the account `{}`",
                if disabled { "pause" } else { "resume" },
                saved.username
            )));
        }
        Ok(())
    }

    /// Deletes a member's account; one already gone counts as removed.
    pub async fn remove(&self, remote_id: &str) -> Result<(), MediaError> {
        match self.get_member(remote_id).await {
            Ok(_) => self.delete_user(remote_id).await,
            Err(MediaError::NotFound(_)) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Sets a member's password without knowing the old one.
    pub async fn set_password(&self, remote_id: &str, password: &str) -> Result<(), MediaError> {
        if password.is_empty() {
            return Err(MediaError::Invalid("choose a password".into()));
        }
        let user = self.get_member(remote_id).await?;
        self.patch_user(&user.id, &json!({ "password": password }))
            .await
            .map(drop)
    }

    /// Whether no account has the name `username`, ignoring case as the sign-in does.
    pub async fn name_is_free(&self, username: &str) -> Result<bool, MediaError> {
        let wanted = username.to_lowercase();
        Ok(!self
            .list_users()
            .await?
            .iter()
            .any(|u| u.username.to_lowercase() == wanted))
    }

    /// Everybody with an account, administrators flagged.
    pub async fn accounts(&self) -> Result<Vec<RemoteAccount>, MediaError> {
        Ok(self
            .list_users()
            .await?
            .into_iter()
            .map(|u| RemoteAccount {
                status: if u.active {
                    AccountStatus::Active
                } else {
                    AccountStatus::Disabled
                },
                is_admin: u.is_admin(),
                libraries: if u.all_libraries {
                    Vec::new()
                } else {
                    u.libraries
                },
                all_libraries: u.all_libraries,
                remote_id: u.id,
                remote_user_id: None,
                username: u.username,
                email: u.email,
            })
            .collect())
    }

    // -----------------------------------------------------------------------------------------

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, join(&self.base, path))
            .header(AUTHORIZATION, self.authorization.clone())
            .header(reqwest::header::ACCEPT, "application/json")
    }

    async fn exchange(&self, request: RequestBuilder) -> Result<Reply, MediaError> {
        Reply::read(request, PRODUCT, &self.api_key).await
    }

    async fn send(&self, method: Method, path: &str) -> Result<Reply, MediaError> {
        self.exchange(self.request(method, path)).await
    }

    async fn send_json(
        &self,
        method: Method,
        path: &str,
        body: &Value,
    ) -> Result<Reply, MediaError> {
        self.exchange(self.request(method, path).json(body)).await
    }

    async fn list_users(&self) -> Result<Vec<User>, MediaError> {
        let list: Value = self
            .send(Method::GET, "/api/users")
            .await?
            .ok("reading the user list")?
            .json("the user list")?;
        let users = list
            .get("users")
            .and_then(Value::as_array)
            .ok_or_else(|| MediaError::Protocol("the user list has no users".into()))?;
        Ok(users.iter().filter_map(User::from_value).collect())
    }

    async fn get_member(&self, id: &str) -> Result<User, MediaError> {
        let reply = self
            .send(Method::GET, &format!("/api/users/{}", encode_segment(id)))
            .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Err(MediaError::NotFound(format!(
                "account {id} is no longer on the {PRODUCT} server"
            )));
        }
        let value: Value = reply.ok("reading the account")?.json("the account")?;
        let user = User::from_value(&value)
            .ok_or_else(|| MediaError::Protocol("the account has no id".into()))?;
        if user.is_admin() {
            return Err(MediaError::Invalid(format!(
                "`{}` is an {PRODUCT} administrator; usher does not manage administrators",
                user.username
            )));
        }
        Ok(user)
    }

    async fn patch_user(&self, id: &str, body: &Value) -> Result<User, MediaError> {
        let path = format!("/api/users/{}", encode_segment(id));
        let reply = self.send_json(Method::PATCH, &path, body).await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Err(MediaError::NotFound(format!(
                "account {id} is no longer on the {PRODUCT} server"
            )));
        }
        let saved: Value = reply.ok("saving the account")?.json("the saved account")?;
        saved
            .get("user")
            .and_then(User::from_value)
            .ok_or_else(|| MediaError::Protocol("the saved account has no user".into()))
    }

    async fn delete_user(&self, id: &str) -> Result<(), MediaError> {
        let reply = self
            .send(
                Method::DELETE,
                &format!("/api/users/{}", encode_segment(id)),
            )
            .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        reply.ok("deleting the account").map(drop)
    }

    /// The ordinary account `username` that `password` signs in to, if any.
    async fn account_opened_by(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<User>, MediaError> {
        let reply = self
            .exchange(
                self.http
                    .post(join(&self.base, "/login"))
                    .json(&json!({ "username": username, "password": password })),
            )
            .await?;
        if matches!(
            reply.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST
        ) {
            return Ok(None);
        }
        let signed_in: Value = reply.ok("signing in to the account")?.json("the sign-in")?;
        let Some(user) = signed_in.get("user").and_then(User::from_value) else {
            return Ok(None);
        };
        Ok((!user.is_admin() && user.username.eq_ignore_ascii_case(username)).then_some(user))
    }

    /// The libraries asked for, checked against the server's (a stale id is named, not sent).
    async fn resolve(&self, wanted: &[String]) -> Result<Vec<String>, MediaError> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let libraries = self.libraries().await?;
        let chosen = Library::choose(&libraries, wanted, PRODUCT)?;
        Ok(chosen.into_iter().map(|l| l.id.clone()).collect())
    }

    /// The account the server answered with holds what was asked, or the difference is named.
    fn check_holds(
        &self,
        user: &User,
        libraries: &[String],
        permissions: &Permissions,
        active: bool,
    ) -> Result<(), MediaError> {
        let problem = if user.is_admin() {
            Some("it is an administrator")
        } else if !user.holds_exactly(libraries) {
            Some("its libraries are not the ones chosen")
        } else if user.download != permissions.allow_downloads {
            Some("its download permission is not the one chosen")
        } else if user.active != active {
            Some("it is not active")
        } else {
            None
        };
        match problem {
            Some(why) => Err(MediaError::Protocol(format!(
                "{PRODUCT} did not save the account `{}` as asked: {why}",
                user.username
            ))),
            None => Ok(()),
        }
    }

    async fn roll_back(&self, id: &str, username: &str, err: MediaError) -> MediaError {
        let deleted = self.delete_user(id).await.is_ok();
        rolled_back(
            err,
            username,
            deleted,
            "in Audiobookshelf under Settings → Users",
        )
    }
}

/// What a member may do: listen and read in the chosen libraries (explicit titles included, so
/// a chosen library is never quietly emptier than the owner's), download if allowed, nothing an
/// administrator does.
fn member_permissions(permissions: &Permissions) -> Value {
    json!({
        "download": permissions.allow_downloads,
        "update": false,
        "delete": false,
        "upload": false,
        "createEreader": false,
        "accessAllLibraries": false,
        "accessAllTags": true,
        "accessExplicitContent": true,
        "selectedTagsNotAccessible": false,
    })
}
