//! Komga: local accounts, signed in by email, that name the libraries they may read.
//!
//! Follows `reference/more-servers-api.md` §1.3. A user created without `PAGE_STREAMING` cannot
//! read page by page, and one created without `sharedLibraries` sees every library, so both are
//! always sent. An update answers 204 with no body and ignores properties it does not know, so
//! every change is read back from the user list and compared. Komga cannot pause an account:
//! ending access removes it.

use std::fmt;
use std::sync::Arc;

use reqwest::header::HeaderValue;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::http::{encode_segment, join, parse_base_url};
use crate::reply::{Reply, rolled_back};
use crate::{
    AccountStatus, GrantOutcome, GrantSpec, Library, MediaError, Permissions, RemoteAccount,
    ServerInfo, ServerKind,
};

const PRODUCT: &str = "Komga";
/// What a member needs to read: pages in the web reader and apps.
const READ: &str = "PAGE_STREAMING";
const DOWNLOAD: &str = "FILE_DOWNLOAD";

/// A Komga server, reached with an administrator's API key.
#[derive(Clone)]
pub struct KomgaClient {
    base: String,
    http: reqwest::Client,
    api_key: HeaderValue,
    secret: Arc<str>,
}

impl fmt::Debug for KomgaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KomgaClient")
            .field("base", &self.base)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

/// A user as Komga describes one.
struct User {
    id: String,
    email: String,
    roles: Vec<String>,
    all_libraries: bool,
    libraries: Vec<String>,
}

impl User {
    fn from_value(v: &Value) -> Option<User> {
        let strings = |k: &str| -> Vec<String> {
            v.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default()
        };
        Some(User {
            id: v.get("id")?.as_str()?.to_string(),
            email: v.get("email")?.as_str()?.to_string(),
            roles: strings("roles"),
            all_libraries: v
                .get("sharedAllLibraries")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            libraries: strings("sharedLibrariesIds"),
        })
    }

    fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r == "ADMIN")
    }

    fn has(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// The roles a member gets: reading always, downloading when allowed.
fn member_roles(permissions: &Permissions) -> Vec<&'static str> {
    let mut roles = vec![READ];
    if permissions.allow_downloads {
        roles.push(DOWNLOAD);
    }
    roles
}

impl KomgaClient {
    pub fn new(url: &str, api_key: &str) -> Result<Self, MediaError> {
        let base = parse_base_url(url)?;
        let api_key = api_key.trim();
        if api_key.is_empty() {
            return Err(MediaError::Invalid(
                "enter an API key: sign in to Komga as an administrator and create one under Account → API Keys"
                    .into(),
            ));
        }
        let mut header = HeaderValue::from_str(api_key).map_err(|_| {
            MediaError::Invalid(
                "the API key contains characters that cannot be sent: copy it again from Komga"
                    .into(),
            )
        })?;
        header.set_sensitive(true);
        Ok(KomgaClient {
            base,
            http: crate::http::client()?,
            api_key: header,
            secret: api_key.into(),
        })
    }

