//! `/setup`, `/login`, `/logout`.

use crate::domain::ids::*;
use crate::web::extract::Query;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use super::{AuthError, complete_setup, setup_token_valid};
use crate::ratelimit::Locked;
use crate::state::AppState;
use crate::store::events::NewEvent;
use crate::web::error::Failure;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::Form;
use crate::web::visitor::{SESSION_COOKIE, Visitor, set_cookie, set_cookie_at};
use crate::web::{local_path, page};

#[derive(Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

pub async fn setup_page(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Query(q): Query<SetupQuery>,
) -> AppResult<Response> {
    if state.store.admin_count().await? > 0 {
        return Ok(Redirect::to("/login").into_response());
    }
    if q.token.is_empty()
        || !setup_token_valid(&state.store, &q.token)
            .await
            .map_err(internal)?
    {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "setup_token",
            "setup-token-required",
        ));
    }
    let (public_url, public_locked) = state.public.form_value(&headers);
    Ok(page(
        &state,
        &visitor,
        "setup.html",
        context! { token => q.token, username => "", public_url, public_locked, error => () },
    )?
    .into_response())
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
    /// The address friends will use; absent when the configuration sets it.
    #[serde(default)]
    public_url: Option<String>,
}

pub async fn setup_submit(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> AppResult<Response> {
    if state.store.admin_count().await? > 0 {
        return Ok(Redirect::to("/login").into_response());
    }
    if !setup_token_valid(&state.store, &form.token)
        .await
        .map_err(internal)?
    {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "setup_token",
            "setup-token-required",
        ));
    }
    let (_, public_locked) = state.public.form_value(&headers);
    let retry = |key: &'static str| -> AppResult<Response> {
        let mut res = page(
            &state,
            &visitor,
            "setup.html",
            context! {
                token => &form.token, username => &form.username, error => key,
                public_url => form.public_url.as_deref().unwrap_or_default(), public_locked,
            },
        )?
        .into_response();
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        Ok(res)
    };
    if form.password != form.password_confirm {
        return retry("setup-passwords-differ");
    }
    let public_url = match form.public_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) if !public_locked => match crate::domain::base_url::BaseUrl::parse(raw) {
            Ok(url) => Some(url),
            Err(_) => return retry("public-url-invalid"),
        },
        Some(_) => None,
    };
    let id = match complete_setup(
        &state.store,
        &form.token,
        &form.username,
        &form.password,
        state.clock.now(),
    )
    .await
    {
        Ok(id) => id,
        Err(AuthError::AlreadySetUp) => return Ok(Redirect::to("/login").into_response()),
        Err(e @ AuthError::Store(_)) => return Err(e.into()),
        Err(e) => return retry(e.message_key()),
    };
    tracing::info!(admin = %form.username.trim(), "first admin created; the setup link no longer works");
    if let Some(url) = public_url {
        state
            .public
            .save(&state.store, Some(url), state.clock.now())
            .await?;
    }
    state
        .store
        .append_event(
            NewEvent {
                actor: form.username.trim(),
                action: "admin.setup",
                subject: Some(form.username.trim()),
                detail: None,
            },
            state.clock.now(),
        )
        .await?;
    signed_in(
        &state,
        (id, form.username.trim()),
        &visitor,
        &headers,
        "/admin",
        NewDevice::Remember,
    )
    .await
}

fn internal(e: AuthError) -> AppError {
    tracing::error!(error = %e, "auth store error");
    AppError::internal()
}

/// The cookie that tells an admin's browsers apart, to announce a sign-in from a new one.
const DEVICE_COOKIE: &str = "usher_device";
/// How long a browser is remembered: about as long as browsers keep a cookie at all.
const DEVICE_SECONDS: i64 = 400 * 86_400;

/// Whether to announce a sign-in from a browser never seen for this admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NewDevice {
    /// A sign-in: a browser not seen before is announced.
    Announce,
    /// The account was made in this browser a moment ago (setup, a team link).
    Remember,
}

