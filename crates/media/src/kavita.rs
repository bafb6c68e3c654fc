//! Kavita: local accounts made by inviting an email and confirming the invite at once.
//!
//! Follows `reference/more-servers-api.md` §1.4. Kavita has no "create a user with a password"
//! call: an administrator invites an email (which makes a pending account whose name is the
//! email) and the invitee confirms with the token from the invite link, choosing a user name and
//! a password. usher does both steps itself, so the member never sees Kavita's link, and deletes
//! the pending account again when the second step fails. Every account gets the `Login` role
//! (without it nobody can sign in) and the age rating `-1`, which means "no restriction" (`0`
//! would show only unrated series).
//!
//! Taking `Login` away does not end sessions that are already signed in (their tokens last ten
//! days and are refreshed without a role check), so Kavita cannot really pause an account:
//! ending access removes it.
//!
//! usher authenticates with an administrator's auth key in the `x-api-key` header (Kavita 0.8.9
//! and later). Older servers ignore that header; for them the key is exchanged once per client
//! for a session token through `Plugin/authenticate`, which every version since 0.7 offers.

use std::fmt;
use std::sync::{Arc, Mutex};

use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::http::{join, parse_base_url};
use crate::reply::{Reply, rolled_back};
use crate::{
    AccountStatus, GrantOutcome, GrantSpec, Library, MediaError, Permissions, RemoteAccount,
    ServerInfo, ServerKind,
};

const PRODUCT: &str = "Kavita";
const ADMIN: &str = "Admin";
/// Signing in at all; an account without it is refused at the sign-in page.
const LOGIN: &str = "Login";
const DOWNLOAD: &str = "Download";
/// Added by Kavita itself to every account that is not an administrator. Sending it again makes
/// the invite fail halfway ("already in role"), so it is never sent.
const PLEB: &str = "Pleb";
/// The roles Kavita knows. An unknown name makes `Account/update` fail after it has removed the
/// old roles, locking the account out, so only these are ever sent.
const VALID_ROLES: [&str; 9] = [
    ADMIN,
    PLEB,
    DOWNLOAD,
    "Change Password",
    "Bookmark",
    "Change Restriction",
    LOGIN,
    "Read Only",
    "Promote",
];
/// What a member gets besides `Login` and, when allowed, `Download`: bookmarking pages and
/// changing their own password, as a reader of a friend's server expects.
const MEMBER_ROLES: [&str; 2] = ["Bookmark", "Change Password"];
/// `AgeRating.NotApplicable`: no age restriction.
const NO_AGE_LIMIT: i64 = -1;
/// Kavita's shortest password.
const MIN_PASSWORD: usize = 6;

/// A Kavita server, reached with an administrator's auth key.
#[derive(Clone)]
pub struct KavitaClient {
    base: String,
    http: reqwest::Client,
    api_key: HeaderValue,
    secret: Arc<str>,
    /// The session token `Plugin/authenticate` gave for the key, once the server has shown it
    /// does not take the key as a header (Kavita before 0.8.9).
    session: Arc<Mutex<Option<Arc<str>>>>,
}

impl fmt::Debug for KavitaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KavitaClient")
            .field("base", &self.base)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

/// An account as `GET /api/Users` lists it.
#[derive(Debug, Clone)]
struct User {
    id: i64,
    username: String,
    email: String,
    pending: bool,
    roles: Vec<String>,
    /// Library names: the list gives every library's id as 0, so names are what it tells.
    library_names: Vec<String>,
    library_ids: Vec<String>,
    age_restriction: Value,
}

