//! Admin accounts, first-run setup, login with lockout, and sessions stored in the database.

pub mod routes;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::clock::Timestamp;
use crate::crypto;
use crate::store::Store;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::visitor::AdminSession;

const SETUP_TOKEN_KEY: &str = "setup_token_hash";
pub const MIN_PASSWORD: usize = 10;
pub const MAX_PASSWORD: usize = 256;
/// Sliding sessions are written back at most this often, not on every request.
const TOUCH_INTERVAL: i64 = 3600;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("the username must be 1–64 characters: letters, digits, . _ - @")]
    BadUsername,
    #[error("the password must be at least {MIN_PASSWORD} characters")]
    PasswordTooShort,
    #[error("the password must be at most {MAX_PASSWORD} characters")]
    PasswordTooLong,
    #[error("an admin named `{0}` already exists")]
    UsernameTaken(String),
    #[error("no admin is named `{0}`")]
    NoSuchAdmin(String),
    #[error("setup is already done")]
    AlreadySetUp,
    #[error("{0}")]
    Store(String),
}

impl From<crate::store::StoreError> for AuthError {
    fn from(e: crate::store::StoreError) -> Self {
        AuthError::Store(e.to_string())
    }
}

impl AuthError {
    /// The Fluent key that explains this error on a page.
    pub fn message_key(&self) -> &'static str {
        match self {
            AuthError::BadUsername => "auth-bad-username",
            AuthError::PasswordTooShort => "auth-password-too-short",
            AuthError::PasswordTooLong => "auth-password-too-long",
            AuthError::UsernameTaken(_) => "auth-username-taken",
            AuthError::NoSuchAdmin(_) => "auth-no-such-admin",
            AuthError::AlreadySetUp => "setup-already-done",
            AuthError::Store(_) => "error-internal",
        }
    }
}

pub fn validate_username(name: &str) -> Result<&str, AuthError> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(name)
    } else {
        Err(AuthError::BadUsername)
    }
}

pub fn validate_password(password: &str) -> Result<(), AuthError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        Err(AuthError::PasswordTooShort)
    } else if n > MAX_PASSWORD {
        Err(AuthError::PasswordTooLong)
    } else {
        Ok(())
    }
}

/// Each argon2 run holds 19 MiB: at most one per core runs at a time, a few callers wait their
/// turn, and the rest are told to come back, so no burst of sign-ins can exhaust memory.
struct Hashing {
    slots: Arc<tokio::sync::Semaphore>,
    waiting: AtomicUsize,
}

/// Callers that may wait for a free slot before sign-ins are refused.
const MAX_WAITING: usize = 16;

static HASHING: LazyLock<Hashing> = LazyLock::new(|| Hashing {
    slots: Arc::new(tokio::sync::Semaphore::new(
        std::thread::available_parallelism().map_or(2, |n| n.get()),
    )),
    waiting: AtomicUsize::new(0),
});

/// Every hashing slot is taken and enough callers are waiting: try again shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Runs `work` on a blocking thread once a hashing slot is free; `Busy` when too many wait.
async fn hashing<T: Send + 'static>(
    refuse_when_busy: bool,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Busy> {
    let h = &*HASHING;
    let queued = h.waiting.fetch_add(1, Ordering::SeqCst);
    if refuse_when_busy && queued >= MAX_WAITING && h.slots.available_permits() == 0 {
        h.waiting.fetch_sub(1, Ordering::SeqCst);
        return Err(Busy);
    }
    let permit = h.slots.clone().acquire_owned().await;
    h.waiting.fetch_sub(1, Ordering::SeqCst);
    let permit = permit.map_err(|_| Busy)?;
    tokio::task::spawn_blocking(move || {
        let out = work();
        drop(permit);
        out
    })
    .await
    .map_err(|_| Busy)
}

/// Hashes a password with argon2 off the async threads (waiting for a slot as long as it takes:
/// only admins set passwords).
pub async fn hash_password(password: String) -> String {
    hashing(false, move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .expect("argon2 hashing with default parameters cannot fail")
            .to_string()
    })
    .await
    .expect("hashing task panicked")
}

