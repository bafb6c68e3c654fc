//! Admin accounts, first-run setup, login with lockout, and sessions stored in the database.

pub mod account;
pub mod cli;
mod pages;
pub mod passkeys;
pub mod routes;
pub mod team;
pub mod totp;
pub mod two_factor;

use crate::domain::ids::*;
use std::sync::{Arc, LazyLock, Mutex};

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::PasswordHash;

use crate::clock::Timestamp;
use crate::crypto;
use crate::store::Store;

/// This feature's pages and endpoints, as the router registers them.
pub fn routes(r: crate::web::Routes) -> crate::web::Routes {
    use crate::web::Access::Public;
    use crate::web::{APPROVER, OWNER};
    use routes::*;
    r.get("/setup", Public, setup_page)
        .post("/setup", Public, setup_submit)
        .get("/login", Public, login_page)
        .post("/login", Public, login_submit)
        .get("/login/code", Public, code_form)
        .post("/login/code", Public, code_submit)
        .post("/login/passkey/options", Public, passkey_options)
        .post("/login/passkey", Public, passkey_sign_in)
        .post("/login/code/passkey/options", Public, step_passkey_options)
        .post("/login/code/passkey", Public, step_passkey)
        .post("/logout", Public, logout)
        .get("/admin/account", APPROVER, pages::account_page)
        .post("/admin/account/password", APPROVER, pages::change_password)
        .post(
            "/admin/account/two-factor/start",
            APPROVER,
            pages::two_factor_start,
        )
        .post(
            "/admin/account/two-factor/confirm",
            APPROVER,
            pages::two_factor_confirm,
        )
        .post(
            "/admin/account/two-factor/disable",
            APPROVER,
            pages::two_factor_disable,
        )
        .post(
            "/admin/account/passkeys/options",
            APPROVER,
            pages::passkey_options,
        )
        .post("/admin/account/passkeys", APPROVER, pages::passkey_add)
        .post(
            "/admin/account/passkeys/{id}/rename",
            APPROVER,
            pages::passkey_rename,
        )
        .post(
            "/admin/account/passkeys/{id}/remove",
            APPROVER,
            pages::passkey_remove,
        )
        .post(
            "/admin/account/sessions/{id}/end",
            APPROVER,
            pages::end_session,
        )
        .post(
            "/admin/account/sessions/end-others",
            APPROVER,
            pages::end_other_sessions,
        )
        .get("/admin/admins", OWNER, pages::admins_page)
        .post("/admin/admins/invites", OWNER, pages::create_invite)
        .post(
            "/admin/admins/invites/{id}/revoke",
            OWNER,
            pages::revoke_invite,
        )
        .post("/admin/admins/{id}/role", OWNER, pages::change_role)
        .post("/admin/admins/{id}/remove", OWNER, pages::remove)
        .post("/admin/admins/{id}/telegram", OWNER, pages::link_telegram)
        .get("/team/{token}", Public, pages::join_form)
        .post("/team/{token}", Public, pages::join)
}