impl User {
    fn from_value(v: &Value) -> Option<User> {
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let libraries = v.get("libraries").and_then(Value::as_array);
        let library = |key: &str| -> Vec<String> {
            libraries
                .into_iter()
                .flatten()
                .filter_map(|l| match l.get(key)? {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) if n.as_i64() != Some(0) => Some(n.to_string()),
                    _ => None,
                })
                .collect()
        };
        Some(User {
            id: v.get("id")?.as_i64()?,
            username: text("username"),
            email: text("email"),
            pending: v.get("isPending").and_then(Value::as_bool).unwrap_or(false),
            roles: v
                .get("roles")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect(),
            library_names: library("name"),
            library_ids: library("id"),
            age_restriction: v
                .get("ageRestriction")
                .filter(|a| a.is_object())
                .cloned()
                .unwrap_or_else(no_age_limit),
        })
    }

    fn has(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r.eq_ignore_ascii_case(role))
    }

    fn is_admin(&self) -> bool {
        self.has(ADMIN)
    }

    /// The sharing ids of this account's libraries, by id where the list gives one and by
    /// name otherwise.
    fn libraries(&self, all: &[Library]) -> Vec<String> {
        let mut ids: Vec<String> = self.library_ids.clone();
        for name in &self.library_names {
            if let Some(l) = all.iter().find(|l| &l.name == name)
                && !ids.contains(&l.id)
            {
                ids.push(l.id.clone());
            }
        }
        ids
    }
}

fn no_age_limit() -> Value {
    json!({ "ageRating": NO_AGE_LIMIT, "includeUnknowns": true })
}

/// The roles to give a member: `Login`, the member roles, `Download` when allowed, and any other
/// role the owner gave the account in Kavita (`keep`), never `Pleb` or `Admin`.
fn member_roles(keep: &[String], permissions: &Permissions) -> Vec<String> {
    let mut roles: Vec<String> = vec![LOGIN.into()];
    roles.extend(MEMBER_ROLES.iter().map(|r| r.to_string()));
    for role in keep {
        let known = VALID_ROLES.iter().find(|v| v.eq_ignore_ascii_case(role));
        if let Some(known) = known
            && ![ADMIN, PLEB, DOWNLOAD, LOGIN].contains(known)
            && !roles.iter().any(|r| r == known)
        {
            roles.push(known.to_string());
        }
    }
    if permissions.allow_downloads {
        roles.push(DOWNLOAD.into());
    }
    roles
}

/// Kavita's rule for a user name (ASP.NET Identity's allowed characters as Kavita sets them).
fn check_username(name: &str) -> Result<(), MediaError> {
    if crate::UsernameRule::Ascii.allows(name) {
        Ok(())
    } else {
        Err(MediaError::Invalid(format!(
            "{PRODUCT} user names are ASCII letters, digits and - . _ @ + / only (no spaces or accents): `{name}` is not one"
        )))
    }
}

/// The kind of a library from `LibraryType`.
fn library_kind(v: &Value) -> &'static str {
    match v.get("type").and_then(Value::as_i64) {
        Some(0) => "manga",
        Some(1 | 5) => "comic",
        Some(2) => "book",
        Some(3) => "images",
        Some(4) => "lightnovel",
        _ => "books",
    }
}

/// The confirmation token in an invite link (`…/registration/confirm-email?token=…&email=…`).
fn token_in(link: &str) -> Option<String> {
    let url = url::Url::parse(link.trim()).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .filter(|t| !t.is_empty())
}

fn email_taken(email: &str) -> MediaError {
    MediaError::AlreadyExists(format!(
        "that email already has a {PRODUCT} account or invite: `{email}` (emails ignore upper and lower case)"
    ))
}

impl KavitaClient {
    pub fn new(url: &str, api_key: &str) -> Result<Self, MediaError> {
        let base = parse_base_url(url)?;
        let api_key = api_key.trim();
        if api_key.is_empty() {
            return Err(MediaError::Invalid(
                "enter an auth key: sign in to Kavita as an administrator and copy one from User Settings → Auth Keys (older versions: API Key / OPDS)"
                    .into(),
            ));
        }
        let mut header = HeaderValue::from_str(api_key).map_err(|_| {
            MediaError::Invalid(
                "the auth key contains characters that cannot be sent: copy it again from Kavita"
                    .into(),
            )
        })?;
        header.set_sensitive(true);
        Ok(KavitaClient {
            base,
            http: crate::http::client()?,
            api_key: header,
            secret: api_key.into(),
            session: Arc::new(Mutex::new(None)),
        })
    }

