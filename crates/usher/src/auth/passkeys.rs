//! Passkeys (WebAuthn): who usher is to an authenticator (the relying party), taken from the
//! public address, and whether passkeys can work there at all; registering them, signing in
//! with one alone, and using one as the step after a password.
//!
//! A browser offers passkeys only on a secure page (https, or `localhost`) and binds each
//! passkey to a domain name: an address like `http://192.168.1.20:9450` can have none.
//!
//! Every ceremony has two halves: the challenge the browser gets, and its answer. What the
//! answer is checked against stays in the database (`webauthn_ceremonies`) for a few minutes
//! under a random token the browser carries back, and is taken once.

use serde::Serialize;
use serde::de::DeserializeOwned;
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url, Uuid, Webauthn, WebauthnBuilder,
};

use webauthn_rs_proto::ResidentKeyRequirement;

use super::AuthError;
use crate::domain::base_url::BaseUrl;
use crate::domain::ids::*;
use crate::state::AppState;
use crate::store::admins::AdminRow;
use crate::store::passkeys::{Ceremony, PasskeyRow};

/// Why passkeys cannot work at the address friends and admins use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// Plain http on a name other than `localhost`: browsers refuse passkeys there.
    NotHttps,
    /// An IP address: a passkey belongs to a domain name.
    NoDomain,
}

impl Unavailable {
    /// The sentence the account page shows instead of the passkey buttons.
    pub fn message_key(self) -> &'static str {
        match self {
            Unavailable::NotHttps => "passkeys-need-https",
            Unavailable::NoDomain => "passkeys-need-domain",
        }
    }
}

fn is_localhost(host: &str) -> bool {
    host == "localhost" || host.ends_with(".localhost")
}

/// usher as a relying party at `base`: its id is the address's host name, its origin the
/// address itself (scheme, host and port, as the browser sends it).
pub fn relying_party(base: &BaseUrl) -> Result<Webauthn, Unavailable> {
    let url = Url::parse(base.as_str()).map_err(|_| Unavailable::NoDomain)?;
    let host = url
        .domain()
        .ok_or(Unavailable::NoDomain)?
        .to_ascii_lowercase();
    if url.scheme() != "https" && !is_localhost(&host) {
        return Err(Unavailable::NotHttps);
    }
    let origin =
        Url::parse(&url.origin().ascii_serialization()).map_err(|_| Unavailable::NoDomain)?;
    WebauthnBuilder::new(&host, &origin)
        .and_then(|b| b.rp_name("usher").build())
        .map_err(|_| Unavailable::NoDomain)
}

/// How long a ceremony waits for the browser's answer (people read a prompt, find a key).
const CEREMONY_SECONDS: i64 = 300;
/// Passkeys one admin may have.
pub const MAX_PASSKEYS: usize = 20;
/// The longest name a passkey may be given.
pub const MAX_NAME: usize = 64;

fn relying_party_here(state: &AppState) -> Result<Webauthn, AuthError> {
    relying_party(&state.public.current().0).map_err(AuthError::PasskeysUnavailable)
}

/// The first half of a ceremony as the page's script gets it: the options for
/// `navigator.credentials`, and the token that brings the answer back to its state.
#[derive(Debug, Serialize)]
pub struct Challenge<T> {
    pub ceremony: String,
    pub options: T,
}

/// A passkey as the account page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    pub id: PasskeyId,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

fn library_fault(e: webauthn_rs::prelude::WebauthnError) -> AuthError {
    tracing::error!(error = %e, "a passkey ceremony could not start");
    AuthError::PasskeyFault
}

fn decode(row: &PasskeyRow) -> Result<Passkey, AuthError> {
    Ok(crate::store::decode_json(
        "passkey",
        || format!("admin {}", row.admin_id),
        &row.passkey,
    )?)
}

fn encode<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("WebAuthn state serialises")
}

/// An authenticator's credential id as it is stored and looked up.
fn credential_key(id: &[u8]) -> String {
    crate::crypto::hex(id)
}

/// The answer a browser posted, read as the ceremony expects it.
fn answer<T: DeserializeOwned>(raw: &str) -> Result<T, AuthError> {
    serde_json::from_str(raw).map_err(|_| AuthError::PasskeyRefused)
}

