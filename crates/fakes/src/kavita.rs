//! Fake Kavita, following `reference/more-servers-api.md` §1.4 and Kavita's own controllers.
//!
//! It keeps users and libraries and reproduces what a client can get wrong:
//! - there is no "create with a password": `Account/invite` makes a pending account named by
//!   the email, and the anonymous `Account/confirm-email` takes the token from the invite link
//!   (URL-encoded there), a user name and a password;
//! - an invite needs `ageRestriction` with both members (400 ProblemDetails otherwise), and a
//!   `null` `roles` or `libraries` is a 500; unknown role names are skipped; `Pleb` is added
//!   to every non-administrator, and sending it (or any role twice) answers 400 *after* the
//!   pending account was made;
//! - the age filter: `-1` is no restriction, `0` shows only unrated series;
//! - confirming consumes the token before the user name's characters are checked, so a bad
//!   name leaves a confirmed account with no password of its own;
//! - `Account/update` replaces the roles whole; an unknown role answers 500 after the old roles
//!   were removed (the account can no longer sign in);
//! - names and emails compare without case; string errors are `text/plain`;
//! - `GET /api/Users` lists every library's id as 0;
//! - `reset-password` with an unknown name answers 200 and does nothing;
//! - without `Login` an account cannot sign in, but tokens it already holds keep working.
//!
//! [`FakeKavita::start`] behaves as 0.9 (the auth key is taken from `x-api-key`);
//! [`FakeKavita::start_legacy`] as 0.8.3, which reads no such header: the key must be traded for
//! a token at `Plugin/authenticate`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::control::{Control, Running};

pub const API_KEY: &str = "kavita-6b1e94c2d7a34f0e8c5b2a91d3e7f640";
pub const ADMIN_NAME: &str = "admin";
pub const ADMIN_PASSWORD: &str = "usher-demo";
pub const VERSION: &str = "0.9.0.10";
pub const LEGACY_VERSION: &str = "0.8.3.2";
pub const INSTALL_ID: &str = "kavita-install-5f2c";
const VALID_ROLES: [&str; 9] = [
    "Admin",
    "Pleb",
    "Download",
    "Change Password",
    "Bookmark",
    "Change Restriction",
    "Login",
    "Read Only",
    "Promote",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeLibrary {
    pub id: i64,
    pub name: String,
    /// `LibraryType`: 0 manga, 1 comic, 2 book.
    pub kind: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub pending: bool,
    pub password: String,
    pub roles: Vec<String>,
    pub libraries: Vec<i64>,
    pub age_rating: i64,
    pub include_unknowns: bool,
    confirmation_token: Option<String>,
}

impl FakeUser {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r.eq_ignore_ascii_case(role))
    }

    fn is_admin(&self) -> bool {
        self.has_role("Admin")
    }

    /// Whether a series rated `rating` (`AgeRating`: 0 unknown, 3 everyone, … 14 X18+) shows
    /// for this account.
    pub fn sees_series_rated(&self, rating: i64) -> bool {
        if self.age_rating == -1 {
            return true;
        }
        if rating == 0 {
            return self.include_unknowns;
        }
        rating <= self.age_rating
    }
}

struct Store {
    base: String,
    legacy: bool,
    libraries: Vec<FakeLibrary>,
    users: Vec<FakeUser>,
    /// Session token → user id, as `Plugin/authenticate`, `login` and `confirm-email` give.
    sessions: HashMap<String, i64>,
    /// Auth key → user id; [`API_KEY`] is the administrator's.
    keys: HashMap<String, i64>,
    counter: i64,
}

struct Shared {
    state: Mutex<Store>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Store> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running fake Kavita. Dropping it stops the server.
pub struct FakeKavita {
    running: Running,
    shared: Arc<Shared>,
}

impl FakeKavita {
    /// Starts a Kavita 0.9 with an administrator (who holds [`API_KEY`]) and three libraries.
    ///
    /// # Panics
    /// If loopback cannot be bound.
    pub async fn start() -> FakeKavita {
        Self::start_on("127.0.0.1:0", false)
            .await
            .expect("bind a loopback port for the fake")
    }

