//! Fake Audiobookshelf 2.x, following `reference/more-servers-api.md` §1.1.
//!
//! It keeps users, libraries and API keys, and reproduces what a client can get wrong: a new
//! user is inactive unless `isActive` is truthy; permissions not sent take the user type's
//! defaults (every library, downloads on); `librariesAccessible` in an update is only applied
//! when a `permissions` object comes with it; the duplicate-name check is exact (case-sensitive)
//! while sign-in lower-cases; refusals are short HTML-typed texts; unknown ids answer a bare 404;
//! inactive users can neither sign in nor use a token. The `/audiobookshelf` prefix is optional.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::control::{Control, Running};

/// The API key of the default seed (the root user's).
pub const API_KEY: &str = "abs-api-key-eyJhbGciOiJIUzI1NiJ9.root";
pub const ROOT_NAME: &str = "root";
pub const ROOT_PASSWORD: &str = "usher-demo";

/// A library to seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedLibrary {
    pub id: String,
    pub name: String,
    /// `book` or `podcast`.
    pub media_type: String,
}

impl SeedLibrary {
    pub fn new(id: &str, name: &str, media_type: &str) -> Self {
        SeedLibrary {
            id: id.into(),
            name: name.into(),
            media_type: media_type.into(),
        }
    }
}

/// What a fake starts with.
#[derive(Debug, Clone)]
pub struct Seed {
    pub server_name: String,
    pub version: String,
    pub libraries: Vec<SeedLibrary>,
}

impl Default for Seed {
    fn default() -> Seed {
        Seed {
            server_name: "Story Shelf".into(),
            version: "2.36.0".into(),
            libraries: vec![
                SeedLibrary::new("3f0c5a2e-6b1d-4c8e-9a7f-1d2e3b4c5a60", "Audiobooks", "book"),
                SeedLibrary::new(
                    "8a9b0c1d-2e3f-4a5b-8c7d-9e0f1a2b3c4d",
                    "Podcasts",
                    "podcast",
                ),
                SeedLibrary::new("c4d5e6f7-0a1b-4c2d-9e3f-4a5b6c7d8e9f", "Kids", "book"),
            ],
        }
    }
}

/// A user as the fake stores one.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeUser {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    /// `root`, `admin`, `user` or `guest`.
    pub kind: String,
    pub password: String,
    pub is_active: bool,
    pub permissions: Map<String, Value>,
    pub libraries_accessible: Vec<String>,
    pub item_tags_selected: Vec<String>,
}

impl FakeUser {
    pub fn permission(&self, key: &str) -> bool {
        self.permissions.get(key).and_then(Value::as_bool) == Some(true)
    }

    /// The libraries this user can open, as the server decides it.
    pub fn visible_libraries(&self, all: &[SeedLibrary]) -> Vec<String> {
        if self.permission("accessAllLibraries") {
            all.iter().map(|l| l.id.clone()).collect()
        } else {
            self.libraries_accessible.clone()
        }
    }
}

struct Store {
    server_name: String,
    version: String,
    libraries: Vec<SeedLibrary>,
    users: Vec<FakeUser>,
    /// API key or sign-in token → user id.
    tokens: Vec<(String, String)>,
    counter: u64,
}

impl Store {
    fn fresh_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!(
            "{prefix}{:08x}-0000-4000-8000-{:012x}",
            self.counter, self.counter
        )
    }

    fn user(&self, id: &str) -> Option<&FakeUser> {
        self.users.iter().find(|u| u.id == id)
    }
}

struct Shared {
    state: Mutex<Store>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Store> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running fake Audiobookshelf. Dropping it stops the server.
pub struct FakeAudiobookshelf {
    running: Running,
    shared: Arc<Shared>,
}

impl FakeAudiobookshelf {
    /// Starts a fake with the default seed on a free loopback port.
    ///
    /// # Panics
    /// If loopback cannot be bound.
    pub async fn start() -> FakeAudiobookshelf {
        Self::start_on("127.0.0.1:0", Seed::default())
            .await
            .expect("bind a loopback port for the fake")
    }

    /// Starts a fake on a given address (`usher demo` uses fixed ports).
    pub async fn start_on(bind: &str, seed: Seed) -> std::io::Result<FakeAudiobookshelf> {
        let root = FakeUser {
            id: "root-0000-4000-8000-000000000000".into(),
            username: ROOT_NAME.into(),
            email: None,
            kind: "root".into(),
            password: ROOT_PASSWORD.into(),
            is_active: true,
            permissions: default_permissions("root"),
            libraries_accessible: Vec::new(),
            item_tags_selected: Vec::new(),
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(Store {
                server_name: seed.server_name,
                version: seed.version,
                libraries: seed.libraries,
                tokens: vec![(API_KEY.into(), root.id.clone())],
                users: vec![root],
                counter: 0,
            }),
        });
        let control = Control::default();
        let router = control.layer(Router::new().fallback(handle).with_state(shared.clone()));
        let running = Running::start_on(bind, router, control).await?;
        Ok(FakeAudiobookshelf { running, shared })
    }

