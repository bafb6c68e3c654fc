//! Admin pages for servers: `/admin/servers…`.

use crate::domain::ids::*;
use crate::web::extract::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;

use super::{ServerError, ServerInput};
use crate::state::AppState;
use crate::store::servers::ServerDefaults;
use crate::web::error::Failure;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Form, path_id};
use crate::web::visitor::Admin;
use crate::web::{page, ser};

/// A form shown again with a server error: 422 for what the owner typed (a taken name too: the
/// form is the place to change it), 502 for what the media server answered, never a 500 for
/// either. What the error says comes from its [`Failure`] description.
fn error_status(e: &ServerError) -> StatusCode {
    match e {
        ServerError::NotFound => StatusCode::NOT_FOUND,
        ServerError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        ServerError::Media(_) | ServerError::KindMismatch(_) => StatusCode::BAD_GATEWAY,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

fn error_value(e: &ServerError) -> Value {
    context! { key => e.message_key(), detail => e.detail(), field => e.field() }
}

pub async fn list(State(state): State<AppState>, admin: Admin) -> AppResult<Html<String>> {
    let servers = state.store.servers().await?;
    page(
        &state,
        &admin.visitor,
        "admin/servers.html",
        context! { servers => ser(&servers) },
    )
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    kind: String,
}

pub async fn new_form(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<NewQuery>,
) -> AppResult<Html<String>> {
    let kind = q
        .kind
        .parse::<media::ServerKind>()
        .unwrap_or(media::ServerKind::Plex)
        .as_str();
    add_page(
        &state,
        &admin,
        context! { kind, name => "", url => "", username => "" },
        Value::from(()),
    )
}

/// The Add server page: every kind usher can connect, with what each needs.
fn add_page(state: &AppState, admin: &Admin, form: Value, error: Value) -> AppResult<Html<String>> {
    let kinds: Vec<&str> = media::ServerKind::ALL.iter().map(|k| k.as_str()).collect();
    page(
        state,
        &admin.visitor,
        "admin/server_new.html",
        context! { kinds, form, error },
    )
}

#[derive(Deserialize)]
pub struct ServerForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    token: String,
    /// For a kind that signs in (Navidrome): the administrator's user name.
    #[serde(default)]
    username: String,
    /// On the edit form only: the address friends open.
    #[serde(default)]
    friend_url: Option<String>,
}

impl ServerForm {
    fn input(&self) -> ServerInput {
        ServerInput {
            kind: self.kind.clone(),
            name: self.name.clone(),
            url: self.url.clone(),
            token: self.token.clone().into(),
            username: self.username.clone(),
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<ServerForm>,
) -> AppResult<Response> {
    match super::add(&state, &form.input(), &admin.session.username).await {
        Ok(id) => Ok(Redirect::to(&format!("/admin/servers/{id}?done=added")).into_response()),
        Err(e) => {
            if matches!(e, ServerError::Store(_)) {
                tracing::error!(error = %e, "adding a server failed");
            }
            let mut res = add_page(
                &state,
                &admin,
                context! { kind => &form.kind, name => &form.name, url => &form.url, username => &form.username },
                error_value(&e),
            )?
            .into_response();
            *res.status_mut() = error_status(&e);
            Ok(res)
        }
    }
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    #[serde(default)]
    done: String,
}

/// Result notices shown after a redirect; only these keys are ever rendered.
const NOTICES: &[&str] = &[
    "added",
    "tested",
    "test-failed",
    "scanned",
    "saved",
    "defaults",
    "libraries",
    "expiry",
    "synced",
    "sync-failed",
];

async fn detail_page(
    state: &AppState,
    admin: &Admin,
    id: ServerId,
    notice: Option<&str>,
    error: Option<&ServerError>,
) -> AppResult<Response> {
    let server = state
        .store
        .server(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let libraries = state.store.libraries(id).await?;
    let kind = server.kind;
    let mut res = page(
        state,
        &admin.visitor,
        "admin/server.html",
        context! {
            server => ser(&server),
            friend_address => server.friend_address(),
            kind_name => kind.display_name(),
            caps => ser(kind.capabilities()),
            libraries => ser(&libraries),
            grant_count => state.store.grant_count_for_server(id).await?,
            notice => notice.filter(|n| NOTICES.contains(n)),
            error => error.map(error_value),
        },
    )?
    .into_response();
    if let Some(e) = error {
        *res.status_mut() = error_status(e);
    }
    Ok(res)
}

pub async fn detail(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    detail_page(&state, &admin, id, Some(q.done.as_str()), None).await
}

fn back(id: ServerId, notice: &str) -> Response {
    Redirect::to(&format!("/admin/servers/{id}?done={notice}")).into_response()
}

async fn or_page(
    state: &AppState,
    admin: &Admin,
    id: ServerId,
    result: Result<(), ServerError>,
    notice: &str,
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(back(id, notice)),
        Err(ServerError::NotFound) => Err(AppError::not_found()),
        Err(e) => detail_page(state, admin, id, None, Some(&e)).await,
    }
}

pub async fn test(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    match super::test(&state, id).await {
        Ok(_) => Ok(back(id, "tested")),
        Err(ServerError::NotFound) => Err(AppError::not_found()),
        // The failure is stored on the server and shown on its page.
        Err(_) => Ok(back(id, "test-failed")),
    }
}

pub async fn scan(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let result = super::scan(&state, id, &admin.session.username).await;
    or_page(&state, &admin, id, result.map(|_| ()), "scanned").await
}

pub async fn edit(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<ServerForm>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let actor = &admin.session.username;
    let mut result = super::edit(&state, id, &form.input(), actor).await;
    if let (Ok(()), Some(friend_url)) = (&result, &form.friend_url) {
        result = super::set_friend_url(&state, id, friend_url, actor).await;
    }
    or_page(&state, &admin, id, result, "saved").await
}

#[derive(Deserialize)]
pub struct DefaultsForm {
    #[serde(default)]
    allow_downloads: Option<String>,
    #[serde(default)]
    allow_live_tv: Option<String>,
    #[serde(default)]
    allow_camera_upload: Option<String>,
    #[serde(default)]
    max_sessions: String,
    #[serde(default)]
    request_default: Option<String>,
}

pub async fn defaults(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<DefaultsForm>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let max = form.max_sessions.trim();
    let max_sessions = if max.is_empty() || max == "0" {
        None
    } else {
        match max.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                let e = ServerError::Invalid {
                    field: "max_sessions",
                    key: "server-bad-max-sessions",
                };
                return detail_page(&state, &admin, id, None, Some(&e)).await;
            }
        }
    };
    let d = ServerDefaults {
        request_default: form.request_default.is_some(),
        allow_downloads: form.allow_downloads.is_some(),
        allow_live_tv: form.allow_live_tv.is_some(),
        allow_camera_upload: form.allow_camera_upload.is_some(),
        max_sessions,
    };
    let result = super::set_defaults(&state, id, d, &admin.session.username).await;
    or_page(&state, &admin, id, result, "defaults").await
}

/// The library table: repeated `enabled=ID` and `default=ID` fields.
pub async fn libraries(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let ids = |name: &str| -> Result<Vec<i64>, AppError> {
        fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| {
                v.parse()
                    .map_err(|_| AppError::bad_request("library ids are numbers"))
            })
            .collect()
    };
    let (enabled, defaults) = (ids("enabled")?, ids("default")?);
    match super::set_library_choices(&state, id, &enabled, &defaults, &admin.session.username).await
    {
        Ok(()) => Ok(back(id, "libraries")),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ExpiryForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    remove_after_days: String,
}

/// What happens to this server's grants when they expire.
pub async fn expiry(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<ExpiryForm>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let result = super::set_expiry_policy(
        &state,
        id,
        &form.action,
        &form.remove_after_days,
        &admin.session.username,
    )
    .await;
    or_page(&state, &admin, id, result, "expiry").await
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    confirm: String,
}

pub async fn remove(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<RemoveForm>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    if form.confirm != "yes" {
        let e = ServerError::Invalid {
            field: "confirm",
            key: "server-remove-unconfirmed",
        };
        return detail_page(&state, &admin, id, None, Some(&e)).await;
    }
    match super::remove(&state, id, &admin.session.username).await {
        Ok(()) => Ok(Redirect::to("/admin/servers?done=removed").into_response()),
        Err(ServerError::NotFound) => Err(AppError::not_found()),
        Err(e) => detail_page(&state, &admin, id, None, Some(&e)).await,
    }
}

// --- Sign in with Plex --------------------------------------------------------------------

/// Starts "Sign in with Plex": a PIN, then a redirect to Plex, which sends the owner back to the
/// callback. The PIN id travels signed so nobody can make usher check someone else's PIN.
pub async fn plex_signin(State(state): State<AppState>, _admin: Admin) -> AppResult<Response> {
    let auth = state.plex_auth().map_err(media_failure)?;
    let pin = auth.create_pin().await.map_err(media_failure)?;
    let sig = pin_signature(&state, pin.id);
    let forward = format!(
        "{}/admin/servers/plex/callback?pin={}&sig={sig}",
        state.public.base(),
        pin.id
    );
    Ok(Redirect::to(&auth.auth_url(&pin, &forward)).into_response())
}

fn pin_signature(state: &AppState, pin: u64) -> String {
    state.key.sign("plex-pin", &pin.to_string())[..32].to_string()
}

fn media_failure(e: media::MediaError) -> AppError {
    AppError::new(
        StatusCode::BAD_GATEWAY,
        "media",
        crate::web::error::media_error_key(&e),
    )
    .with_detail(e.to_string())
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    #[serde(default)]
    pin: String,
    #[serde(default)]
    sig: String,
}

pub async fn plex_callback(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<CallbackQuery>,
) -> AppResult<Response> {
    let pin: u64 = q
        .pin
        .parse()
        .map_err(|_| AppError::bad_request("the sign-in link is incomplete"))?;
    if !crate::crypto::constant_time_eq(q.sig.as_bytes(), pin_signature(&state, pin).as_bytes()) {
        return Err(AppError::bad_request(
            "the sign-in link was altered; start again",
        ));
    }
    let auth = state.plex_auth().map_err(media_failure)?;
    let Some(token) = auth.check_pin(pin).await.map_err(media_failure)? else {
        return Ok(page(
            &state,
            &admin.visitor,
            "admin/plex_wait.html",
            context! { retry => format!("/admin/servers/plex/callback?pin={pin}&sig={}", q.sig) },
        )?
        .into_response());
    };
    let user = auth.user(&token).await.map_err(media_failure)?;
    let servers: Vec<_> = auth
        .servers(&token)
        .await
        .map_err(media_failure)?
        .into_iter()
        .filter(|s| s.owned)
        .collect();
    let choices: Vec<Value> = servers
        .iter()
        .map(|s| {
            // The token is sealed into the form so it never appears in the page in the clear.
            let sealed = state.key.seal(&s.access_token);
            let uris: Vec<Value> = s
                .connections
                .iter()
                .filter(|c| !c.relay)
                .map(|c| context! { uri => &c.uri, local => c.local })
                .collect();
            context! { name => &s.name, machine_id => &s.machine_id, version => &s.version, sealed, uris }
        })
        .collect();
    Ok(page(
        &state,
        &admin.visitor,
        "admin/plex_pick.html",
        context! { account => &user.username, choices, error => () },
    )?
    .into_response())
}

#[derive(Deserialize)]
pub struct PlexAddForm {
    #[serde(default)]
    sealed: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    url: String,
}

pub async fn plex_add(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<PlexAddForm>,
) -> AppResult<Response> {
    let token = state.key.open(&form.sealed).ok_or_else(|| {
        AppError::bad_request("the server choice has expired; sign in with Plex again")
    })?;
    let input = ServerInput {
        kind: media::ServerKind::Plex.as_str().into(),
        name: form.name.clone(),
        url: form.url.clone(),
        token: token.into(),
        username: String::new(),
    };
    match super::add(&state, &input, &admin.session.username).await {
        Ok(id) => Ok(Redirect::to(&format!("/admin/servers/{id}?done=added")).into_response()),
        Err(e) => {
            let mut res = add_page(
                &state,
                &admin,
                context! { kind => media::ServerKind::Plex.as_str(), name => &form.name, url => &form.url, username => "" },
                error_value(&e),
            )?
            .into_response();
            *res.status_mut() = error_status(&e);
            Ok(res)
        }
    }
}
