//! Navidrome: local accounts that name the music libraries they may play.
//!
//! Follows `reference/more-servers-api.md` §1.2. Only the native API under `/api` manages users
//! (the Subsonic user calls answer 501); it has no API keys, so usher signs in as the
//! administrator and sends the session token in `X-ND-Authorization`. A new user gets the
//! libraries marked for new users until told otherwise, so the chosen ones are always set right
//! after creation and checked. A user needs at least one library, and there is no way to pause an
//! account: ending access removes it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::http::{encode_segment, join, parse_base_url};
use crate::reply::{Reply, rolled_back};
use crate::{
    AccountStatus, GrantOutcome, GrantSpec, Library, Login, MediaError, Permissions, RemoteAccount,
    ServerInfo, ServerKind,
};

const PRODUCT: &str = "Navidrome";
const AUTH_HEADER: &str = "X-ND-Authorization";

/// A Navidrome server, reached by signing in as an administrator.
#[derive(Clone)]
pub struct NavidromeClient {
    base: String,
    http: reqwest::Client,
    login: Login,
    /// Where this client's session is kept in [`sessions`].
    session_key: String,
}

/// Sessions by server and administrator, shared by every client the process makes: a client is
/// made per job, and Navidrome refuses sign-ins beyond five in twenty seconds by default.
fn sessions() -> &'static Mutex<HashMap<String, Session>> {
    static SESSIONS: OnceLock<Mutex<HashMap<String, Session>>> = OnceLock::new();
    SESSIONS.get_or_init(|| Mutex::new(HashMap::new()))
}

#[derive(Clone)]
struct Session {
    token: String,
    is_admin: bool,
    subsonic_salt: String,
    subsonic_token: String,
}