    pub fn url(&self) -> String {
        self.running.url()
    }

    pub fn api_key(&self) -> String {
        API_KEY.into()
    }

    pub fn control(&self) -> &Control {
        &self.running.control
    }

    pub fn libraries(&self) -> Vec<SeedLibrary> {
        self.shared.lock().libraries.clone()
    }

    pub fn library_id(&self, name: &str) -> String {
        self.libraries()
            .into_iter()
            .find(|l| l.name == name)
            .map(|l| l.id)
            .unwrap_or_else(|| panic!("no library {name}"))
    }

    pub fn users(&self) -> Vec<FakeUser> {
        self.shared.lock().users.clone()
    }

    pub fn user_by_name(&self, name: &str) -> Option<FakeUser> {
        self.users().into_iter().find(|u| u.username == name)
    }

    /// Adds an ordinary user as someone did in the web UI; returns its id.
    pub fn add_user(&self, username: &str, password: &str, libraries: &[&str]) -> String {
        let mut s = self.shared.lock();
        let id = s.fresh_id("usr");
        let mut permissions = default_permissions("user");
        permissions.insert(
            "accessAllLibraries".into(),
            Value::Bool(libraries.is_empty()),
        );
        s.users.push(FakeUser {
            id: id.clone(),
            username: username.into(),
            email: None,
            kind: "user".into(),
            password: password.into(),
            is_active: true,
            permissions,
            libraries_accessible: libraries.iter().map(|l| l.to_string()).collect(),
            item_tags_selected: Vec::new(),
        });
        id
    }

    /// Whether `username` and `password` sign in (as the login page does: any case).
    pub fn signs_in(&self, username: &str, password: &str) -> bool {
        let s = self.shared.lock();
        sign_in(&s, username, password).is_some()
    }

    /// Pretends to be another release (what `/status` reports).
    pub fn set_version(&self, version: &str) {
        self.shared.lock().version = version.into();
    }
}

/// `User.getDefaultPermissionsForUserType`.
fn default_permissions(kind: &str) -> Map<String, Value> {
    let admin = matches!(kind, "root" | "admin");
    let mut p = Map::new();
    for (key, value) in [
        ("download", true),
        ("update", admin),
        ("delete", kind == "root"),
        ("upload", admin),
        ("createEreader", admin),
        ("accessAllLibraries", true),
        ("accessAllTags", true),
        ("accessExplicitContent", admin),
        ("selectedTagsNotAccessible", false),
    ] {
        p.insert(key.into(), Value::Bool(value));
    }
    p
}

const PERMISSION_KEYS: [&str; 9] = [
    "download",
    "update",
    "delete",
    "upload",
    "createEreader",
    "accessAllLibraries",
    "accessAllTags",
    "accessExplicitContent",
    "selectedTagsNotAccessible",
];

/// JavaScript's `!!value`.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

fn sign_in<'a>(s: &'a Store, username: &str, password: &str) -> Option<&'a FakeUser> {
    let wanted = username.to_lowercase();
    s.users
        .iter()
        .find(|u| u.username.to_lowercase() == wanted && u.password == password && u.is_active)
}

/// `toOldJSONForBrowser`.
fn user_json(u: &FakeUser) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "type": u.kind,
        "token": null,
        "isOldToken": false,
        "mediaProgress": [],
        "seriesHideFromContinueListening": [],
        "bookmarks": [],
        "isActive": u.is_active,
        "isLocked": false,
        "lastSeen": null,
        "createdAt": 1_764_000_000_000_i64,
        "permissions": u.permissions,
        "librariesAccessible": u.libraries_accessible,
        "itemTagsSelected": u.item_tags_selected,
        "hasOpenIDLink": false,
    })
}

/// Express's `res.status(400).send('…')`: HTML-typed text.
fn text(status: StatusCode, body: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// Express's `res.sendStatus(…)`: the reason phrase as plain text.
fn bare(status: StatusCode) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        status.canonical_reason().unwrap_or("").to_string(),
    )
        .into_response()
}