async fn begin<S: Serialize>(
    state: &AppState,
    admin: Option<AdminId>,
    purpose: Ceremony,
    ceremony_state: &S,
) -> Result<String, AuthError> {
    let token = crate::crypto::random_token();
    let now = state.clock.now();
    let kept = state
        .store
        .insert_ceremony(
            &crate::crypto::sha256_hex(token.as_bytes()),
            admin,
            purpose,
            &encode(ceremony_state),
            now,
            now + CEREMONY_SECONDS,
        )
        .await?;
    if !kept {
        return Err(AuthError::CeremoniesFull);
    }
    Ok(token)
}

/// Takes a ceremony back by its token: begun for `purpose`, by `admin` (or by no one, for a
/// sign-in), not expired and not taken before.
async fn take<S: DeserializeOwned>(
    state: &AppState,
    token: &str,
    purpose: Ceremony,
    admin: Option<AdminId>,
) -> Result<S, AuthError> {
    if token.is_empty() || token.len() > 64 {
        return Err(AuthError::CeremonyGone);
    }
    let row = state
        .store
        .take_ceremony(
            &crate::crypto::sha256_hex(token.as_bytes()),
            purpose,
            state.clock.now(),
        )
        .await?
        .filter(|row| row.admin_id == admin)
        .ok_or(AuthError::CeremonyGone)?;
    Ok(crate::store::decode_json(
        "WebAuthn ceremony",
        || format!("{purpose:?}"),
        &row.state,
    )?)
}

/// The admin's passkeys, newest last.
pub async fn list(state: &AppState, admin_id: AdminId) -> Result<Vec<Listed>, AuthError> {
    Ok(state
        .store
        .passkeys(admin_id)
        .await?
        .into_iter()
        .map(|p| Listed {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        })
        .collect())
}

/// Whether passkeys can work at the public address, and if not, why.
pub fn availability(state: &AppState) -> Result<(), Unavailable> {
    relying_party(&state.public.current().0).map(|_| ())
}

fn valid_name(name: &str) -> Result<&str, AuthError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(AuthError::BadPasskeyName);
    }
    Ok(name)
}

// ---- Registering ----

/// Starts registering a passkey for the signed-in admin.
pub async fn register_start(
    state: &AppState,
    admin_id: AdminId,
) -> Result<Challenge<CreationChallengeResponse>, AuthError> {
    let rp = relying_party_here(state)?;
    let a = super::by_id(&state.store, admin_id).await?;
    let rows = state.store.passkeys(a.id).await?;
    if rows.len() >= MAX_PASSKEYS {
        return Err(AuthError::TooManyPasskeys);
    }
    let known = rows
        .iter()
        .map(|r| decode(r).map(|p| p.cred_id().clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let handle = match &a.webauthn_handle {
        Some(handle) => handle.clone(),
        None => {
            let fresh = Uuid::from_bytes(crate::crypto::random_bytes::<16>()).to_string();
            state.store.webauthn_handle(a.id, &fresh).await?
        }
    };
    let handle = Uuid::parse_str(&handle).map_err(|e| crate::store::StoreError::Corrupt {
        what: "WebAuthn handle",
        owner: a.username.clone(),
        reason: e.to_string(),
    })?;
    let (mut options, registration) = rp
        .start_passkey_registration(handle, &a.username, &a.username, Some(known))
        .map_err(library_fault)?;
    // Asked to be discoverable, so it can sign in with no name typed; a key that cannot still
    // serves as the step after a password.
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Preferred);
    }
    let ceremony = begin(state, Some(a.id), Ceremony::Register, &registration).await?;
    Ok(Challenge { ceremony, options })
}

