//! Fake Jellyfin (10.x and 12.0) and Emby, following `reference/jellyfin-emby-api.md`.
//!
//! One fake serves all three modes because the servers share most of their API. It keeps users,
//! policies, passwords, libraries and access tokens, and it reproduces the behaviour a client
//! can get wrong: case-insensitive routes, `Error processing request.` for duplicate and invalid
//! names alike, omitted policy fields falling back to constructor defaults, Jellyfin's required
//! provider ids, Emby dropping numeric folder ids, Emby creating users without a password, and
//! Jellyfin 12 refusing the legacy token headers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::control::{Control, Running};

/// Which server the fake pretends to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FakeKind {
    /// Jellyfin 10.11: legacy token headers still accepted.
    Jellyfin,
    /// Jellyfin 12.0: legacy token headers and `?api_key=` answer 401, `/emby` prefix gone.
    Jellyfin12,
    Emby,
}

impl FakeKind {
    pub fn is_emby(self) -> bool {
        matches!(self, FakeKind::Emby)
    }

    fn legacy_auth_allowed(self) -> bool {
        !matches!(self, FakeKind::Jellyfin12)
    }

    /// Server-side user name rule; Jellyfin 10.11 started allowing `+`.
    fn allows_plus_in_names(self) -> bool {
        !self.is_emby()
    }
}

/// The API key of the default Jellyfin seed (both Jellyfin modes).
pub const JELLYFIN_API_KEY: &str = "4a1f0c9e7b2d4c6a8e3f5b7d9c1e2a40";
/// The API key of the default Emby seed.
pub const EMBY_API_KEY: &str = "e3b9d2a7c4f14e8b9a6d0c5f7e2b1a39";
/// The administrator every default seed has.
pub const ADMIN_NAME: &str = "admin";
pub const ADMIN_PASSWORD: &str = "usher-demo";

const JELLYFIN_AUTH_PROVIDER: &str =
    "Jellyfin.Server.Implementations.Users.DefaultAuthenticationProvider";
const JELLYFIN_RESET_PROVIDER: &str =
    "Jellyfin.Server.Implementations.Users.DefaultPasswordResetProvider";
const EMBY_AUTH_PROVIDER: &str =
    "Emby.Server.Implementations.Library.DefaultAuthenticationProvider";

/// A library to seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedLibrary {
    pub name: String,
    /// movies, tvshows, music, …; `None` is a mixed library.
    pub collection_type: Option<String>,
    /// 32 hex characters: Jellyfin's folder `Id`, Emby's folder `Guid`.
    pub guid: String,
    /// Emby's numeric folder `Id` (unused by Jellyfin).
    pub emby_id: String,
}

impl SeedLibrary {
    pub fn new(name: &str, collection_type: Option<&str>, guid: &str, emby_id: &str) -> Self {
        SeedLibrary {
            name: name.into(),
            collection_type: collection_type.map(Into::into),
            guid: guid.into(),
            emby_id: emby_id.into(),
        }
    }
}

/// A user to seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedUser {
    pub name: String,
    pub password: Option<String>,
    pub is_admin: bool,
    pub is_disabled: bool,
    /// A plugin provider (LDAP, SSO) instead of the built-in one.
    pub authentication_provider_id: Option<String>,
}

impl SeedUser {
    pub fn member(name: &str, password: &str) -> Self {
        SeedUser {
            name: name.into(),
            password: Some(password.into()),
            is_admin: false,
            is_disabled: false,
            authentication_provider_id: None,
        }
    }

    pub fn admin(name: &str, password: &str) -> Self {
        SeedUser {
            is_admin: true,
            ..SeedUser::member(name, password)
        }
    }
}

/// What a fake starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    pub server_name: String,
    pub server_id: String,
    pub version: String,
    pub api_key: String,
    pub libraries: Vec<SeedLibrary>,
    pub users: Vec<SeedUser>,
    pub quick_connect_enabled: bool,
}

impl Seed {
    /// "Home Jellyfin" / "Home Emby" with Movies, Shows and Music, the administrator
    /// [`ADMIN_NAME`] and the API key [`JELLYFIN_API_KEY`] / [`EMBY_API_KEY`].
    pub fn default_for(kind: FakeKind) -> Seed {
        let (server_name, server_id, version, api_key) = match kind {
            FakeKind::Jellyfin => (
                "Home Jellyfin",
                "b8a0c2d4e6f8419a8c7e5d3b1f2a3e1a",
                "10.11.5",
                JELLYFIN_API_KEY,
            ),
            FakeKind::Jellyfin12 => (
                "Home Jellyfin",
                "c9b1d3e5f7a9420b9d8f6e4c2a3b4f2b",
                "12.0.0",
                JELLYFIN_API_KEY,
            ),
            FakeKind::Emby => (
                "Home Emby",
                "5e0f8c1a2b3d4e5f6a7b8c9d0e1f2a3b",
                "4.9.1.80",
                EMBY_API_KEY,
            ),
        };
        let libraries = if kind.is_emby() {
            vec![
                SeedLibrary::new(
                    "Movies",
                    Some("movies"),
                    "0f8e6a1c3b5d47e9a2c4e6f8b0d2a4c6",
                    "3",
                ),
                SeedLibrary::new(
                    "Shows",
                    Some("tvshows"),
                    "1a9f7b2d4c6e48f0b3d5f7a9c1e3b5d7",
                    "7",
                ),
                SeedLibrary::new(
                    "Music",
                    Some("music"),
                    "2b0a8c3e5d7f49a1c4e6a8b0d2f4c6e8",
                    "12",
                ),
            ]
        } else {
            vec![
                SeedLibrary::new(
                    "Movies",
                    Some("movies"),
                    "f137a2dd21bbc1b99aa5c0f6bf02a805",
                    "",
                ),
                SeedLibrary::new(
                    "Shows",
                    Some("tvshows"),
                    "a656b907eb3a73532e40e44b968d0225",
                    "",
                ),
                SeedLibrary::new(
                    "Music",
                    Some("music"),
                    "7e64e319657a9516ec78490da03edccb",
                    "",
                ),
            ]
        };
        Seed {
            server_name: server_name.into(),
            server_id: server_id.into(),
            version: version.into(),
            api_key: api_key.into(),
            libraries,
            users: vec![SeedUser::admin(ADMIN_NAME, ADMIN_PASSWORD)],
            quick_connect_enabled: !kind.is_emby(),
        }
    }
}