fn json_ok(body: Value) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Reads a JSON or form body as Express does; anything else is an empty body.
fn body_of(headers: &HeaderMap, body: &[u8]) -> Map<String, Value> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ct.starts_with("application/json") {
        match serde_json::from_slice(body) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect()
    } else {
        Map::new()
    }
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, 16 * 1024 * 1024).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let mut segments: Vec<String> = parts
        .uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect();
    if segments.first().is_some_and(|s| s == "audiobookshelf") {
        segments.remove(0);
    }
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or_default();
    let token = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
        .or_else(|| {
            query
                .iter()
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.clone())
        });
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let m = parts.method.clone();
    let body = body_of(&parts.headers, &body);
    let mut s = shared.lock();
    match (m, segs.as_slice()) {
        (Method::GET, ["status"]) => json_ok(json!({
            "app": "audiobookshelf",
            "serverVersion": s.version,
            "isInit": true,
            "language": "en-us",
            "authMethods": ["local"],
            "authFormData": {},
        })),
        (Method::POST, ["login"]) => {
            let field = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("");
            let (username, password) =
                (field("username").to_string(), field("password").to_string());
            let Some(user) = sign_in(&s, &username, &password).cloned() else {
                return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
            };
            let access = format!("access-{}", user.id);
            s.tokens.push((access.clone(), user.id.clone()));
            let mut u = user_json(&user);
            u["accessToken"] = Value::String(access);
            json_ok(
                json!({ "user": u, "userDefaultLibraryId": null, "serverSettings": {"name": s.server_name} }),
            )
        }
        (_, ["api", ..]) => {
            // passport's JwtStrategy: a missing, unknown or inactive user's token is a bare 401.
            let caller = token
                .and_then(|t| {
                    s.tokens
                        .iter()
                        .find(|(k, _)| *k == t)
                        .map(|(_, id)| id.clone())
                })
                .and_then(|id| s.user(&id).cloned())
                .filter(|u| u.is_active);
            let Some(caller) = caller else {
                return StatusCode::UNAUTHORIZED.into_response();
            };
            api(&mut s, &parts.method, &segs[1..], &caller, body)
        }
        _ => bare(StatusCode::NOT_FOUND),
    }
}

fn api(
    s: &mut Store,
    method: &Method,
    segs: &[&str],
    caller: &FakeUser,
    body: Map<String, Value>,
) -> Response {
    let admin = matches!(caller.kind.as_str(), "root" | "admin");
    match (method.clone(), segs) {
        (Method::POST, ["authorize"]) => json_ok(json!({
            "user": user_json(caller),
            "userDefaultLibraryId": s.libraries.first().map(|l| l.id.clone()),
            "serverSettings": { "id": "server-settings", "name": s.server_name },
            "ereaderDevices": [],
            "Source": "docker",
        })),
        (Method::GET, ["libraries"]) => {
            let visible = if admin || caller.permission("accessAllLibraries") {
                s.libraries.clone()
            } else {
                s.libraries
                    .iter()
                    .filter(|l| caller.libraries_accessible.contains(&l.id))
                    .cloned()
                    .collect()
            };
            json_ok(json!({
                "libraries": visible.iter().enumerate().map(|(i, l)| json!({
                    "id": l.id, "name": l.name, "folders": [], "displayOrder": i + 1,
                    "icon": "database", "mediaType": l.media_type, "provider": "google",
                    "settings": {}, "lastScan": null, "createdAt": 1_764_000_000_000_i64,
                    "lastUpdate": 1_764_000_000_000_i64,
                })).collect::<Vec<_>>()
            }))
        }
        (_, ["users", ..]) if !admin => bare(StatusCode::FORBIDDEN),
        (Method::GET, ["users"]) => json_ok(json!({
            "users": s.users.iter().map(|u| {
                let mut v = user_json(u);
                if let Some(o) = v.as_object_mut() {
                    o.remove("mediaProgress");
                    o.remove("bookmarks");
                }
                v
            }).collect::<Vec<_>>()
        })),
        (Method::POST, ["users"]) => create_user(s, body),
        (Method::GET, ["users", id]) => match s.user(id) {
            Some(u) => json_ok(user_json(u)),
            None => bare(StatusCode::NOT_FOUND),
        },
        (Method::PATCH, ["users", id]) => update_user(s, caller, id, body),
        (Method::DELETE, ["users", id]) => {
            let Some(pos) = s.users.iter().position(|u| u.id == *id) else {
                return bare(StatusCode::NOT_FOUND);
            };
            if s.users[pos].id == caller.id {
                return text(StatusCode::BAD_REQUEST, "Cannot delete yourself");
            }
            if s.users[pos].kind == "root" {
                return bare(StatusCode::FORBIDDEN);
            }
            let gone = s.users.remove(pos);
            s.tokens.retain(|(_, uid)| *uid != gone.id);
            json_ok(json!({ "success": true }))
        }
        _ => bare(StatusCode::NOT_FOUND),
    }
}

