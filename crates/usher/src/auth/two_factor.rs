//! The second step of signing in: enrolling an authenticator app (checked with one code before
//! it is switched on), the recovery codes shown once, the step itself with the sign-in lockout,
//! and switching it off (with the password, or by the operator from the CLI).

use crate::domain::ids::*;
use crate::state::AppState;
use crate::store::admins::AdminRow;

use super::{AuthError, totp};

/// What the account page shows while an app is being enrolled.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Enrolment {
    /// The secret as a person types it into an app, in groups of four.
    pub secret: String,
    pub uri: String,
    /// The QR code of `uri`, as inline SVG.
    pub qr_svg: String,
}

fn enrolment(admin: &AdminRow, secret: &[u8]) -> Enrolment {
    let uri = totp::enrolment_uri(secret, &admin.username, "usher");
    let grouped = totp::base32(secret)
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    Enrolment {
        secret: grouped,
        qr_svg: crate::web::svg::qr(&uri).unwrap_or_default(),
        uri,
    }
}

fn secret_of(state: &AppState, admin: &AdminRow) -> Option<Vec<u8>> {
    let sealed = admin.totp_secret_sealed.as_deref()?;
    totp::from_base32(&state.key.open(sealed)?)
}

/// Starts enrolling an app: a fresh secret, kept sealed but not yet switched on.
pub async fn start(state: &AppState, admin_id: AdminId) -> Result<Enrolment, AuthError> {
    let a = super::by_id(&state.store, admin_id).await?;
    if a.totp_on() {
        return Err(AuthError::TwoFactorOn);
    }
    let secret = totp::new_secret();
    state
        .store
        .set_pending_totp(a.id, &state.key.seal(&totp::base32(&secret)))
        .await?;
    Ok(enrolment(&a, &secret))
}

/// The enrolment under way, if one was started and not yet confirmed.
pub async fn pending(state: &AppState, admin_id: AdminId) -> Result<Option<Enrolment>, AuthError> {
    let a = super::by_id(&state.store, admin_id).await?;
    if a.totp_on() {
        return Ok(None);
    }
    Ok(secret_of(state, &a).map(|s| enrolment(&a, &s)))
}

/// Switches codes on once the app shows a right one; returns the recovery codes, shown once.
pub async fn confirm(
    state: &AppState,
    admin_id: AdminId,
    typed: &str,
) -> Result<Vec<String>, AuthError> {
    let a = super::by_id(&state.store, admin_id).await?;
    if a.totp_on() {
        return Err(AuthError::TwoFactorOn);
    }
    let secret = secret_of(state, &a).ok_or(AuthError::NoEnrolment)?;
    let now = state.clock.now();
    let step = totp::verify(&secret, typed, now, None).ok_or(AuthError::WrongCode)?;
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
    state.store.enable_totp(a.id, step, &hashes, now).await?;
    state
        .record_event(&a.username, "admin.two_factor_on", Some(&a.username), None)
        .await?;
    Ok(codes)
}

/// Switches codes off from the account page: the password is asked again, under the lockout.
pub async fn disable(
    state: &AppState,
    admin_id: AdminId,
    address: &str,
    password: &str,
) -> Result<(), AuthError> {
    let a = super::by_id(&state.store, admin_id).await?;
    super::account::check_password(state, &a, address, password).await?;
    state.store.clear_totp(a.id).await?;
    state
        .record_event(&a.username, "admin.two_factor_off", Some(&a.username), None)
        .await?;
    Ok(())
}

/// The operator's way back in for an admin who lost their phone, their passkeys and their
/// recovery codes: every second step goes. Returns how many passkeys were removed.
pub async fn reset(state: &AppState, username: &str, by: &str) -> Result<u64, AuthError> {
    let a = super::named(&state.store, username).await?;
    let passkeys = state.store.clear_second_steps(a.id).await?;
    let detail = match passkeys {
        0 => "reset by the operator".to_string(),
        n => format!("reset by the operator; {n} passkey(s) removed"),
    };
    state
        .record_event(by, "admin.two_factor_off", Some(&a.username), Some(&detail))
        .await?;
    Ok(passkeys)
}

/// Checks the second step: a code from the app, or an unused recovery code (used up by this).
/// Wrong ones count toward the same lockout as passwords, per address and account.
pub async fn check(
    state: &AppState,
    a: &AdminRow,
    address: &str,
    typed: &str,
) -> Result<SecondStep, AuthError> {
    let check = async {
        let now = state.clock.now();
        if let Some(secret) = secret_of(state, a)
            && let Some(step) = totp::verify(&secret, typed, now, a.totp_last_step)
            && state.store.use_totp_step(a.id, step).await?
        {
            return Ok(Some(SecondStep::Code));
        }
        if typed.chars().filter(char::is_ascii_alphanumeric).count() == 12
            && state
                .store
                .use_recovery_code(a.id, &totp::recovery_hash(typed), now)
                .await?
        {
            let left = state.store.unused_recovery_codes(a.id).await?;
            state
                .record_event(
                    &a.username,
                    "admin.recovery_code_used",
                    Some(&a.username),
                    Some(&format!("{left} left")),
                )
                .await?;
            return Ok(Some(SecondStep::RecoveryCode { left }));
        }
        Ok(None)
    };
    super::account::under_lockout(state, address, &a.username, AuthError::WrongCode, check).await
}

/// How the second step was passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondStep {
    Code,
    RecoveryCode { left: i64 },
}