/// A library as the fake holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeLibrary {
    pub name: String,
    pub collection_type: Option<String>,
    pub guid: String,
    pub emby_id: String,
}

impl FakeLibrary {
    /// The id the server's API calls this folder's `Id`.
    pub fn api_id(&self, kind: FakeKind) -> &str {
        if kind.is_emby() {
            &self.emby_id
        } else {
            &self.guid
        }
    }
}

/// A user as the fake holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeUser {
    pub id: String,
    pub name: String,
    /// `None` means no password: an empty password signs in.
    pub password: Option<String>,
    /// The stored UserPolicy, PascalCase keys.
    pub policy: Map<String, Value>,
}

impl FakeUser {
    pub fn policy_bool(&self, key: &str) -> Option<bool> {
        self.policy.get(key).and_then(Value::as_bool)
    }

    pub fn policy_i64(&self, key: &str) -> Option<i64> {
        self.policy.get(key).and_then(Value::as_i64)
    }

    pub fn policy_str(&self, key: &str) -> Option<&str> {
        self.policy.get(key).and_then(Value::as_str)
    }

    pub fn is_admin(&self) -> bool {
        self.policy_bool("IsAdministrator") == Some(true)
    }

    pub fn is_disabled(&self) -> bool {
        self.policy_bool("IsDisabled") == Some(true)
    }

    pub fn all_folders(&self) -> bool {
        self.policy_bool("EnableAllFolders") == Some(true)
    }

    /// `EnabledFolders` as stored (what the server will honour).
    pub fn enabled_folders(&self) -> Vec<String> {
        string_array(self.policy.get("EnabledFolders"))
    }

    /// Whether `password` signs this user in.
    pub fn password_matches(&self, password: &str) -> bool {
        match &self.password {
            Some(p) => p == password,
            None => password.is_empty(),
        }
    }
}

struct QuickConnectRequest {
    secret: String,
    code: String,
    authorized_user: Option<String>,
}

struct Store {
    server_name: String,
    server_id: String,
    version: String,
    api_key: String,
    libraries: Vec<FakeLibrary>,
    users: Vec<FakeUser>,
    /// Access token → user id, from sign-ins.
    tokens: HashMap<String, String>,
    counter: u64,
    quick_connect_enabled: bool,
    quick_connect: Vec<QuickConnectRequest>,
}

impl Store {
    fn user_index(&self, id: &str) -> Option<usize> {
        self.users
            .iter()
            .position(|u| u.id.eq_ignore_ascii_case(id))
    }

    fn name_taken(&self, name: &str) -> bool {
        let wanted = name.to_lowercase();
        self.users.iter().any(|u| u.name.to_lowercase() == wanted)
    }

    fn peek_id(&self, kind: FakeKind) -> String {
        hex_id(kind_salt(kind), self.counter + 1)
    }

    fn fresh_id(&mut self, kind: FakeKind) -> String {
        let id = self.peek_id(kind);
        self.counter += 1;
        id
    }

    fn fresh_hex(&mut self, salt: u64) -> String {
        self.counter += 1;
        hex_id(salt, self.counter)
    }

    fn enabled_admins(&self) -> usize {
        self.users
            .iter()
            .filter(|u| u.is_admin() && !u.is_disabled())
            .count()
    }
}