    /// Starts a Kavita 0.8.3, which does not read `x-api-key`.
    ///
    /// # Panics
    /// If loopback cannot be bound.
    pub async fn start_legacy() -> FakeKavita {
        Self::start_on("127.0.0.1:0", true)
            .await
            .expect("bind a loopback port for the fake")
    }

    pub async fn start_on(bind: &str, legacy: bool) -> std::io::Result<FakeKavita> {
        let lib = |id: i64, name: &str, kind: i64| FakeLibrary {
            id,
            name: name.into(),
            kind,
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(Store {
                base: String::new(),
                legacy,
                libraries: vec![
                    lib(1, "Manga", 0),
                    lib(2, "Comics", 1),
                    lib(3, "Light novels", 4),
                ],
                users: vec![FakeUser {
                    id: 1,
                    username: ADMIN_NAME.into(),
                    email: "admin@example.com".into(),
                    pending: false,
                    password: ADMIN_PASSWORD.into(),
                    roles: vec!["Admin".into(), "Login".into()],
                    libraries: vec![1, 2, 3],
                    age_rating: -1,
                    include_unknowns: true,
                    confirmation_token: None,
                }],
                sessions: HashMap::new(),
                keys: HashMap::from([(API_KEY.to_string(), 1)]),
                counter: 1,
            }),
        });
        let control = Control::default();
        let router = control.layer(Router::new().fallback(handle).with_state(shared.clone()));
        let running = Running::start_on(bind, router, control).await?;
        shared.lock().base = running.url();
        Ok(FakeKavita { running, shared })
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
            .map(|l| l.id.to_string())
            .unwrap_or_else(|| panic!("no library {name}"))
    }

    pub fn users(&self) -> Vec<FakeUser> {
        self.shared.lock().users.clone()
    }

    pub fn user(&self, username: &str) -> Option<FakeUser> {
        self.users()
            .into_iter()
            .find(|u| u.username.eq_ignore_ascii_case(username))
    }

    /// Adds a reader as someone did in Kavita's UI; returns its id.
    pub fn add_user(&self, username: &str, email: &str, password: &str) -> i64 {
        let mut s = self.shared.lock();
        s.counter += 1;
        let id = s.counter;
        s.users.push(FakeUser {
            id,
            username: username.into(),
            email: email.into(),
            pending: false,
            password: password.into(),
            roles: vec!["Pleb".into(), "Login".into()],
            libraries: vec![1],
            age_rating: -1,
            include_unknowns: true,
            confirmation_token: None,
        });
        id
    }

    /// Changes an account as someone did in Kavita's UI.
    pub fn edit(&self, username: &str, change: impl FnOnce(&mut FakeUser)) {
        let mut s = self.shared.lock();
        let user = s
            .users
            .iter_mut()
            .find(|u| u.username.eq_ignore_ascii_case(username))
            .unwrap_or_else(|| panic!("no user {username}"));
        change(user);
    }

    /// An auth key of `username`'s own.
    pub fn auth_key_for(&self, username: &str) -> String {
        let mut s = self.shared.lock();
        let id = s
            .users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(username))
            .unwrap_or_else(|| panic!("no user {username}"))
            .id;
        let key = format!("kavita-key-of-{id}");
        s.keys.insert(key.clone(), id);
        key
    }

    /// Whether `username` and `password` sign in at Kavita's sign-in page.
    pub fn signs_in(&self, username: &str, password: &str) -> bool {
        let s = self.shared.lock();
        login(&s, username, password).is_ok()
    }

    /// A session token for `username`, as a reading app holds after signing in.
    pub fn session_for(&self, username: &str) -> Option<String> {
        let mut s = self.shared.lock();
        let id = s
            .users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(username))?
            .id;
        Some(new_session(&mut s, id))
    }
}

fn new_session(s: &mut Store, user_id: i64) -> String {
    s.counter += 1;
    let token = format!(
        "eyJhbGciOiJIUzI1NiJ9.kavita-session-{}-{user_id}",
        s.counter
    );
    s.sessions.insert(token.clone(), user_id);
    token
}