/// Finishes a registration with the browser's answer. Returns the recovery codes, shown once,
/// when this passkey is the account's first second step.
pub async fn register_finish(
    state: &AppState,
    admin_id: AdminId,
    ceremony: &str,
    name: &str,
    credential: &str,
) -> Result<Option<Vec<String>>, AuthError> {
    let name = valid_name(name)?;
    let rp = relying_party_here(state)?;
    let a = super::by_id(&state.store, admin_id).await?;
    let registration: PasskeyRegistration =
        take(state, ceremony, Ceremony::Register, Some(a.id)).await?;
    let credential: RegisterPublicKeyCredential = answer(credential)?;
    let passkey = rp
        .finish_passkey_registration(&credential, &registration)
        .map_err(|e| {
            tracing::info!(error = %e, admin = %a.username, "a passkey registration was refused");
            AuthError::PasskeyRefused
        })?;
    let codes = super::totp::new_recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| super::totp::recovery_hash(c))
        .collect();
    let first = state
        .store
        .insert_passkey(
            a.id,
            name,
            &credential_key(passkey.cred_id()),
            &encode(&passkey),
            &hashes,
            state.clock.now(),
        )
        .await?
        .ok_or(AuthError::PasskeyKnown)?;
    state
        .record_event(
            &a.username,
            "admin.passkey_added",
            Some(&a.username),
            Some(name),
        )
        .await?;
    Ok(first.then_some(codes))
}

pub async fn rename(
    state: &AppState,
    admin_id: AdminId,
    id: PasskeyId,
    name: &str,
) -> Result<(), AuthError> {
    let name = valid_name(name)?;
    if !state.store.rename_passkey(admin_id, id, name).await? {
        return Err(AuthError::NoSuchPasskey);
    }
    Ok(())
}

/// Removes one of the admin's passkeys; `by` is who the events log names.
pub async fn remove(
    state: &AppState,
    admin: &AdminRow,
    id: PasskeyId,
    by: &str,
) -> Result<String, AuthError> {
    let name = state
        .store
        .delete_passkey(admin.id, id)
        .await?
        .ok_or(AuthError::NoSuchPasskey)?;
    state
        .record_event(
            by,
            "admin.passkey_removed",
            Some(&admin.username),
            Some(&name),
        )
        .await?;
    Ok(name)
}

// ---- Signing in ----

/// Checks an answer's signature under the sign-in lockout (a wrong one counts as a wrong
/// password would), then records the use of the passkey among `rows` that made it, with what
/// the authenticator changed (its signature counter).
async fn verified(
    state: &AppState,
    a: &AdminRow,
    address: &str,
    rows: &[PasskeyRow],
    verify: impl FnOnce() -> webauthn_rs::prelude::WebauthnResult<
        webauthn_rs::prelude::AuthenticationResult,
    >,
) -> Result<(), AuthError> {
    let check = async { Ok(verify().ok()) };
    let result = super::account::under_lockout(
        state,
        address,
        &a.username,
        AuthError::PasskeyRefused,
        check,
    )
    .await?;
    let used = credential_key(result.cred_id());
    let Some(row) = rows.iter().find(|r| r.credential_id == used) else {
        return Ok(());
    };
    let mut passkey = decode(row)?;
    let changed = passkey.update_credential(&result).unwrap_or(false);
    state
        .store
        .passkey_used(
            row.id,
            changed.then(|| encode(&passkey)).as_deref(),
            state.clock.now(),
        )
        .await?;
    Ok(())
}

/// Starts a sign-in with a passkey alone: any of usher's passkeys may answer, and the answer
/// says whose it is. Each start counts against the address's sign-in rate.
pub async fn sign_in_start(
    state: &AppState,
) -> Result<Challenge<RequestChallengeResponse>, AuthError> {
    let rp = relying_party_here(state)?;
    let (mut options, authentication) = rp
        .start_discoverable_authentication()
        .map_err(library_fault)?;
    // The library asks for autofill; a button press wants the browser's own prompt.
    options.mediation = None;
    let ceremony = begin(state, None, Ceremony::SignIn, &authentication).await?;
    Ok(Challenge { ceremony, options })
}