const SETUP_TOKEN_KEY: &str = "setup_token_hash";
pub const MIN_PASSWORD: usize = 10;
pub const MAX_PASSWORD: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the username must be 1–64 characters: letters, digits, . _ - @")]
    BadUsername,
    #[error("the password must be at least {MIN_PASSWORD} characters")]
    PasswordTooShort,
    #[error("the password must be at most {MAX_PASSWORD} characters")]
    PasswordTooLong,
    #[error(
        "the password is too easy to guess ({0:?}): use a few unrelated words, or more characters"
    )]
    PasswordWeak(Weakness),
    #[error("an admin named `{0}` already exists")]
    UsernameTaken(String),
    #[error("no admin is named `{0}`")]
    NoSuchAdmin(String),
    #[error("setup is already done")]
    AlreadySetUp,
    #[error("usher needs an owner: make another admin the owner first")]
    LastOwner,
    #[error("the current password is not right")]
    WrongPassword,
    #[error(
        "that code is not right (or was used already): type the one your app shows now, or a recovery code"
    )]
    WrongCode,
    #[error("authenticator codes are on already: switch them off first to enrol another app")]
    TwoFactorOn,
    #[error("no authenticator app is being enrolled: start again")]
    NoEnrolment,
    #[error("the two new passwords differ")]
    PasswordsDiffer,
    #[error("too many wrong passwords from this address: try again later")]
    Locked(Timestamp),
    #[error("usher is checking many passwords at once: try again in a few seconds")]
    Busy,
    #[error("that session has ended already")]
    NoSuchSession,
    #[error("this link has been used, was revoked or has expired")]
    InviteGone,
    #[error("a link lasts from 1 hour to 7 days")]
    BadInviteHours,
    #[error(
        "Telegram id {0} is not allowed to use the bot: add it under Settings → Telegram first"
    )]
    TelegramNotAllowed(i64),
    #[error("Telegram id {0} is linked to another admin already")]
    TelegramTaken(i64),
    #[error("passkeys cannot work at this address: {0:?}")]
    PasskeysUnavailable(passkeys::Unavailable),
    #[error("the passkey could not be checked: try again")]
    PasskeyRefused,
    #[error("that passkey is not one of usher's (it may have been removed)")]
    PasskeyUnknown,
    #[error("that passkey is registered already")]
    PasskeyKnown,
    #[error(
        "an admin may have at most {} passkeys: remove one first",
        passkeys::MAX_PASSKEYS
    )]
    TooManyPasskeys,
    #[error("no such passkey")]
    NoSuchPasskey,
    #[error("a passkey's name is 1 to {} characters", passkeys::MAX_NAME)]
    BadPasskeyName,
    #[error("this passkey prompt has expired or was answered already: try again")]
    CeremonyGone,
    #[error("too many passkey sign-ins are under way: try again in a minute")]
    CeremoniesFull,
    #[error("the passkey prompt could not be made")]
    PasskeyFault,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl crate::web::error::Failure for AuthError {
    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode as S;
        match self {
            AuthError::UsernameTaken(_)
            | AuthError::AlreadySetUp
            | AuthError::LastOwner
            | AuthError::TelegramTaken(_)
            | AuthError::TwoFactorOn
            | AuthError::PasskeysUnavailable(_)
            | AuthError::PasskeyKnown
            | AuthError::TooManyPasskeys => S::CONFLICT,
            AuthError::Locked(_) | AuthError::Busy | AuthError::CeremoniesFull => {
                S::TOO_MANY_REQUESTS
            }
            AuthError::InviteGone | AuthError::CeremonyGone => S::GONE,
            AuthError::PasskeyRefused | AuthError::PasskeyUnknown => S::UNAUTHORIZED,
            AuthError::NoSuchSession | AuthError::NoSuchPasskey => S::NOT_FOUND,
            AuthError::NoSuchAdmin(_) => S::NOT_FOUND,
            AuthError::Store(_) | AuthError::PasskeyFault => S::INTERNAL_SERVER_ERROR,
            _ => S::UNPROCESSABLE_ENTITY,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AuthError::UsernameTaken(_) => "username_taken",
            AuthError::AlreadySetUp => "already_set_up",
            AuthError::LastOwner => "last_owner",
            AuthError::WrongPassword => "wrong_password",
            AuthError::WrongCode => "wrong_code",
            AuthError::Locked(_) => "locked",
            AuthError::Busy => "busy",
            AuthError::NoSuchSession => "not_found",
            AuthError::InviteGone => "gone",
            AuthError::TelegramTaken(_) => "telegram_taken",
            AuthError::NoSuchAdmin(_) | AuthError::NoSuchPasskey => "not_found",
            AuthError::PasskeysUnavailable(_) => "passkeys_unavailable",
            AuthError::PasskeyRefused | AuthError::PasskeyUnknown => "passkey_refused",
            AuthError::PasskeyKnown => "passkey_known",
            AuthError::TooManyPasskeys => "too_many_passkeys",
            AuthError::CeremonyGone => "ceremony_gone",
            AuthError::CeremoniesFull => "busy",
            AuthError::Store(_) | AuthError::PasskeyFault => "internal",
            _ => "invalid",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            AuthError::BadUsername | AuthError::UsernameTaken(_) => Some("username"),
            AuthError::PasswordTooShort
            | AuthError::PasswordTooLong
            | AuthError::PasswordWeak(_) => Some("password"),
            AuthError::WrongPassword => Some("current"),
            AuthError::WrongCode => Some("code"),
            AuthError::PasswordsDiffer => Some("password_confirm"),
            AuthError::BadInviteHours => Some("hours"),
            AuthError::TelegramNotAllowed(_) | AuthError::TelegramTaken(_) => Some("telegram_id"),
            AuthError::BadPasskeyName => Some("name"),
            _ => None,
        }
    }

    /// The Fluent key that explains this error on a page.
    fn message_key(&self) -> &'static str {
        match self {
            AuthError::BadUsername => "auth-bad-username",
            AuthError::PasswordTooShort => "auth-password-too-short",
            AuthError::PasswordTooLong => "auth-password-too-long",
            AuthError::PasswordWeak(w) => w.message_key(),
            AuthError::UsernameTaken(_) => "auth-username-taken",
            AuthError::NoSuchAdmin(_) => "auth-no-such-admin",
            AuthError::AlreadySetUp => "setup-already-done",
            AuthError::LastOwner => "auth-last-owner",
            AuthError::WrongPassword => "auth-wrong-password",
            AuthError::WrongCode => "auth-wrong-code",
            AuthError::TwoFactorOn => "auth-two-factor-on",
            AuthError::NoEnrolment => "auth-no-enrolment",
            AuthError::PasswordsDiffer => "setup-passwords-differ",
            AuthError::Locked(_) => "auth-locked",
            AuthError::Busy => "auth-busy",
            AuthError::NoSuchSession => "auth-no-such-session",
            AuthError::InviteGone => "team-invite-gone",
            AuthError::BadInviteHours => "team-invite-hours",
            AuthError::TelegramNotAllowed(_) => "team-telegram-not-allowed",
            AuthError::TelegramTaken(_) => "team-telegram-taken",
            AuthError::PasskeysUnavailable(why) => why.message_key(),
            AuthError::PasskeyRefused => "passkey-refused",
            AuthError::PasskeyUnknown => "passkey-unknown",
            AuthError::PasskeyKnown => "passkey-known",
            AuthError::TooManyPasskeys => "passkey-too-many",
            AuthError::NoSuchPasskey => "passkey-no-such",
            AuthError::BadPasskeyName => "passkey-bad-name",
            AuthError::CeremonyGone => "passkey-ceremony-gone",
            AuthError::CeremoniesFull => "passkey-ceremonies-full",
            AuthError::Store(_) | AuthError::PasskeyFault => "error-internal",
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

/// The least zxcvbn score (0–4) a password must reach: 3 is "safely unguessable" against an
/// attacker who can try many guesses, which a stolen database would allow.
const MIN_STRENGTH: zxcvbn::Score = zxcvbn::Score::Three;

/// Why a password is too easy to guess, in zxcvbn's words grouped into the ones pages say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weakness {
    /// One of the passwords people use most, or close to one.
    Common,
    /// Keys side by side (`qwerty`, `zxcvbn`).
    Keyboard,
    /// `aaa`, `abcabc`.
    Repeats,
    /// `abc`, `6543`.
    Sequence,
    /// Years and dates.
    Dates,
    /// A single word, or a name.
    Word,
    /// Nothing in particular: simply too predictable, or built from the user name.
    Guessable,
}