    /// Checks the key belongs to an administrator.
    pub async fn probe(&self) -> Result<ServerInfo, MediaError> {
        let reply = self.send(Method::GET, "/api/v2/users/me", None).await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Err(MediaError::Protocol(
                "this does not look like a Komga server (1.0 or later): check the URL and port"
                    .into(),
            ));
        }
        let me: Value = reply
            .ok("checking the API key")?
            .json("the key's account")?;
        let user = User::from_value(&me)
            .ok_or_else(|| MediaError::Protocol("the key's account has no id".into()))?;
        if !user.is_admin() {
            return Err(MediaError::NotOwner);
        }
        // The version is the build Spring's actuator describes (what Komga's own About page
        // reads, administrators only); a server that hides it is still usable.
        let version = match self.send(Method::GET, "/actuator/info", None).await {
            Ok(reply) if reply.status.is_success() => reply
                .json::<Value>("the server's build")
                .ok()
                .and_then(|info| {
                    info.pointer("/build/version")
                        .and_then(Value::as_str)
                        .map(String::from)
                })
                .unwrap_or_default(),
            _ => String::new(),
        };
        Ok(ServerInfo {
            // The API names no server of its own (the key holder's id would change with the
            // key), so there is none to compare when the server is edited.
            id: String::new(),
            name: PRODUCT.into(),
            version,
            kind: ServerKind::Komga,
            warning: None,
        })
    }

    /// The libraries; [`Library::id`] is what `sharedLibraries.libraryIds` takes.
    pub async fn libraries(&self) -> Result<Vec<Library>, MediaError> {
        let list: Value = self
            .send(Method::GET, "/api/v1/libraries", None)
            .await?
            .ok("reading the libraries")?
            .json("the library list")?;
        let items = list
            .as_array()
            .ok_or_else(|| MediaError::Protocol("the library list is not a list".into()))?;
        Ok(items
            .iter()
            .filter_map(|l| Library::from_entry(l, "", "comics"))
            .collect())
    }

    /// Creates the account (its login is the email) with reading, the chosen libraries and
    /// nothing else, and checks what was saved; a wrong account is deleted again.
    pub async fn grant(&self, spec: &GrantSpec) -> Result<GrantOutcome, MediaError> {
        let (login, password, _) = spec.account(PRODUCT)?;
        let libraries = self.resolve(&spec.libraries).await?;
        if !self.name_is_free(login).await? {
            return Err(email_taken(login));
        }
        let body = json!({
            "email": login,
            "password": password,
            "roles": member_roles(&spec.permissions),
            "sharedLibraries": { "all": false, "libraryIds": libraries },
        });
        let reply = self
            .send(Method::POST, "/api/v2/users", Some(&body))
            .await?;
        if reply.status == StatusCode::BAD_REQUEST {
            let said = reply.message();
            return Err(if said.contains("already exists") {
                email_taken(login)
            } else {
                MediaError::Invalid(format!("{PRODUCT} refused the account: {said}"))
            });
        }
        let created: Value = reply.ok("creating the account")?.json("the new account")?;
        let user = User::from_value(&created)
            .ok_or_else(|| MediaError::Protocol("the new account has no id".into()))?;
        if let Err(err) = check_holds(&user, &libraries, &spec.permissions) {
            let deleted = self.delete_user(&user.id).await.is_ok();
            return Err(rolled_back(
                err,
                login,
                deleted,
                "in Komga under Server → Users",
            ));
        }
        Ok(GrantOutcome {
            remote_id: user.id,
            remote_user_id: None,
            username: user.email,
            pending: false,
        })
    }

    /// [`grant`](Self::grant) again after a cut-off attempt: the account with the member's
    /// email that their password opens is finished instead of refused as taken.
    pub async fn grant_again(&self, spec: &GrantSpec) -> Result<GrantOutcome, MediaError> {
        let taken = match self.grant(spec).await {
            Err(MediaError::AlreadyExists(taken)) => taken,
            other => return other,
        };
        let (login, password, _) = spec.account(PRODUCT)?;
        let reply = self
            .exchange(
                self.http
                    .get(join(&self.base, "/api/v2/users/me"))
                    .basic_auth(login, Some(password)),
            )
            .await?;
        if !reply.status.is_success() {
            return Err(MediaError::AlreadyExists(taken));
        }
        let me: Value = reply.json("the sign-in")?;
        let Some(user) = User::from_value(&me).filter(|u| !u.is_admin()) else {
            return Err(MediaError::AlreadyExists(taken));
        };
        self.update_access(&user.id, &spec.libraries, &spec.permissions)
            .await?;
        Ok(GrantOutcome {
            remote_id: user.id,
            remote_user_id: None,
            username: user.email,
            pending: false,
        })
    }

    /// Replaces the libraries and the download role of a member's account.
    pub async fn update_access(
        &self,
        remote_id: &str,
        libraries: &[String],
        permissions: &Permissions,
    ) -> Result<(), MediaError> {
        let libraries = self.resolve(libraries).await?;
        let user = self.get_member(remote_id).await?;
        let body = json!({
            "roles": member_roles(permissions),
            "sharedLibraries": { "all": false, "libraryIds": libraries },
        });
        self.send(
            Method::PATCH,
            &format!("/api/v2/users/{}", encode_segment(&user.id)),
            Some(&body),
        )
        .await?
        .ok("saving the account")?;
        // The answer has no body: read what was saved.
        let saved = self.get_member(remote_id).await?;
        check_holds(&saved, &libraries, permissions)
    }

    /// Deletes a member's account; one already gone counts as removed.
    pub async fn remove(&self, remote_id: &str) -> Result<(), MediaError> {
        match self.get_member(remote_id).await {
            Ok(user) => self.delete_user(&user.id).await,
            Err(MediaError::NotFound(_)) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Sets a member's password.
    pub async fn set_password(&self, remote_id: &str, password: &str) -> Result<(), MediaError> {
        if password.trim().is_empty() {
            return Err(MediaError::Invalid("choose a password".into()));
        }
        let user = self.get_member(remote_id).await?;
        self.send(
            Method::PATCH,
            &format!("/api/v2/users/{}/password", encode_segment(&user.id)),
            Some(&json!({ "password": password })),
        )
        .await?
        .ok("setting the password")
        .map(drop)
    }

    /// Whether no account has the email `login` (Komga compares emails without case).
    pub async fn name_is_free(&self, login: &str) -> Result<bool, MediaError> {
        let wanted = login.to_lowercase();
        Ok(!self
            .list_users()
            .await?
            .iter()
            .any(|u| u.email.to_lowercase() == wanted))
    }

    /// Everybody with an account, administrators flagged.
    pub async fn accounts(&self) -> Result<Vec<RemoteAccount>, MediaError> {
        Ok(self
            .list_users()
            .await?
            .into_iter()
            .map(|u| RemoteAccount {
                status: AccountStatus::Active,
                is_admin: u.is_admin(),
                all_libraries: u.all_libraries,
                libraries: if u.all_libraries {
                    Vec::new()
                } else {
                    u.libraries
                },
                email: Some(u.email.clone()),
                remote_id: u.id,
                remote_user_id: None,
                username: u.email,
            })
            .collect())
    }

    // -----------------------------------------------------------------------------------------

    async fn exchange(&self, request: RequestBuilder) -> Result<Reply, MediaError> {
        Reply::read(request, PRODUCT, &self.secret).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, MediaError> {
        let mut request = self
            .http
            .request(method, join(&self.base, path))
            .header("X-API-Key", self.api_key.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        self.exchange(request).await
    }

    async fn list_users(&self) -> Result<Vec<User>, MediaError> {
        let list: Value = self
            .send(Method::GET, "/api/v2/users", None)
            .await?
            .ok("reading the user list")?
            .json("the user list")?;
        let items = list
            .as_array()
            .ok_or_else(|| MediaError::Protocol("the user list is not a list".into()))?;
        Ok(items.iter().filter_map(User::from_value).collect())
    }

    /// A member's account from the list (Komga has no call that reads one user).
    async fn get_member(&self, id: &str) -> Result<User, MediaError> {
        let user = self
            .list_users()
            .await?
            .into_iter()
            .find(|u| u.id == id)
            .ok_or_else(|| {
                MediaError::NotFound(format!("account {id} is no longer on the {PRODUCT} server"))
            })?;
        if user.is_admin() {
            return Err(MediaError::Invalid(format!(
                "`{}` is a {PRODUCT} administrator; usher does not manage administrators",
                user.email
            )));
        }
        Ok(user)
    }

    async fn delete_user(&self, id: &str) -> Result<(), MediaError> {
        let reply = self
            .send(
                Method::DELETE,
                &format!("/api/v2/users/{}", encode_segment(id)),
                None,
            )
            .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        reply.ok("deleting the account").map(drop)
    }

    async fn resolve(&self, wanted: &[String]) -> Result<Vec<String>, MediaError> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let libraries = self.libraries().await?;
        let chosen = Library::choose(&libraries, wanted, PRODUCT)?;
        Ok(chosen.into_iter().map(|l| l.id.clone()).collect())
    }
}

/// The saved account holds what was asked, or the difference is named.
fn check_holds(
    user: &User,
    libraries: &[String],
    permissions: &Permissions,
) -> Result<(), MediaError> {
    let problem = if user.is_admin() {
        Some("it is an administrator")
    } else if user.all_libraries
        || user.libraries.len() != libraries.len()
        || !libraries.iter().all(|l| user.libraries.contains(l))
    {
        Some("its libraries are not the ones chosen")
    } else if !user.has(READ) {
        Some("it cannot read pages")
    } else if user.has(DOWNLOAD) != permissions.allow_downloads {
        Some("its download permission is not the one chosen")
    } else {
        None
    };
    match problem {
        Some(why) => Err(MediaError::Protocol(format!(
            "{PRODUCT} did not save the account `{}` as asked: {why}",
            user.email
        ))),
        None => Ok(()),
    }
}

fn email_taken(email: &str) -> MediaError {
    MediaError::AlreadyExists(format!(
        "that email already has a {PRODUCT} account: `{email}` (emails ignore upper and lower case)"
    ))
}