impl fmt::Debug for NavidromeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NavidromeClient")
            .field("base", &self.base)
            .field("username", &self.login.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A user as the native API describes one.
struct User {
    id: String,
    username: String,
    name: String,
    email: String,
    is_admin: bool,
    libraries: Vec<String>,
}

impl User {
    fn from_value(v: &Value) -> Option<User> {
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Some(User {
            id: v.get("id")?.as_str()?.to_string(),
            username: v.get("userName")?.as_str()?.to_string(),
            name: text("name"),
            email: text("email"),
            is_admin: v.get("isAdmin").and_then(Value::as_bool).unwrap_or(false),
            libraries: library_ids(v.get("libraries")),
        })
    }
}

/// The ids of a list of Library objects, as strings.
fn library_ids(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_array)
        .map(|libs| {
            libs.iter()
                .filter_map(|l| l.get("id").and_then(Value::as_i64))
                .map(|id| id.to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// ASCII letters folded, as the server's `COLLATE NOCASE` does (`Élodie` and `élodie` differ).
fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

impl NavidromeClient {
    /// A client for the server at `url`, signing in with `credential` (a [`Login`]).
    pub fn new(url: &str, credential: &str) -> Result<Self, MediaError> {
        let base = parse_base_url(url)?;
        let login = Login::decode(credential).ok_or_else(|| {
            MediaError::Invalid(
                "enter the user name and password of a Navidrome administrator".into(),
            )
        })?;
        // The password is part of the key: a client with other credentials never borrows a
        // session it could not open itself.
        let session_key = format!(
            "{base}\u{0}{}\u{0}{}",
            login.username,
            login.password.expose()
        );
        Ok(NavidromeClient {
            base,
            http: crate::http::client()?,
            login,
            session_key,
        })
    }

    /// Signs in, checks the account is an administrator, and reads the server's version.
    pub async fn probe(&self) -> Result<ServerInfo, MediaError> {
        let session = self.sign_in().await?;
        if !session.is_admin {
            return Err(MediaError::NotOwner);
        }
        let ping: Value = self
            .exchange(self.http.get(join(&self.base, "/rest/ping.view")).query(&[
                ("u", self.login.username.as_str()),
                ("t", session.subsonic_token.as_str()),
                ("s", session.subsonic_salt.as_str()),
                ("v", "1.16.1"),
                ("c", "usher"),
                ("f", "json"),
            ]))
            .await?
            .ok("reading the server's version")?
            .json("the server's version")?;
        let answer = ping.get("subsonic-response").ok_or_else(|| {
            MediaError::Protocol("this does not look like a Navidrome server".into())
        })?;
        if answer.get("type").and_then(Value::as_str) != Some("navidrome") {
            return Err(MediaError::Protocol(
                "this Subsonic server is not Navidrome: usher manages Navidrome's own accounts"
                    .into(),
            ));
        }
        let version = answer
            .get("serverVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_string();
        Ok(ServerInfo {
            // The API names no server of its own (the key holder's id would change with the
            // key), so there is none to compare when the server is edited.
            id: String::new(),
            name: PRODUCT.into(),
            version,
            kind: ServerKind::Navidrome,
            warning: None,
        })
    }

    /// The music libraries (0.58 and later); [`Library::id`] is the number `libraryIds` takes.
    pub async fn libraries(&self) -> Result<Vec<Library>, MediaError> {
        let reply = self.call(Method::GET, "/api/library", None).await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Err(MediaError::Unsupported(
                "this Navidrome has no libraries per user: update it to 0.58 or later".into(),
            ));
        }
        let list: Value = reply
            .ok("reading the libraries")?
            .json("the library list")?;
        let items = list
            .as_array()
            .ok_or_else(|| MediaError::Protocol("the library list is not a list".into()))?;
        Ok(items
            .iter()
            .filter_map(|l| Library::from_entry(l, "", "music"))
            .collect())
    }

    /// Creates the account and gives it exactly the chosen libraries. If that second step fails
    /// the account is deleted again before the error is returned.
    pub async fn grant(&self, spec: &GrantSpec) -> Result<GrantOutcome, MediaError> {
        let (username, password, email) = spec.account(PRODUCT)?;
        let libraries = self.resolve(&spec.libraries).await?;
        if !self.name_is_free(username).await? {
            return Err(MediaError::name_taken(username));
        }
        let body = json!({
            "userName": username,
            "name": username,
            "email": email.unwrap_or_default(),
            "isAdmin": false,
            "password": password,
        });
        let reply = self.call(Method::POST, "/api/user", Some(&body)).await?;
        if reply.status == StatusCode::BAD_REQUEST {
            let said = reply.message();
            return Err(if said.contains("unique") {
                MediaError::name_taken(username)
            } else {
                MediaError::Invalid(format!("{PRODUCT} refused the account: {said}"))
            });
        }
        let created: Value = reply.ok("creating the account")?.json("the new account")?;
        let id = created
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| MediaError::Protocol("the new account has no id".into()))?
            .to_string();
        if let Err(err) = self.set_libraries(&id, &libraries).await {
            return Err(self.roll_back(&id, username, err).await);
        }
        Ok(GrantOutcome {
            remote_id: id,
            remote_user_id: None,
            username: username.to_string(),
            pending: false,
        })
    }

    /// [`grant`](Self::grant) again after an attempt that may have been cut off: an ordinary
    /// account with the name that the member's password signs in to is the one that attempt
    /// made, so it gets the member's libraries instead of being refused as taken.
    pub async fn grant_again(&self, spec: &GrantSpec) -> Result<GrantOutcome, MediaError> {
        let taken = match self.grant(spec).await {
            Err(MediaError::AlreadyExists(taken)) => taken,
            other => return other,
        };
        let (username, password, _) = spec.account(PRODUCT)?;
        let body = json!({ "username": username, "password": password });
        let reply = self
            .exchange(self.http.post(join(&self.base, "/auth/login")).json(&body))
            .await?;
        if !reply.status.is_success() {
            return Err(MediaError::AlreadyExists(taken));
        }
        let signed_in: Value = reply.json("the sign-in")?;
        let (Some(id), Some(false)) = (
            signed_in.get("id").and_then(Value::as_str),
            signed_in.get("isAdmin").and_then(Value::as_bool),
        ) else {
            return Err(MediaError::AlreadyExists(taken));
        };
        let libraries = self.resolve(&spec.libraries).await?;
        self.set_libraries(id, &libraries).await?;
        Ok(GrantOutcome {
            remote_id: id.to_string(),
            remote_user_id: None,
            username: username.to_string(),
            pending: false,
        })
    }

    /// Replaces the libraries of a member's account (Navidrome has no other per-user
    /// permission usher sets).
    pub async fn update_access(
        &self,
        remote_id: &str,
        libraries: &[String],
        _permissions: &Permissions,
    ) -> Result<(), MediaError> {
        let libraries = self.resolve(libraries).await?;
        let user = self.get_member(remote_id).await?;
        self.set_libraries(&user.id, &libraries).await
    }

    /// Deletes a member's account; one already gone counts as removed.
    pub async fn remove(&self, remote_id: &str) -> Result<(), MediaError> {
        match self.get_member(remote_id).await {
            Ok(user) => self
                .call(
                    Method::DELETE,
                    &format!("/api/user/{}", encode_segment(&user.id)),
                    None,
                )
                .await?
                .ok("deleting the account")
                .map(drop),
            Err(MediaError::NotFound(_)) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Sets a member's password. The server writes every column on save, so the whole account
    /// is sent back with the new password.
    pub async fn set_password(&self, remote_id: &str, password: &str) -> Result<(), MediaError> {
        if password.is_empty() {
            return Err(MediaError::Invalid("choose a password".into()));
        }
        let user = self.get_member(remote_id).await?;
        let body = json!({
            "id": user.id,
            "userName": user.username,
            "name": user.name,
            "email": user.email,
            "isAdmin": false,
            "password": password,
        });
        self.call(
            Method::PUT,
            &format!("/api/user/{}", encode_segment(&user.id)),
            Some(&body),
        )
        .await?
        .ok("setting the password")
        .map(drop)
    }

    /// Whether no account has the name `username` (ASCII letters compare without case).
    pub async fn name_is_free(&self, username: &str) -> Result<bool, MediaError> {
        Ok(!self
            .list_users()
            .await?
            .iter()
            .any(|u| same_name(&u.username, username)))
    }

    /// Everybody with an account, administrators flagged (they see every library).
    pub async fn accounts(&self) -> Result<Vec<RemoteAccount>, MediaError> {
        Ok(self
            .list_users()
            .await?
            .into_iter()
            .map(|u| RemoteAccount {
                status: AccountStatus::Active,
                is_admin: u.is_admin,
                all_libraries: u.is_admin,
                libraries: if u.is_admin { Vec::new() } else { u.libraries },
                email: Some(u.email).filter(|e| !e.is_empty()),
                remote_id: u.id,
                remote_user_id: None,
                username: u.username,
            })
            .collect())
    }

    // -----------------------------------------------------------------------------------------

    async fn exchange(&self, request: RequestBuilder) -> Result<Reply, MediaError> {
        // The password, the session token and the signed Subsonic query all stay out of messages.
        let mut secrets: Vec<Arc<str>> = vec![self.login.password.expose().into()];
        if let Some(s) = self.current_session() {
            secrets.push(s.token.as_str().into());
            secrets.push(s.subsonic_token.as_str().into());
        }
        Reply::read_hiding(request, PRODUCT, &secrets).await
    }

    fn current_session(&self) -> Option<Session> {
        sessions()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&self.session_key)
            .cloned()
    }

    async fn sign_in(&self) -> Result<Session, MediaError> {
        let body = json!({
            "username": self.login.username,
            "password": self.login.password.expose(),
        });
        let reply = self
            .exchange(self.http.post(join(&self.base, "/auth/login")).json(&body))
            .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Err(MediaError::Protocol(
                "this does not look like a Navidrome server: check the URL and port".into(),
            ));
        }
        let v: Value = reply
            .ok("signing in as the administrator")?
            .json("the sign-in")?;
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let session = Session {
            token: text("token"),
            is_admin: v.get("isAdmin").and_then(Value::as_bool).unwrap_or(false),
            subsonic_salt: text("subsonicSalt"),
            subsonic_token: text("subsonicToken"),
        };
        if session.token.is_empty() {
            return Err(MediaError::Protocol("the sign-in gave no token".into()));
        }
        sessions()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.session_key.clone(), session.clone());
        Ok(session)
    }

    /// A native API call with the session token, signing in first or again when the token is
    /// missing or has expired.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, MediaError> {
        let (session, fresh) = match self.current_session() {
            Some(s) => (s, false),
            None => (self.sign_in().await?, true),
        };
        if !session.is_admin {
            return Err(MediaError::NotOwner);
        }
        let send = |token: &str| {
            let mut request = self
                .http
                .request(method.clone(), join(&self.base, path))
                .header(AUTH_HEADER, format!("Bearer {token}"))
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(body) = body {
                request = request.json(body);
            }
            self.exchange(request)
        };
        let reply = send(&session.token).await?;
        if reply.status == StatusCode::UNAUTHORIZED && !fresh {
            let again = self.sign_in().await?;
            return send(&again.token).await;
        }
        Ok(reply)
    }

    async fn list_users(&self) -> Result<Vec<User>, MediaError> {
        let list: Value = self
            .call(Method::GET, "/api/user", None)
            .await?
            .ok("reading the user list")?
            .json("the user list")?;
        let items = list
            .as_array()
            .ok_or_else(|| MediaError::Protocol("the user list is not a list".into()))?;
        Ok(items.iter().filter_map(User::from_value).collect())
    }

    async fn get_member(&self, id: &str) -> Result<User, MediaError> {
        let reply = self
            .call(
                Method::GET,
                &format!("/api/user/{}", encode_segment(id)),
                None,
            )
            .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Err(MediaError::NotFound(format!(
                "account {id} is no longer on the {PRODUCT} server"
            )));
        }
        let value: Value = reply.ok("reading the account")?.json("the account")?;
        let user = User::from_value(&value)
            .ok_or_else(|| MediaError::Protocol("the account has no id".into()))?;
        if user.is_admin {
            return Err(MediaError::Invalid(format!(
                "`{}` is a {PRODUCT} administrator; usher does not manage administrators",
                user.username
            )));
        }
        Ok(user)
    }

    /// Gives the account exactly `libraries` and checks the server's answer says so.
    async fn set_libraries(&self, id: &str, libraries: &[i64]) -> Result<(), MediaError> {
        let path = format!("/api/user/{}/library", encode_segment(id));
        let body = json!({ "libraryIds": libraries });
        let reply = self.call(Method::PUT, &path, Some(&body)).await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Err(MediaError::NotFound(format!(
                "account {id} is no longer on the {PRODUCT} server"
            )));
        }
        let saved: Value = reply
            .ok("choosing the account's libraries")?
            .json("the account's libraries")?;
        let mut held: Vec<String> = library_ids(Some(&saved));
        let mut wanted: Vec<String> = libraries.iter().map(i64::to_string).collect();
        held.sort();
        wanted.sort();
        if held != wanted {
            return Err(MediaError::Protocol(format!(
                "{PRODUCT} did not save the libraries chosen for account {id}"
            )));
        }
        Ok(())
    }

    /// The chosen libraries as the numbers the server takes, checked against its list. An
    /// account needs at least one.
    async fn resolve(&self, wanted: &[String]) -> Result<Vec<i64>, MediaError> {
        if wanted.is_empty() {
            return Err(MediaError::Invalid(format!(
                "{PRODUCT} needs at least one library for every account: choose one"
            )));
        }
        let libraries = self.libraries().await?;
        Library::choose(&libraries, wanted, PRODUCT)?
            .into_iter()
            .map(|l| {
                l.id.parse::<i64>().map_err(|_| {
                    MediaError::Protocol(format!("library id `{}` is not a number", l.id))
                })
            })
            .collect()
    }

    async fn roll_back(&self, id: &str, username: &str, err: MediaError) -> MediaError {
        let deleted = self
            .call(
                Method::DELETE,
                &format!("/api/user/{}", encode_segment(id)),
                None,
            )
            .await
            .and_then(|r| r.ok("deleting the account"))
            .is_ok();
        rolled_back(
            err,
            username,
            deleted,
            "in Navidrome under Settings → Users",
        )
    }
}