/// Booleans only; anything else is logged by the server and ignored.
fn merge_permissions(into: &mut Map<String, Value>, given: &Map<String, Value>) {
    for key in PERMISSION_KEYS {
        if let Some(Value::Bool(b)) = given.get(key) {
            into.insert(key.into(), Value::Bool(*b));
        }
    }
}

fn string_list(v: Option<&Value>) -> Option<Vec<String>> {
    v?.as_array().map(|ids| {
        ids.iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect()
    })
}

fn create_user(s: &mut Store, body: Map<String, Value>) -> Response {
    let username = body.get("username").and_then(Value::as_str).unwrap_or("");
    let password = body.get("password").and_then(Value::as_str).unwrap_or("");
    if username.is_empty() || password.is_empty() {
        return text(
            StatusCode::BAD_REQUEST,
            "Username and password are required",
        );
    }
    let kind = body.get("type").and_then(Value::as_str).unwrap_or("user");
    if !matches!(kind, "admin" | "user" | "guest") {
        return text(StatusCode::BAD_REQUEST, "Invalid account type");
    }
    // An exact match, unlike the sign-in.
    if s.users.iter().any(|u| u.username == username) {
        return text(StatusCode::BAD_REQUEST, "Username already taken");
    }
    let mut permissions = default_permissions(kind);
    let given = body.get("permissions").and_then(Value::as_object);
    if let Some(given) = given {
        merge_permissions(&mut permissions, given);
    }
    let libraries = string_list(body.get("librariesAccessible"))
        .or_else(|| string_list(given.and_then(|g| g.get("librariesAccessible"))))
        .unwrap_or_default();
    let tags = string_list(body.get("itemTagsSelected"))
        .or_else(|| string_list(given.and_then(|g| g.get("itemTagsSelected"))))
        .unwrap_or_default();
    let user = FakeUser {
        id: s.fresh_id("usr"),
        username: username.into(),
        email: body
            .get("email")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty())
            .map(String::from),
        kind: kind.into(),
        password: password.into(),
        is_active: body.get("isActive").is_some_and(truthy),
        permissions,
        libraries_accessible: libraries,
        item_tags_selected: tags,
    };
    let answer = json_ok(json!({ "user": user_json(&user) }));
    s.users.push(user);
    answer
}

fn update_user(s: &mut Store, caller: &FakeUser, id: &str, body: Map<String, Value>) -> Response {
    for key in ["id", "pash", "token", "extraData", "bookmarks"] {
        if body.contains_key(key) {
            return text(
                StatusCode::BAD_REQUEST,
                &format!("Key \"{key}\" cannot be updated"),
            );
        }
    }
    let Some(pos) = s.users.iter().position(|u| u.id == id) else {
        return bare(StatusCode::NOT_FOUND);
    };
    if s.users[pos].kind == "root" && caller.kind != "root" {
        return bare(StatusCode::FORBIDDEN);
    }
    if let Some(name) = body.get("username").and_then(Value::as_str)
        && name != s.users[pos].username
    {
        if s.users.iter().any(|u| u.username == name) {
            return text(StatusCode::BAD_REQUEST, "Username already taken");
        }
        s.users[pos].username = name.into();
    }
    let user = &mut s.users[pos];
    if let Some(p) = body.get("password").and_then(Value::as_str) {
        user.password = p.into();
    }
    if let Some(e) = body.get("email") {
        user.email = e.as_str().filter(|e| !e.is_empty()).map(String::from);
    }
    if let Some(t) = body.get("type").and_then(Value::as_str)
        && user.kind != "root"
        && matches!(t, "admin" | "user" | "guest")
    {
        user.kind = t.into();
    }
    if let Some(active) = body.get("isActive") {
        user.is_active = truthy(active);
    }
    // The lists are handled inside the permissions block only.
    if let Some(given) = body.get("permissions").and_then(Value::as_object) {
        merge_permissions(&mut user.permissions, given);
        if let Some(libs) = string_list(body.get("librariesAccessible"))
            .or_else(|| string_list(given.get("librariesAccessible")))
        {
            user.libraries_accessible = libs;
        }
        if let Some(tags) = string_list(body.get("itemTagsSelected"))
            .or_else(|| string_list(given.get("itemTagsSelected")))
        {
            user.item_tags_selected = tags;
        }
    }
    let saved = user.clone();
    if !saved.is_active {
        // An inactive user's tokens stop working at once.
        s.tokens.retain(|(k, uid)| *uid != saved.id || k == API_KEY);
    }
    json_ok(json!({ "success": true, "user": user_json(&saved) }))
}