impl Weakness {
    fn of(warning: Option<zxcvbn::feedback::Warning>) -> Weakness {
        use zxcvbn::feedback::Warning as W;
        match warning {
            Some(
                W::ThisIsATop10Password
                | W::ThisIsATop100Password
                | W::ThisIsACommonPassword
                | W::ThisIsSimilarToACommonlyUsedPassword,
            ) => Weakness::Common,
            Some(W::StraightRowsOfKeysAreEasyToGuess | W::ShortKeyboardPatternsAreEasyToGuess) => {
                Weakness::Keyboard
            }
            Some(
                W::RepeatsLikeAaaAreEasyToGuess | W::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess,
            ) => Weakness::Repeats,
            Some(W::SequencesLikeAbcAreEasyToGuess) => Weakness::Sequence,
            Some(W::RecentYearsAreEasyToGuess | W::DatesAreOftenEasyToGuess) => Weakness::Dates,
            Some(
                W::AWordByItselfIsEasyToGuess
                | W::NamesAndSurnamesByThemselvesAreEasyToGuess
                | W::CommonNamesAndSurnamesAreEasyToGuess,
            ) => Weakness::Word,
            None => Weakness::Guessable,
        }
    }

    pub fn message_key(self) -> &'static str {
        match self {
            Weakness::Common => "auth-password-common",
            Weakness::Keyboard => "auth-password-keyboard",
            Weakness::Repeats => "auth-password-repeats",
            Weakness::Sequence => "auth-password-sequence",
            Weakness::Dates => "auth-password-dates",
            Weakness::Word => "auth-password-word",
            Weakness::Guessable => "auth-password-guessable",
        }
    }
}

