//! Fake Komga 1.x, following `reference/more-servers-api.md` §1.3.
//!
//! It keeps users and libraries and reproduces what a client can get wrong: the login is the
//! email (compared without case); unknown roles, `"USER"` among them, are dropped and omitted
//! roles mean none; an omitted `sharedLibraries` shares every library; unknown library ids are
//! dropped silently; an update answers 204 and ignores properties it does not know; there is no
//! call that reads one user (405); bodies must be JSON (415); validation answers
//! `{"violations": […]}` before the administrator check; reading pages needs `PAGE_STREAMING`.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::control::{Control, Running, decode_base64};

pub const API_KEY: &str = "komga-0f3c9a7e5b2d4e1f8a6c3b9d7e5f2a10";
pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "usher-demo";
pub const VERSION: &str = "1.23.4";
const ROLES: [&str; 5] = [
    "ADMIN",
    "FILE_DOWNLOAD",
    "PAGE_STREAMING",
    "KOBO_SYNC",
    "KOREADER_SYNC",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeLibrary {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    pub id: String,
    pub email: String,
    pub password: String,
    pub roles: Vec<String>,
    pub shared_all: bool,
    pub shared_ids: Vec<String>,
}

impl FakeUser {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Whether this user can read a book's pages in `library` (the web reader's images).
    pub fn can_read_pages_in(&self, library: &str) -> bool {
        self.has_role("PAGE_STREAMING")
            && (self.shared_all || self.shared_ids.iter().any(|l| l == library))
    }
}

struct Store {
    libraries: Vec<FakeLibrary>,
    users: Vec<FakeUser>,
    counter: u64,
}

struct Shared {
    state: Mutex<Store>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Store> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running fake Komga. Dropping it stops the server.
pub struct FakeKomga {
    running: Running,
    shared: Arc<Shared>,
}

impl FakeKomga {
    /// Starts a fake with an administrator (who holds [`API_KEY`]) and three libraries.
    ///
    /// # Panics
    /// If loopback cannot be bound.
    pub async fn start() -> FakeKomga {
        Self::start_on("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the fake")
    }

    pub async fn start_on(bind: &str) -> std::io::Result<FakeKomga> {
        let lib = |id: &str, name: &str| FakeLibrary {
            id: id.into(),
            name: name.into(),
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(Store {
                libraries: vec![
                    lib("0LIBCOMICS00A", "Comics"),
                    lib("0LIBMANGA000B", "Manga"),
                    lib("0LIBADULT000C", "Graphic novels"),
                ],
                users: vec![FakeUser {
                    id: "0USERADMIN001".into(),
                    email: ADMIN_EMAIL.into(),
                    password: ADMIN_PASSWORD.into(),
                    roles: ROLES.iter().map(|r| r.to_string()).collect(),
                    shared_all: true,
                    shared_ids: Vec::new(),
                }],
                counter: 0,
            }),
        });
        let control = Control::default();
        let router = control.layer(Router::new().fallback(handle).with_state(shared.clone()));
        let running = Running::start_on(bind, router, control).await?;
        Ok(FakeKomga { running, shared })
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

    pub fn library_id(&self, name: &str) -> String {
        self.shared
            .lock()
            .libraries
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.id.clone())
            .unwrap_or_else(|| panic!("no library {name}"))
    }

    pub fn users(&self) -> Vec<FakeUser> {
        self.shared.lock().users.clone()
    }