fn text(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_string(),
    )
        .into_response()
}

/// `[ApiController]`'s answer to a body that does not bind.
fn problem(status: StatusCode, title: &str, errors: Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            "application/problem+json; charset=utf-8",
        )],
        json!({
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "title": title,
            "status": status.as_u16(),
            "errors": errors,
            "traceId": "00-fake-00",
        })
        .to_string(),
    )
        .into_response()
}

/// `[{"status":400,"message":…,"details":null}]`, Kavita's `ApiException` list.
fn api_exceptions(messages: &[&str]) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(Value::Array(
            messages
                .iter()
                .map(|m| json!({"status": 400, "message": m, "details": null}))
                .collect(),
        )),
    )
        .into_response()
}

/// ASP.NET Identity's error list.
fn identity_errors(code: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!([{ "code": code, "description": description }])),
    )
        .into_response()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._@+/".contains(c))
}

fn user_dto(s: &Store, u: &FakeUser, token: Option<String>) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "token": token,
        "refreshToken": token.as_ref().map(|_| "refresh"),
        "apiKey": if u.id == 1 { Some(API_KEY) } else { None },
        "ageRestriction": {"ageRating": u.age_rating, "includeUnknowns": u.include_unknowns},
        "kavitaVersion": if s.legacy { LEGACY_VERSION } else { VERSION },
    })
}

fn member_dto(s: &Store, u: &FakeUser) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "isPending": u.pending,
        "ageRestriction": {"ageRating": u.age_rating, "includeUnknowns": u.include_unknowns},
        "created": "2026-11-01T10:00:00",
        "createdUtc": "2026-11-01T10:00:00Z",
        "lastActive": "0001-01-01T00:00:00",
        "lastActiveUtc": "0001-01-01T00:00:00Z",
        // Kavita lists every library's id as 0 here.
        "libraries": s.libraries.iter().filter(|l| u.libraries.contains(&l.id)).map(|l| json!({
            "id": 0, "name": l.name, "type": l.kind,
        })).collect::<Vec<_>>(),
        "roles": u.roles,
        "identityProvider": 0,
    })
}

fn caller(s: &Store, headers: &HeaderMap) -> Option<FakeUser> {
    if !s.legacy
        && let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok())
    {
        let id = s.keys.get(key)?;
        return s.users.iter().find(|u| u.id == *id).cloned();
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))?;
    let id = s.sessions.get(token.trim())?;
    s.users.iter().find(|u| u.id == *id).cloned()
}

fn login(s: &Store, username: &str, password: &str) -> Result<FakeUser, &'static str> {
    let Some(u) = s
        .users
        .iter()
        .find(|u| u.username.eq_ignore_ascii_case(username))
    else {
        return Err("Your credentials are not correct");
    };
    if u.pending || u.password != password {
        return Err("Your credentials are not correct");
    }
    if !u.has_role("Login") && !u.is_admin() {
        return Err("Your account is disabled. Contact the server admin.");
    }
    Ok(u.clone())
}