    /// Checks the key is an administrator's and reads the version and the install's id.
    pub async fn probe(&self) -> Result<ServerInfo, MediaError> {
        let reply = self
            .send(Method::GET, "/api/Server/server-info-slim", None)
            .await?;
        match reply.status {
            StatusCode::NOT_FOUND => {
                return Err(MediaError::Protocol(
                    "this does not look like a Kavita server: check the URL and port".into(),
                ));
            }
            // The key works but its account is not an administrator.
            StatusCode::FORBIDDEN => return Err(MediaError::NotOwner),
            _ => {}
        }
        let info: Value = reply
            .ok("checking the auth key")?
            .json("the server's description")?;
        let text = |k: &str| {
            info.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let version = text("kavitaVersion");
        if version.is_empty() {
            return Err(MediaError::Protocol(
                "this does not look like a Kavita server: check the URL and port".into(),
            ));
        }
        Ok(ServerInfo {
            id: text("installId"),
            name: PRODUCT.into(),
            version,
            kind: ServerKind::Kavita,
            warning: None,
        })
    }

    /// The libraries; [`Library::id`] is the number `libraries` takes in an invite or update.
    pub async fn libraries(&self) -> Result<Vec<Library>, MediaError> {
        let list: Value = self
            .send(Method::GET, "/api/Library/libraries", None)
            .await?
            .ok("reading the libraries")?
            .json("the library list")?;
        let items = list
            .as_array()
            .ok_or_else(|| MediaError::Protocol("the library list is not a list".into()))?;
        Ok(items
            .iter()
            .filter_map(|l| {
                let mut library = Library::from_entry(l, "", library_kind(l))?;
                library.kind = library_kind(l).to_string();
                Some(library)
            })
            .collect())
    }

    /// Invites the member's email with `Login`, the chosen libraries and no age limit, confirms
    /// the invite with their user name and password, and checks what was saved. A half-made
    /// account (invited, not confirmed, or saved wrong) is deleted again.
    pub async fn grant(&self, spec: &GrantSpec) -> Result<GrantOutcome, MediaError> {
        let (username, password, email) = self.account(spec)?;
        let libraries = self.resolve(&spec.libraries).await?;
        let users = self.list_users().await?;
        if users
            .iter()
            .any(|u| u.username.eq_ignore_ascii_case(username))
        {
            return Err(MediaError::name_taken(username));
        }
        if users.iter().any(|u| u.email.eq_ignore_ascii_case(email)) {
            return Err(email_taken(email));
        }
        let body = json!({
            "email": email,
            "roles": member_roles(&[], &spec.permissions),
            "libraries": numbers(&libraries),
            "ageRestriction": no_age_limit(),
        });
        // From the invite on, a pending account may exist: whatever fails after it is undone.
        let reply = match self
            .send(Method::POST, "/api/Account/invite", Some(&body))
            .await
        {
            Ok(reply) => reply,
            Err(err) => return Err(self.undo(err, username, email).await),
        };
        if reply.status == StatusCode::BAD_REQUEST {
            let said = reply.message();
            if said.contains("already registered") || said.contains("already invited") {
                // Someone else's account or invite: nothing of ours to undo.
                return Err(email_taken(email));
            }
            let err = MediaError::Invalid(format!("{PRODUCT} refused the invite: {said}"));
            return Err(self.undo(err, username, email).await);
        }
        let made = async {
            let invited: Value = reply.ok("inviting the email")?.json("the invite")?;
            let token = invited
                .get("emailLink")
                .and_then(Value::as_str)
                .and_then(token_in)
                .ok_or_else(|| {
                    MediaError::Protocol("the invite's link carries no confirmation token".into())
                })?;
            self.confirm(email, &token, username, password).await?;
            self.check_account(username, &libraries, &spec.permissions)
                .await
        }
        .await;
        match made {
            Ok(user) => Ok(outcome(user)),
            Err(err) => Err(self.undo(err, username, email).await),
        }
    }

    /// Deletes what a failed grant made (the pending account called by the email, or the
    /// confirmed one called `username`) and says so in `err`.
    async fn undo(&self, err: MediaError, username: &str, email: &str) -> MediaError {
        let deleted = self.delete_ours(username, email).await.is_ok();
        rolled_back(
            err,
            username,
            deleted,
            "in Kavita under Server Settings → Users",
        )
    }

    /// [`grant`](Self::grant) again after a cut-off attempt: an invite that attempt made for the
    /// member's email is confirmed now, and an account it already confirmed (the member's
    /// password signs in to it) is finished, instead of either being refused as taken.
    pub async fn grant_again(&self, spec: &GrantSpec) -> Result<GrantOutcome, MediaError> {
        let taken = match self.grant(spec).await {
            Err(MediaError::AlreadyExists(taken)) => taken,
            other => return other,
        };
        let (username, password, email) = self.account(spec)?;
        let users = self.list_users().await?;
        let pending = users
            .iter()
            .find(|u| u.pending && u.email.eq_ignore_ascii_case(email) && !u.is_admin());
        if let Some(pending) = pending {
            let link: Value = self
                .send(
                    Method::GET,
                    &format!(
                        "/api/Account/invite-url?userId={}&withBaseUrl=true",
                        pending.id
                    ),
                    None,
                )
                .await?
                .ok("reading the invite link")?
                .json("the invite link")?;
            let token = link.as_str().and_then(token_in).ok_or_else(|| {
                MediaError::Protocol("the invite's link carries no confirmation token".into())
            })?;
            self.confirm(email, &token, username, password).await?;
        } else if !self.signs_in(username, password).await? {
            return Err(MediaError::AlreadyExists(taken));
        }
        let user = self
            .find(|u| u.username.eq_ignore_ascii_case(username))
            .await?
            .filter(|u| !u.is_admin())
            .ok_or(MediaError::AlreadyExists(taken))?;
        self.update_access(&user.id.to_string(), &spec.libraries, &spec.permissions)
            .await?;
        Ok(outcome(user))
    }

    /// Replaces a member's libraries and download role, keeping the age restriction and any
    /// other role the owner gave in Kavita, and checks what was saved.
    pub async fn update_access(
        &self,
        remote_id: &str,
        libraries: &[String],
        permissions: &Permissions,
    ) -> Result<(), MediaError> {
        let libraries = self.resolve(libraries).await?;
        let user = self.get_member(remote_id).await?;
        let body = json!({
            "userId": user.id,
            "username": user.username,
            "email": user.email,
            "roles": member_roles(&user.roles, permissions),
            "libraries": numbers(&libraries),
            "ageRestriction": user.age_restriction,
            "identityProvider": 0,
        });
        self.send(Method::POST, "/api/Account/update", Some(&body))
            .await?
            .ok("saving the account")?;
        self.check_account(&user.username, &libraries, permissions)
            .await
            .map(drop)
    }

    /// Deletes a member's account; one already gone counts as removed.
    pub async fn remove(&self, remote_id: &str) -> Result<(), MediaError> {
        match self.get_member(remote_id).await {
            Ok(user) => self.delete_user(&user).await,
            Err(MediaError::NotFound(_)) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Sets a member's password (an administrator needs no old password).
    pub async fn set_password(&self, remote_id: &str, password: &str) -> Result<(), MediaError> {
        if password.chars().count() < MIN_PASSWORD {
            return Err(MediaError::Invalid(format!(
                "{PRODUCT} passwords are at least {MIN_PASSWORD} characters"
            )));
        }
        let user = self.get_member(remote_id).await?;
        // An unknown name is answered 200 with nothing done, so the name comes from the list
        // just read, exactly as Kavita spells it.
        self.send(
            Method::POST,
            "/api/Account/reset-password",
            Some(&json!({ "userName": user.username, "password": password })),
        )
        .await?
        .ok("setting the password")
        .map(drop)
    }

    /// Whether no account has the user name `username` (Kavita compares names without case).
    pub async fn name_is_free(&self, username: &str) -> Result<bool, MediaError> {
        Ok(self
            .find(|u| u.username.eq_ignore_ascii_case(username))
            .await?
            .is_none())
    }

    /// Everybody with an account or an open invite, administrators flagged.
    pub async fn accounts(&self) -> Result<Vec<RemoteAccount>, MediaError> {
        let all = self.libraries().await?;
        Ok(self
            .list_users()
            .await?
            .into_iter()
            .map(|u| RemoteAccount {
                status: if u.pending {
                    AccountStatus::Pending
                } else if u.has(LOGIN) || u.is_admin() {
                    AccountStatus::Active
                } else {
                    AccountStatus::Disabled
                },
                is_admin: u.is_admin(),
                all_libraries: u.is_admin(),
                libraries: u.libraries(&all),
                email: Some(u.email.clone()).filter(|e| !e.is_empty()),
                remote_id: u.id.to_string(),
                remote_user_id: None,
                username: u.username,
            })
            .collect())
    }

    // -----------------------------------------------------------------------------------------

    /// The new account's name, password and email, refusing what Kavita would refuse halfway.
    fn account<'a>(&self, spec: &'a GrantSpec) -> Result<(&'a str, &'a str, &'a str), MediaError> {
        let (username, password, email) = spec.account(PRODUCT)?;
        let username = username.trim();
        check_username(username)?;
        if password.chars().count() < MIN_PASSWORD {
            return Err(MediaError::Invalid(format!(
                "{PRODUCT} passwords are at least {MIN_PASSWORD} characters"
            )));
        }
        let email = email
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .ok_or_else(|| {
                MediaError::Invalid(format!("{PRODUCT} needs an email for every account"))
            })?;
        Ok((username, password, email))
    }

    /// The second step of an invite: the name and password for the pending account.
    async fn confirm(
        &self,
        email: &str,
        token: &str,
        username: &str,
        password: &str,
    ) -> Result<(), MediaError> {
        let body = json!({
            "email": email,
            "token": token,
            "username": username,
            "password": password,
        });
        // Anonymous: the token is the permission. Its answer is a signed-in session for the
        // member, which usher has no use for.
        let reply = self
            .exchange_hiding(
                self.http
                    .post(join(&self.base, "/api/Account/confirm-email"))
                    .json(&body),
                &[token, password],
            )
            .await?;
        if reply.status == StatusCode::BAD_REQUEST {
            let said = reply.message();
            return Err(
                if said.contains("username-taken") || said.contains("already taken") {
                    MediaError::name_taken(username)
                } else {
                    MediaError::Invalid(format!("{PRODUCT} refused the account: {said}"))
                },
            );
        }
        reply.ok("confirming the invite").map(drop)
    }

    /// Whether `username` and `password` sign in (an account an earlier attempt confirmed).
    async fn signs_in(&self, username: &str, password: &str) -> Result<bool, MediaError> {
        let reply = self
            .exchange_hiding(
                self.http
                    .post(join(&self.base, "/api/Account/login"))
                    .json(&json!({ "username": username, "password": password })),
                &[password],
            )
            .await?;
        Ok(reply.status.is_success())
    }

    /// The saved account called `username`, checked against what was asked.
    async fn check_account(
        &self,
        username: &str,
        libraries: &[String],
        permissions: &Permissions,
    ) -> Result<User, MediaError> {
        let all = self.libraries().await?;
        let user = self
            .find(|u| u.username.eq_ignore_ascii_case(username))
            .await?
            .ok_or_else(|| {
                MediaError::Protocol(format!(
                    "{PRODUCT} did not save the account `{username}`: it is not in the user list"
                ))
            })?;
        let saved = user.libraries(&all);
        let problem = if user.is_admin() {
            Some("it is an administrator")
        } else if user.pending {
            Some("its invite is still open")
        } else if !user.has(LOGIN) {
            Some("it cannot sign in")
        } else if saved.len() != libraries.len() || !libraries.iter().all(|l| saved.contains(l)) {
            Some("its libraries are not the ones chosen")
        } else if user.has(DOWNLOAD) != permissions.allow_downloads {
            Some("its download permission is not the one chosen")
        } else {
            None
        };
        match problem {
            Some(why) => Err(MediaError::Protocol(format!(
                "{PRODUCT} did not save the account `{username}` as asked: {why}"
            ))),
            None => Ok(user),
        }
    }

    async fn exchange(&self, request: RequestBuilder) -> Result<Reply, MediaError> {
        Reply::read(request, PRODUCT, &self.secret).await
    }

    async fn exchange_hiding(
        &self,
        request: RequestBuilder,
        also: &[&str],
    ) -> Result<Reply, MediaError> {
        let mut secrets: Vec<Arc<str>> = vec![self.secret.clone()];
        secrets.extend(also.iter().map(|s| Arc::<str>::from(*s)));
        Reply::read_hiding(request, PRODUCT, &secrets).await
    }

    /// A call as the administrator: with the key as a header, or with the session token once
    /// the server has shown it needs one.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, MediaError> {
        let session = self
            .session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let reply = self
            .send_as(method.clone(), path, body, session.as_deref())
            .await?;
        if reply.status != StatusCode::UNAUTHORIZED || session.is_some() {
            return Ok(reply);
        }
        // Kavita before 0.8.9 does not read the header: trade the key for a session token.
        let Some(token) = self.authenticate().await? else {
            return Ok(reply);
        };
        *self.session.lock().unwrap_or_else(|e| e.into_inner()) = Some(token.clone());
        self.send_as(method, path, body, Some(&token)).await
    }

    async fn send_as(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        session: Option<&str>,
    ) -> Result<Reply, MediaError> {
        let mut request = self
            .http
            .request(method, join(&self.base, path))
            .header(reqwest::header::ACCEPT, "application/json");
        request = match session {
            Some(token) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                    .map_err(|_| MediaError::Protocol("the session token is not text".into()))?;
                value.set_sensitive(true);
                request.header(AUTHORIZATION, value)
            }
            None => request.header("x-api-key", self.api_key.clone()),
        };
        if let Some(body) = body {
            request = request.json(body);
        }
        match session {
            Some(token) => self.exchange_hiding(request, &[token]).await,
            None => self.exchange(request).await,
        }
    }

