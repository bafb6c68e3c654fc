//! `/admin/account` (one's own password and signed-in browsers), `/admin/admins` (the owner's
//! other admins and the links that bring them in) and `/team/{token}` (taking up such a link).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use super::AuthError;
use super::account::{self, PasswordChange};
use super::routes::{NewDevice, signed_in};
use super::team::{self, Joining};
use crate::domain::Role;
use crate::domain::ids::*;
use crate::state::AppState;
use crate::web::error::{AppResult, Failure};
use crate::web::extract::{Form, Query, path_id};
use crate::web::visitor::{Admin, Visitor};
use crate::web::{page, ser};

const ACCOUNT: &str = "/admin/account";
const ADMINS: &str = "/admin/admins";
/// Result notices shown after a redirect; only these keys are ever rendered.
const NOTICES: &[&str] = &[
    "password",
    "passkey-added",
    "passkey-renamed",
    "passkey-removed",
    "two-factor-off",
    "recovery",
    "ended",
    "ended-others",
    "role",
    "removed",
    "revoked",
    "telegram",
];

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    done: String,
}

fn done(base: &str, notice: &str) -> Response {
    Redirect::to(&format!("{base}?done={notice}")).into_response()
}

/// What a page shows besides its facts: a notice, or an error with the field it concerns.
#[derive(Default)]
struct Extras<'a> {
    notice: Option<&'a str>,
    error: Option<(&'static str, Option<&'static str>)>,
    /// A link made just now, shown once.
    invite: Option<team::NewInvite>,
    /// An authenticator app being set up: its key and QR code.
    enrolment: Option<super::two_factor::Enrolment>,
    /// Recovery codes made just now, shown once.
    recovery_codes: Option<Vec<String>>,
    /// Which form an error belongs to, on a page with several.
    form: Option<&'static str>,
}

impl<'a> Extras<'a> {
    fn notice(q: &'a NoticeQuery) -> Self {
        Extras {
            notice: Some(q.done.as_str()),
            ..Default::default()
        }
    }

    fn error(key: &'static str, field: &'static str) -> Self {
        Extras {
            error: Some((key, Some(field))),
            ..Default::default()
        }
    }

    fn failed(e: &AuthError) -> Self {
        Extras {
            error: failed(e),
            ..Default::default()
        }
    }
}

fn failed(e: &AuthError) -> Option<(&'static str, Option<&'static str>)> {
    Some((e.message_key(), e.field()))
}

/// The admins page after an action: back to it with `notice`, or the page again with the error.
async fn after_admins(
    state: &AppState,
    admin: &Admin,
    result: Result<(), AuthError>,
    notice: &str,
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(done(ADMINS, notice)),
        Err(e @ AuthError::Store(_)) => Err(e.into()),
        Err(e) => render_admins(state, admin, Extras::failed(&e)).await,
    }
}