fn query(uri: &http::Uri) -> HashMap<String, String> {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
        .collect()
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, 1024 * 1024).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let path = parts.uri.path().to_ascii_lowercase();
    let q = query(&parts.uri);
    let object = || match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    };
    let mut s = shared.lock();
    // Anonymous calls first.
    match (parts.method.clone(), path.as_str()) {
        (Method::POST, "/api/plugin/authenticate") => {
            let (Some(key), Some(_)) = (q.get("apikey"), q.get("pluginname")) else {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "One or more validation errors occurred.",
                    json!({"apiKey": ["The apiKey field is required."]}),
                );
            };
            let Some(id) = s.keys.get(key).copied() else {
                return StatusCode::UNAUTHORIZED.into_response();
            };
            let Some(holder) = s.users.iter().find(|u| u.id == id).cloned() else {
                return StatusCode::UNAUTHORIZED.into_response();
            };
            let token = new_session(&mut s, id);
            return axum::Json(user_dto(&s, &holder, Some(token))).into_response();
        }
        (Method::POST, "/api/account/login") => {
            let Some(b) = object() else {
                return problem(StatusCode::BAD_REQUEST, "Bad body", json!({}));
            };
            let field = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            return match login(&s, &field("username"), &field("password")) {
                Ok(u) => {
                    let token = new_session(&mut s, u.id);
                    axum::Json(user_dto(&s, &u, Some(token))).into_response()
                }
                Err(why) => text(StatusCode::UNAUTHORIZED, why),
            };
        }
        (Method::POST, "/api/account/confirm-email") => {
            let Some(b) = object() else {
                return problem(StatusCode::BAD_REQUEST, "Bad body", json!({}));
            };
            return confirm(&mut s, &b);
        }
        _ => {}
    }
    let Some(me) = caller(&s, &parts.headers) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let admin = me.is_admin();
    let admin_only = path.starts_with("/api/server/")
        || matches!(
            path.as_str(),
            "/api/users" | "/api/users/delete-user" | "/api/account/invite-url"
        )
        || (parts.method == Method::POST
            && matches!(path.as_str(), "/api/account/invite" | "/api/account/update"));
    if admin_only && !admin {
        return StatusCode::FORBIDDEN.into_response();
    }
    match (parts.method.clone(), path.as_str()) {
        (Method::GET, "/api/server/server-info-slim") => axum::Json(json!({
            "installId": INSTALL_ID,
            "isDocker": true,
            "kavitaVersion": if s.legacy { LEGACY_VERSION } else { VERSION },
            "firstInstallDate": "2025-03-02T09:00:00",
            "firstInstallVersion": "0.8.3.2",
        }))
        .into_response(),
        (Method::GET, "/api/library/libraries") => {
            let visible: Vec<Value> = s
                .libraries
                .iter()
                .filter(|l| admin || me.libraries.contains(&l.id))
                .map(|l| {
                    json!({"id": l.id, "name": l.name, "type": l.kind, "folderWatching": true,
                        "includeInDashboard": true, "includeInSearch": true})
                })
                .collect();
            axum::Json(Value::Array(visible)).into_response()
        }
        (Method::GET, "/api/users") => {
            let pending = q.get("includepending").is_some_and(|v| v == "true");
            let list: Vec<Value> = s
                .users
                .iter()
                .filter(|u| pending || !u.pending)
                .map(|u| member_dto(&s, u))
                .collect();
            axum::Json(Value::Array(list)).into_response()
        }
        (Method::POST, "/api/account/invite") => {
            let Some(b) = object() else {
                return problem(StatusCode::BAD_REQUEST, "Bad body", json!({}));
            };
            invite(&mut s, &b)
        }
        (Method::GET, "/api/account/invite-url") => {
            let id: i64 = q.get("userid").and_then(|v| v.parse().ok()).unwrap_or(0);
            let Some(u) = s.users.iter().find(|u| u.id == id) else {
                return text(StatusCode::BAD_REQUEST, "User does not exist");
            };
            let Some(token) = u.confirmation_token.clone() else {
                return text(StatusCode::BAD_REQUEST, "User is already confirmed");
            };
            let link = email_link(&s.base, &token, &u.email);
            axum::Json(Value::String(link)).into_response()
        }
        (Method::POST, "/api/account/update") => {
            let Some(b) = object() else {
                return problem(StatusCode::BAD_REQUEST, "Bad body", json!({}));
            };
            update(&mut s, &b)
        }
        (Method::POST, "/api/account/reset-password") => {
            let Some(b) = object() else {
                return problem(StatusCode::BAD_REQUEST, "Bad body", json!({}));
            };
            let name = b.get("userName").and_then(Value::as_str).unwrap_or("");
            let password = b.get("password").and_then(Value::as_str).unwrap_or("");
            if !(6..=256).contains(&password.chars().count()) {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "One or more validation errors occurred.",
                    json!({"Password": ["The field Password must be a string with a minimum length of 6 and a maximum length of 256."]}),
                );
            }
            if name != me.username && !admin {
                return text(StatusCode::UNAUTHORIZED, "Permission denied");
            }
            // An exact match, and silence for a name nobody has.
            if let Some(u) = s.users.iter_mut().find(|u| u.username == name) {
                u.password = password.to_string();
            }
            StatusCode::OK.into_response()
        }
        (Method::DELETE, "/api/users/delete-user") => {
            let name = q.get("username").cloned().unwrap_or_default();
            let before = s.users.len();
            s.users
                .retain(|u| !(u.id != 1 && u.username.eq_ignore_ascii_case(&name)));
            if s.users.len() == before {
                return problem(StatusCode::BAD_REQUEST, "Bad Request", Value::Null);
            }
            let ids: Vec<i64> = s.users.iter().map(|u| u.id).collect();
            s.sessions.retain(|_, id| ids.contains(id));
            StatusCode::OK.into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn email_link(base: &str, token: &str, email: &str) -> String {
    let enc = |t: &str| url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>();
    format!(
        "{base}/registration/confirm-email?token={}&email={}",
        enc(token),
        enc(email)
    )
}

fn age_restriction(b: &Map<String, Value>) -> Option<(i64, bool)> {
    let a = b.get("ageRestriction")?.as_object()?;
    Some((
        a.get("ageRating")?.as_i64()?,
        a.get("includeUnknowns")?.as_bool()?,
    ))
}

fn invite(s: &mut Store, b: &Map<String, Value>) -> Response {
    let email = b
        .get("email")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    let Some((age_rating, include_unknowns)) = age_restriction(b) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "One or more validation errors occurred.",
            json!({"ageRestriction": ["The AgeRestriction field is required."]}),
        );
    };
    if email.is_empty() {
        return text(StatusCode::BAD_REQUEST, "Invalid payload");
    }
    let (Some(roles), Some(libraries)) = (
        b.get("roles").and_then(Value::as_array),
        b.get("libraries").and_then(Value::as_array),
    ) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Some(u) = s
        .users
        .iter()
        .find(|u| u.email.eq_ignore_ascii_case(&email))
    {
        return text(
            StatusCode::BAD_REQUEST,
            &if u.pending {
                "User is already invited under this email and has yet to accepted invite."
                    .to_string()
            } else {
                format!("User is already registered as {}", u.username)
            },
        );
    }
    if !valid_name(&email) {
        return identity_errors(
            "InvalidUserName",
            &format!("Username '{email}' is invalid, can only contain letters or digits."),
        );
    }
    s.counter += 1;
    let id = s.counter;
    let token = format!("CfDJ8+{id}/Zq9vT=="); // shaped like an Identity token: + / = in it
    let wanted: Vec<i64> = libraries.iter().filter_map(Value::as_i64).collect();
    let mut user = FakeUser {
        id,
        username: email.clone(),
        email: email.clone(),
        pending: true,
        password: "[k.2@RZ!mxCQkJzE".into(),
        roles: Vec::new(),
        libraries: s
            .libraries
            .iter()
            .filter(|l| wanted.contains(&l.id))
            .map(|l| l.id)
            .collect(),
        age_rating,
        include_unknowns,
        confirmation_token: Some(token.clone()),
    };
    let mut names: Vec<String> = roles
        .iter()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect();
    if !names.iter().any(|r| r == "Admin") {
        names.push("Pleb".into());
    }
    // The account is saved before the roles are added, so a role refused here leaves it.
    let mut refused = None;
    for role in names {
        let Some(known) = VALID_ROLES.iter().find(|v| **v == role) else {
            continue;
        };
        if user.has_role(known) {
            refused = Some(known.to_string());
            break;
        }
        user.roles.push(known.to_string());
    }
    s.users.push(user);
    if let Some(role) = refused {
        return identity_errors(
            "UserAlreadyInRole",
            &format!("User already in role '{role}'."),
        );
    }
    axum::Json(json!({
        "emailLink": email_link(&s.base, &token, &email),
        "emailSent": false,
        "invalidEmail": true,
    }))
    .into_response()
}