/// Starts a new session (a fresh id, never the one the browser had before) and redirects.
pub(super) async fn signed_in(
    state: &AppState,
    admin: (AdminId, &str),
    visitor: &Visitor,
    headers: &HeaderMap,
    to: &str,
    new_device: NewDevice,
) -> AppResult<Response> {
    let (admin_id, username) = admin;
    if let Some(old) = crate::web::visitor::cookie(headers, SESSION_COOKIE) {
        state
            .store
            .delete_session(&crate::crypto::sha256_hex(old.as_bytes()))
            .await?;
    }
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let address = visitor.ip.to_string();
    let raw = crate::web::session::start(state, admin_id, ua, &address).await?;
    let mut res = Redirect::to(to).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            &raw,
            state.config.session_seconds(),
            state.config.is_https(),
            true,
        ),
    );

    let device = crate::web::visitor::cookie(headers, DEVICE_COOKIE)
        .filter(|d| d.len() <= 64 && !d.is_empty())
        .map(str::to_string);
    let device = match device {
        Some(d) => d,
        None => {
            let d = crate::crypto::random_token();
            res.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(
                    DEVICE_COOKIE,
                    &d,
                    DEVICE_SECONDS,
                    state.config.is_https(),
                    true,
                ),
            );
            d
        }
    };
    let now = state.clock.now();
    let unseen = state
        .store
        .remember_device(admin_id, &crate::crypto::sha256_hex(device.as_bytes()), now)
        .await?;
    if unseen && new_device == NewDevice::Announce {
        let device_name = super::account::device_name(ua);
        state
            .store
            .append_event(
                NewEvent {
                    actor: username,
                    action: "admin.signed_in_new_device",
                    subject: Some(username),
                    detail: Some(&format!("{device_name}, from {address}")),
                },
                now,
            )
            .await?;
        let event = crate::notify::Event::new(crate::notify::Kind::AdminNewDevice, now)
            .with("admin", username)
            .with("device", device_name)
            .with("address", address)
            .link(state, "/admin/account");
        crate::notify::emit(state, event).await;
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
}

pub async fn login_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<LoginQuery>,
) -> AppResult<Response> {
    if visitor.admin.is_some() {
        return Ok(Redirect::to(local_path(&q.next).unwrap_or("/admin")).into_response());
    }
    let needs_setup = state.store.admin_count().await? == 0;
    let next = local_path(&q.next).unwrap_or("");
    render_login(
        &state,
        &visitor,
        LoginView {
            next,
            needs_setup,
            ..Default::default()
        },
    )
    .await
}

/// What the sign-in page shows besides its form.
#[derive(Default)]
struct LoginView<'a> {
    next: &'a str,
    username: &'a str,
    error: Option<&'static str>,
    minutes: i64,
    needs_setup: bool,
    status: Option<StatusCode>,
}