    /// The session token for the key, or `None` when the key is refused there too.
    async fn authenticate(&self) -> Result<Option<Arc<str>>, MediaError> {
        let url = url::Url::parse_with_params(
            &join(&self.base, "/api/Plugin/authenticate"),
            [("apiKey", &*self.secret), ("pluginName", "usher")],
        )
        .map_err(|_| MediaError::Protocol("the server's URL cannot take a query".into()))?;
        let reply = self.exchange(self.http.post(url)).await?;
        if reply.status == StatusCode::UNAUTHORIZED {
            return Ok(None);
        }
        let user: Value = reply.ok("signing in with the key")?.json("the sign-in")?;
        Ok(user
            .get("token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(Arc::from))
    }

    async fn list_users(&self) -> Result<Vec<User>, MediaError> {
        let list: Value = self
            .send(Method::GET, "/api/Users?includePending=true", None)
            .await?
            .ok("reading the user list")?
            .json("the user list")?;
        let items = list
            .as_array()
            .ok_or_else(|| MediaError::Protocol("the user list is not a list".into()))?;
        Ok(items.iter().filter_map(User::from_value).collect())
    }

    async fn find(&self, wanted: impl Fn(&User) -> bool) -> Result<Option<User>, MediaError> {
        Ok(self.list_users().await?.into_iter().find(|u| wanted(u)))
    }

    /// A member's account from the list (no call reads one user by id).
    async fn get_member(&self, id: &str) -> Result<User, MediaError> {
        let user = self
            .find(|u| u.id.to_string() == id.trim())
            .await?
            .ok_or_else(|| {
                MediaError::NotFound(format!("account {id} is no longer on the {PRODUCT} server"))
            })?;
        if user.is_admin() {
            return Err(MediaError::Invalid(format!(
                "`{}` is a {PRODUCT} administrator; usher does not manage administrators",
                user.username
            )));
        }
        Ok(user)
    }

    /// Deletes the account a grant for `username` and `email` made, confirmed (renamed to
    /// `username`) or still pending (named by the email); none left counts as deleted. The grant
    /// saw both free before it began, so either one is its own.
    async fn delete_ours(&self, username: &str, email: &str) -> Result<(), MediaError> {
        let users = self.list_users().await?;
        let ours = users.iter().find(|u| {
            !u.is_admin()
                && (u.username.eq_ignore_ascii_case(username)
                    || (u.username.eq_ignore_ascii_case(email)
                        && u.email.eq_ignore_ascii_case(email)))
        });
        match ours {
            Some(user) => self.delete_user(user).await,
            None => Ok(()),
        }
    }

    async fn delete_user(&self, user: &User) -> Result<(), MediaError> {
        // Released versions delete by name; the id is sent too for builds that take it instead
        // (the other parameter is ignored either way).
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("username", &user.username)
            .append_pair("userId", &user.id.to_string())
            .finish();
        let path = format!("/api/Users/delete-user?{query}");
        self.send(Method::DELETE, &path, None)
            .await?
            .ok("deleting the account")
            .map(drop)
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

/// Library ids as the numbers Kavita's bodies take.
fn numbers(ids: &[String]) -> Vec<Value> {
    ids.iter()
        .map(|id| {
            id.parse::<i64>()
                .map_or_else(|_| Value::String(id.clone()), Value::from)
        })
        .collect()
}

fn outcome(user: User) -> GrantOutcome {
    GrantOutcome {
        remote_id: user.id.to_string(),
        remote_user_id: None,
        username: user.username,
        pending: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_an_invite_link_and_url_decoded() {
        let link = "https://books.example.com/registration/confirm-email?token=CfDJ8%2bAb%2fCd%3d%3d&email=ann%40example.com";
        assert_eq!(token_in(link).as_deref(), Some("CfDJ8+Ab/Cd=="));
        assert_eq!(token_in("https://books.example.com/registration"), None);
    }

    #[test]
    fn member_roles_never_carry_pleb_admin_or_unknown_names() {
        let keep = vec![
            "Pleb".to_string(),
            "Admin".into(),
            "promote".into(),
            "Kindle".into(),
            "Login".into(),
        ];
        let roles = member_roles(&keep, &Permissions::default());
        assert_eq!(
            roles,
            vec!["Login", "Bookmark", "Change Password", "Promote"]
        );
        let with = member_roles(
            &[],
            &Permissions {
                allow_downloads: true,
                ..Default::default()
            },
        );
        assert!(with.contains(&"Download".to_string()));
    }

    #[test]
    fn user_names_follow_kavitas_characters() {
        assert!(check_username("ann.lee+books@x").is_ok());
        assert!(check_username("Ann Lee").is_err());
        assert!(check_username("Élodie").is_err());
    }
}