fn confirm(s: &mut Store, b: &Map<String, Value>) -> Response {
    let field = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (email, token, username, password) = (
        field("email"),
        field("token"),
        field("username"),
        field("password"),
    );
    if [&email, &token, &username, &password]
        .iter()
        .any(|v| v.is_empty())
    {
        return problem(
            StatusCode::BAD_REQUEST,
            "One or more validation errors occurred.",
            json!({"Username": ["The Username field is required."]}),
        );
    }
    let Some(index) = s
        .users
        .iter()
        .position(|u| u.email.eq_ignore_ascii_case(&email))
    else {
        return text(StatusCode::BAD_REQUEST, "Invalid email confirmation");
    };
    let current = s.users[index].username.clone();
    let mut problems = Vec::new();
    if username != email
        && current != username
        && s.users
            .iter()
            .any(|u| u.username.eq_ignore_ascii_case(&username))
    {
        problems.push("Username is already taken");
    }
    if !(6..=256).contains(&password.chars().count()) {
        problems.push("Passwords must be at least 6 characters.");
    }
    if !problems.is_empty() {
        return api_exceptions(&problems);
    }
    let user = &mut s.users[index];
    if user.confirmation_token.as_deref() != Some(token.as_str()) {
        return text(StatusCode::BAD_REQUEST, "Invalid email confirmation");
    }
    // The token is used up here, before the name is checked.
    user.confirmation_token = None;
    user.pending = false;
    if !valid_name(&username) {
        return identity_errors(
            "InvalidUserName",
            &format!("Username '{username}' is invalid, can only contain letters or digits."),
        );
    }
    user.username = username;
    user.password = password;
    let user = user.clone();
    let session = new_session(s, user.id);
    axum::Json(user_dto(s, &user, Some(session))).into_response()
}