struct Shared {
    kind: FakeKind,
    state: Mutex<Store>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Store> {
        // A panicking test must not poison the fake for the rest of the process.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running fake Jellyfin or Emby. Dropping it stops the server.
pub struct FakeJellyfin {
    running: Running,
    shared: Arc<Shared>,
}

impl FakeJellyfin {
    /// Starts a fake with [`Seed::default_for`] on a free loopback port.
    ///
    /// # Panics
    /// If loopback cannot be bound, which only happens on a broken test machine.
    pub async fn start(kind: FakeKind) -> FakeJellyfin {
        Self::start_with(kind, Seed::default_for(kind)).await
    }

    /// Starts a fake with `seed` on a free loopback port.
    ///
    /// # Panics
    /// If loopback cannot be bound.
    pub async fn start_with(kind: FakeKind, seed: Seed) -> FakeJellyfin {
        Self::start_on("127.0.0.1:0", kind, seed)
            .await
            .expect("bind a loopback port for the fake")
    }

    /// Starts a fake on a given address (`usher demo` uses fixed ports).
    pub async fn start_on(bind: &str, kind: FakeKind, seed: Seed) -> std::io::Result<FakeJellyfin> {
        let shared = Arc::new(Shared {
            kind,
            state: Mutex::new(Store {
                server_name: seed.server_name,
                server_id: seed.server_id,
                version: seed.version,
                api_key: seed.api_key,
                libraries: Vec::new(),
                users: Vec::new(),
                tokens: HashMap::new(),
                counter: 0,
                quick_connect_enabled: seed.quick_connect_enabled,
                quick_connect: Vec::new(),
            }),
        });
        let fake_shell = SeedTarget(shared.clone());
        for library in seed.libraries {
            fake_shell.add_library(library);
        }
        for user in seed.users {
            fake_shell.add_user(user);
        }
        let control = Control::default();
        let router = control.layer(Router::new().fallback(handle).with_state(shared.clone()));
        let running = Running::start_on(bind, router, control).await?;
        Ok(FakeJellyfin { running, shared })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        self.running.url()
    }

    pub fn api_key(&self) -> String {
        self.shared.lock().api_key.clone()
    }

    pub fn control(&self) -> &Control {
        &self.running.control
    }

    pub fn kind(&self) -> FakeKind {
        self.shared.kind
    }

    pub fn server_id(&self) -> String {
        self.shared.lock().server_id.clone()
    }

    pub fn server_name(&self) -> String {
        self.shared.lock().server_name.clone()
    }

    pub fn libraries(&self) -> Vec<FakeLibrary> {
        self.shared.lock().libraries.clone()
    }

    pub fn library_by_name(&self, name: &str) -> Option<FakeLibrary> {
        self.libraries().into_iter().find(|l| l.name == name)
    }

    pub fn users(&self) -> Vec<FakeUser> {
        self.shared.lock().users.clone()
    }

    pub fn user(&self, id: &str) -> Option<FakeUser> {
        let state = self.shared.lock();
        state.user_index(id).map(|i| state.users[i].clone())
    }

    /// Case-insensitive, like the server.
    pub fn user_by_name(&self, name: &str) -> Option<FakeUser> {
        let wanted = name.to_lowercase();
        self.users()
            .into_iter()
            .find(|u| u.name.to_lowercase() == wanted)
    }

    pub fn policy_of(&self, user_id: &str) -> Option<Map<String, Value>> {
        self.user(user_id).map(|u| u.policy)
    }

    /// The id the next created user will get, so a test can aim `fail_next` at its paths.
    pub fn next_user_id(&self) -> String {
        self.shared.lock().peek_id(self.shared.kind)
    }

    /// Adds a user as if made in the dashboard; returns its id.
    pub fn add_user(&self, user: SeedUser) -> String {
        SeedTarget(self.shared.clone()).add_user(user)
    }

    pub fn add_library(&self, library: SeedLibrary) {
        SeedTarget(self.shared.clone()).add_library(library)
    }

    /// Deletes a user as if removed in the dashboard.
    pub fn remove_user(&self, user_id: &str) {
        let mut state = self.shared.lock();
        if let Some(i) = state.user_index(user_id) {
            state.users.remove(i);
        }
    }

    /// Replaces a user's stored policy wholesale, as a dashboard edit would.
    pub fn set_policy(&self, user_id: &str, policy: Map<String, Value>) {
        let mut state = self.shared.lock();
        if let Some(i) = state.user_index(user_id) {
            state.users[i].policy = policy;
        }
    }

    pub fn set_quick_connect_enabled(&self, enabled: bool) {
        self.shared.lock().quick_connect_enabled = enabled;
    }

    /// What a TV does when someone picks Quick Connect: returns the code it shows.
    pub fn quick_connect_initiate(&self) -> String {
        let mut state = self.shared.lock();
        initiate_quick_connect(&mut state).1
    }

    /// The user a Quick Connect code was authorized for, if any.
    pub fn quick_connect_authorized_user(&self, code: &str) -> Option<String> {
        let state = self.shared.lock();
        state
            .quick_connect
            .iter()
            .find(|r| r.code == code)
            .and_then(|r| r.authorized_user.clone())
    }
}

/// Seeding shared by start-up and the public helpers.
struct SeedTarget(Arc<Shared>);

impl SeedTarget {
    fn add_library(&self, library: SeedLibrary) {
        let mut state = self.0.lock();
        let emby_id = if library.emby_id.is_empty() {
            (state.libraries.len() + 3).to_string()
        } else {
            library.emby_id
        };
        state.libraries.push(FakeLibrary {
            name: library.name,
            collection_type: library.collection_type,
            guid: normalize_guid(&library.guid).unwrap_or(library.guid),
            emby_id,
        });
    }

    fn add_user(&self, user: SeedUser) -> String {
        let kind = self.0.kind;
        let mut state = self.0.lock();
        let id = state.fresh_id(kind);
        let mut policy = new_user_policy(kind);
        if user.is_admin {
            for (key, value) in [
                ("IsAdministrator", true),
                ("IsHidden", false),
                ("EnableLiveTvManagement", true),
                ("EnableContentDeletion", true),
                ("EnableCollectionManagement", true),
                ("EnableSubtitleManagement", true),
                ("EnableRemoteControlOfOtherUsers", true),
            ] {
                if policy.contains_key(key) {
                    policy.insert(key.into(), Value::Bool(value));
                }
            }
        }
        policy.insert("IsDisabled".into(), Value::Bool(user.is_disabled));
        if let Some(provider) = user.authentication_provider_id {
            policy.insert("AuthenticationProviderId".into(), Value::String(provider));
        }
        state.users.push(FakeUser {
            id: id.clone(),
            name: user.name,
            password: user.password.filter(|p| !p.is_empty()),
            policy,
        });
        id
    }
}

// ---------------------------------------------------------------------------------------------
// Policies

/// Policy fields and the UserPolicy constructor's value for each. A posted policy that leaves a
/// field out gets this value, not the user's current one.
fn constructor_policy(kind: FakeKind) -> Map<String, Value> {
    let literal = if kind.is_emby() {
        EMBY_CONSTRUCTOR_POLICY
    } else {
        JELLYFIN_CONSTRUCTOR_POLICY
    };
    let mut policy: Map<String, Value> =
        serde_json::from_str(literal).expect("policy literal is a JSON object");
    if kind.is_emby() {
        policy.insert("AuthenticationProviderId".into(), EMBY_AUTH_PROVIDER.into());
    }
    policy
}

const JELLYFIN_CONSTRUCTOR_POLICY: &str = r#"{
    "IsAdministrator": false, "IsHidden": true, "EnableCollectionManagement": false,
    "EnableSubtitleManagement": false, "EnableLyricManagement": false, "IsDisabled": false,
    "BlockedTags": [], "AllowedTags": [], "EnableUserPreferenceAccess": true,
    "AccessSchedules": [], "BlockUnratedItems": [], "EnableRemoteControlOfOtherUsers": false,
    "EnableSharedDeviceControl": true, "EnableRemoteAccess": true,
    "EnableLiveTvManagement": true, "EnableLiveTvAccess": true, "EnableMediaPlayback": true,
    "EnableAudioPlaybackTranscoding": true, "EnableVideoPlaybackTranscoding": true,
    "EnablePlaybackRemuxing": true, "ForceRemoteSourceTranscoding": false,
    "EnableContentDeletion": false, "EnableContentDeletionFromFolders": [],
    "EnableContentDownloading": true, "EnableSyncTranscoding": true,
    "EnableMediaConversion": true, "EnabledDevices": [], "EnableAllDevices": true,
    "EnabledChannels": [], "EnableAllChannels": true, "EnabledFolders": [],
    "EnableAllFolders": true, "InvalidLoginAttemptCount": 0, "LoginAttemptsBeforeLockout": -1,
    "MaxActiveSessions": 0, "EnablePublicSharing": true, "BlockedMediaFolders": [],
    "BlockedChannels": [], "RemoteClientBitrateLimit": 0,
    "AuthenticationProviderId": "", "PasswordResetProviderId": "",
    "SyncPlayAccess": "CreateAndJoinGroups"
}"#;

const EMBY_CONSTRUCTOR_POLICY: &str = r#"{
    "IsAdministrator": false, "IsHidden": true, "IsHiddenRemotely": true,
    "IsHiddenFromUnusedDevices": false, "IsDisabled": false, "BlockedTags": [],
    "IsTagBlockingModeInclusive": false, "IncludeTags": [], "EnableUserPreferenceAccess": true,
    "AccessSchedules": [], "BlockUnratedItems": [], "EnableRemoteControlOfOtherUsers": false,
    "EnableSharedDeviceControl": true, "EnableRemoteAccess": true,
    "EnableLiveTvManagement": true, "EnableLiveTvAccess": true, "EnableMediaPlayback": true,
    "EnableAudioPlaybackTranscoding": true, "EnableVideoPlaybackTranscoding": true,
    "EnablePlaybackRemuxing": true, "EnableContentDeletion": false, "RestrictedFeatures": [],
    "EnableContentDeletionFromFolders": [], "EnableContentDownloading": true,
    "EnableSubtitleDownloading": false, "EnableSubtitleManagement": false,
    "EnableSyncTranscoding": true, "EnableMediaConversion": true, "EnabledChannels": [],
    "EnableAllChannels": true, "EnabledFolders": [], "EnableAllFolders": true,
    "InvalidLoginAttemptCount": 0, "EnablePublicSharing": true, "RemoteClientBitrateLimit": 0,
    "AuthenticationProviderId": "", "ExcludedSubFolders": [],
    "SimultaneousStreamLimit": 0, "EnabledDevices": [], "EnableAllDevices": true,
    "AllowCameraUpload": true, "AllowSharingPersonalItems": false
}"#;