/// Verifies a password against a stored hash off the async threads; `Busy` when sign-ins are
/// queued up already.
pub async fn verify_password(password: String, hash: String) -> Result<bool, Busy> {
    hashing(true, move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
}

/// A hash of a random password, verified against when the username does not exist so that a
/// wrong name takes as long as a wrong password.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

async fn dummy_hash() -> String {
    if let Some(h) = DUMMY_HASH.get() {
        return h.clone();
    }
    let h = hash_password(crypto::random_token()).await;
    DUMMY_HASH.get_or_init(|| h).clone()
}

/// Creates an admin (CLI and setup). Any pending setup token is voided.
pub async fn create_admin(
    store: &Store,
    username: &str,
    password: &str,
    now: Timestamp,
) -> Result<i64, AuthError> {
    let username = validate_username(username)?;
    validate_password(password)?;
    let hash = hash_password(password.to_string()).await;
    let id = store
        .insert_admin(username, &hash, now)
        .await
        .map_err(|e| {
            if crate::store::is_unique_violation(&e) {
                AuthError::UsernameTaken(username.to_string())
            } else {
                AuthError::Store(e.to_string())
            }
        })?;
    store.delete_setting(SETUP_TOKEN_KEY).await?;
    Ok(id)
}

/// Sets a new password and signs the admin out everywhere.
pub async fn reset_password(
    store: &Store,
    username: &str,
    password: &str,
) -> Result<(), AuthError> {
    validate_password(password)?;
    let admin = store
        .admin_by_name(username.trim())
        .await?
        .ok_or_else(|| AuthError::NoSuchAdmin(username.trim().to_string()))?;
    let hash = hash_password(password.to_string()).await;
    store.set_admin_password(admin.id, &hash).await?;
    Ok(())
}

/// While no admin exists, makes a fresh one-time setup token and stores its hash. Returns the
/// token to print, or `None` when setup is done.
pub async fn issue_setup_token(store: &Store, now: Timestamp) -> Result<Option<String>, AuthError> {
    if store.admin_count().await? > 0 {
        store.delete_setting(SETUP_TOKEN_KEY).await?;
        return Ok(None);
    }
    let token = crypto::random_token();
    store
        .set_setting(SETUP_TOKEN_KEY, &crypto::sha256_hex(token.as_bytes()), now)
        .await?;
    Ok(Some(token))
}

/// Whether `token` is the current setup token.
pub async fn setup_token_valid(store: &Store, token: &str) -> Result<bool, AuthError> {
    let Some(stored) = store.setting(SETUP_TOKEN_KEY).await? else {
        return Ok(false);
    };
    let given = crypto::sha256_hex(token.as_bytes());
    Ok(crypto::constant_time_eq(
        given.as_bytes(),
        stored.as_bytes(),
    ))
}

/// Creates the first admin with a valid setup token; the token dies with it.
pub async fn complete_setup(
    store: &Store,
    token: &str,
    username: &str,
    password: &str,
    now: Timestamp,
) -> Result<i64, AuthError> {
    if !setup_token_valid(store, token).await? {
        return Err(AuthError::AlreadySetUp);
    }
    let username = validate_username(username)?;
    validate_password(password)?;
    let hash = hash_password(password.to_string()).await;
    let id = store
        .insert_first_admin(username, &hash, now)
        .await?
        .ok_or(AuthError::AlreadySetUp)?;
    store.delete_setting(SETUP_TOKEN_KEY).await?;
    Ok(id)
}

/// Starts a session and returns the raw cookie value (only its hash is stored).
pub async fn start_session(
    state: &AppState,
    admin_id: i64,
    user_agent: Option<&str>,
) -> Result<String, AppError> {
    let raw = crypto::random_token();
    let now = state.clock.now();
    let ua = user_agent.map(|u| u.chars().take(200).collect::<String>());
    state
        .store
        .insert_session(
            &crypto::sha256_hex(raw.as_bytes()),
            admin_id,
            now,
            now + session_lifetime(state),
            ua.as_deref(),
        )
        .await?;
    Ok(raw)
}

fn session_lifetime(state: &AppState) -> i64 {
    state.config.session_days as i64 * 86_400
}

/// Looks up the session a cookie names, sliding its expiry forward on use.
pub async fn session_for_cookie(
    state: &AppState,
    raw: &str,
) -> Result<Option<AdminSession>, AppError> {
    if raw.len() > 128 {
        return Ok(None);
    }
    let now = state.clock.now();
    let id_hash = crypto::sha256_hex(raw.as_bytes());
    let Some(row) = state.store.session(&id_hash, now).await? else {
        return Ok(None);
    };
    if now - row.last_seen_at >= TOUCH_INTERVAL {
        state
            .store
            .touch_session(&id_hash, now, now + session_lifetime(state))
            .await?;
    }
    Ok(Some(AdminSession {
        admin_id: row.admin_id,
        username: row.username,
        id_hash,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords_follow_the_rules() {
        assert_eq!(validate_username(" owner "), Ok("owner"));
        assert!(validate_username("ana.maría@home").is_ok());
        assert_eq!(validate_username(""), Err(AuthError::BadUsername));
        assert_eq!(validate_username("a b"), Err(AuthError::BadUsername));
        assert_eq!(
            validate_username(&"x".repeat(65)),
            Err(AuthError::BadUsername)
        );
        assert_eq!(validate_password("short"), Err(AuthError::PasswordTooShort));
        assert!(validate_password("long enough pw").is_ok());
        assert_eq!(
            validate_password(&"x".repeat(257)),
            Err(AuthError::PasswordTooLong)
        );
    }

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let hash = hash_password("correct horse battery".into()).await;
        assert_eq!(
            verify_password("correct horse battery".into(), hash.clone()).await,
            Ok(true)
        );
        assert_eq!(
            verify_password("wrong horse battery".into(), hash).await,
            Ok(false)
        );
        assert_eq!(
            verify_password("x".into(), "not a hash".into()).await,
            Ok(false)
        );
    }
}