/// Checks a new password: long enough, not too long, and hard to guess, judged with what the
/// account is called (`username`), since a password built from it is among the first guesses.
pub fn validate_password(password: &str, username: &str) -> Result<(), AuthError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(AuthError::PasswordTooShort);
    }
    if n > MAX_PASSWORD {
        return Err(AuthError::PasswordTooLong);
    }
    // The estimate's cost grows with the length; what follows the first 100 characters only
    // makes a password stronger.
    let judged: String = password.chars().take(100).collect();
    let estimate = zxcvbn::zxcvbn(&judged, &[username.trim(), "usher"]);
    if estimate.score() < MIN_STRENGTH {
        let warning = estimate.feedback().and_then(|f| f.warning());
        return Err(AuthError::PasswordWeak(Weakness::of(warning)));
    }
    Ok(())
}

/// Each argon2 run holds 19 MiB. Hashing runs on a few threads of its own (one per core), so
/// at most that many run at once and the memory each one used is reused by the next instead of
/// piling up in the allocator of every thread a blocking pool would use. A few callers queue;
/// past that, sign-ins are told to come back, so no burst can exhaust memory.
struct Hashing {
    jobs: std::sync::mpsc::SyncSender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

/// Sign-ins that may wait for a hashing thread before the next is refused.
const MAX_WAITING: usize = 16;

static HASHING: LazyLock<Hashing> = LazyLock::new(|| {
    let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(MAX_WAITING);
    let queue = Arc::new(Mutex::new(queue));
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    for i in 0..threads {
        let queue = queue.clone();
        std::thread::Builder::new()
            .name(format!("usher-hash-{i}"))
            .spawn(move || {
                loop {
                    let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            })
            .expect("start a password hashing thread");
    }
    Hashing { jobs }
});

/// Every hashing thread is busy and enough callers are waiting: try again shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Runs `work` on a hashing thread. With `refuse_when_busy`, a full queue answers `Busy` at
/// once; otherwise the caller waits for room.
async fn hashing<T: Send + 'static>(
    refuse_when_busy: bool,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Busy> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(work());
    });
    let jobs = HASHING.jobs.clone();
    if refuse_when_busy {
        jobs.try_send(job).map_err(|_| Busy)?;
    } else {
        tokio::task::spawn_blocking(move || jobs.send(job))
            .await
            .map_err(|_| Busy)?
            .map_err(|_| Busy)?;
    }
    rx.await.map_err(|_| Busy)
}