/// The policy `POST /Users/New` gives a user: mostly the constructor's, but Live TV management
/// off and, on Jellyfin, the default providers filled in.
fn new_user_policy(kind: FakeKind) -> Map<String, Value> {
    let mut policy = constructor_policy(kind);
    policy.insert("EnableLiveTvManagement".into(), Value::Bool(false));
    if !kind.is_emby() {
        policy.insert(
            "AuthenticationProviderId".into(),
            JELLYFIN_AUTH_PROVIDER.into(),
        );
        policy.insert(
            "PasswordResetProviderId".into(),
            JELLYFIN_RESET_PROVIDER.into(),
        );
    }
    policy
}

/// Nullable policy fields the constructor leaves null (and the JSON therefore omits).
const OPTIONAL_POLICY_INTS: [&str; 2] = ["MaxParentalRating", "MaxParentalSubRating"];

/// Guid-typed policy arrays.
const GUID_ARRAYS: [&str; 4] = [
    "EnabledFolders",
    "BlockedMediaFolders",
    "EnabledChannels",
    "BlockedChannels",
];

const SYNC_PLAY_ACCESS: [&str; 3] = ["CreateAndJoinGroups", "JoinGroups", "None"];

/// Builds the policy a `POST /Users/{id}/Policy` body stands for, as the server would bind it.
fn bind_policy(kind: FakeKind, posted: &Map<String, Value>) -> Result<Map<String, Value>, Refusal> {
    let mut policy = constructor_policy(kind);
    let mut errors: Vec<(String, String)> = Vec::new();
    let keys: Vec<String> = policy.keys().cloned().collect();
    for key in keys {
        let Some(value) = lookup_ci(posted, &key) else {
            continue;
        };
        let default = &policy[&key];
        let bound = match (default, value) {
            (Value::Array(_), Value::Null) => {
                // Null arrays reach the user manager, which throws ArgumentNullException.
                return Err(Box::new(error_processing(StatusCode::BAD_REQUEST)));
            }
            (Value::String(_), Value::Null) => continue,
            (Value::Bool(_), Value::Bool(_)) | (Value::String(_), Value::String(_)) => {
                value.clone()
            }
            (Value::Number(_), Value::Number(n)) if n.is_i64() => value.clone(),
            (Value::Array(_), Value::Array(items)) if GUID_ARRAYS.contains(&key.as_str()) => {
                let mut ids = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.as_str().and_then(normalize_guid) {
                        Some(id) => ids.push(Value::String(id)),
                        // Emby keeps only what parses as a Guid, so numeric ids vanish.
                        None if kind.is_emby() => {}
                        None => errors.push((
                            format!("$.{key}[{i}]"),
                            "The JSON value could not be converted to System.Guid.".into(),
                        )),
                    }
                }
                Value::Array(ids)
            }
            (Value::Array(_), Value::Array(_)) => value.clone(),
            _ => {
                errors.push((
                    format!("$.{key}"),
                    format!(
                        "The JSON value could not be converted to {}.",
                        dotnet_type(default)
                    ),
                ));
                continue;
            }
        };
        policy.insert(key, bound);
    }
    for key in OPTIONAL_POLICY_INTS {
        if let Some(Value::Number(n)) = lookup_ci(posted, key) {
            policy.insert(key.into(), Value::Number(n.clone()));
        }
    }
    if !kind.is_emby() {
        if let Some(access) = policy.get("SyncPlayAccess").and_then(Value::as_str)
            && !SYNC_PLAY_ACCESS.contains(&access)
        {
            errors.push((
                "$.SyncPlayAccess".into(),
                "The JSON value could not be converted to SyncPlayUserAccessType.".into(),
            ));
        }
        for key in ["AuthenticationProviderId", "PasswordResetProviderId"] {
            if policy
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty()
            {
                errors.push((key.into(), format!("The {key} field is required.")));
            }
        }
    } else if policy
        .get("AuthenticationProviderId")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        policy.insert("AuthenticationProviderId".into(), EMBY_AUTH_PROVIDER.into());
    }
    if errors.is_empty() {
        Ok(policy)
    } else {
        Err(Box::new(problem(errors)))
    }
}

fn dotnet_type(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "System.Boolean",
        Value::Number(_) => "System.Int32",
        Value::String(_) => "System.String",
        _ => "System.Object",
    }
}

// ---------------------------------------------------------------------------------------------
// Request handling

/// An answer that ends a handler early, boxed because a response is large.
type Refusal = Box<Response>;

struct Req {
    method: Method,
    /// Lower-cased path segments, `/emby` prefix removed where the server rewrites it.
    segments: Vec<String>,
    /// Original-case segments, for ids and codes.
    raw_segments: Vec<String>,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Req {
    fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn seg(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }
}

enum Caller {
    ApiKey,
    User(String),
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, 16 * 1024 * 1024).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let mut raw_segments: Vec<String> = parts
        .uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    // Jellyfin 10.x and Emby serve everything under `/emby` too; 12.0 dropped the rewrite.
    if shared.kind.legacy_auth_allowed()
        && raw_segments
            .first()
            .is_some_and(|s| s.eq_ignore_ascii_case("emby"))
    {
        raw_segments.remove(0);
    }
    let req = Req {
        method: parts.method,
        segments: raw_segments
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect(),
        raw_segments,
        query: serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or_default(),
        headers: parts.headers,
        body: body.to_vec(),
    };
    route(&shared, &req)
}

