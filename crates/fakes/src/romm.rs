//! Fake RomM 5.x (and 4.x on request), following `reference/more-servers-api.md` §1.5.
//!
//! It keeps users, platforms, client tokens and hidden platforms, and reproduces what a client
//! can get wrong: users are created with a JSON body but changed with form data only (a JSON
//! body on the change is ignored and answered 200); names are kept in lower case and compared
//! without case; a disabled user is refused on every request; per-user hidden platforms exist
//! from 5.0 only (4.x has no `/api/permissions`); a platform added later is visible until hidden.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::control::{Control, Running, decode_base64};

pub const TOKEN: &str = "rmm_4f2a9c7e1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8";
pub const ADMIN_NAME: &str = "admin";
pub const ADMIN_PASSWORD: &str = "usher-demo";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakePlatform {
    pub id: i64,
    pub name: String,
    pub slug: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub password: String,
    pub role: String,
    pub enabled: bool,
    /// Platform ids hidden from this user (5.x).
    pub hidden: Vec<i64>,
}

struct Store {
    version: String,
    platforms: Vec<FakePlatform>,
    users: Vec<FakeUser>,
    next_id: i64,
}

impl Store {
    fn five(&self) -> bool {
        !self.version.starts_with('4')
    }

    fn visible_to(&self, u: &FakeUser) -> Vec<&FakePlatform> {
        self.platforms
            .iter()
            .filter(|p| u.role == "admin" || !u.hidden.contains(&p.id))
            .collect()
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

/// A running fake RomM. Dropping it stops the server.
pub struct FakeRomm {
    running: Running,
    shared: Arc<Shared>,
}

impl FakeRomm {
    /// Starts a fake RomM 5.2 with an administrator (who holds [`TOKEN`]) and four platforms.
    ///
    /// # Panics
    /// If loopback cannot be bound.
    pub async fn start() -> FakeRomm {
        Self::start_on("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the fake")
    }

    pub async fn start_on(bind: &str) -> std::io::Result<FakeRomm> {
        let platform = |id: i64, name: &str, slug: &str| FakePlatform {
            id,
            name: name.into(),
            slug: slug.into(),
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(Store {
                version: "5.2.0".into(),
                platforms: vec![
                    platform(11, "Nintendo Entertainment System", "nes"),
                    platform(12, "Super Nintendo", "snes"),
                    platform(13, "PlayStation", "psx"),
                    platform(14, "Game Boy Advance", "gba"),
                ],
                users: vec![FakeUser {
                    id: 1,
                    username: ADMIN_NAME.into(),
                    email: None,
                    password: ADMIN_PASSWORD.into(),
                    role: "admin".into(),
                    enabled: true,
                    hidden: Vec::new(),
                }],
                next_id: 2,
            }),
        });
        let control = Control::default();
        let router = control.layer(Router::new().fallback(handle).with_state(shared.clone()));
        let running = Running::start_on(bind, router, control).await?;
        Ok(FakeRomm { running, shared })
    }

    pub fn url(&self) -> String {
        self.running.url()
    }

    pub fn token(&self) -> String {
        TOKEN.into()
    }

    pub fn control(&self) -> &Control {
        &self.running.control
    }

    /// Pretends to be another release (`4.9.2`: no per-user platforms).
    pub fn set_version(&self, version: &str) {
        self.shared.lock().version = version.into();
    }

    pub fn platform_id(&self, slug: &str) -> String {
        self.shared
            .lock()
            .platforms
            .iter()
            .find(|p| p.slug == slug)
            .map(|p| p.id.to_string())
            .unwrap_or_else(|| panic!("no platform {slug}"))
    }

    /// Adds a platform, as a scan that found a new folder does.
    pub fn add_platform(&self, id: i64, name: &str, slug: &str) {
        self.shared.lock().platforms.push(FakePlatform {
            id,
            name: name.into(),
            slug: slug.into(),
        });
    }

    pub fn users(&self) -> Vec<FakeUser> {
        self.shared.lock().users.clone()
    }

    pub fn user_by_name(&self, name: &str) -> Option<FakeUser> {
        let wanted = name.to_lowercase();
        self.users().into_iter().find(|u| u.username == wanted)
    }

    /// The slugs of the platforms `name` can see.
    pub fn visible_slugs(&self, name: &str) -> Vec<String> {
        let s = self.shared.lock();
        let wanted = name.to_lowercase();
        let Some(u) = s.users.iter().find(|u| u.username == wanted) else {
            return Vec::new();
        };
        s.visible_to(u).iter().map(|p| p.slug.clone()).collect()
    }

    pub fn add_user(&self, name: &str, password: &str) -> i64 {
        let mut s = self.shared.lock();
        let id = s.next_id;
        s.next_id += 1;
        s.users.push(FakeUser {
            id,
            username: name.to_lowercase(),
            email: None,
            password: password.into(),
            role: "user".into(),
            enabled: true,
            hidden: Vec::new(),
        });
        id
    }

    /// Whether `name` and `password` sign in (a disabled account does not).
    pub fn signs_in(&self, name: &str, password: &str) -> bool {
        self.user_by_name(name)
            .is_some_and(|u| u.password == password && u.enabled)
    }
}

fn detail(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "detail": message }))).into_response()
}