fn update(s: &mut Store, b: &Map<String, Value>) -> Response {
    let Some(id) = b.get("userId").and_then(Value::as_i64) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "One or more validation errors occurred.",
            json!({"userId": ["The UserId field is required."]}),
        );
    };
    let Some((age_rating, include_unknowns)) = age_restriction(b) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "One or more validation errors occurred.",
            json!({"ageRestriction": ["The AgeRestriction field is required."]}),
        );
    };
    let (Some(roles), Some(libraries)) = (
        b.get("roles").and_then(Value::as_array),
        b.get("libraries").and_then(Value::as_array),
    ) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let username = b
        .get("username")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(index) = s.users.iter().position(|u| u.id == id) else {
        return text(StatusCode::BAD_REQUEST, "User does not exist");
    };
    if s.users[index].username != username {
        if s.users
            .iter()
            .any(|u| u.id != id && u.username.eq_ignore_ascii_case(&username))
        {
            return text(StatusCode::BAD_REQUEST, "Username already taken");
        }
        if !valid_name(&username) {
            return identity_errors("InvalidUserName", "Username is invalid");
        }
    }
    let known: Vec<i64> = s.libraries.iter().map(|l| l.id).collect();
    let user = &mut s.users[index];
    user.username = username;
    let mut wanted: Vec<String> = roles
        .iter()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect();
    let admin = wanted.iter().any(|r| r.eq_ignore_ascii_case("Admin"));
    if !admin {
        wanted.push("Pleb".into());
    }
    let mut current = user.roles.clone();
    current.sort();
    let mut sorted = wanted.clone();
    sorted.sort();
    if current != sorted {
        // The old roles go first; an unknown name then fails with the account holding none.
        user.roles.clear();
        for role in wanted {
            let Some(known) = VALID_ROLES.iter().find(|v| v.eq_ignore_ascii_case(&role)) else {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            if !user.has_role(known) {
                user.roles.push(known.to_string());
            }
        }
    }
    user.libraries = libraries
        .iter()
        .filter_map(Value::as_i64)
        .filter(|l| known.contains(l))
        .collect();
    user.age_rating = age_rating;
    user.include_unknowns = include_unknowns;
    if let Some(email) = b.get("email").and_then(Value::as_str)
        && !email.trim().is_empty()
    {
        user.email = email.trim().to_string();
    }
    StatusCode::OK.into_response()
}