fn route(shared: &Shared, req: &Req) -> Response {
    let kind = shared.kind;
    let m = &req.method;
    let segs = req.seg();
    match segs.as_slice() {
        ["system", "info", "public"] => only(m, Method::GET, || public_info(shared, req)),
        ["system", "info"] => only(m, Method::GET, || {
            with_caller(shared, req, false, |_| public_info(shared, req))
        }),
        ["library", "mediafolders"] => only(m, Method::GET, || {
            with_caller(shared, req, true, |_| media_folders(shared))
        }),
        ["library", "virtualfolders"] => only(m, Method::GET, || {
            with_caller(shared, req, true, |_| virtual_folders(shared))
        }),
        ["users"] => only(m, Method::GET, || {
            with_caller(shared, req, true, |_| list_users(shared, req, false))
        }),
        ["users", "query"] if kind.is_emby() => only(m, Method::GET, || {
            with_caller(shared, req, true, |_| list_users(shared, req, true))
        }),
        ["users", "new"] => only(m, Method::POST, || {
            with_caller(shared, req, true, |_| create_user(shared, req))
        }),
        ["users", "authenticatebyname"] => {
            only(m, Method::POST, || authenticate_by_name(shared, req))
        }
        ["users", "password"] if !kind.is_emby() => only(m, Method::POST, || {
            with_caller(shared, req, false, |caller| {
                let id = match (req.query("userId"), &caller) {
                    (Some(id), _) if !id.is_empty() => id.to_string(),
                    (_, Caller::User(id)) => id.clone(),
                    (_, Caller::ApiKey) => {
                        return controller_string(StatusCode::NOT_FOUND, "User not found");
                    }
                };
                change_password(shared, req, &caller, &id)
            })
        }),
        ["users", _] => {
            let id = req.raw_segments[1].clone();
            match *m {
                Method::GET => {
                    with_caller(shared, req, false, |caller| get_user(shared, &caller, &id))
                }
                Method::DELETE => with_caller(shared, req, true, |_| delete_user(shared, &id)),
                _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
            }
        }
        ["users", _, "policy"] => only(m, Method::POST, || {
            let id = req.raw_segments[1].clone();
            with_caller(shared, req, true, |_| update_policy(shared, req, &id))
        }),
        ["users", _, "password"] => only(m, Method::POST, || {
            let id = req.raw_segments[1].clone();
            with_caller(shared, req, false, |caller| {
                change_password(shared, req, &caller, &id)
            })
        }),
        ["users", _, "delete"] if kind.is_emby() => only(m, Method::POST, || {
            let id = req.raw_segments[1].clone();
            with_caller(shared, req, true, |_| delete_user(shared, &id))
        }),
        ["quickconnect", "enabled"] if !kind.is_emby() => only(m, Method::GET, || {
            json_ok(Value::Bool(shared.lock().quick_connect_enabled))
        }),
        ["quickconnect", "initiate"] if !kind.is_emby() => {
            only(m, Method::POST, || quick_connect_initiate(shared, req))
        }
        ["quickconnect", "connect"] if !kind.is_emby() => {
            only(m, Method::GET, || quick_connect_state(shared, req))
        }
        ["quickconnect", "authorize"] if !kind.is_emby() => only(m, Method::POST, || {
            with_caller(shared, req, false, |caller| {
                quick_connect_authorize(shared, req, &caller)
            })
        }),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn only(method: &Method, expected: Method, f: impl FnOnce() -> Response) -> Response {
    if *method == expected {
        f()
    } else {
        StatusCode::METHOD_NOT_ALLOWED.into_response()
    }
}

/// Authenticates the request, then runs `f`; `admin` endpoints answer 403 to other users.
fn with_caller(
    shared: &Shared,
    req: &Req,
    admin: bool,
    f: impl FnOnce(Caller) -> Response,
) -> Response {
    let caller = match authenticate(shared, req) {
        Some(caller) => caller,
        None => return StatusCode::UNAUTHORIZED.into_response(),
    };
    if admin && let Caller::User(id) = &caller {
        let state = shared.lock();
        let is_admin = state
            .user_index(id)
            .is_some_and(|i| state.users[i].is_admin());
        if !is_admin {
            return StatusCode::FORBIDDEN.into_response();
        }
    }
    f(caller)
}

fn authenticate(shared: &Shared, req: &Req) -> Option<Caller> {
    let kind = shared.kind;
    let legacy_present = req.headers.contains_key("x-emby-token")
        || req.headers.contains_key("x-mediabrowser-token")
        || req.headers.contains_key("x-emby-authorization")
        || req.query("api_key").is_some();
    if legacy_present && !kind.legacy_auth_allowed() {
        return None;
    }
    let from_auth_header = |value: &str| -> Option<String> {
        let (scheme, fields) = parse_authorization(value)?;
        let scheme_ok = scheme.eq_ignore_ascii_case("MediaBrowser")
            || (kind.legacy_auth_allowed() && scheme.eq_ignore_ascii_case("Emby"));
        if !scheme_ok {
            return None;
        }
        fields
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Token"))
            .map(|(_, v)| v)
    };
    let token = req
        .header("authorization")
        .and_then(from_auth_header)
        .or_else(|| {
            req.header("x-emby-authorization")
                .and_then(from_auth_header)
        })
        .or_else(|| req.header("x-emby-token").map(String::from))
        .or_else(|| req.header("x-mediabrowser-token").map(String::from))
        .or_else(|| req.query("ApiKey").map(String::from))
        .or_else(|| req.query("api_key").map(String::from))
        .filter(|t| !t.is_empty())?;
    let state = shared.lock();
    if token == state.api_key {
        return Some(Caller::ApiKey);
    }
    let user_id = state.tokens.get(&token)?;
    let i = state.user_index(user_id)?;
    if state.users[i].is_disabled() {
        return None;
    }
    Some(Caller::User(state.users[i].id.clone()))
}

/// Splits `MediaBrowser Client="a", Token="b"` into its scheme and decoded fields.
fn parse_authorization(value: &str) -> Option<(String, Vec<(String, String)>)> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(char::is_whitespace)?;
    let fields = rest
        .split(',')
        .filter_map(|part| {
            let (k, v) = part.split_once('=')?;
            let v = v.trim().trim_matches('"');
            Some((k.trim().to_string(), form_decode(v)))
        })
        .collect();
    Some((scheme.to_string(), fields))
}

/// Jellyfin's sign-in and Quick Connect need the client to say who it is.
fn has_client_fields(req: &Req) -> bool {
    let Some((_, fields)) = req.header("authorization").and_then(parse_authorization) else {
        return false;
    };
    ["Client", "Device", "DeviceId", "Version"]
        .iter()
        .all(|name| {
            fields
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case(name) && !v.trim().is_empty())
        })
}

