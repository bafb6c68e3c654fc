//! RomM: local accounts, limited to the chosen platforms by hiding every other one.
//!
//! Follows `reference/more-servers-api.md` §1.5. Accounts are created with a JSON body but
//! changed with form data only (a JSON body on that call is ignored and answered 200), so every
//! change is checked against the account the server answers with. Per-user platform access
//! exists from RomM 5.0 as a list of hidden platforms; before 5.0 every user sees every
//! platform, so a choice of fewer than all of them is refused rather than silently widened.
//! usher signs in with an administrator's client token (`rmm_…`, RomM 4.8 and later).

use std::collections::BTreeSet;
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

const PRODUCT: &str = "RomM";

/// A RomM server, reached with an administrator's client token.
#[derive(Clone)]
pub struct RommClient {
    base: String,
    http: reqwest::Client,
    authorization: HeaderValue,
    secret: Arc<str>,
}

impl fmt::Debug for RommClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RommClient")
            .field("base", &self.base)
            .field("token", &"<redacted>")
            .finish()
    }
}

struct User {
    id: i64,
    username: String,
    email: Option<String>,
    enabled: bool,
    is_admin: bool,
}

impl User {
    fn from_value(v: &Value) -> Option<User> {
        Some(User {
            id: v.get("id")?.as_i64()?,
            username: v.get("username")?.as_str()?.to_string(),
            email: v
                .get("email")
                .and_then(Value::as_str)
                .filter(|e| !e.is_empty())
                .map(String::from),
            enabled: v.get("enabled").and_then(Value::as_bool).unwrap_or(false),
            is_admin: v.get("role").and_then(Value::as_str) == Some("admin"),
        })
    }
}

/// RomM's own rule for a user name: 3–255 ASCII letters, digits, `_` or `-`.
fn check_username(name: &str) -> Result<(), MediaError> {
    if name.len() <= 255 && crate::UsernameRule::Plain.allows(name) {
        Ok(())
    } else {
        Err(MediaError::Invalid(format!(
            "{PRODUCT} user names are 3 or more letters, digits, _ or - (no spaces or accents): `{name}` is not one"
        )))
    }
}