fn user_json(u: &FakeUser) -> Value {
    json!({
        "id": u.id, "username": u.username, "email": u.email, "enabled": u.enabled,
        "role": u.role, "permission_group_id": null, "oauth_scopes": [], "avatar_path": "",
        "last_login": null, "last_active": null, "ra_username": null, "ra_progression": null,
        "ui_settings": null, "current_device_id": null,
        "created_at": "2026-11-01T10:00:00", "updated_at": "2026-11-01T10:00:00",
    })
}

fn caller(s: &Store, headers: &HeaderMap) -> Option<FakeUser> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    let user = if scheme.eq_ignore_ascii_case("bearer") {
        (rest == TOKEN).then(|| s.users.iter().find(|u| u.id == 1))??
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = decode_base64(rest)?;
        let (name, password) = decoded.split_once(':')?;
        s.users
            .iter()
            .find(|u| u.username == name.to_lowercase() && u.password == password)?
    } else {
        return None;
    };
    user.enabled.then(|| user.clone())
}

/// pydantic's lax string-to-bool.
fn form_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "t" | "y" => Some(true),
        "false" | "0" | "no" | "off" | "f" | "n" => Some(false),
        _ => None,
    }
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, 1024 * 1024).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let path = parts.uri.path().to_string();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut s = shared.lock();
    if parts.method == Method::GET && segs == ["api", "heartbeat"] {
        return axum::Json(json!({
            "SYSTEM": {"VERSION": s.version, "SHOW_SETUP_WIZARD": false},
            "METADATA_SOURCES": {}, "FILESYSTEM": {"FS_PLATFORMS": []}, "EMULATION": {},
            "FRONTEND": {}, "OIDC": {"ENABLED": false}, "TASKS": {},
        }))
        .into_response();
    }
    let Some(me) = caller(&s, &parts.headers) else {
        return if s.five() {
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                axum::Json(json!({"detail": "Not authenticated"})),
            )
                .into_response()
        } else {
            detail(StatusCode::FORBIDDEN, "Forbidden")
        };
    };
    let admin = me.role == "admin";
    let json_body = || match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(m)) if content_type.starts_with("application/json") => Some(m),
        _ => None,
    };
    match (parts.method.clone(), segs.as_slice()) {
        (Method::GET, ["api", "users", "me"]) => axum::Json(user_json(&me)).into_response(),
        (Method::GET, ["api", "platforms"]) => axum::Json(Value::Array(
            s.visible_to(&me)
                .iter()
                .map(|p| {
                    json!({"id": p.id, "slug": p.slug, "fs_slug": p.slug, "name": p.name,
                           "custom_name": null, "rom_count": 42})
                })
                .collect(),
        ))
        .into_response(),
        (_, ["api", "users", ..]) | (_, ["api", "permissions", ..]) if !admin => {
            detail(StatusCode::FORBIDDEN, "Forbidden")
        }
        (Method::GET, ["api", "users"]) => {
            axum::Json(Value::Array(s.users.iter().map(user_json).collect())).into_response()
        }
        (Method::POST, ["api", "users"]) => create(&mut s, json_body()),
        (Method::GET, ["api", "users", id]) => {
            match s.users.iter().find(|u| u.id.to_string() == *id) {
                Some(u) => axum::Json(user_json(u)).into_response(),
                None => detail(StatusCode::NOT_FOUND, "User not found"),
            }
        }
        (Method::PUT, ["api", "users", id]) => {
            let form: Vec<(String, String)> =
                if content_type.starts_with("application/x-www-form-urlencoded") {
                    serde_urlencoded::from_bytes(&body).unwrap_or_default()
                } else {
                    // A JSON body is not read at all.
                    Vec::new()
                };
            let myself = me.id;
            let Some(u) = s.users.iter_mut().find(|u| u.id.to_string() == *id) else {
                return detail(StatusCode::NOT_FOUND, "User not found");
            };
            for (k, v) in form {
                match k.as_str() {
                    "password" if !v.is_empty() => u.password = v,
                    "email" => u.email = Some(v.to_lowercase()).filter(|e| !e.is_empty()),
                    "enabled" => match form_bool(&v) {
                        // Nobody changes their own enabled flag; it is silently kept.
                        Some(b) if u.id != myself => u.enabled = b,
                        Some(_) => {}
                        None => {
                            return (
                                StatusCode::UNPROCESSABLE_ENTITY,
                                axum::Json(json!({"detail": [{"type": "bool_parsing", "loc": ["body", "enabled"], "msg": "Input should be a valid boolean"}]})),
                            )
                                .into_response();
                        }
                    },
                    _ => {}
                }
            }
            axum::Json(user_json(u)).into_response()
        }
        (Method::DELETE, ["api", "users", id]) => {
            if *id == me.id.to_string() {
                return detail(StatusCode::BAD_REQUEST, "You cannot delete yourself");
            }
            let before = s.users.len();
            s.users.retain(|u| u.id.to_string() != *id);
            if s.users.len() == before {
                detail(StatusCode::NOT_FOUND, "User not found")
            } else {
                axum::Json(Value::Null).into_response()
            }
        }
        (_, ["api", "permissions", ..]) if !s.five() => detail(StatusCode::NOT_FOUND, "Not Found"),
        (Method::GET, ["api", "permissions", "users", id]) => {
            match s.users.iter().find(|u| u.id.to_string() == *id) {
                Some(u) => axum::Json(json!({
                    "user_id": u.id, "permission_group_id": null, "overrides": [],
                    "hidden": u.hidden.iter().map(|h| json!({"entity": "platforms", "entity_id": h})).collect::<Vec<_>>(),
                }))
                .into_response(),
                None => detail(StatusCode::NOT_FOUND, "Not found"),
            }
        }
        (method @ (Method::POST | Method::DELETE), ["api", "permissions", "hidden"]) => {
            let Some(body) = json_body() else {
                return detail(StatusCode::UNPROCESSABLE_ENTITY, "Invalid body");
            };
            hide(&mut s, &method, &body)
        }
        _ => detail(StatusCode::NOT_FOUND, "Not Found"),
    }
}

