//! One's own account: the password (the current one needed to change it) and the browsers
//! signed in, each of which can be ended.

use crate::clock::Timestamp;
use crate::domain::ids::*;
use crate::ratelimit::Locked;
use crate::state::AppState;
use crate::store::events::NewEvent;
use crate::web::visitor::AdminSession;

use super::AuthError;

/// What the account page's password form sends.
pub struct PasswordChange<'a> {
    pub current: &'a str,
    pub new: &'a str,
    pub confirm: &'a str,
}

/// The key the sign-in lockout counts an admin's wrong passwords under, from one address.
pub fn attempts_key(address: &str, username: &str) -> String {
    format!("{address}\n{}", username.trim().to_lowercase())
}

/// Runs one check of a sign-in step (a password, a code, a passkey) under the lockout, per
/// address and account: the attempt is reserved first, then counted as a success when `check`
/// finds it right (`Some`) or as a failure, answered with `wrong`, when not (`None`). A check
/// that could not be made (`Err`: the server busy, the store failing) does not count.
pub(super) async fn under_lockout<T>(
    state: &AppState,
    address: &str,
    username: &str,
    wrong: AuthError,
    check: impl std::future::Future<Output = Result<Option<T>, AuthError>>,
) -> Result<T, AuthError> {
    let key = attempts_key(address, username);
    let attempts = &state.limits.login_attempts;
    attempts
        .reserve(&key, &state.clock)
        .map_err(|Locked(until)| AuthError::Locked(until))?;
    match check.await {
        Err(e) => {
            attempts.released(&key);
            Err(e)
        }
        Ok(None) => Err(match attempts.failed(&key, &state.clock) {
            Err(Locked(until)) => AuthError::Locked(until),
            Ok(()) => wrong,
        }),
        Ok(Some(passed)) => attempts
            .succeeded(&key, &state.clock)
            .map(|()| passed)
            .map_err(|Locked(until)| AuthError::Locked(until)),
    }
}

/// Checks an admin's password again before something sensitive, under the sign-in lockout, so
/// a browser left open cannot be used to guess it.
pub async fn check_password(
    state: &AppState,
    admin: &crate::store::admins::AdminRow,
    address: &str,
    password: &str,
) -> Result<(), AuthError> {
    let check = async {
        match super::verify_password(password.to_string(), admin.password_hash.clone()).await {
            Err(super::Busy) => Err(AuthError::Busy),
            Ok(right) => Ok(right.then_some(())),
        }
    };
    under_lockout(
        state,
        address,
        &admin.username,
        AuthError::WrongPassword,
        check,
    )
    .await
}

/// Changes the signed-in admin's password. The current one is checked first, and wrong ones
/// count toward the same lockout as signing in, so a browser left open cannot be used to
/// guess it. Every other session of the admin ends; this one stays.
pub async fn change_password(
    state: &AppState,
    session: &AdminSession,
    address: &str,
    change: PasswordChange<'_>,
) -> Result<(), AuthError> {
    let admin = state
        .store
        .admin(session.admin_id)
        .await?
        .ok_or_else(|| AuthError::NoSuchAdmin(session.username.clone()))?;
    check_password(state, &admin, address, change.current).await?;
    if change.new != change.confirm {
        return Err(AuthError::PasswordsDiffer);
    }
    super::validate_password(change.new, &admin.username)?;
    let hash = super::hash_password(change.new.to_string()).await;
    state
        .store
        .set_admin_password(admin.id, &hash, Some(&session.id_hash))
        .await?;
    state
        .store
        .append_event(
            NewEvent {
                actor: &admin.username,
                action: "admin.password_changed",
                subject: Some(&admin.username),
                detail: Some("their other sessions were ended"),
            },
            state.clock.now(),
        )
        .await?;
    Ok(())
}

/// A signed-in browser as the account page shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionView {
    pub id: SessionId,
    /// "Firefox on Android", from the browser's own description.
    pub device: String,
    pub address: Option<String>,
    pub signed_in_at: Timestamp,
    pub last_seen_at: Timestamp,
    /// The browser looking at the page.
    pub current: bool,
}

pub async fn sessions(
    state: &AppState,
    session: &AdminSession,
) -> Result<Vec<SessionView>, AuthError> {
    let rows = state
        .store
        .sessions_of(session.admin_id, state.clock.now())
        .await?;
    Ok(rows
        .into_iter()
        .map(|s| SessionView {
            id: s.id,
            device: device_name(s.user_agent.as_deref()),
            address: s.address,
            signed_in_at: s.created_at,
            last_seen_at: s.last_seen_at,
            current: s.id_hash == session.id_hash,
        })
        .collect())
}

/// Ends one of the admin's own sessions (this one too, if asked: that is signing out).
pub async fn end_session(
    state: &AppState,
    admin_id: AdminId,
    username: &str,
    id: SessionId,
    by: &str,
) -> Result<(), AuthError> {
    if !state.store.end_session_of(admin_id, id).await? {
        return Err(AuthError::NoSuchSession);
    }
    state
        .store
        .append_event(
            NewEvent {
                actor: by,
                action: "admin.session_ended",
                subject: Some(username),
                detail: None,
            },
            state.clock.now(),
        )
        .await?;
    Ok(())
}

/// Ends every session of the admin but `keep`; how many ended.
pub async fn end_other_sessions(
    state: &AppState,
    admin_id: AdminId,
    username: &str,
    keep: Option<&str>,
    by: &str,
) -> Result<u64, AuthError> {
    let ended = state.store.end_sessions_except(admin_id, keep).await?;
    if ended > 0 {
        state
            .store
            .append_event(
                NewEvent {
                    actor: by,
                    action: "admin.session_ended",
                    subject: Some(username),
                    detail: Some(&format!("{ended} sessions")),
                },
                state.clock.now(),
            )
            .await?;
    }
    Ok(ended)
}

/// A short name for a browser from its User-Agent: the browser and the system, which is what a
/// person recognises ("Safari on iPhone"), or the raw text's start when it is neither.
pub fn device_name(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|u| !u.trim().is_empty()) else {
        return "Unknown browser".into();
    };
    // Order matters: Edge and Opera say Chrome too, Chrome says Safari, Android says Linux.
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    let system = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_string(),
        (None, Some(s)) => format!("A browser on {s}"),
        (None, None) => ua.chars().take(40).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::device_name;

    #[test]
    fn browsers_are_named_as_people_know_them() {
        let cases = [
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36 Edg/124.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
                "Firefox on Linux",
            ),
            ("curl/8.5.0", "curl"),
        ];
        for (ua, name) in cases {
            assert_eq!(device_name(Some(ua)), name, "{ua}");
        }
        assert_eq!(device_name(None), "Unknown browser");
        assert_eq!(device_name(Some("   ")), "Unknown browser");
        assert_eq!(device_name(Some("SomeBot/1.0")), "SomeBot/1.0");
    }
}
