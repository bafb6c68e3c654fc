//! Jellyfin and Emby: local accounts with a policy that names the libraries they may see.
//!
//! One client serves both servers; they share the API except where `reference/jellyfin-emby-api.md`
//! says otherwise (Emby's password step, folder Guids, stream limit, user list shape). Policies are
//! always read, changed and written back whole, because a field left out of a posted policy takes
//! the server's constructor default rather than the user's current value.

use std::fmt;
use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Map, Value, json};

use crate::http::{encode_segment, join, parse_base_url};
use crate::reply::{Reply, rolled_back};
use crate::{
    AccountStatus, ClientInfo, GrantOutcome, GrantSpec, Identity, Library, MediaError, Permissions,
    RemoteAccount, ServerInfo, ServerKind,
};

/// Jellyfin's built-in providers; a policy read from 10.8 may lack them and 10.9+ requires them.
const JELLYFIN_AUTH_PROVIDER: &str =
    "Jellyfin.Server.Implementations.Users.DefaultAuthenticationProvider";
const JELLYFIN_RESET_PROVIDER: &str =
    "Jellyfin.Server.Implementations.Users.DefaultPasswordResetProvider";

/// Policy arrays the server throws on when posted as `null`.
const POLICY_ARRAYS: [&str; 13] = [
    "BlockedTags",
    "AllowedTags",
    "IncludeTags",
    "AccessSchedules",
    "BlockUnratedItems",
    "EnableContentDeletionFromFolders",
    "EnabledDevices",
    "EnabledChannels",
    "EnabledFolders",
    "BlockedMediaFolders",
    "BlockedChannels",
    "ExcludedSubFolders",
    "RestrictedFeatures",
];

const NAME_CHARS_HINT: &str = "letters, digits, space, - ' . _ @ only";

/// Checks a new account's user name against the rule every supported server version accepts
/// (`^[\w\ \-'._@]+$`, no space at either end, not `.` or `..`), so a refusal can be explained
/// before the server answers its uninformative `Error processing request.`.
pub fn validate_username(name: &str) -> Result<(), MediaError> {
    if name.trim().is_empty() {
        return Err(MediaError::Invalid("choose a user name".into()));
    }
    if name.trim() != name {
        return Err(MediaError::Invalid(
            "a user name can't start or end with a space".into(),
        ));
    }
    if name == "." || name == ".." {
        return Err(MediaError::Invalid(format!(
            "`{name}` can't be a user name: use {NAME_CHARS_HINT}"
        )));
    }
    // `+` is refused before Jellyfin 10.11 and by Emby, so it is refused everywhere.
    if let Some(bad) = name
        .chars()
        .find(|&c| !(c.is_alphanumeric() || matches!(c, '_' | ' ' | '-' | '\'' | '.' | '@')))
    {
        let shown = if bad.is_control() || bad.is_whitespace() {
            format!("U+{:04X}", bad as u32)
        } else {
            bad.to_string()
        };
        return Err(MediaError::Invalid(format!(
            "a user name can't contain `{shown}`: use {NAME_CHARS_HINT}"
        )));
    }
    Ok(())
}