fn public_info(shared: &Shared, req: &Req) -> Response {
    let state = shared.lock();
    let host = req.header("host").unwrap_or("127.0.0.1");
    let local = format!("http://{host}");
    if shared.kind.is_emby() {
        json_ok(json!({
            "LocalAddress": local,
            "LocalAddresses": [local],
            "WanAddress": "",
            "RemoteAddresses": [],
            "ServerName": state.server_name,
            "Version": state.version,
            "Id": state.server_id,
        }))
    } else {
        json_ok(json!({
            "LocalAddress": local,
            "ServerName": state.server_name,
            "Version": state.version,
            "ProductName": "Jellyfin Server",
            "OperatingSystem": "",
            "Id": state.server_id,
            "StartupWizardCompleted": true,
        }))
    }
}

fn media_folders(shared: &Shared) -> Response {
    let kind = shared.kind;
    let state = shared.lock();
    let items: Vec<Value> = state
        .libraries
        .iter()
        .map(|l| {
            let mut item = json!({
                "Name": l.name,
                "ServerId": state.server_id,
                "Id": l.api_id(kind),
                "Type": "CollectionFolder",
                "IsFolder": true,
            });
            if kind.is_emby() {
                item["Guid"] = Value::String(l.guid.clone());
            }
            if let Some(ct) = &l.collection_type {
                item["CollectionType"] = Value::String(ct.clone());
            }
            item
        })
        .collect();
    let n = items.len();
    json_ok(json!({"Items": items, "TotalRecordCount": n, "StartIndex": 0}))
}

fn virtual_folders(shared: &Shared) -> Response {
    let kind = shared.kind;
    let state = shared.lock();
    let items: Vec<Value> = state
        .libraries
        .iter()
        .map(|l| {
            let mut item = json!({
                "Name": l.name,
                "Locations": [format!("/media/{}", l.name.to_lowercase())],
                "LibraryOptions": {},
                "ItemId": l.api_id(kind),
                "PrimaryImageItemId": l.api_id(kind),
                "RefreshStatus": "Idle",
            });
            if kind.is_emby() {
                item["Guid"] = Value::String(l.guid.clone());
            }
            if let Some(ct) = &l.collection_type {
                item["CollectionType"] = Value::String(ct.clone());
            }
            item
        })
        .collect();
    json_ok(Value::Array(items))
}

fn user_dto(kind: FakeKind, server_id: &str, user: &FakeUser) -> Value {
    let has_password = user.password.is_some();
    json!({
        "Name": user.name,
        "ServerId": server_id,
        "Id": user.id,
        "HasPassword": has_password,
        "HasConfiguredPassword": has_password,
        "HasConfiguredEasyPassword": false,
        "EnableAutoLogin": false,
        "Configuration": user_configuration(kind),
        "Policy": Value::Object(user.policy.clone()),
    })
}

fn user_configuration(kind: FakeKind) -> Value {
    let mut config = json!({
        "PlayDefaultAudioTrack": true, "SubtitleLanguagePreference": "", "DisplayMissingEpisodes": false,
        "GroupedFolders": [], "SubtitleMode": "Default", "DisplayCollectionsView": false,
        "EnableLocalPassword": false, "OrderedViews": [], "LatestItemsExcludes": [],
        "MyMediaExcludes": [], "HidePlayedInLatest": true, "RememberAudioSelections": true,
        "RememberSubtitleSelections": true, "EnableNextEpisodeAutoPlay": true
    });
    if kind.is_emby() {
        config["EnableLocalPassword"] = Value::Bool(false);
    }
    config
}

fn list_users(shared: &Shared, req: &Req, query_shape: bool) -> Response {
    let want_hidden = req.query("isHidden").and_then(parse_bool);
    let want_disabled = req.query("isDisabled").and_then(parse_bool);
    let state = shared.lock();
    let items: Vec<Value> = state
        .users
        .iter()
        .filter(|u| want_hidden.is_none_or(|h| u.policy_bool("IsHidden") == Some(h)))
        .filter(|u| want_disabled.is_none_or(|d| u.is_disabled() == d))
        .map(|u| user_dto(shared.kind, &state.server_id, u))
        .collect();
    if query_shape {
        let n = items.len();
        json_ok(json!({"Items": items, "TotalRecordCount": n}))
    } else {
        json_ok(Value::Array(items))
    }
}

/// Binds a user id from the path or query the way the server does: Jellyfin's routes take a Guid.
fn user_id_param(kind: FakeKind, raw: &str, param: &str) -> Result<String, Refusal> {
    if kind.is_emby() {
        return Ok(raw.to_ascii_lowercase());
    }
    normalize_guid(raw).ok_or_else(|| {
        Box::new(problem(vec![(
            param.into(),
            format!("The value '{raw}' is not valid."),
        )]))
    })
}

fn find_user(state: &Store, id: &str) -> Result<usize, Refusal> {
    state
        .user_index(id)
        .ok_or_else(|| Box::new(controller_string(StatusCode::NOT_FOUND, "User not found")))
}

fn get_user(shared: &Shared, caller: &Caller, raw: &str) -> Response {
    let id = match user_id_param(shared.kind, raw, "userId") {
        Ok(id) => id,
        Err(resp) => return *resp,
    };
    let state = shared.lock();
    let i = match find_user(&state, &id) {
        Ok(i) => i,
        Err(resp) => return *resp,
    };
    let user = &state.users[i];
    if let Caller::User(me) = caller {
        let me_admin = state
            .user_index(me)
            .is_some_and(|j| state.users[j].is_admin());
        if !me_admin && !me.eq_ignore_ascii_case(&user.id) {
            return StatusCode::FORBIDDEN.into_response();
        }
    }
    json_ok(user_dto(shared.kind, &state.server_id, user))
}