    pub fn user_by_email(&self, email: &str) -> Option<FakeUser> {
        self.users()
            .into_iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    /// Adds a reader as someone did in Komga's UI; returns its id.
    pub fn add_user(&self, email: &str, password: &str, libraries: &[&str]) -> String {
        let mut s = self.shared.lock();
        s.counter += 1;
        let id = format!("0USER{:08X}", s.counter);
        s.users.push(FakeUser {
            id: id.clone(),
            email: email.into(),
            password: password.into(),
            roles: vec!["PAGE_STREAMING".into()],
            shared_all: libraries.is_empty(),
            shared_ids: libraries.iter().map(|l| l.to_string()).collect(),
        });
        id
    }

    /// Whether `email` and `password` sign in.
    pub fn signs_in(&self, email: &str, password: &str) -> bool {
        self.user_by_email(email)
            .is_some_and(|u| u.password == password)
    }
}

fn user_json(u: &FakeUser) -> Value {
    let mut roles = u.roles.clone();
    roles.push("USER".into());
    json!({
        "id": u.id,
        "email": u.email,
        "roles": roles,
        "sharedAllLibraries": u.shared_all,
        "sharedLibrariesIds": u.shared_ids,
        "labelsAllow": [],
        "labelsExclude": [],
    })
}

/// Spring's error body (`server.error.include-message: always`).
fn spring_error(status: StatusCode, message: &str, path: &str) -> Response {
    (
        status,
        axum::Json(json!({
            "timestamp": "2026-12-01T10:00:00.000+00:00",
            "status": status.as_u16(),
            "error": status.canonical_reason().unwrap_or(""),
            "message": message,
            "path": path,
        })),
    )
        .into_response()
}

fn violations(list: &[(&str, &str)]) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({
            "violations": list.iter().map(|(f, m)| json!({"fieldName": f, "message": m})).collect::<Vec<_>>()
        })),
    )
        .into_response()
}

/// Roles Komga knows, from what was sent (`UserRoles.valuesOf`); unknown ones are dropped.
fn known_roles(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|r| ROLES.contains(r))
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn caller(s: &Store, headers: &HeaderMap) -> Option<FakeUser> {
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return (key == API_KEY)
            .then(|| s.users.iter().find(|u| u.id == "0USERADMIN001").cloned())
            .flatten();
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))?;
    let decoded = decode_base64(basic)?;
    let (email, password) = decoded.split_once(':')?;
    s.users
        .iter()
        .find(|u| u.email.eq_ignore_ascii_case(email) && u.password == password)
        .cloned()
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, 1024 * 1024).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let path = parts.uri.path().to_string();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let mut s = shared.lock();
    let Some(me) = caller(&s, &parts.headers) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let admin = me.has_role("ADMIN");
    let needs_body = matches!(parts.method, Method::POST | Method::PATCH);
    if needs_body && !is_json {
        return spring_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type not supported",
            &path,
        );
    }
    let object = || match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    };
    match (parts.method.clone(), segs.as_slice()) {
        (Method::GET, ["api", "v2", "users", "me"]) => axum::Json(user_json(&me)).into_response(),
        (Method::GET, ["actuator", "info"]) if admin => axum::Json(json!({
            "git": {"branch": "master", "commit": {"id": "4f1c2ab", "time": "2026-10-02T08:00:00Z"}},
            "build": {"artifact": "komga", "name": "komga", "version": VERSION, "group": "komga"},
        }))
        .into_response(),
        (Method::GET, ["actuator", ..]) => {
            spring_error(StatusCode::FORBIDDEN, "Forbidden", &path)
        }
        (Method::GET, ["api", "v1", "libraries"]) => {
            let visible: Vec<Value> = s
                .libraries
                .iter()
                .filter(|l| me.shared_all || me.shared_ids.contains(&l.id))
                .map(|l| {
                    let mut v = json!({"id": l.id, "name": l.name, "unavailable": false});
                    if admin {
                        v["root"] = Value::String(format!("/books/{}", l.name));
                    }
                    v
                })
                .collect();
            axum::Json(Value::Array(visible)).into_response()
        }
        (_, ["api", "v2", "users", ..]) if !admin && !needs_body => {
            spring_error(StatusCode::FORBIDDEN, "Forbidden", &path)
        }
        (Method::GET, ["api", "v2", "users"]) => {
            axum::Json(Value::Array(s.users.iter().map(user_json).collect())).into_response()
        }
        (Method::GET, ["api", "v2", "users", _]) => {
            spring_error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed", &path)
        }
        (Method::POST, ["api", "v2", "users"]) => {
            let Some(body) = object() else {
                return spring_error(StatusCode::BAD_REQUEST, "Failed to read request", &path);
            };
            create(&mut s, &body, admin, &path)
        }
        (Method::PATCH, ["api", "v2", "users", id]) => {
            let Some(body) = object() else {
                return spring_error(StatusCode::BAD_REQUEST, "Failed to read request", &path);
            };
            if !admin {
                return spring_error(StatusCode::FORBIDDEN, "Forbidden", &path);
            }
            if *id == me.id {
                return spring_error(StatusCode::BAD_REQUEST, "Cannot modify yourself", &path);
            }
            let known: Vec<String> = s.libraries.iter().map(|l| l.id.clone()).collect();
            let Some(u) = s.users.iter_mut().find(|u| u.id == *id) else {
                return spring_error(StatusCode::NOT_FOUND, "Not Found", &path);
            };
            if let Some(roles) = body.get("roles") {
                if roles.is_null() {
                    return spring_error(StatusCode::INTERNAL_SERVER_ERROR, "roles", &path);
                }
                u.roles = known_roles(roles);
            }
            if let Some(shared) = body.get("sharedLibraries") {
                let Some(shared) = shared.as_object() else {
                    return spring_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "sharedLibraries",
                        &path,
                    );
                };
                apply_shared(u, shared, &known);
            }
            StatusCode::NO_CONTENT.into_response()
        }
        (Method::PATCH, ["api", "v2", "users", id, "password"]) => {
            let Some(password) = object()
                .and_then(|b| b.get("password").and_then(Value::as_str).map(String::from))
                .filter(|p| !p.trim().is_empty())
            else {
                return violations(&[("password", "must not be blank")]);
            };
            if !admin && *id != me.id {
                return spring_error(StatusCode::FORBIDDEN, "Forbidden", &path);
            }
            match s.users.iter_mut().find(|u| u.id == *id) {
                Some(u) => {
                    u.password = password;
                    StatusCode::NO_CONTENT.into_response()
                }
                None => spring_error(StatusCode::NOT_FOUND, "Not Found", &path),
            }
        }
        (Method::DELETE, ["api", "v2", "users", id]) => {
            if *id == me.id {
                return spring_error(StatusCode::BAD_REQUEST, "Cannot delete yourself", &path);
            }
            let before = s.users.len();
            s.users.retain(|u| u.id != *id);
            if s.users.len() == before {
                spring_error(StatusCode::NOT_FOUND, "Not Found", &path)
            } else {
                StatusCode::NO_CONTENT.into_response()
            }
        }
        _ => spring_error(StatusCode::NOT_FOUND, "Not Found", &path),
    }
}