fn with_status(res: Response, error: bool) -> Response {
    let mut res = res;
    if error {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

// ---- One's own account ----

async fn render_account(state: &AppState, admin: &Admin, x: Extras<'_>) -> AppResult<Response> {
    let me = state
        .store
        .admin(admin.session.admin_id)
        .await?
        .ok_or_else(crate::web::error::AppError::not_found)?;
    let sessions = account::sessions(state, &admin.session).await?;
    let enrolment = match x.enrolment {
        Some(e) => Some(e),
        None => super::two_factor::pending(state, me.id).await?,
    };
    let recovery_left = state.store.unused_recovery_codes(me.id).await?;
    let passkeys = super::passkeys::list(state, me.id).await?;
    // A new passkey is named after the browser it is made in, until its owner says otherwise.
    let suggested_name = sessions
        .iter()
        .find(|s| s.current)
        .map(|s| s.device.clone())
        .unwrap_or_default();
    let is_error = x.error.is_some();
    let res = page(
        state,
        &admin.visitor,
        "admin/account.html",
        context! {
            me => context! {
                username => &me.username,
                role => me.role.as_str(),
                telegram_id => me.telegram_id,
                created_at => me.created_at,
            },
            sessions => ser(&sessions),
            two_factor => context! {
                on_since => me.totp_enabled_at,
                recovery_left,
                enrolment => enrolment.map(|e| context! {
                    secret => e.secret,
                    qr => minijinja::Value::from_safe_string(e.qr_svg),
                }),
                recovery_codes => x.recovery_codes,
            },
            passkeys => context! {
                list => ser(&passkeys),
                unavailable => super::passkeys::availability(state).err().map(|why| why.message_key()),
                suggested_name,
                max_name => super::passkeys::MAX_NAME,
            },
            notice => x.notice.filter(|n| NOTICES.contains(n)),
            error => x.error.map(|(key, field)| context! { key, field, form => x.form.unwrap_or("change-password") }),
            min_password => super::MIN_PASSWORD,
        },
    )?
    .into_response();
    Ok(with_status(res, is_error))
}

pub async fn account_page(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    render_account(&state, &admin, Extras::notice(&q)).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let change = PasswordChange {
        current: &form.current,
        new: &form.password,
        confirm: &form.password_confirm,
    };
    let address = admin.visitor.ip.to_string();
    match account::change_password(&state, &admin.session, &address, change).await {
        Ok(()) => Ok(done(ACCOUNT, "password")),
        Err(e @ AuthError::Store(_)) => Err(e.into()),
        Err(e) => {
            let res = render_account(&state, &admin, Extras::failed(&e)).await?;
            Ok(match e {
                AuthError::Locked(_) | AuthError::Busy => {
                    let mut res = res;
                    *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                    res
                }
                _ => res,
            })
        }
    }
}

/// An error on one of the account page's forms (`two-factor`, `passkeys`).
fn form_error(e: &AuthError, form: &'static str) -> Extras<'static> {
    Extras {
        error: failed(e),
        form: Some(form),
        ..Default::default()
    }
}

pub async fn two_factor_start(State(state): State<AppState>, admin: Admin) -> AppResult<Response> {
    match super::two_factor::start(&state, admin.session.admin_id).await {
        Ok(enrolment) => {
            let x = Extras {
                enrolment: Some(enrolment),
                ..Default::default()
            };
            render_account(&state, &admin, x).await
        }
        Err(e @ AuthError::Store(_)) => Err(e.into()),
        Err(e) => render_account(&state, &admin, form_error(&e, "two-factor")).await,
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

pub async fn two_factor_confirm(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    match super::two_factor::confirm(&state, admin.session.admin_id, &form.code).await {
        // Shown on this answer only; only their hashes are kept.
        Ok(codes) => {
            let x = Extras {
                recovery_codes: Some(codes),
                ..Default::default()
            };
            render_account(&state, &admin, x).await
        }
        Err(e @ AuthError::Store(_)) => Err(e.into()),
        Err(e) => render_account(&state, &admin, form_error(&e, "two-factor")).await,
    }
}

#[derive(Deserialize)]
pub struct DisableForm {
    #[serde(default)]
    current: String,
}

pub async fn two_factor_disable(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<DisableForm>,
) -> AppResult<Response> {
    let address = admin.visitor.ip.to_string();
    match super::two_factor::disable(&state, admin.session.admin_id, &address, &form.current).await
    {
        Ok(()) => Ok(done(ACCOUNT, "two-factor-off")),
        Err(e @ AuthError::Store(_)) => Err(e.into()),
        Err(e) => render_account(&state, &admin, form_error(&e, "two-factor")).await,
    }
}

pub async fn end_session(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id: SessionId = path_id(&id)?;
    let s = &admin.session;
    account::end_session(&state, s.admin_id, &s.username, id, &s.username).await?;
    // Ending the session in use is signing out: the next page asks to sign in again.
    Ok(done(ACCOUNT, "ended"))
}

pub async fn end_other_sessions(
    State(state): State<AppState>,
    admin: Admin,
) -> AppResult<Response> {
    let s = &admin.session;
    account::end_other_sessions(
        &state,
        s.admin_id,
        &s.username,
        Some(&s.id_hash),
        &s.username,
    )
    .await?;
    Ok(done(ACCOUNT, "ended-others"))
}

/// The challenge for registering a passkey, as the page's script asks for it (JSON).
pub async fn passkey_options(State(state): State<AppState>, admin: Admin) -> Response {
    let challenge = super::passkeys::register_start(&state, admin.session.admin_id).await;
    super::routes::json_answer(&state, &admin.visitor, challenge)
}

#[derive(Deserialize)]
pub struct PasskeyForm {
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    name: String,
}

pub async fn passkey_add(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<PasskeyForm>,
) -> AppResult<Response> {
    let added = super::passkeys::register_finish(
        &state,
        admin.session.admin_id,
        &form.ceremony,
        &form.name,
        &form.credential,
    )
    .await;
    match added {
        Ok(None) => Ok(done(ACCOUNT, "passkey-added")),
        // The account's first second step: its recovery codes, shown on this answer only.
        Ok(Some(codes)) => {
            let x = Extras {
                notice: Some("passkey-added"),
                recovery_codes: Some(codes),
                ..Default::default()
            };
            render_account(&state, &admin, x).await
        }
        Err(e @ (AuthError::Store(_) | AuthError::PasskeyFault)) => Err(e.into()),
        Err(e) => render_account(&state, &admin, form_error(&e, "passkeys")).await,
    }
}

#[derive(Deserialize)]
pub struct PasskeyNameForm {
    #[serde(default)]
    name: String,
}

pub async fn passkey_rename(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<PasskeyNameForm>,
) -> AppResult<Response> {
    let id: PasskeyId = path_id(&id)?;
    match super::passkeys::rename(&state, admin.session.admin_id, id, &form.name).await {
        Ok(()) => Ok(done(ACCOUNT, "passkey-renamed")),
        Err(e @ (AuthError::Store(_) | AuthError::NoSuchPasskey)) => Err(e.into()),
        Err(e) => render_account(&state, &admin, form_error(&e, "passkeys")).await,
    }
}

pub async fn passkey_remove(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id: PasskeyId = path_id(&id)?;
    let me = state
        .store
        .admin(admin.session.admin_id)
        .await?
        .ok_or_else(crate::web::error::AppError::not_found)?;
    super::passkeys::remove(&state, &me, id, &admin.session.username).await?;
    Ok(done(ACCOUNT, "passkey-removed"))
}

// ---- The owner's other admins ----

async fn render_admins(state: &AppState, admin: &Admin, x: Extras<'_>) -> AppResult<Response> {
    let now = state.clock.now();
    let admins: Vec<_> = state
        .store
        .admins()
        .await?
        .into_iter()
        .map(|a| {
            context! {
                id => a.id,
                username => a.username,
                role => a.role.as_str(),
                telegram_id => a.telegram_id,
                last_login_at => a.last_login_at,
                created_at => a.created_at,
                me => a.id == admin.session.admin_id,
            }
        })
        .collect();
    let invites: Vec<_> = state
        .store
        .admin_invites(now)
        .await?
        .into_iter()
        .map(|i| {
            let state = if i.used_at.is_some() {
                "used"
            } else if i.expires_at <= now {
                "ended"
            } else {
                "open"
            };
            context! { state, ..ser(&i) }
        })
        .collect();
    let settings = state.store.settings().await?;
    let is_error = x.error.is_some();
    let res = page(
        state,
        &admin.visitor,
        "admin/admins.html",
        context! {
            admins,
            invites,
            roles => Role::ALL.map(Role::as_str),
            telegram_ids => &settings.telegram.allowed_ids,
            default_hours => team::DEFAULT_INVITE_HOURS,
            new_invite => x.invite.map(|i| context! { url => i.url, role => i.role.as_str(), expires_at => i.expires_at }),
            notice => x.notice.filter(|n| NOTICES.contains(n)),
            error => x.error.map(|(key, field)| context! { key, field }),
        },
    )?
    .into_response();
    Ok(with_status(res, is_error))
}

pub async fn admins_page(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    render_admins(&state, &admin, Extras::notice(&q)).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    hours: String,
}

pub async fn create_invite(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<InviteForm>,
) -> AppResult<Response> {
    let Some(role) = Role::parse(&form.role) else {
        return render_admins(&state, &admin, Extras::error("auth-bad-role", "role")).await;
    };
    let hours = match form.hours.trim() {
        "" => team::DEFAULT_INVITE_HOURS,
        h => h.parse().unwrap_or(0),
    };
    match team::invite(&state, role, hours, &admin.session.username).await {
        // Shown on this answer only: the link is not kept, so it never goes in a URL.
        Ok(invite) => {
            let invite = Some(invite);
            render_admins(
                &state,
                &admin,
                Extras {
                    invite,
                    ..Default::default()
                },
            )
            .await
        }
        Err(e @ AuthError::Store(_)) => Err(e.into()),
        Err(e) => render_admins(&state, &admin, Extras::failed(&e)).await,
    }
}

pub async fn revoke_invite(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id: AdminInviteId = path_id(&id)?;
    team::revoke_invite(&state, id, &admin.session.username).await?;
    Ok(done(ADMINS, "revoked"))
}

async fn other_admin(state: &AppState, id: &str) -> AppResult<crate::store::admins::AdminRow> {
    let id: AdminId = path_id(id)?;
    state
        .store
        .admin(id)
        .await?
        .ok_or_else(crate::web::error::AppError::not_found)
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub async fn change_role(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<RoleForm>,
) -> AppResult<Response> {
    let target = other_admin(&state, &id).await?;
    let Some(role) = Role::parse(&form.role) else {
        return render_admins(&state, &admin, Extras::error("auth-bad-role", "role")).await;
    };
    let by = &admin.session.username;
    let result =
        super::change_role(&state.store, &target.username, role, by, state.clock.now()).await;
    after_admins(&state, &admin, result, "role").await
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
    let target = other_admin(&state, &id).await?;
    if form.confirm != "yes" {
        return render_admins(
            &state,
            &admin,
            Extras::error("team-remove-unconfirmed", "confirm"),
        )
        .await;
    }
    let by = &admin.session.username;
    let result = super::remove_admin(&state.store, &target.username, by, state.clock.now()).await;
    after_admins(&state, &admin, result, "removed").await
}

#[derive(Deserialize)]
pub struct TelegramForm {
    #[serde(default)]
    telegram_id: String,
}

pub async fn link_telegram(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Form(form): Form<TelegramForm>,
) -> AppResult<Response> {
    let target = other_admin(&state, &id).await?;
    let telegram_id = match form.telegram_id.trim() {
        "" => None,
        raw => match raw.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                return render_admins(
                    &state,
                    &admin,
                    Extras::error("team-telegram-not-a-number", "telegram_id"),
                )
                .await;
            }
        },
    };
    let by = &admin.session.username;
    let result = team::link_telegram(&state, &target.username, telegram_id, by).await;
    after_admins(&state, &admin, result, "telegram").await
}

// ---- Taking up a link ----

fn join_page(
    state: &AppState,
    visitor: &Visitor,
    role: Option<Role>,
    username: &str,
    error: Option<(&'static str, Option<&'static str>)>,
) -> AppResult<Response> {
    let status = match (role, error) {
        (None, _) => StatusCode::GONE,
        (_, Some(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let mut res = page(
        state,
        visitor,
        "team_join.html",
        context! {
            role => role.map(Role::as_str),
            username,
            error => error.map(|(key, field)| context! { key, field }),
            min_password => super::MIN_PASSWORD,
        },
    )?
    .into_response();
    *res.status_mut() = status;
    Ok(res)
}

pub async fn join_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let role = match team::invite_role(&state, &token).await {
        Ok(role) => Some(role),
        Err(AuthError::InviteGone) => None,
        Err(e) => return Err(e.into()),
    };
    join_page(&state, &visitor, role, "", None)
}

#[derive(Deserialize)]
pub struct JoinForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

pub async fn join(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<JoinForm>,
) -> AppResult<Response> {
    let joining = Joining {
        username: &form.username,
        password: &form.password,
        confirm: &form.password_confirm,
    };
    match team::join(&state, &token, joining).await {
        Ok((id, role)) => {
            let username = form.username.trim();
            signed_in(
                &state,
                (id, username),
                &visitor,
                &headers,
                role.home(),
                NewDevice::Remember,
            )
            .await
        }
        Err(AuthError::InviteGone) => join_page(&state, &visitor, None, "", None),
        Err(e @ AuthError::Store(_)) => Err(e.into()),
        Err(e) => {
            let role = team::invite_role(&state, &token).await.ok();
            join_page(&state, &visitor, role, &form.username, failed(&e))
        }
    }
}