impl RommClient {
    pub fn new(url: &str, token: &str) -> Result<Self, MediaError> {
        let base = parse_base_url(url)?;
        let token = token.trim();
        if token.is_empty() {
            return Err(MediaError::Invalid(
                "enter a client token: create one in RomM under your profile → Client API Tokens, as an administrator, with the scopes me.read, me.write, users.read, users.write and platforms.read"
                    .into(),
            ));
        }
        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                MediaError::Invalid(
                    "the token contains characters that cannot be sent: copy it again from RomM"
                        .into(),
                )
            })?;
        authorization.set_sensitive(true);
        Ok(RommClient {
            base,
            http: crate::http::client()?,
            authorization,
            secret: token.into(),
        })
    }

    /// Reads the version (no sign-in needed) and checks the token is an administrator's.
    pub async fn probe(&self) -> Result<ServerInfo, MediaError> {
        let heartbeat: Value = self
            .exchange(self.http.get(join(&self.base, "/api/heartbeat")))
            .await?
            .ok("reading the server's version")?
            .json("the server's heartbeat")?;
        let version = heartbeat
            .pointer("/SYSTEM/VERSION")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                MediaError::Protocol(
                    "this does not look like a RomM server: check the URL and port".into(),
                )
            })?
            .to_string();
        let me: Value = self
            .send(Method::GET, "/api/users/me")
            .await?
            .ok("checking the client token")?
            .json("the token's account")?;
        let user = User::from_value(&me)
            .ok_or_else(|| MediaError::Protocol("the token's account has no id".into()))?;
        if !user.is_admin {
            return Err(MediaError::NotOwner);
        }
        let warning = (!ServerKind::Romm.limits_libraries(&version)).then(|| {
            format!(
                "RomM {version} cannot limit which platforms someone sees: invites must give every platform until RomM is updated to 5.0 or later"
            )
        });
        Ok(ServerInfo {
            // The API names no server of its own (the key holder's id would change with the
            // key), so there is none to compare when the server is edited.
            id: String::new(),
            name: PRODUCT.into(),
            version,
            kind: ServerKind::Romm,
            warning,
        })
    }

    /// The platforms; [`Library::id`] is the platform's number.
    pub async fn libraries(&self) -> Result<Vec<Library>, MediaError> {
        let list: Value = self
            .send(Method::GET, "/api/platforms")
            .await?
            .ok("reading the platforms")?
            .json("the platform list")?;
        let items = list
            .as_array()
            .ok_or_else(|| MediaError::Protocol("the platform list is not a list".into()))?;
        Ok(items
            .iter()
            .filter_map(|p| {
                let mut library = Library::from_entry(p, "", "games")?;
                // The owner's own name for a platform wins, as in RomM's UI.
                if let Some(custom) = p
                    .get("custom_name")
                    .and_then(Value::as_str)
                    .filter(|c| !c.is_empty())
                {
                    library.name = custom.to_string();
                }
                Some(library)
            })
            .collect())
    }

    /// Creates the account, then hides every platform not chosen, and checks both. A wrong
    /// account is deleted again.
    pub async fn grant(&self, spec: &GrantSpec) -> Result<GrantOutcome, MediaError> {
        let (username, password, email) = spec.account(PRODUCT)?;
        check_username(username)?;
        // One look at the version serves the whole grant.
        let five = self.version_limits_platforms().await?;
        let hidden = self.platforms_to_hide(&spec.libraries, five).await?;
        if !self.name_is_free(username).await? {
            return Err(MediaError::name_taken(username));
        }
        // RomM 5 has users and admins; RomM 4 calls an ordinary account a viewer.
        let role = if five { "user" } else { "viewer" };
        let body = json!({
            "username": username,
            "email": email.unwrap_or_default(),
            "password": password,
            "role": role,
        });
        let reply = self
            .exchange(self.request(Method::POST, "/api/users").json(&body))
            .await?;
        if reply.status == StatusCode::BAD_REQUEST {
            let said = reply.message();
            return Err(if said.contains("User with email") {
                MediaError::AlreadyExists(format!(
                    "that email already has a {PRODUCT} account: use another, or none"
                ))
            } else if said.contains("already exists") {
                MediaError::name_taken(username)
            } else {
                MediaError::Invalid(format!("{PRODUCT} refused the account: {said}"))
            });
        }
        let created: Value = reply.ok("creating the account")?.json("the new account")?;
        let user = User::from_value(&created)
            .ok_or_else(|| MediaError::Protocol("the new account has no id".into()))?;
        if let Err(err) = self.hide_exactly(user.id, &hidden, five).await {
            let deleted = self.delete_user(user.id).await.is_ok();
            return Err(rolled_back(
                err,
                username,
                deleted,
                "in RomM under Settings → Users",
            ));
        }
        Ok(GrantOutcome {
            remote_id: user.id.to_string(),
            remote_user_id: None,
            username: user.username,
            pending: false,
        })
    }

    /// [`grant`](Self::grant) again after a cut-off attempt: the ordinary account with the
    /// name that the member's password opens gets the member's platforms.
    pub async fn grant_again(&self, spec: &GrantSpec) -> Result<GrantOutcome, MediaError> {
        let taken = match self.grant(spec).await {
            Err(MediaError::AlreadyExists(taken)) => taken,
            other => return other,
        };
        let (username, password, _) = spec.account(PRODUCT)?;
        let reply = self
            .exchange(
                self.http
                    .get(join(&self.base, "/api/users/me"))
                    .basic_auth(username, Some(password)),
            )
            .await?;
        if !reply.status.is_success() {
            return Err(MediaError::AlreadyExists(taken));
        }
        let me: Value = reply.json("the sign-in")?;
        let Some(user) = User::from_value(&me).filter(|u| !u.is_admin) else {
            return Err(MediaError::AlreadyExists(taken));
        };
        self.update_access(&user.id.to_string(), &spec.libraries, &spec.permissions)
            .await?;
        Ok(GrantOutcome {
            remote_id: user.id.to_string(),
            remote_user_id: None,
            username: user.username,
            pending: false,
        })
    }

    /// Shows exactly the chosen platforms to a member's account.
    pub async fn update_access(
        &self,
        remote_id: &str,
        libraries: &[String],
        _permissions: &Permissions,
    ) -> Result<(), MediaError> {
        let five = self.version_limits_platforms().await?;
        let hidden = self.platforms_to_hide(libraries, five).await?;
        let user = self.get_member(remote_id).await?;
        self.hide_exactly(user.id, &hidden, five).await
    }

    /// Pauses or resumes a member's account; a paused account is refused on its next request.
    pub async fn set_disabled(&self, remote_id: &str, disabled: bool) -> Result<(), MediaError> {
        let user = self.get_member(remote_id).await?;
        let saved = self
            .put_form(
                user.id,
                &[("enabled", if disabled { "false" } else { "true" })],
            )
            .await?;
        if saved.enabled == disabled {
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
            Ok(user) => self.delete_user(user.id).await,
            Err(MediaError::NotFound(_)) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Sets a member's password.
    pub async fn set_password(&self, remote_id: &str, password: &str) -> Result<(), MediaError> {
        if password.len() < 6 || !password.is_ascii() {
            return Err(MediaError::Invalid(format!(
                "{PRODUCT} passwords are 6 or more characters without accents"
            )));
        }
        let user = self.get_member(remote_id).await?;
        self.put_form(user.id, &[("password", password)])
            .await
            .map(drop)
    }

    /// Whether no account has the name `username` (RomM keeps names in lower case).
    pub async fn name_is_free(&self, username: &str) -> Result<bool, MediaError> {
        let wanted = username.to_lowercase();
        Ok(!self
            .list_users()
            .await?
            .iter()
            .any(|u| u.username.to_lowercase() == wanted))
    }

    /// Everybody with an account, with the platforms each can see.
    pub async fn accounts(&self) -> Result<Vec<RemoteAccount>, MediaError> {
        let platforms: Vec<String> = self.libraries().await?.into_iter().map(|l| l.id).collect();
        let five = self.version_limits_platforms().await?;
        let mut out = Vec::new();
        for u in self.list_users().await? {
            let (all, libraries) = if u.is_admin || !five {
                (true, Vec::new())
            } else {
                let hidden = self.hidden_of(u.id).await?;
                let visible: Vec<String> = platforms
                    .iter()
                    .filter(|p| !hidden.contains(p.as_str()))
                    .cloned()
                    .collect();
                (hidden.is_empty(), visible)
            };
            out.push(RemoteAccount {
                remote_id: u.id.to_string(),
                remote_user_id: None,
                status: if u.enabled {
                    AccountStatus::Active
                } else {
                    AccountStatus::Disabled
                },
                is_admin: u.is_admin,
                libraries: if all { Vec::new() } else { libraries },
                all_libraries: all,
                username: u.username,
                email: u.email,
            });
        }
        Ok(out)
    }

    // -----------------------------------------------------------------------------------------

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, join(&self.base, path))
            .header(AUTHORIZATION, self.authorization.clone())
            .header(reqwest::header::ACCEPT, "application/json")
    }

    async fn exchange(&self, request: RequestBuilder) -> Result<Reply, MediaError> {
        Reply::read(request, PRODUCT, &self.secret).await
    }

    async fn send(&self, method: Method, path: &str) -> Result<Reply, MediaError> {
        self.exchange(self.request(method, path)).await
    }

    async fn version_limits_platforms(&self) -> Result<bool, MediaError> {
        let heartbeat: Value = self
            .exchange(self.http.get(join(&self.base, "/api/heartbeat")))
            .await?
            .ok("reading the server's version")?
            .json("the server's heartbeat")?;
        let version = heartbeat
            .pointer("/SYSTEM/VERSION")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Ok(ServerKind::Romm.limits_libraries(version))
    }

    /// Every platform but the chosen ones, checked against the server's list; on RomM before
    /// 5.0 only a choice of all platforms can be honoured.
    async fn platforms_to_hide(
        &self,
        wanted: &[String],
        five: bool,
    ) -> Result<BTreeSet<String>, MediaError> {
        let platforms = self.libraries().await?;
        let chosen = Library::choose(&platforms, wanted, PRODUCT)?;
        let hidden: BTreeSet<String> = platforms
            .iter()
            .filter(|p| !chosen.iter().any(|c| c.id == p.id))
            .map(|p| p.id.clone())
            .collect();
        if !hidden.is_empty() && !five {
            return Err(MediaError::Unsupported(format!(
                "this {PRODUCT} cannot limit which platforms someone sees (that came with RomM 5.0): give every platform, or update RomM"
            )));
        }
        Ok(hidden)
    }

    async fn hidden_of(&self, user_id: i64) -> Result<BTreeSet<String>, MediaError> {
        let permissions: Value = self
            .send(Method::GET, &format!("/api/permissions/users/{user_id}"))
            .await?
            .ok("reading the account's hidden platforms")?
            .json("the account's permissions")?;
        Ok(permissions
            .get("hidden")
            .and_then(Value::as_array)
            .map(|h| {
                h.iter()
                    .filter(|e| e.get("entity").and_then(Value::as_str) == Some("platforms"))
                    .filter_map(|e| e.get("entity_id").and_then(Value::as_i64))
                    .map(|id| id.to_string())
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Hides exactly `hidden` from the account (and shows the rest), then reads it back.
    async fn hide_exactly(
        &self,
        user_id: i64,
        hidden: &BTreeSet<String>,
        five: bool,
    ) -> Result<(), MediaError> {
        if hidden.is_empty() && !five {
            return Ok(());
        }
        let now = self.hidden_of(user_id).await?;
        for (method, ids, what) in [
            (Method::POST, hidden.difference(&now), "hiding a platform"),
            (Method::DELETE, now.difference(hidden), "showing a platform"),
        ] {
            for id in ids {
                let entity_id: i64 = id.parse().map_err(|_| {
                    MediaError::Protocol(format!("platform id `{id}` is not a number"))
                })?;
                let body =
                    json!({ "entity": "platforms", "entity_id": entity_id, "user_id": user_id });
                self.exchange(
                    self.request(method.clone(), "/api/permissions/hidden")
                        .json(&body),
                )
                .await?
                .ok(what)?;
            }
        }
        if self.hidden_of(user_id).await? != *hidden {
            return Err(MediaError::Protocol(format!(
                "{PRODUCT} did not save which platforms account {user_id} may see"
            )));
        }
        Ok(())
    }

    async fn list_users(&self) -> Result<Vec<User>, MediaError> {
        let list: Value = self
            .send(Method::GET, "/api/users")
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
        if user.is_admin {
            return Err(MediaError::Invalid(format!(
                "`{}` is a {PRODUCT} administrator; usher does not manage administrators",
                user.username
            )));
        }
        Ok(user)
    }

    /// The one way to change an account: form data (a JSON body is ignored by the server).
    async fn put_form(&self, id: i64, fields: &[(&str, &str)]) -> Result<User, MediaError> {
        let saved: Value = self
            .exchange(
                self.request(Method::PUT, &format!("/api/users/{id}"))
                    .form(fields),
            )
            .await?
            .ok("saving the account")?
            .json("the saved account")?;
        User::from_value(&saved)
            .ok_or_else(|| MediaError::Protocol("the saved account has no id".into()))
    }

    async fn delete_user(&self, id: i64) -> Result<(), MediaError> {
        let reply = self
            .send(Method::DELETE, &format!("/api/users/{id}"))
            .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        reply.ok("deleting the account").map(drop)
    }
}