/// Finishes a passkey sign-in: the admin whose passkey answered, once its signature checks.
/// A wrong answer counts toward that account's lockout from this address.
pub async fn sign_in_finish(
    state: &AppState,
    ceremony: &str,
    credential: &str,
    address: &str,
) -> Result<AdminRow, AuthError> {
    let rp = relying_party_here(state)?;
    let authentication: DiscoverableAuthentication =
        take(state, ceremony, Ceremony::SignIn, None).await?;
    let credential: PublicKeyCredential = answer(credential)?;
    let (handle, credential_id) = rp
        .identify_discoverable_authentication(&credential)
        .map_err(|_| AuthError::PasskeyUnknown)?;
    let (row, admin_handle) = state
        .store
        .passkey_by_credential(&credential_key(credential_id))
        .await?
        .ok_or(AuthError::PasskeyUnknown)?;
    if admin_handle.as_deref() != Some(handle.to_string().as_str()) {
        return Err(AuthError::PasskeyUnknown);
    }
    let a = super::by_id(&state.store, row.admin_id).await?;
    let passkey = decode(&row)?;
    verified(state, &a, address, std::slice::from_ref(&row), || {
        rp.finish_discoverable_authentication_v2(&credential, authentication, &passkey)
    })
    .await?;
    Ok(a)
}

/// Starts the step after a password: one of this admin's passkeys must answer.
pub async fn step_start(
    state: &AppState,
    a: &AdminRow,
) -> Result<Challenge<RequestChallengeResponse>, AuthError> {
    let rp = relying_party_here(state)?;
    let passkeys = state
        .store
        .passkeys(a.id)
        .await?
        .iter()
        .map(decode)
        .collect::<Result<Vec<_>, _>>()?;
    if passkeys.is_empty() {
        return Err(AuthError::NoSuchPasskey);
    }
    let (options, authentication) = rp
        .start_passkey_authentication(&passkeys)
        .map_err(library_fault)?;
    let ceremony = begin(state, Some(a.id), Ceremony::SecondStep, &authentication).await?;
    Ok(Challenge { ceremony, options })
}

/// Checks the step after a password, under the same lockout as codes and passwords.
pub async fn step_finish(
    state: &AppState,
    a: &AdminRow,
    ceremony: &str,
    credential: &str,
    address: &str,
) -> Result<(), AuthError> {
    let rp = relying_party_here(state)?;
    let authentication: PasskeyAuthentication =
        take(state, ceremony, Ceremony::SecondStep, Some(a.id)).await?;
    let credential: PublicKeyCredential = answer(credential)?;
    let rows = state.store.passkeys(a.id).await?;
    verified(state, a, address, &rows, || {
        rp.finish_passkey_authentication(&credential, &authentication)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rp(url: &str) -> Result<Webauthn, Unavailable> {
        relying_party(&BaseUrl::parse(url).unwrap())
    }

    #[test]
    fn passkeys_work_on_https_names_and_localhost_only() {
        assert!(rp("https://usher.example.com").is_ok());
        assert!(rp("https://usher.example.com:8443/usher").is_ok());
        assert!(rp("http://localhost:9450").is_ok());
        assert!(rp("http://usher.localhost:9450").is_ok());
        assert_eq!(
            rp("http://usher.lan:9450").err(),
            Some(Unavailable::NotHttps)
        );
        assert_eq!(
            rp("http://usher.example.com").err(),
            Some(Unavailable::NotHttps)
        );
        assert_eq!(
            rp("http://127.0.0.1:9450").err(),
            Some(Unavailable::NoDomain)
        );
        assert_eq!(
            rp("https://192.168.1.20").err(),
            Some(Unavailable::NoDomain)
        );
        assert_eq!(rp("https://[::1]:9450").err(), Some(Unavailable::NoDomain));
    }

    #[test]
    fn a_registration_names_usher_and_the_address_host() {
        let rp = rp("https://usher.example.com:8443").unwrap();
        let id = webauthn_rs::prelude::Uuid::from_bytes([7; 16]);
        let (challenge, _) = rp
            .start_passkey_registration(id, "owner", "owner", None)
            .unwrap();
        let json = serde_json::to_value(&challenge).unwrap();
        assert_eq!(json["publicKey"]["rp"]["id"], "usher.example.com");
        assert_eq!(json["publicKey"]["rp"]["name"], "usher");
        assert_eq!(json["publicKey"]["user"]["name"], "owner");
    }
}