/// `sharedLibraries: {all, libraryIds}`; unknown ids are dropped.
fn apply_shared(u: &mut FakeUser, shared: &Map<String, Value>, known: &[String]) {
    u.shared_all = shared.get("all").and_then(Value::as_bool).unwrap_or(false);
    u.shared_ids = if u.shared_all {
        Vec::new()
    } else {
        shared
            .get("libraryIds")
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(Value::as_str)
                    .filter(|id| known.iter().any(|k| k == id))
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
}

fn create(s: &mut Store, body: &Map<String, Value>, admin: bool, path: &str) -> Response {
    let email = body.get("email").and_then(Value::as_str).unwrap_or("");
    let password = body.get("password").and_then(Value::as_str).unwrap_or("");
    let mut problems = Vec::new();
    let well_formed = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.ends_with('.')
    });
    if !well_formed {
        problems.push(("email", "must be a well-formed email address"));
    }
    if password.trim().is_empty() {
        problems.push(("password", "must not be blank"));
    }
    // Validation comes before the role check.
    if !problems.is_empty() {
        return violations(&problems);
    }
    if !admin {
        return spring_error(StatusCode::FORBIDDEN, "Forbidden", path);
    }
    if s.users.iter().any(|u| u.email.eq_ignore_ascii_case(email)) {
        return spring_error(
            StatusCode::BAD_REQUEST,
            "A user with this email already exists",
            path,
        );
    }
    s.counter += 1;
    let known: Vec<String> = s.libraries.iter().map(|l| l.id.clone()).collect();
    let mut user = FakeUser {
        id: format!("0USER{:08X}", s.counter),
        email: email.into(),
        password: password.into(),
        roles: body.get("roles").map(known_roles).unwrap_or_default(),
        shared_all: true,
        shared_ids: Vec::new(),
    };
    if let Some(shared) = body.get("sharedLibraries").and_then(Value::as_object) {
        apply_shared(&mut user, shared, &known);
    }
    let answer = (StatusCode::CREATED, axum::Json(user_json(&user))).into_response();
    s.users.push(user);
    answer
}