fn create_user(shared: &Shared, req: &Req) -> Response {
    let kind = shared.kind;
    let body = match json_body(req) {
        Ok(Value::Object(map)) => map,
        Ok(_) => {
            return problem(vec![(
                "$".into(),
                "The JSON value could not be converted.".into(),
            )]);
        }
        Err(resp) => return *resp,
    };
    let name = match lookup_ci(&body, "Name") {
        Some(Value::String(name)) => name.clone(),
        _ => return problem(vec![("Name".into(), "The Name field is required.".into())]),
    };
    let mut state = shared.lock();
    if !server_accepts_name(kind, &name) || state.name_taken(&name) {
        return error_processing(StatusCode::BAD_REQUEST);
    }
    // Emby's create takes a name only; a password sent along is dropped.
    let password = if kind.is_emby() {
        None
    } else {
        lookup_ci(&body, "Password")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .map(String::from)
    };
    let id = state.fresh_id(kind);
    let user = FakeUser {
        id,
        name,
        password,
        policy: new_user_policy(kind),
    };
    let dto = user_dto(kind, &state.server_id, &user);
    state.users.push(user);
    json_ok(dto)
}

/// The server's own name rule: `^[\w\ \-'._@]+$`, plus `+` on Jellyfin 10.11 and later.
fn server_accepts_name(kind: FakeKind, name: &str) -> bool {
    if name.trim() != name || name.is_empty() || name == "." || name == ".." {
        return false;
    }
    name.chars().all(|c| {
        c.is_alphanumeric()
            || matches!(c, '_' | ' ' | '-' | '\'' | '.' | '@')
            || (c == '+' && kind.allows_plus_in_names())
    })
}

fn delete_user(shared: &Shared, raw: &str) -> Response {
    let id = match user_id_param(shared.kind, raw, "userId") {
        Ok(id) => id,
        Err(resp) => return *resp,
    };
    let mut state = shared.lock();
    let i = match find_user(&state, &id) {
        Ok(i) => i,
        Err(resp) => return *resp,
    };
    let user = &state.users[i];
    if user.is_admin() && state.users.iter().filter(|u| u.is_admin()).count() == 1 {
        return error_processing(StatusCode::BAD_REQUEST);
    }
    let removed = state.users.remove(i);
    state.tokens.retain(|_, uid| *uid != removed.id);
    StatusCode::NO_CONTENT.into_response()
}

fn update_policy(shared: &Shared, req: &Req, raw: &str) -> Response {
    let id = match user_id_param(shared.kind, raw, "userId") {
        Ok(id) => id,
        Err(resp) => return *resp,
    };
    let posted = match json_body(req) {
        Ok(Value::Object(map)) => map,
        Ok(_) => {
            return problem(vec![(
                "$".into(),
                "The JSON value could not be converted to UserPolicy.".into(),
            )]);
        }
        Err(resp) => return *resp,
    };
    let policy = match bind_policy(shared.kind, &posted) {
        Ok(policy) => policy,
        Err(resp) => return *resp,
    };
    let mut state = shared.lock();
    let i = match find_user(&state, &id) {
        Ok(i) => i,
        Err(resp) => return *resp,
    };
    let previous = std::mem::replace(&mut state.users[i].policy, policy);
    if state.enabled_admins() == 0 {
        // "There must be at least one enabled administrator": an ArgumentException.
        state.users[i].policy = previous;
        return error_processing(StatusCode::BAD_REQUEST);
    }
    if state.users[i].is_disabled() {
        let id = state.users[i].id.clone();
        state.tokens.retain(|_, uid| *uid != id);
    }
    StatusCode::NO_CONTENT.into_response()
}