/// Checks a new account's password. The servers accept anything, but an empty password lets
/// anyone who knows the user name sign in (and is what an Emby account has until its password
/// is set), so usher insists on one.
pub fn validate_password(password: &str) -> Result<(), MediaError> {
    if password.is_empty() {
        return Err(MediaError::Invalid(
            "choose a password: an account without one lets anyone sign in".into(),
        ));
    }
    if password.trim().is_empty() {
        return Err(MediaError::Invalid(
            "a password can't be only spaces".into(),
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(MediaError::Invalid(
            "a password can't contain control characters such as tab or newline".into(),
        ));
    }
    Ok(())
}

/// A Jellyfin or Emby server, reached with an administrator's API key.
#[derive(Clone)]
pub struct JellyfinClient {
    kind: ServerKind,
    base: String,
    info: ClientInfo,
    http: reqwest::Client,
    /// `Authorization: MediaBrowser …` with the key, marked sensitive.
    authorization: HeaderValue,
    /// The bare key for Emby's `X-Emby-Token`, marked sensitive.
    token: HeaderValue,
    /// Kept to scrub it from anything a server echoes back into an error.
    api_key: Arc<str>,
}

impl fmt::Debug for JellyfinClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JellyfinClient")
            .field("kind", &self.kind)
            .field("base", &self.base)
            .field("info", &self.info)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

impl JellyfinClient {
    /// A client for the server of `kind` (Jellyfin or Emby) at `url`.
    pub fn new(
        kind: ServerKind,
        url: &str,
        api_key: &str,
        info: ClientInfo,
    ) -> Result<Self, MediaError> {
        if !matches!(kind, ServerKind::Jellyfin | ServerKind::Emby) {
            return Err(MediaError::Invalid(format!(
                "the Jellyfin/Emby client cannot talk to a {} server",
                kind.display_name()
            )));
        }
        let base = parse_base_url(url)?;
        let api_key = api_key.trim();
        if api_key.is_empty() {
            return Err(MediaError::Invalid(format!(
                "enter an API key: create one in the {} dashboard under API Keys",
                kind.display_name()
            )));
        }
        let bad_key = || {
            MediaError::Invalid(
                "the API key contains characters that cannot be sent: copy it again from the dashboard"
                    .into(),
            )
        };
        let mut authorization =
            HeaderValue::from_str(&authorization_value(&info, api_key)).map_err(|_| bad_key())?;
        authorization.set_sensitive(true);
        let mut token = HeaderValue::from_str(api_key).map_err(|_| bad_key())?;
        token.set_sensitive(true);
        Ok(JellyfinClient {
            kind,
            base,
            info,
            http: crate::http::client()?,
            authorization,
            token,
            api_key: api_key.into(),
        })
    }

    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    fn product(&self) -> &'static str {
        self.kind.display_name()
    }

    fn is_emby(&self) -> bool {
        self.kind == ServerKind::Emby
    }

    /// Reads the server's public info, tells Jellyfin from Emby, and checks the API key with an
    /// administrator-only call.
    pub async fn probe(&self) -> Result<ServerInfo, MediaError> {
        let reply = self
            .exchange(self.request(self.kind, Method::GET, "/System/Info/Public"))
            .await?
            .ok("reading the server's public info")?;
        let public: Value = reply.json("the server's public info")?;
        let text = |key: &str| public.get(key).and_then(Value::as_str).map(String::from);
        let (Some(name), Some(id)) = (text("ServerName"), text("Id")) else {
            return Err(MediaError::Protocol(
                "this does not look like a Jellyfin or Emby server: check the URL and port".into(),
            ));
        };
        // Emby's public info has no ProductName.
        let detected = if public.get("ProductName").is_some() {
            ServerKind::Jellyfin
        } else {
            ServerKind::Emby
        };
        let warning = (detected != self.kind).then(|| {
            format!(
                "this server looks like {}, not {}: change the server kind to {}",
                detected.display_name(),
                self.kind.display_name(),
                detected.display_name()
            )
        });
        // Authenticate the way the real server expects, so a wrong kind is reported as a warning
        // rather than as a refused key (Jellyfin 12 refuses Emby's token header).
        self.exchange(self.request(detected, Method::GET, "/Library/MediaFolders"))
            .await?
            .ok("checking the API key")?;
        Ok(ServerInfo {
            id,
            name,
            version: text("Version").unwrap_or_default(),
            kind: detected,
            warning,
        })
    }

    /// The server's libraries; [`Library::id`] is what access is granted by.
    pub async fn libraries(&self) -> Result<Vec<Library>, MediaError> {
        let reply = self
            .exchange(self.request(self.kind, Method::GET, "/Library/MediaFolders"))
            .await?
            .ok("reading the libraries")?;
        let folders: Value = reply.json("the library list")?;
        let items = folders
            .get("Items")
            .and_then(Value::as_array)
            .ok_or_else(|| MediaError::Protocol("the library list has no Items".into()))?;
        let mut libraries = Vec::with_capacity(items.len());
        for item in items {
            let text = |key: &str| item.get(key).and_then(Value::as_str).map(String::from);
            let Some(id) = text("Id") else { continue };
            // Emby's EnabledFolders only honours the Guid; the numeric Id is silently ignored.
            let (sharing_id, local_key) = if self.is_emby() {
                match text("Guid") {
                    Some(guid) => (guid, id),
                    None => {
                        return Err(MediaError::Protocol(format!(
                            "Emby did not give the Guid of library `{}`, which access is granted by: update Emby",
                            text("Name").unwrap_or(id)
                        )));
                    }
                }
            } else {
                (id.clone(), id)
            };
            libraries.push(Library {
                id: sharing_id,
                local_key,
                name: text("Name").unwrap_or_default(),
                kind: text("CollectionType").unwrap_or_else(|| "mixed".into()),
            });
        }
        Ok(libraries)
    }

    /// Creates the account, sets its password (Emby) and its full policy. If any step after the
    /// account exists fails, the account is deleted again before the error is returned.
    pub async fn grant(&self, spec: &GrantSpec) -> Result<GrantOutcome, MediaError> {
        let Identity::Account {
            username, password, ..
        } = &spec.identity
        else {
            return Err(MediaError::Invalid(format!(
                "{} needs a new account's user name and password, not a Plex user",
                self.product()
            )));
        };
        validate_username(username)?;
        validate_password(password.expose())?;
        let folders = self.resolve_folders(&spec.libraries).await?;

        let wanted = username.to_lowercase();
        if self
            .list_users()
            .await?
            .iter()
            .any(|u| u.name.to_lowercase() == wanted)
        {
            return Err(MediaError::name_taken(username));
        }

        let mut body = json!({ "Name": username });
        if !self.is_emby() {
            body["Password"] = Value::String(password.expose().to_string());
        }
        let reply = self
            .exchange(
                self.request(self.kind, Method::POST, "/Users/New")
                    .json(&body),
            )
            .await?;
        if reply.status == StatusCode::BAD_REQUEST {
            return Err(self.explain_create_refusal(username).await);
        }
        let created: Value = reply.ok("creating the account")?.json("the new account")?;
        let user = UserDto::from_value(&created)
            .ok_or_else(|| MediaError::Protocol("the new account has no Id".into()))?;

        let finish = async {
            // Until Emby has the password, the account opens with an empty one, so that gap is
            // closed before anything else.
            if self.is_emby() {
                self.post_password(&user.id, password.expose(), false)
                    .await?;
            }
            let policy = match created.get("Policy") {
                Some(Value::Object(policy)) => policy.clone(),
                _ => self.get_user(&user.id).await?.policy,
            };
            self.post_member_policy(&user.id, policy, &folders, &spec.permissions)
                .await
        };
        if let Err(err) = finish.await {
            return Err(self.roll_back(&user.id, username, err).await);
        }
        Ok(GrantOutcome {
            remote_id: user.id,
            remote_user_id: None,
            username: user.name,
            pending: false,
        })
    }

    /// [`grant`](Self::grant) once more after an attempt that may have been cut off halfway (the
    /// process died between creating the account and recording it). An account with the name
    /// that the member's password opens is the one that attempt made: it is finished instead of
    /// refused as taken. Anyone else's account, and any administrator's, stays refused. Jellyfin
    /// lists the sign-in among the account's devices.
    ///
    /// `made_here` says the caller saw the name free before its earlier attempt created it. Then
    /// a non-administrator account with that name and no password yet is the earlier attempt's
    /// too: Emby creates accounts without one and sets it in a second call, which the cut-off
    /// attempt may not have reached. It gets the password and the member's access.
    pub async fn grant_again(
        &self,
        spec: &GrantSpec,
        made_here: bool,
    ) -> Result<GrantOutcome, MediaError> {
        let taken = match self.grant(spec).await {
            Err(MediaError::AlreadyExists(taken)) => taken,
            other => return other,
        };
        let Identity::Account {
            username, password, ..
        } = &spec.identity
        else {
            return Err(MediaError::AlreadyExists(taken));
        };
        let user = match self.account_opened_by(username, password.expose()).await? {
            Some(user) => user,
            None if made_here => {
                let wanted = username.to_lowercase();
                let Some(user) = self.list_users().await?.into_iter().find(|u| {
                    u.name.to_lowercase() == wanted
                        && !u.has_password
                        && u.policy.get("IsAdministrator").and_then(Value::as_bool) != Some(true)
                }) else {
                    return Err(MediaError::AlreadyExists(taken));
                };
                self.post_password(&user.id, password.expose(), false)
                    .await?;
                user
            }
            None => return Err(MediaError::AlreadyExists(taken)),
        };
        let folders = self.resolve_folders(&spec.libraries).await?;
        self.post_member_policy(&user.id, user.policy, &folders, &spec.permissions)
            .await?;
        Ok(GrantOutcome {
            remote_id: user.id,
            remote_user_id: None,
            username: user.name,
            pending: false,
        })
    }

    /// The non-administrator account `username` that `password` signs in to, if any.
    async fn account_opened_by(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<UserDto>, MediaError> {
        let body = json!({ "Username": username, "Pw": password });
        let reply = self
            .exchange(
                self.request(self.kind, Method::POST, "/Users/AuthenticateByName")
                    .json(&body),
            )
            .await?;
        if matches!(
            reply.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
        ) {
            return Ok(None);
        }
        let signed_in: Value = reply.ok("signing in to the account")?.json("the sign-in")?;
        let Some(id) = signed_in
            .get("User")
            .and_then(|u| u.get("Id"))
            .and_then(Value::as_str)
        else {
            return Ok(None);
        };
        // The sign-in's copy of the user may leave out the policy: read it from the source.
        let user = self.get_user(id).await?;
        if user.policy.get("IsAdministrator").and_then(Value::as_bool) == Some(true)
            || !user.name.eq_ignore_ascii_case(username)
        {
            return Ok(None);
        }
        Ok(Some(user))
    }

    /// Gives a member's account its libraries and permissions, keeps it an ordinary, enabled
    /// account, and hides it from sign-in screens.
    async fn post_member_policy(
        &self,
        id: &str,
        mut policy: Map<String, Value>,
        folders: &[String],
        permissions: &Permissions,
    ) -> Result<(), MediaError> {
        apply_access(self.kind, &mut policy, folders, permissions);
        set(&mut policy, "IsAdministrator", false);
        set(&mut policy, "IsDisabled", false);
        // Keep invited people off the sign-in screen other people's devices show.
        set(&mut policy, "IsHidden", true);
        if self.is_emby() {
            set(&mut policy, "IsHiddenRemotely", true);
        }
        self.post_policy(id, policy).await
    }

    /// Replaces the libraries and permissions of a member's account.
    pub async fn update_access(
        &self,
        remote_id: &str,
        libraries: &[String],
        permissions: &Permissions,
    ) -> Result<(), MediaError> {
        let folders = self.resolve_folders(libraries).await?;
        let user = self.get_member(remote_id).await?;
        let mut policy = user.policy;
        apply_access(self.kind, &mut policy, &folders, permissions);
        self.post_policy(&user.id, policy).await
    }

    /// Disables or re-enables a member's account; disabling also signs it out everywhere.
    pub async fn set_disabled(&self, remote_id: &str, disabled: bool) -> Result<(), MediaError> {
        let user = self.get_member(remote_id).await?;
        let mut policy = user.policy;
        set(&mut policy, "IsDisabled", disabled);
        self.post_policy(&user.id, policy).await
    }

    /// Deletes a member's account; one already gone counts as removed.
    pub async fn remove(&self, remote_id: &str) -> Result<(), MediaError> {
        match self.get_member(remote_id).await {
            Ok(_) => {}
            Err(MediaError::NotFound(_)) => return Ok(()),
            Err(err) => return Err(err),
        }
        self.delete_user(remote_id).await
    }

    /// Sets a member's password without knowing the old one.
    pub async fn set_password(&self, remote_id: &str, password: &str) -> Result<(), MediaError> {
        validate_password(password)?;
        let user = self.get_member(remote_id).await?;
        if self.is_emby() {
            // Emby only lets an administrator replace a password after clearing it.
            self.post_password(&user.id, "", true).await?;
        }
        self.post_password(&user.id, password, false).await
    }

    /// Whether no account has the name `username` (names ignore case).
    pub async fn name_is_free(&self, username: &str) -> Result<bool, MediaError> {
        let wanted = username.to_lowercase();
        Ok(!self
            .list_users()
            .await?
            .iter()
            .any(|u| u.name.to_lowercase() == wanted))
    }

    /// Everybody with an account on the server, administrators flagged.
    pub async fn accounts(&self) -> Result<Vec<RemoteAccount>, MediaError> {
        Ok(self
            .list_users()
            .await?
            .into_iter()
            .map(|u| {
                let flag = |key: &str| u.policy.get(key).and_then(Value::as_bool) == Some(true);
                let all_libraries = flag("EnableAllFolders");
                let libraries = if all_libraries {
                    Vec::new()
                } else {
                    u.policy
                        .get("EnabledFolders")
                        .and_then(Value::as_array)
                        .map(|ids| {
                            ids.iter()
                                .filter_map(Value::as_str)
                                .map(String::from)
                                .collect()
                        })
                        .unwrap_or_default()
                };
                RemoteAccount {
                    status: if flag("IsDisabled") {
                        AccountStatus::Disabled
                    } else {
                        AccountStatus::Active
                    },
                    is_admin: flag("IsAdministrator"),
                    remote_id: u.id,
                    remote_user_id: None,
                    username: u.name,
                    email: None,
                    libraries,
                    all_libraries,
                }
            })
            .collect())
    }

    /// Signs a member's TV in with the Quick Connect code it shows (Jellyfin 10.9 and later).
    pub async fn quick_connect_authorize(
        &self,
        code: &str,
        user_id: &str,
    ) -> Result<(), MediaError> {
        if self.is_emby() {
            return Err(MediaError::Unsupported(
                "Emby has no Quick Connect: sign in on the TV with the user name and password"
                    .into(),
            ));
        }
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.is_empty() || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(MediaError::Invalid(
                "enter the code the TV shows, digits only".into(),
            ));
        }
        let user = self.get_member(user_id).await?;
        let enabled: Value = self
            .exchange(self.request(self.kind, Method::GET, "/QuickConnect/Enabled"))
            .await?
            .ok("checking Quick Connect")?
            .json("the Quick Connect setting")?;
        if enabled != Value::Bool(true) {
            return Err(MediaError::Unsupported(
                "Quick Connect is turned off on this Jellyfin server: turn it on in Dashboard → \
                 General, or sign in on the TV with the user name and password"
                    .into(),
            ));
        }
        let reply = self
            .exchange(
                self.request(self.kind, Method::POST, "/QuickConnect/Authorize")
                    .query(&[("code", code.as_str()), ("userId", user.id.as_str())]),
            )
            .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Err(MediaError::NotFound(
                "that Quick Connect code is unknown or expired: start Quick Connect on the TV again"
                    .into(),
            ));
        }
        let answer: Value = reply
            .ok("authorizing the Quick Connect code")?
            .json("the Quick Connect answer")?;
        if answer == Value::Bool(true) {
            Ok(())
        } else {
            Err(MediaError::Invalid(
                "Jellyfin did not accept the Quick Connect code: start Quick Connect on the TV again"
                    .into(),
            ))
        }
    }

    // -----------------------------------------------------------------------------------------

    /// A request to `path` carrying the headers the server of `kind` authenticates with.
    fn request(&self, kind: ServerKind, method: Method, path: &str) -> RequestBuilder {
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, self.authorization.clone());
        // Emby documents its own header; Jellyfin 12 refuses it, so it goes to Emby only.
        if kind == ServerKind::Emby {
            headers.insert("X-Emby-Token", self.token.clone());
        }
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        self.http
            .request(method, join(&self.base, path))
            .headers(headers)
    }

    async fn exchange(&self, request: RequestBuilder) -> Result<Reply, MediaError> {
        Reply::read(request, self.product(), &self.api_key).await
    }

    /// Every user; Emby's `/Users/Query` and the bare `/Users` array are both accepted.
    async fn list_users(&self) -> Result<Vec<UserDto>, MediaError> {
        let path = if self.is_emby() {
            "/Users/Query"
        } else {
            "/Users"
        };
        let reply = self
            .exchange(self.request(self.kind, Method::GET, path))
            .await?;
        let reply = if self.is_emby() && reply.status == StatusCode::NOT_FOUND {
            self.exchange(self.request(self.kind, Method::GET, "/Users"))
                .await?
        } else {
            reply
        };
        let list: Value = reply.ok("reading the user list")?.json("the user list")?;
        let items = match &list {
            Value::Array(items) => items,
            Value::Object(map) => map
                .get("Items")
                .and_then(Value::as_array)
                .ok_or_else(|| MediaError::Protocol("the user list has no Items".into()))?,
            _ => return Err(MediaError::Protocol("the user list is not a list".into())),
        };
        Ok(items.iter().filter_map(UserDto::from_value).collect())
    }

    async fn get_user(&self, id: &str) -> Result<UserDto, MediaError> {
        let path = format!("/Users/{}", encode_segment(id));
        let reply = self
            .exchange(self.request(self.kind, Method::GET, &path))
            .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Err(MediaError::NotFound(format!(
                "account {id} is no longer on the {} server",
                self.product()
            )));
        }
        let value: Value = reply.ok("reading the account")?.json("the account")?;
        UserDto::from_value(&value)
            .ok_or_else(|| MediaError::Protocol("the account has no Id".into()))
    }

    /// Reads an account usher may manage: administrators are refused.
    async fn get_member(&self, id: &str) -> Result<UserDto, MediaError> {
        let user = self.get_user(id).await?;
        if user.policy.get("IsAdministrator").and_then(Value::as_bool) == Some(true) {
            return Err(MediaError::Invalid(format!(
                "`{}` is a {} administrator; usher does not manage administrators",
                user.name,
                self.product()
            )));
        }
        Ok(user)
    }

    async fn delete_user(&self, id: &str) -> Result<(), MediaError> {
        let path = format!("/Users/{}", encode_segment(id));
        let reply = self
            .exchange(self.request(self.kind, Method::DELETE, &path))
            .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        reply.ok("deleting the account").map(drop)
    }

    async fn post_policy(
        &self,
        id: &str,
        mut policy: Map<String, Value>,
    ) -> Result<(), MediaError> {
        prepare_policy(self.kind, &mut policy);
        let path = format!("/Users/{}/Policy", encode_segment(id));
        self.exchange(
            self.request(self.kind, Method::POST, &path)
                .json(&Value::Object(policy)),
        )
        .await?
        .ok("saving the account's libraries and permissions")
        .map(drop)
    }

    async fn post_password(&self, id: &str, password: &str, reset: bool) -> Result<(), MediaError> {
        let what = "setting the password";
        let body = if reset {
            json!({ "Id": id, "ResetPassword": true })
        } else {
            json!({ "Id": id, "CurrentPw": "", "NewPw": password, "ResetPassword": false })
        };
        let legacy_path = format!("/Users/{}/Password", encode_segment(id));
        if self.is_emby() {
            return self
                .exchange(
                    self.request(self.kind, Method::POST, &legacy_path)
                        .json(&body),
                )
                .await?
                .ok(what)
                .map(drop);
        }
        let reply = self
            .exchange(
                self.request(self.kind, Method::POST, "/Users/Password")
                    .query(&[("userId", id)])
                    .json(&body),
            )
            .await?;
        // Jellyfin 10.8 only has the route with the id in the path; there the new path is either
        // unknown or read as a malformed user id. Any real refusal repeats on the old route.
        if matches!(
            reply.status,
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED | StatusCode::BAD_REQUEST
        ) && !reply.is_controller_message()
        {
            return self
                .exchange(
                    self.request(self.kind, Method::POST, &legacy_path)
                        .json(&body),
                )
                .await?
                .ok(what)
                .map(drop);
        }
        reply.ok(what).map(drop)
    }

    /// Maps requested library ids to the ids the policy needs, refusing ids the server does not
    /// have: a policy naming only unknown folders would leave the member with nothing to watch.
    async fn resolve_folders(&self, wanted: &[String]) -> Result<Vec<String>, MediaError> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let libraries = self.libraries().await?;
        let mut ids: Vec<String> = Vec::with_capacity(wanted.len());
        for want in wanted {
            let key = normalize_id(want);
            let found = libraries
                .iter()
                .find(|l| normalize_id(&l.id) == key)
                // Emby's numeric id names the same folder; its Guid is what counts.
                .or_else(|| {
                    libraries
                        .iter()
                        .find(|l| self.is_emby() && l.local_key == want.trim())
                });
            match found {
                Some(library) if !ids.contains(&library.id) => ids.push(library.id.clone()),
                Some(_) => {}
                None => {
                    return Err(MediaError::Invalid(format!(
                        "library `{want}` is not on the {} server any more: refresh the library list and choose again",
                        self.product()
                    )));
                }
            }
        }
        Ok(ids)
    }

    /// `POST /Users/New` answers the same 400 for a taken name and a refused one; the user list
    /// tells them apart.
    async fn explain_create_refusal(&self, username: &str) -> MediaError {
        let wanted = username.to_lowercase();
        match self.list_users().await {
            Ok(users) if users.iter().any(|u| u.name.to_lowercase() == wanted) => {
                MediaError::name_taken(username)
            }
            _ => MediaError::Invalid(format!(
                "{} refused the user name `{username}`: use {NAME_CHARS_HINT}",
                self.product()
            )),
        }
    }

    async fn roll_back(&self, id: &str, username: &str, err: MediaError) -> MediaError {
        let deleted = self.delete_user(id).await.is_ok();
        let by_hand = format!("in the {} dashboard", self.product());
        rolled_back(err, username, deleted, &by_hand)
    }
}