/// Hashes a password with argon2 off the async threads (waiting for a slot as long as it takes:
/// only admins set passwords).
pub async fn hash_password(password: String) -> String {
    hashing(false, move || hash_password_blocking(&password))
        .await
        .expect("the hashing threads run for the life of the process")
}

fn hash_password_blocking(password: &str) -> String {
    Argon2::default()
        .hash_password(password.as_bytes())
        .expect("argon2 hashing with default parameters cannot fail")
        .to_string()
}

/// Verifies a password against a stored hash off the async threads; `Busy` when sign-ins are
/// queued up already.
pub async fn verify_password(password: String, hash: String) -> Result<bool, Busy> {
    hashing(true, move || verify_blocking(&password, &hash)).await
}

thread_local! {
    /// Each hashing thread's argon2 memory, made once and reused by every check it runs: a
    /// fresh 19 MiB per check would be kept by the allocator after a burst, many times over.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        argon2::Params::try_from(&parsed),
        argon2::Algorithm::try_from(parsed.algorithm.as_str()),
    ) else {
        return false;
    };
    let version = match parsed.version.map(argon2::Version::try_from) {
        None => argon2::Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    let computed = BLOCKS.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, argon2::Block::new());
        }
        argon.hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut out,
            &mut memory[..blocks],
        )
    });
    computed.is_ok() && crypto::constant_time_eq(&out, expected.as_bytes())
}

/// A hash of a password nobody knows (random, thrown away when this hash was made), with the
/// default parameters: verified against when the username does not exist so that a wrong name
/// takes as long as a wrong password, without hashing anything new per request.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$xkd1f7IYHZt0Xphko6UWzg$ETzM7Dl/V6cF/2m2hK9nIiGTQz0LsNO8DwuyrsTy7WQ";

fn dummy_hash() -> String {
    DUMMY_HASH.to_string()
}

