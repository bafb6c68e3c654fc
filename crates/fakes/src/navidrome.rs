//! Fake Navidrome 0.58+, following `reference/more-servers-api.md` §1.2.
//!
//! It keeps users, libraries and sessions, and reproduces what a client can get wrong: only the
//! native API manages users (the Subsonic user calls answer 501); a session token travels in
//! `X-ND-Authorization`; a new non-administrator gets the libraries marked for new users; a user
//! must keep at least one library; names compare without case for ASCII letters only; a user
//! save writes every column, so a field left out is blanked; an update of an unknown id creates
//! a user; deleting an unknown id answers 200.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::control::{Control, Running};

pub const ADMIN_NAME: &str = "admin";
pub const ADMIN_PASSWORD: &str = "usher-demo";
const AUTH_HEADER: &str = "x-nd-authorization";

/// A library as the fake stores one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeLibrary {
    pub id: i64,
    pub name: String,
    pub default_new_users: bool,
}

/// A user as the fake stores one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    pub id: String,
    pub user_name: String,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    pub password: String,
    pub libraries: Vec<i64>,
}

struct Store {
    version: String,
    libraries: Vec<FakeLibrary>,
    users: Vec<FakeUser>,
    /// Session token → user id.
    sessions: Vec<(String, String)>,
    counter: u64,
}