/// A user as read from the server: the whole policy is kept for read-modify-write.
struct UserDto {
    id: String,
    name: String,
    /// Whether a password is set (assumed when the server does not say).
    has_password: bool,
    policy: Map<String, Value>,
}

impl UserDto {
    fn from_value(value: &Value) -> Option<UserDto> {
        Some(UserDto {
            id: value.get("Id")?.as_str()?.to_string(),
            name: value
                .get("Name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            has_password: value
                .get("HasPassword")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            policy: match value.get("Policy") {
                Some(Value::Object(policy)) => policy.clone(),
                _ => Map::new(),
            },
        })
    }
}

/// The library, download, Live TV and stream settings usher controls.
fn apply_access(
    kind: ServerKind,
    policy: &mut Map<String, Value>,
    folders: &[String],
    permissions: &Permissions,
) {
    set(policy, "EnableAllFolders", false);
    set(
        policy,
        "EnabledFolders",
        Value::Array(folders.iter().cloned().map(Value::String).collect()),
    );
    set(
        policy,
        "EnableContentDownloading",
        permissions.allow_downloads,
    );
    set(policy, "EnableLiveTvAccess", permissions.allow_live_tv);
    set(policy, "EnableLiveTvManagement", false);
    let sessions = permissions.max_sessions.unwrap_or(0);
    if kind == ServerKind::Emby {
        set(policy, "SimultaneousStreamLimit", sessions);
        set(policy, "AllowCameraUpload", permissions.allow_camera_upload);
    } else {
        set(policy, "MaxActiveSessions", sessions);
    }
}

/// Makes a policy read from the server safe to post back whole.
fn prepare_policy(kind: ServerKind, policy: &mut Map<String, Value>) {
    for key in POLICY_ARRAYS {
        if matches!(policy.get(key), Some(Value::Null)) {
            policy.insert(key.into(), Value::Array(Vec::new()));
        }
    }
    if kind == ServerKind::Jellyfin {
        // A plugin provider (LDAP, SSO) is kept; only a missing one gets the built-in default.
        for (key, default) in [
            ("AuthenticationProviderId", JELLYFIN_AUTH_PROVIDER),
            ("PasswordResetProviderId", JELLYFIN_RESET_PROVIDER),
        ] {
            let missing = policy
                .get(key)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty);
            if missing {
                policy.insert(key.into(), Value::String(default.into()));
            }
        }
    }
}