/// Creates an admin with `role` (CLI and setup). Any pending setup token is voided.
pub async fn create_admin(
    store: &Store,
    username: &str,
    password: &str,
    role: crate::domain::Role,
    now: Timestamp,
) -> Result<AdminId, AuthError> {
    let username = validate_username(username)?;
    validate_password(password, username)?;
    let hash = hash_password(password.to_string()).await;
    let id = store
        .insert_admin(username, &hash, role, now)
        .await
        .map_err(|e| {
            if crate::store::is_unique_violation(&e) {
                AuthError::UsernameTaken(username.to_string())
            } else {
                AuthError::Store(e.into())
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
    let admin = named(store, username).await?;
    validate_password(password, &admin.username)?;
    let hash = hash_password(password.to_string()).await;
    store.set_admin_password(admin.id, &hash, None).await?;
    Ok(())
}

/// An admin account as the API and `usher admin list --json` show it (never its secrets).
pub fn admin_json(a: &crate::store::admins::AdminRow) -> serde_json::Value {
    serde_json::json!({
        "id": a.id,
        "username": a.username,
        "role": a.role,
        "telegram_id": a.telegram_id,
        "created_at": a.created_at,
        "last_login_at": a.last_login_at,
        "authenticator_codes": a.totp_on(),
        "passkeys": a.passkeys,
    })
}

/// The admin named `username` (any case), or `NoSuchAdmin`.
pub async fn named(
    store: &Store,
    username: &str,
) -> Result<crate::store::admins::AdminRow, AuthError> {
    store
        .admin_by_name(username.trim())
        .await?
        .ok_or_else(|| AuthError::NoSuchAdmin(username.trim().to_string()))
}

/// The admin with this id, or `NoSuchAdmin`.
pub async fn by_id(
    store: &Store,
    id: AdminId,
) -> Result<crate::store::admins::AdminRow, AuthError> {
    store
        .admin(id)
        .await?
        .ok_or_else(|| AuthError::NoSuchAdmin(id.to_string()))
}

/// Gives an admin another role; the last owner keeps theirs. Their open sessions take the new
/// role on their next request (the role is read with the session).
pub async fn change_role(
    store: &Store,
    username: &str,
    role: crate::domain::Role,
    by: &str,
    now: Timestamp,
) -> Result<(), AuthError> {
    let admin = named(store, username).await?;
    store
        .set_admin_role(admin.id, role)
        .await?
        .map_err(|_| AuthError::LastOwner)?;
    if admin.role != role {
        store
            .append_event(
                crate::store::events::NewEvent {
                    actor: by,
                    action: "admin.role_changed",
                    subject: Some(&admin.username),
                    detail: Some(&format!("{} → {role}", admin.role)),
                },
                now,
            )
            .await?;
    }
    Ok(())
}

/// Removes an admin account and ends its sessions; the last owner stays.
pub async fn remove_admin(
    store: &Store,
    username: &str,
    by: &str,
    now: Timestamp,
) -> Result<(), AuthError> {
    let admin = named(store, username).await?;
    store
        .delete_admin(admin.id)
        .await?
        .map_err(|_| AuthError::LastOwner)?;
    store
        .append_event(
            crate::store::events::NewEvent {
                actor: by,
                action: "admin.removed",
                subject: Some(&admin.username),
                detail: Some(admin.role.as_str()),
            },
            now,
        )
        .await?;
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
) -> Result<AdminId, AuthError> {
    if !setup_token_valid(store, token).await? {
        return Err(AuthError::AlreadySetUp);
    }
    let username = validate_username(username)?;
    validate_password(password, username)?;
    let hash = hash_password(password.to_string()).await;
    let id = store
        .insert_first_admin(username, &hash, now)
        .await?
        .ok_or(AuthError::AlreadySetUp)?;
    store.delete_setting(SETUP_TOKEN_KEY).await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords_follow_the_rules() {
        assert_eq!(validate_username(" owner ").ok(), Some("owner"));
        assert!(validate_username("ana.maría@home").is_ok());
        assert!(matches!(validate_username(""), Err(AuthError::BadUsername)));
        assert!(matches!(
            validate_username("a b"),
            Err(AuthError::BadUsername)
        ));
        assert!(matches!(
            validate_username(&"x".repeat(65)),
            Err(AuthError::BadUsername)
        ));
        assert!(matches!(
            validate_password("short", "owner"),
            Err(AuthError::PasswordTooShort)
        ));
        assert!(validate_password("correct horse battery", "owner").is_ok());
        assert!(matches!(
            validate_password(&"x".repeat(257), "owner"),
            Err(AuthError::PasswordTooLong)
        ));
    }

    #[test]
    fn passwords_people_guess_first_are_refused_with_the_reason() {
        let weak = |p: &str, user: &str| match validate_password(p, user) {
            Err(AuthError::PasswordWeak(w)) => Some(w),
            Ok(()) => None,
            Err(e) => panic!("{p}: {e}"),
        };
        assert_eq!(weak("password123", "owner"), Some(Weakness::Common));
        assert_eq!(weak("qwertyuiop", "owner"), Some(Weakness::Common));
        assert_eq!(weak("asdfghjkl;'", "owner"), Some(Weakness::Keyboard));
        assert_eq!(weak("abcabcabcabc", "owner"), Some(Weakness::Repeats));
        assert_eq!(weak("abcdefghijkl", "owner"), Some(Weakness::Sequence));
        assert_eq!(weak("01/02/1990xx", "owner"), Some(Weakness::Dates));
        // Built from the account's own name, or from usher's: among the first guesses.
        assert_eq!(
            weak("marianne.dupont", "marianne.dupont"),
            Some(Weakness::Guessable)
        );
        assert!(weak("ushers123456", "owner").is_some());
        // A few unrelated words, or random characters, pass.
        assert_eq!(weak("correct horse battery", "owner"), None);
        assert_eq!(weak("Tq8#vL2m!xRw", "owner"), None);
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let dummy = PasswordHash::new(DUMMY_HASH).expect("a PHC string");
        let real = hash_password_blocking("anything at all");
        let real = PasswordHash::new(&real).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.params, real.params, "the same memory and time cost");
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