fn change_password(shared: &Shared, req: &Req, caller: &Caller, raw: &str) -> Response {
    let kind = shared.kind;
    let id = match user_id_param(kind, raw, "userId") {
        Ok(id) => id,
        Err(resp) => return *resp,
    };
    let body = match json_body(req) {
        Ok(Value::Object(map)) => map,
        Ok(_) => {
            return problem(vec![(
                "$".into(),
                "The JSON value could not be converted.".into(),
            )]);
        }
        Err(resp) => return *resp,
    };
    let text = |key: &str| {
        lookup_ci(&body, key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let reset = lookup_ci(&body, "ResetPassword")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut state = shared.lock();
    let i = match find_user(&state, &id) {
        Ok(i) => i,
        Err(resp) => return *resp,
    };
    let caller_is_admin = match caller {
        Caller::ApiKey => true,
        Caller::User(me) => state
            .user_index(me)
            .is_some_and(|j| state.users[j].is_admin()),
    };
    if let Caller::User(me) = caller
        && !caller_is_admin
        && !me.eq_ignore_ascii_case(&state.users[i].id)
    {
        return StatusCode::FORBIDDEN.into_response();
    }
    let user = &mut state.users[i];
    if reset {
        user.password = None;
        return StatusCode::NO_CONTENT.into_response();
    }
    // Jellyfin lets an administrator skip the current password; Emby wants a reset first.
    let must_prove = kind.is_emby() || !caller_is_admin;
    if must_prove && user.password.is_some() && !user.password_matches(&text("CurrentPw")) {
        return if kind.is_emby() {
            (
                StatusCode::UNAUTHORIZED,
                "Invalid user or password entered.",
            )
                .into_response()
        } else {
            StatusCode::FORBIDDEN.into_response()
        };
    }
    let new = text("NewPw");
    user.password = (!new.is_empty()).then_some(new);
    StatusCode::NO_CONTENT.into_response()
}

fn authenticate_by_name(shared: &Shared, req: &Req) -> Response {
    let kind = shared.kind;
    if !kind.is_emby() && !has_client_fields(req) {
        return error_processing(StatusCode::BAD_REQUEST);
    }
    let body = match json_body(req) {
        Ok(Value::Object(map)) => map,
        Ok(_) => {
            return problem(vec![(
                "$".into(),
                "The JSON value could not be converted.".into(),
            )]);
        }
        Err(resp) => return *resp,
    };
    let name = lookup_ci(&body, "Username")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    let pw = lookup_ci(&body, "Pw")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut state = shared.lock();
    let Some(i) = state
        .users
        .iter()
        .position(|u| u.name.to_lowercase() == name)
    else {
        return error_processing(StatusCode::UNAUTHORIZED);
    };
    if !state.users[i].password_matches(&pw) {
        return error_processing(StatusCode::UNAUTHORIZED);
    }
    if state.users[i].is_disabled() {
        return error_processing(StatusCode::FORBIDDEN);
    }
    let token = state.fresh_hex(0x70_6b_65_6e);
    let user = state.users[i].clone();
    state.tokens.insert(token.clone(), user.id.clone());
    json_ok(json!({
        "User": user_dto(kind, &state.server_id, &user),
        "SessionInfo": {"UserId": user.id, "UserName": user.name, "ServerId": state.server_id},
        "AccessToken": token,
        "ServerId": state.server_id,
    }))
}

fn initiate_quick_connect(state: &mut Store) -> (String, String) {
    let secret = state.fresh_hex(0x71_63);
    let code = format!("{:06}", (state.counter * 7_919 + 104_729) % 1_000_000);
    state.quick_connect.push(QuickConnectRequest {
        secret: secret.clone(),
        code: code.clone(),
        authorized_user: None,
    });
    (secret, code)
}

fn quick_connect_initiate(shared: &Shared, req: &Req) -> Response {
    if !has_client_fields(req) {
        return error_processing(StatusCode::BAD_REQUEST);
    }
    let mut state = shared.lock();
    if !state.quick_connect_enabled {
        return controller_string(StatusCode::UNAUTHORIZED, "Quick connect is disabled");
    }
    let (secret, code) = initiate_quick_connect(&mut state);
    json_ok(json!({"Authenticated": false, "Secret": secret, "Code": code}))
}

fn quick_connect_state(shared: &Shared, req: &Req) -> Response {
    let state = shared.lock();
    let secret = req.query("secret").unwrap_or("");
    match state.quick_connect.iter().find(|r| r.secret == secret) {
        Some(r) => json_ok(json!({
            "Authenticated": r.authorized_user.is_some(),
            "Secret": r.secret,
            "Code": r.code,
        })),
        None => error_processing(StatusCode::NOT_FOUND),
    }
}

fn quick_connect_authorize(shared: &Shared, req: &Req, caller: &Caller) -> Response {
    let Some(code) = req.query("code").map(str::to_string) else {
        return problem(vec![("code".into(), "The code field is required.".into())]);
    };
    let target = match (req.query("userId"), caller) {
        (Some(raw), _) if !raw.is_empty() => match user_id_param(shared.kind, raw, "userId") {
            Ok(id) => id,
            Err(resp) => return *resp,
        },
        (_, Caller::User(me)) => me.clone(),
        (_, Caller::ApiKey) => return controller_string(StatusCode::NOT_FOUND, "User not found"),
    };
    let mut state = shared.lock();
    if let Err(resp) = find_user(&state, &target) {
        return *resp;
    }
    if let Caller::User(me) = caller {
        let me_admin = state
            .user_index(me)
            .is_some_and(|j| state.users[j].is_admin());
        if !me_admin && !me.eq_ignore_ascii_case(&target) {
            return StatusCode::FORBIDDEN.into_response();
        }
    }
    if !state.quick_connect_enabled {
        return controller_string(StatusCode::UNAUTHORIZED, "Quick connect is disabled");
    }
    match state.quick_connect.iter_mut().find(|r| r.code == code) {
        Some(r) => {
            r.authorized_user = Some(target);
            json_ok(Value::Bool(true))
        }
        None => error_processing(StatusCode::NOT_FOUND),
    }
}

// ---------------------------------------------------------------------------------------------
// Answers and small helpers

fn json_ok(value: Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        Body::from(strip_nulls(value).to_string()),
    )
        .into_response()
}

/// The production error page: the real message stays in the server log.
fn error_processing(status: StatusCode) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Error processing request.",
    )
        .into_response()
}

/// A controller returning a string, which ASP.NET serialises as a JSON string.
fn controller_string(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        Value::String(message.into()).to_string(),
    )
        .into_response()
}

fn problem(errors: Vec<(String, String)>) -> Response {
    let mut map = Map::new();
    for (field, message) in errors {
        map.entry(field)
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
            .expect("errors are arrays")
            .push(Value::String(message));
    }
    let body = json!({
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": map,
        "traceId": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
    });
    (
        StatusCode::BAD_REQUEST,
        [(
            header::CONTENT_TYPE,
            "application/problem+json; charset=utf-8",
        )],
        body.to_string(),
    )
        .into_response()
}

/// Reads a JSON body the way ASP.NET's `[FromBody]` does: JSON content type or 415.
fn json_body(req: &Req) -> Result<Value, Refusal> {
    let content_type = req
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let is_json = content_type.starts_with("application/json")
        || content_type.starts_with("text/json")
        || content_type.contains("+json");
    if !is_json {
        return Err(Box::new(StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response()));
    }
    serde_json::from_slice(&req.body).map_err(|e| {
        Box::new(problem(vec![(
            "$".into(),
            format!("The request body is not valid JSON: {e}"),
        )]))
    })
}

fn lookup_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Null properties are left out of answers.
fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

fn string_array(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Accepts 32 hex digits or the hyphenated form; answers the 32-hex lower-case form.
pub fn normalize_guid(raw: &str) -> Option<String> {
    let raw = raw.trim().trim_start_matches('{').trim_end_matches('}');
    let hex: String = if raw.len() == 36 {
        let bytes = raw.as_bytes();
        if [8, 13, 18, 23].iter().any(|&i| bytes[i] != b'-') {
            return None;
        }
        raw.chars().filter(|&c| c != '-').collect()
    } else {
        raw.to_string()
    };
    (hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

fn kind_salt(kind: FakeKind) -> u64 {
    match kind {
        FakeKind::Jellyfin => 0x6a65_6c6c,
        FakeKind::Jellyfin12 => 0x6a31_3230,
        FakeKind::Emby => 0x656d_6279,
    }
}

/// Deterministic, random-looking 32-hex ids, so tests can predict them.
fn hex_id(salt: u64, n: u64) -> String {
    let a = splitmix(salt.wrapping_mul(0x1000_0000_0001).wrapping_add(n));
    let b = splitmix(a);
    format!("{a:016x}{b:016x}")
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

/// Header values are URL-encoded, `+` standing for a space.
fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}