/// Sets `key`, replacing an existing entry whatever its case.
fn set(policy: &mut Map<String, Value>, key: &str, value: impl Into<Value>) {
    if let Some(existing) = policy
        .keys()
        .find(|k| k.eq_ignore_ascii_case(key) && k.as_str() != key)
        .cloned()
    {
        policy.remove(&existing);
    }
    policy.insert(key.into(), value.into());
}

/// Ids compare without case or hyphens, as the servers parse them.
fn normalize_id(id: &str) -> String {
    id.trim()
        .chars()
        .filter(|&c| c != '-')
        .collect::<String>()
        .to_ascii_lowercase()
}

/// `MediaBrowser Client="usher", Device="…", DeviceId="…", Version="…", Token="…"`; the server
/// URL-decodes each value.
fn authorization_value(info: &ClientInfo, token: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "MediaBrowser Client=\"{}\", Device=\"{}\", DeviceId=\"{}\", Version=\"{}\", Token=\"{}\"",
        enc(&info.product),
        enc(&info.device_name),
        enc(&info.client_identifier),
        enc(&info.version),
        enc(token)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorization_header_names_the_client_and_carries_the_token() {
        let info = ClientInfo::new("install-1");
        let value = authorization_value(&info, "abc123");
        assert!(value.starts_with("MediaBrowser Client=\"usher\", Device=\"usher\""));
        assert!(value.contains("DeviceId=\"install-1\""));
        assert!(value.ends_with("Token=\"abc123\""));
    }

    #[test]
    fn header_values_with_quotes_or_commas_are_url_encoded() {
        let mut info = ClientInfo::new("x");
        info.device_name = "Ana's \"box\", upstairs".into();
        let value = authorization_value(&info, "k");
        assert!(value.contains("Device=\"Ana%27s+%22box%22%2C+upstairs\""));
    }

    #[test]
    fn debug_output_never_shows_the_api_key() {
        let client = JellyfinClient::new(
            ServerKind::Jellyfin,
            "http://127.0.0.1:8096",
            "secret-key-123",
            ClientInfo::new("x"),
        )
        .unwrap();
        assert!(!format!("{client:?}").contains("secret-key-123"));
    }

    #[test]
    fn preparing_a_policy_replaces_null_arrays_and_keeps_a_plugin_provider() {
        let mut policy = serde_json::from_value::<Map<String, Value>>(json!({
            "BlockedTags": null,
            "AuthenticationProviderId": "Jellyfin.Plugin.LDAP_Auth.LdapAuthenticationProviderPlugin",
        }))
        .unwrap();
        prepare_policy(ServerKind::Jellyfin, &mut policy);
        assert_eq!(policy["BlockedTags"], json!([]));
        assert_eq!(
            policy["AuthenticationProviderId"],
            "Jellyfin.Plugin.LDAP_Auth.LdapAuthenticationProviderPlugin"
        );
        assert_eq!(policy["PasswordResetProviderId"], JELLYFIN_RESET_PROVIDER);
    }
}