/// The sign-in page; "Sign in with a passkey" is offered once someone has one and the public
/// address allows them.
async fn render_login(
    state: &AppState,
    visitor: &Visitor,
    v: LoginView<'_>,
) -> AppResult<Response> {
    let passkeys =
        super::passkeys::availability(state).is_ok() && state.store.any_passkeys().await?;
    let mut res = page(
        state,
        visitor,
        "login.html",
        context! {
            next => v.next, username => v.username, error => v.error,
            error_args => context! { minutes => v.minutes }, needs_setup => v.needs_setup, passkeys,
        },
    )?
    .into_response();
    if let Some(status) = v.status {
        *res.status_mut() = status;
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Why a password sign-in was refused.
enum Refused {
    /// Too many tries from this address: seconds to wait.
    TooMany(i64),
    /// This account is locked from this address until then.
    Locked(i64),
    /// Too many passwords being checked at once.
    Busy,
    Wrong,
}

/// Checks a name and password under the rate limit and the lockout.
async fn check_password_sign_in(
    state: &AppState,
    visitor: &Visitor,
    form: &LoginForm,
) -> AppResult<Result<crate::store::admins::AdminRow, Refused>> {
    let now = state.clock.now();
    let address = visitor.ip.to_string();
    if !state.limits.login_ip.check(&address, &state.clock) {
        let wait = state.limits.login_ip.retry_after(&address, &state.clock);
        return Ok(Err(Refused::TooMany(wait)));
    }
    // Attempts count per address and account, reserved before the password is checked: a
    // burst gets no more checks than the limit, a stranger elsewhere cannot lock the owner out,
    // and unknown and locked accounts answer alike, in words and in time.
    let attempts = &state.limits.login_attempts;
    let key = super::account::attempts_key(&address, &form.username);
    let admin = state.store.admin_by_name(form.username.trim()).await?;
    let hash = match &admin {
        Some(a) => a.password_hash.clone(),
        None => super::dummy_hash(),
    };
    if let Err(Locked(until)) = attempts.reserve(&key, &state.clock) {
        // The same work as a check, so a lock cannot be told from a wrong name by timing.
        if super::verify_password(form.password.clone(), hash)
            .await
            .is_err()
        {
            return Ok(Err(Refused::Busy));
        }
        return Ok(Err(Refused::Locked(until)));
    }
    let right = match super::verify_password(form.password.clone(), hash).await {
        Ok(right) => right && admin.is_some(),
        Err(super::Busy) => {
            // Not checked: the reservation is given back, uncounted.
            attempts.released(&key);
            return Ok(Err(Refused::Busy));
        }
    };
    let Some(admin) = admin.filter(|_| right) else {
        if let Err(Locked(until)) = attempts.failed(&key, &state.clock) {
            tracing::warn!(address = %visitor.ip, "sign-ins locked after repeated failures");
            state
                .store
                .append_event(
                    NewEvent {
                        actor: &address,
                        action: "admin.locked",
                        subject: Some(form.username.trim()),
                        detail: Some("from this address"),
                    },
                    now,
                )
                .await?;
            return Ok(Err(Refused::Locked(until)));
        }
        return Ok(Err(Refused::Wrong));
    };
    let passed = if admin.has_second_step() {
        attempts.passed_step(&key, &state.clock)
    } else {
        attempts.succeeded(&key, &state.clock)
    };
    // Locked by the rest of a burst while this check ran: no sign-in once locked.
    Ok(passed
        .map(|()| admin)
        .map_err(|Locked(until)| Refused::Locked(until)))
}

pub async fn login_submit(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let next = local_path(&form.next).map(str::to_string);
    let admin = match check_password_sign_in(&state, &visitor, &form).await? {
        Ok(admin) => admin,
        Err(refused) => {
            let (key, minutes, status, retry_after) = match refused {
                Refused::TooMany(wait) => (
                    "login-too-many",
                    (wait + 59) / 60,
                    StatusCode::TOO_MANY_REQUESTS,
                    Some(wait),
                ),
                Refused::Locked(until) => (
                    "login-locked",
                    (until - now + 59) / 60,
                    StatusCode::TOO_MANY_REQUESTS,
                    None,
                ),
                Refused::Busy => ("login-busy", 1, StatusCode::TOO_MANY_REQUESTS, Some(5)),
                Refused::Wrong => ("login-wrong", 0, StatusCode::UNAUTHORIZED, None),
            };
            let view = LoginView {
                next: next.as_deref().unwrap_or_default(),
                username: &form.username,
                error: Some(key),
                minutes,
                status: Some(status),
                ..Default::default()
            };
            let mut res = render_login(&state, &visitor, view).await?;
            if let Some(wait) = retry_after {
                res.headers_mut().insert(
                    header::RETRY_AFTER,
                    wait.to_string().parse().expect("digits"),
                );
            }
            return Ok(res);
        }
    };
    let next = next.unwrap_or_else(|| admin.role.home().to_string());
    if admin.has_second_step() {
        // The password was right; the session starts only after the second step.
        let token = crate::crypto::random_token();
        state
            .store
            .insert_sign_in_step(
                &crate::crypto::sha256_hex(token.as_bytes()),
                admin.id,
                &next,
                now + STEP_SECONDS,
            )
            .await?;
        let mut res = Redirect::to(CODE_PAGE).into_response();
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie_at(
                STEP_COOKIE,
                &token,
                CODE_PAGE,
                STEP_SECONDS,
                state.config.is_https(),
                true,
            ),
        );
        return Ok(res);
    }
    complete_sign_in(&state, &admin, &visitor, &headers, &next, "with a password").await
}

/// The page of a sign-in's second step, and the cookie that carries the sign-in to it.
const CODE_PAGE: &str = "/login/code";
const STEP_COOKIE: &str = "usher_step";
/// How long the second step waits after the password.
const STEP_SECONDS: i64 = 300;

/// Every step passed: the session starts.
async fn complete_sign_in(
    state: &AppState,
    admin: &crate::store::admins::AdminRow,
    visitor: &Visitor,
    headers: &HeaderMap,
    next: &str,
    how: &str,
) -> AppResult<Response> {
    let now = state.clock.now();
    state.store.record_login_success(admin.id, now).await?;
    state
        .store
        .append_event(
            NewEvent {
                actor: &admin.username,
                action: "admin.signed_in",
                subject: Some(&admin.username),
                detail: Some(&format!("from {}, {how}", visitor.ip)),
            },
            now,
        )
        .await?;
    signed_in(
        state,
        (admin.id, &admin.username),
        visitor,
        headers,
        next,
        NewDevice::Announce,
    )
    .await
}

/// The sign-in waiting for its second step in this browser, if any.
async fn waiting_step(
    state: &AppState,
    headers: &HeaderMap,
) -> AppResult<
    Option<(
        String,
        crate::store::admins::SignInStep,
        crate::store::admins::AdminRow,
    )>,
> {
    let Some(token) = crate::web::visitor::cookie(headers, STEP_COOKIE).filter(|t| t.len() <= 64)
    else {
        return Ok(None);
    };
    let hash = crate::crypto::sha256_hex(token.as_bytes());
    let Some(step) = state.store.sign_in_step(&hash, state.clock.now()).await? else {
        return Ok(None);
    };
    let Some(admin) = state.store.admin(step.admin_id).await? else {
        return Ok(None);
    };
    Ok(Some((hash, step, admin)))
}

/// The page of the second step, offering what this admin has: an authenticator code, a
/// passkey, a recovery code.
async fn code_page(
    state: &AppState,
    visitor: &Visitor,
    admin: &crate::store::admins::AdminRow,
    error: Option<&'static str>,
    status: StatusCode,
) -> AppResult<Response> {
    let passkeys = admin.passkeys > 0 && super::passkeys::availability(state).is_ok();
    let recovery = state.store.unused_recovery_codes(admin.id).await? > 0;
    let mut res = page(
        state,
        visitor,
        "login_code.html",
        context! { error, totp => admin.totp_on(), passkeys, recovery },
    )?
    .into_response();
    *res.status_mut() = status;
    Ok(res)
}

pub async fn code_form(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
) -> AppResult<Response> {
    let Some((_, _, admin)) = waiting_step(&state, &headers).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    code_page(&state, &visitor, &admin, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

pub async fn code_submit(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    let Some((hash, step, admin)) = waiting_step(&state, &headers).await? else {
        // Expired or never started: the password again.
        return Ok(Redirect::to("/login").into_response());
    };
    let address = visitor.ip.to_string();
    let passed = match super::two_factor::check(&state, &admin, &address, &form.code).await {
        Ok(how) => how,
        Err(e @ AuthError::Store(_)) => return Err(e.into()),
        Err(e) => return step_failed(&state, &visitor, &admin, &hash, e).await,
    };
    let (next, how) = match passed {
        super::two_factor::SecondStep::Code => (step.next.as_str(), "with an authenticator code"),
        // A recovery code spent: the account page says how many are left.
        super::two_factor::SecondStep::RecoveryCode { .. } => {
            ("/admin/account?done=recovery", "with a recovery code")
        }
    };
    finish_steps(&state, &visitor, &headers, &hash, &admin, next, how).await
}

/// A second step that failed: the code page again with why. Locked out, the waiting sign-in
/// is over (the lock applies to the password too).
async fn step_failed(
    state: &AppState,
    visitor: &Visitor,
    admin: &crate::store::admins::AdminRow,
    hash: &str,
    e: AuthError,
) -> AppResult<Response> {
    if let AuthError::Locked(_) = e {
        state
            .store
            .delete_sign_in_step(hash, state.clock.now())
            .await?;
        return code_page(
            state,
            visitor,
            admin,
            Some("auth-locked"),
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    let status = match e {
        AuthError::CeremonyGone => StatusCode::GONE,
        _ => StatusCode::UNAUTHORIZED,
    };
    code_page(state, visitor, admin, Some(e.message_key()), status).await
}

/// Every step passed: the waiting sign-in ends, its cookie goes, and the session starts.
async fn finish_steps(
    state: &AppState,
    visitor: &Visitor,
    headers: &HeaderMap,
    hash: &str,
    admin: &crate::store::admins::AdminRow,
    next: &str,
    how: &str,
) -> AppResult<Response> {
    state
        .store
        .delete_sign_in_step(hash, state.clock.now())
        .await?;
    let mut res = complete_sign_in(state, admin, visitor, headers, next, how).await?;
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie_at(STEP_COOKIE, "", CODE_PAGE, 0, state.config.is_https(), true),
    );
    Ok(res)
}

pub(super) fn json_answer<T: serde::Serialize>(
    state: &AppState,
    visitor: &Visitor,
    answer: Result<T, AuthError>,
) -> Response {
    match answer {
        Ok(body) => axum::Json(body).into_response(),
        Err(e) => {
            let err = AppError::from(e);
            let message = state.i18n.text(visitor.lang, err.message_key);
            crate::web::error::json_body(&err, &message, &[])
        }
    }
}

/// The challenge for signing in with a passkey alone. Each counts against the address's
/// sign-in rate, as a password would.
pub async fn passkey_options(State(state): State<AppState>, visitor: Visitor) -> Response {
    let address = visitor.ip.to_string();
    if !state.limits.login_ip.check(&address, &state.clock) {
        let wait = state.limits.login_ip.retry_after(&address, &state.clock);
        let err = AppError::too_many_requests();
        let message = state.i18n.text(visitor.lang, err.message_key);
        let mut res = crate::web::error::json_body(&err, &message, &[]);
        res.headers_mut().insert(
            header::RETRY_AFTER,
            wait.to_string().parse().expect("digits"),
        );
        return res;
    }
    let challenge = super::passkeys::sign_in_start(&state).await;
    json_answer(&state, &visitor, challenge)
}

#[derive(Deserialize)]
pub struct PasskeyAnswer {
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    next: String,
}

/// Signs in with a passkey alone: it is both factors at once (the device, and the face,
/// finger or PIN that unlocked it), so no code follows.
pub async fn passkey_sign_in(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Form(form): Form<PasskeyAnswer>,
) -> AppResult<Response> {
    let address = visitor.ip.to_string();
    let next = local_path(&form.next).map(str::to_string);
    let admin =
        match super::passkeys::sign_in_finish(&state, &form.ceremony, &form.credential, &address)
            .await
        {
            Ok(admin) => admin,
            Err(e @ (AuthError::Store(_) | AuthError::PasskeyFault)) => return Err(e.into()),
            Err(e) => {
                let minutes = match e {
                    AuthError::Locked(until) => (until - state.clock.now() + 59) / 60,
                    _ => 0,
                };
                let err = AppError::from(e);
                let view = LoginView {
                    next: next.as_deref().unwrap_or_default(),
                    error: Some(err.message_key),
                    minutes,
                    status: Some(err.status),
                    ..Default::default()
                };
                return render_login(&state, &visitor, view).await;
            }
        };
    let next = next.unwrap_or_else(|| admin.role.home().to_string());
    complete_sign_in(&state, &admin, &visitor, &headers, &next, "with a passkey").await
}

/// The challenge for the step after a password, for the sign-in waiting in this browser.
pub async fn step_passkey_options(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
) -> Response {
    let waiting = match waiting_step(&state, &headers).await {
        Ok(Some((_, _, admin))) => admin,
        Ok(None) => return json_answer::<()>(&state, &visitor, Err(AuthError::CeremonyGone)),
        Err(e) => return e.into_response(),
    };
    let challenge = super::passkeys::step_start(&state, &waiting).await;
    json_answer(&state, &visitor, challenge)
}

/// The step after a password, passed with a passkey.
pub async fn step_passkey(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Form(form): Form<PasskeyAnswer>,
) -> AppResult<Response> {
    let Some((hash, step, admin)) = waiting_step(&state, &headers).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let address = visitor.ip.to_string();
    let checked =
        super::passkeys::step_finish(&state, &admin, &form.ceremony, &form.credential, &address)
            .await;
    match checked {
        Ok(()) => {}
        Err(e @ (AuthError::Store(_) | AuthError::PasskeyFault)) => return Err(e.into()),
        Err(e) => return step_failed(&state, &visitor, &admin, &hash, e).await,
    }
    finish_steps(
        &state,
        &visitor,
        &headers,
        &hash,
        &admin,
        &step.next,
        "with a passkey",
    )
    .await
}

pub async fn logout(State(state): State<AppState>, visitor: Visitor) -> AppResult<Response> {
    if let Some(session) = &visitor.admin {
        state.store.delete_session(&session.id_hash).await?;
        state
            .store
            .append_event(
                NewEvent {
                    actor: &session.username,
                    action: "admin.signed_out",
                    subject: Some(&session.username),
                    detail: None,
                },
                state.clock.now(),
            )
            .await?;
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, state.config.is_https(), true),
    );
    Ok(res)
}