fn hide(s: &mut Store, method: &Method, body: &Map<String, Value>) -> Response {
    if body.get("entity").and_then(Value::as_str) != Some("platforms") {
        return detail(
            StatusCode::BAD_REQUEST,
            "Only platforms and roms can be hidden",
        );
    }
    let (Some(entity_id), Some(user_id)) = (
        body.get("entity_id").and_then(Value::as_i64),
        body.get("user_id").and_then(Value::as_i64),
    ) else {
        return detail(
            StatusCode::BAD_REQUEST,
            "Exactly one of user_id or group_id must be set",
        );
    };
    let Some(u) = s.users.iter_mut().find(|u| u.id == user_id) else {
        // The row's foreign key fails.
        return detail(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    if *method == Method::POST {
        if !u.hidden.contains(&entity_id) {
            u.hidden.push(entity_id);
        }
        axum::Json(json!({"entity": "platforms", "entity_id": entity_id})).into_response()
    } else {
        u.hidden.retain(|h| *h != entity_id);
        StatusCode::NO_CONTENT.into_response()
    }
}

fn create(s: &mut Store, body: Option<Map<String, Value>>) -> Response {
    let Some(body) = body else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"detail": [{"type": "missing", "loc": ["body", "username"], "msg": "Field required"}]})),
        )
            .into_response();
    };
    for key in ["username", "email", "password", "role"] {
        if !body.contains_key(key) {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                axum::Json(json!({"detail": [{"type": "missing", "loc": ["body", key], "msg": "Field required"}]})),
            )
                .into_response();
        }
    }
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (username, email, password, role) = (
        text("username"),
        text("email"),
        text("password"),
        text("role"),
    );
    let name_ok = (3..=255).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    if !name_ok {
        return detail(
            StatusCode::BAD_REQUEST,
            "Username must be 3-255 characters of letters, digits, _ or -",
        );
    }
    if password.len() < 6 || !password.is_ascii() {
        return detail(
            StatusCode::BAD_REQUEST,
            "Password must be at least 6 ASCII characters",
        );
    }
    let username = username.to_lowercase();
    if s.users.iter().any(|u| u.username == username) {
        return detail(
            StatusCode::BAD_REQUEST,
            &format!("Username {username} already exists"),
        );
    }
    let email = Some(email.to_lowercase()).filter(|e| !e.is_empty());
    if email.is_some() && s.users.iter().any(|u| u.email == email) {
        return detail(
            StatusCode::BAD_REQUEST,
            &format!(
                "User with email {} already exists",
                email.clone().unwrap_or_default()
            ),
        );
    }
    let role = if s.five() {
        if role == "admin" { "admin" } else { "user" }.to_string()
    } else {
        match role.to_uppercase().as_str() {
            "VIEWER" | "EDITOR" | "ADMIN" => role.to_lowercase(),
            _ => return detail(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
        }
    };
    let user = FakeUser {
        id: s.next_id,
        username,
        email,
        password,
        role,
        enabled: true,
        hidden: Vec::new(),
    };
    s.next_id += 1;
    let answer = (StatusCode::CREATED, axum::Json(user_json(&user))).into_response();
    s.users.push(user);
    answer
}