impl Store {
    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{:016x}", self.counter * 0x9e37_79b9)
    }

    fn library_json(&self, id: i64) -> Value {
        let l = self.libraries.iter().find(|l| l.id == id);
        json!({
            "id": id,
            "name": l.map(|l| l.name.clone()).unwrap_or_default(),
            "path": format!("/music/{id}"),
            "remotePath": "",
            "defaultNewUsers": l.is_some_and(|l| l.default_new_users),
            "totalSongs": 120,
        })
    }

    fn user_json(&self, u: &FakeUser) -> Value {
        let libraries: Vec<i64> = if u.is_admin {
            self.libraries.iter().map(|l| l.id).collect()
        } else {
            u.libraries.clone()
        };
        json!({
            "id": u.id,
            "userName": u.user_name,
            "name": u.name,
            "email": u.email,
            "isAdmin": u.is_admin,
            "lastLoginAt": null,
            "lastAccessAt": null,
            "createdAt": "2026-11-01T10:00:00Z",
            "updatedAt": "2026-11-01T10:00:00Z",
            "libraries": libraries.iter().map(|id| self.library_json(*id)).collect::<Vec<_>>(),
        })
    }

    fn new_user_libraries(&self) -> Vec<i64> {
        self.libraries
            .iter()
            .filter(|l| l.default_new_users)
            .map(|l| l.id)
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

/// A running fake Navidrome. Dropping it stops the server.
pub struct FakeNavidrome {
    running: Running,
    shared: Arc<Shared>,
}

impl FakeNavidrome {
    /// Starts a fake with an administrator and three libraries (only `Music` for new users).
    ///
    /// # Panics
    /// If loopback cannot be bound.
    pub async fn start() -> FakeNavidrome {
        Self::start_on("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the fake")
    }

    pub async fn start_on(bind: &str) -> std::io::Result<FakeNavidrome> {
        let shared = Arc::new(Shared {
            state: Mutex::new(Store {
                version: "0.63.2 (3e4ab1c)".into(),
                libraries: vec![
                    FakeLibrary {
                        id: 1,
                        name: "Music".into(),
                        default_new_users: true,
                    },
                    FakeLibrary {
                        id: 2,
                        name: "Audiobooks".into(),
                        default_new_users: false,
                    },
                    FakeLibrary {
                        id: 3,
                        name: "Live recordings".into(),
                        default_new_users: false,
                    },
                ],
                users: vec![FakeUser {
                    id: "adm0000000000000001".into(),
                    user_name: ADMIN_NAME.into(),
                    name: "Admin".into(),
                    email: String::new(),
                    is_admin: true,
                    password: ADMIN_PASSWORD.into(),
                    libraries: Vec::new(),
                }],
                sessions: Vec::new(),
                counter: 0,
            }),
        });
        let control = Control::default();
        let router = control.layer(Router::new().fallback(handle).with_state(shared.clone()));
        let running = Running::start_on(bind, router, control).await?;
        Ok(FakeNavidrome { running, shared })
    }

    pub fn url(&self) -> String {
        self.running.url()
    }

    pub fn control(&self) -> &Control {
        &self.running.control
    }

    /// The credential usher stores for this fake: the administrator's sign-in.
    pub fn admin_login(&self) -> (String, String) {
        (ADMIN_NAME.into(), ADMIN_PASSWORD.into())
    }

    pub fn library_id(&self, name: &str) -> String {
        self.shared
            .lock()
            .libraries
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.id.to_string())
            .unwrap_or_else(|| panic!("no library {name}"))
    }

    pub fn users(&self) -> Vec<FakeUser> {
        self.shared.lock().users.clone()
    }

    pub fn user_by_name(&self, name: &str) -> Option<FakeUser> {
        self.users().into_iter().find(|u| u.user_name == name)
    }

    /// Adds an ordinary user as someone did in Navidrome's UI; returns its id.
    pub fn add_user(&self, user_name: &str, password: &str, libraries: &[i64]) -> String {
        let mut s = self.shared.lock();
        let id = s.fresh("usr");
        s.users.push(FakeUser {
            id: id.clone(),
            user_name: user_name.into(),
            name: user_name.into(),
            email: String::new(),
            is_admin: false,
            password: password.into(),
            libraries: libraries.to_vec(),
        });
        id
    }

    /// Whether `user_name` and `password` sign in.
    pub fn signs_in(&self, user_name: &str, password: &str) -> bool {
        let s = self.shared.lock();
        s.users
            .iter()
            .any(|u| u.user_name.eq_ignore_ascii_case(user_name) && u.password == password)
    }

    /// The id the next user made will get (to aim a failure at its calls).
    pub fn next_user_id(&self) -> String {
        let s = self.shared.lock();
        format!("usr{:016x}", (s.counter + 1) * 0x9e37_79b9)
    }

    /// Ends every session, as when the 48-hour session timeout passes.
    pub fn expire_sessions(&self) {
        self.shared.lock().sessions.clear();
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

fn plain(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_string(),
    )
        .into_response()
}

fn listed(items: Vec<Value>) -> Response {
    let count = items.len().to_string();
    (
        StatusCode::OK,
        [("X-Total-Count", count)],
        axum::Json(Value::Array(items)),
    )
        .into_response()
}

/// Go's JSON: field names match without case; returns the value for `key`.
fn field<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    body.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// A string field; `None` for a value of another type (Go's unmarshal error).
fn string_field(body: &Map<String, Value>, key: &str) -> Option<String> {
    match field(body, key) {
        None | Some(Value::Null) => Some(String::new()),
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => None,
    }
}

fn bool_field(body: &Map<String, Value>, key: &str) -> Option<bool> {
    match field(body, key) {
        None | Some(Value::Null) => Some(false),
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => None,
    }
}

/// The fields a user save reads: user name, name, email, password, administrator.
fn user_fields(body: &Map<String, Value>) -> Option<(String, String, String, String, bool)> {
    Some((
        string_field(body, "userName")?,
        string_field(body, "name")?,
        string_field(body, "email")?,
        string_field(body, "password")?,
        bool_field(body, "isAdmin")?,
    ))
}

fn invalid_payload() -> Response {
    error(StatusCode::UNPROCESSABLE_ENTITY, "Invalid request payload")
}

/// A JSON object body; `None` for anything else.
fn object(body: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Some(m),
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
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or_default();
    let q = |k: &str| {
        query
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let mut s = shared.lock();
    match (parts.method.clone(), segs.as_slice()) {
        (Method::POST, ["auth", "login"]) => {
            let Some(body) = object(&body) else {
                return invalid_payload();
            };
            let name = field(&body, "username")
                .and_then(Value::as_str)
                .unwrap_or("");
            let password = field(&body, "password")
                .and_then(Value::as_str)
                .unwrap_or("");
            let Some(user) = s
                .users
                .iter()
                .find(|u| u.user_name.eq_ignore_ascii_case(name) && u.password == password)
                .cloned()
            else {
                return error(StatusCode::UNAUTHORIZED, "Invalid username or password");
            };
            let token = format!("jwt.{}.{}", user.id, s.sessions.len() + 1);
            s.sessions.push((token.clone(), user.id.clone()));
            axum::Json(json!({
                "id": user.id, "name": user.name, "username": user.user_name,
                "isAdmin": user.is_admin, "token": token,
                "subsonicSalt": "a1b2c3", "subsonicToken": format!("tok-{}", user.id),
            }))
            .into_response()
        }
        (Method::GET, ["rest", "ping.view"]) => {
            let ok = s
                .users
                .iter()
                .any(|u| u.user_name == q("u") && q("t") == format!("tok-{}", u.id));
            let mut answer = json!({
                "status": if ok { "ok" } else { "failed" }, "version": "1.16.1",
                "type": "navidrome", "serverVersion": s.version, "openSubsonic": true,
            });
            if !ok {
                answer["error"] = json!({"code": 40, "message": "Wrong username or password"});
            }
            axum::Json(json!({ "subsonic-response": answer })).into_response()
        }
        (_, ["rest", call])
            if call.starts_with("createUser")
                || call.starts_with("updateUser")
                || call.starts_with("deleteUser") =>
        {
            plain(
                StatusCode::NOT_IMPLEMENTED,
                "This endpoint is not implemented, but may be in future releases",
            )
        }
        (method, ["api", rest @ ..]) => {
            let token = parts
                .headers
                .get(AUTH_HEADER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            let caller = s
                .sessions
                .iter()
                .find(|(t, _)| t == token)
                .and_then(|(_, id)| s.users.iter().find(|u| u.id == *id))
                .cloned();
            let Some(caller) = caller else {
                return error(StatusCode::UNAUTHORIZED, "Not authenticated");
            };
            if !caller.is_admin {
                return error(StatusCode::FORBIDDEN, "Permission denied");
            }
            api(&mut s, &method, rest, &body)
        }
        _ => plain(StatusCode::NOT_FOUND, "404 page not found"),
    }
}

fn api(s: &mut Store, method: &Method, segs: &[&str], body: &[u8]) -> Response {
    match (method.clone(), segs) {
        (Method::GET, ["library"]) => {
            let items = s.libraries.iter().map(|l| s.library_json(l.id)).collect();
            listed(items)
        }
        (Method::GET, ["user"]) => {
            let items = s.users.iter().map(|u| s.user_json(u)).collect();
            listed(items)
        }
        (Method::POST, ["user"]) => {
            let Some((user_name, name, email, password, is_admin)) =
                object(body).as_ref().and_then(user_fields)
            else {
                return invalid_payload();
            };
            if s.users
                .iter()
                .any(|u| u.user_name.eq_ignore_ascii_case(&user_name))
            {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"errors": {"userName": "ra.validation.unique"}})),
                )
                    .into_response();
            }
            let id = s.fresh("usr");
            let libraries = if is_admin {
                Vec::new()
            } else {
                s.new_user_libraries()
            };
            s.users.push(FakeUser {
                id: id.clone(),
                user_name,
                name,
                email,
                is_admin,
                password,
                libraries,
            });
            axum::Json(json!({ "id": id })).into_response()
        }
        (Method::GET, ["user", id]) => match s.users.iter().find(|u| u.id == *id) {
            Some(u) => axum::Json(s.user_json(u)).into_response(),
            None => error(StatusCode::NOT_FOUND, "data not found"),
        },
        (Method::PUT, ["user", id]) => {
            let Some((user_name, name, email, password, is_admin)) =
                object(body).as_ref().and_then(user_fields)
            else {
                return invalid_payload();
            };
            let new_libraries = s.new_user_libraries();
            match s.users.iter_mut().find(|u| u.id == *id) {
                // Every column is written: what is left out is blanked.
                Some(u) => {
                    u.user_name = user_name;
                    u.name = name;
                    u.email = email;
                    u.is_admin = is_admin;
                    if !password.is_empty() {
                        u.password = password;
                    }
                }
                // An unknown id is a new user.
                None => s.users.push(FakeUser {
                    id: id.to_string(),
                    user_name,
                    name,
                    email,
                    is_admin,
                    password,
                    libraries: new_libraries,
                }),
            }
            let u = s.users.iter().find(|u| u.id == *id).cloned();
            match u {
                Some(u) => axum::Json(s.user_json(&u)).into_response(),
                None => error(StatusCode::INTERNAL_SERVER_ERROR, "saving user"),
            }
        }
        (Method::DELETE, ["user", id]) => {
            s.users.retain(|u| u.id != *id);
            s.sessions.retain(|(_, uid)| uid != id);
            axum::Json(json!({})).into_response()
        }
        (Method::GET, ["user", id, "library"]) => match s.users.iter().find(|u| u.id == *id) {
            Some(u) => {
                let libs = u.libraries.clone();
                listed(libs.iter().map(|l| s.library_json(*l)).collect())
            }
            None => plain(StatusCode::NOT_FOUND, "User not found"),
        },
        (Method::PUT, ["user", id, "library"]) => {
            let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
                return plain(StatusCode::BAD_REQUEST, "Invalid request body");
            };
            let Some(ids) = field(&body, "libraryIds").and_then(Value::as_array) else {
                return plain(StatusCode::BAD_REQUEST, "Invalid request body");
            };
            let Some(ids) = ids.iter().map(Value::as_i64).collect::<Option<Vec<i64>>>() else {
                return plain(StatusCode::BAD_REQUEST, "Invalid request body");
            };
            let Some(pos) = s.users.iter().position(|u| u.id == *id) else {
                return plain(StatusCode::NOT_FOUND, "User not found");
            };
            if s.users[pos].is_admin {
                return plain(
                    StatusCode::BAD_REQUEST,
                    "Invalid request: cannot manually assign libraries to admin users",
                );
            }
            if ids.is_empty() {
                return plain(
                    StatusCode::BAD_REQUEST,
                    "Invalid request: at least one library must be assigned to non-admin users",
                );
            }
            let mut seen = Vec::new();
            for lib in &ids {
                if seen.contains(lib) || !s.libraries.iter().any(|l| l.id == *lib) {
                    return plain(
                        StatusCode::BAD_REQUEST,
                        &format!("Invalid request: library ID {lib} does not exist or is repeated"),
                    );
                }
                seen.push(*lib);
            }
            s.users[pos].libraries = ids.clone();
            axum::Json(Value::Array(
                ids.iter().map(|l| s.library_json(*l)).collect(),
            ))
            .into_response()
        }
        _ => plain(StatusCode::NOT_FOUND, "404 page not found"),
    }
}
