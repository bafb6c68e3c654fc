//! The owner's other admins: one-time links that bring someone in with a role, role changes,
//! removal, and which Telegram account the bot takes for each.

use crate::clock::Timestamp;
use crate::crypto;
use crate::domain::Role;
use crate::domain::ids::*;
use crate::state::AppState;
use crate::store::admins::InviteRefused;
use crate::store::events::NewEvent;

use super::AuthError;

/// How long a link lasts when the owner does not say.
pub const DEFAULT_INVITE_HOURS: i64 = 48;
const MAX_INVITE_HOURS: i64 = 7 * 24;

/// The path of an admin invite link (public: the person has no account yet).
pub fn invite_path(token: &str) -> String {
    format!("/team/{token}")
}

/// A fresh link, shown once: only its hash is kept.
pub struct NewInvite {
    pub id: AdminInviteId,
    pub url: String,
    pub role: Role,
    pub expires_at: Timestamp,
}

/// Makes a one-time link that brings in an admin with `role`, lasting `hours`.
pub async fn invite(
    state: &AppState,
    role: Role,
    hours: i64,
    by: &str,
) -> Result<NewInvite, AuthError> {
    if !(1..=MAX_INVITE_HOURS).contains(&hours) {
        return Err(AuthError::BadInviteHours);
    }
    let now = state.clock.now();
    let token = crypto::random_token();
    let expires_at = now + hours * 3600;
    let id = state
        .store
        .insert_admin_invite(
            &crypto::sha256_hex(token.as_bytes()),
            role,
            by,
            now,
            expires_at,
        )
        .await?;
    state
        .store
        .append_event(
            NewEvent {
                actor: by,
                action: "admin.invited",
                subject: None,
                detail: Some(&format!("as {role}, for {hours} h")),
            },
            now,
        )
        .await?;
    Ok(NewInvite {
        id,
        url: format!("{}{}", state.public.base(), invite_path(&token)),
        role,
        expires_at,
    })
}

/// The role a link would give, if it can still be used.
pub async fn invite_role(state: &AppState, token: &str) -> Result<Role, AuthError> {
    state
        .store
        .open_admin_invite(&crypto::sha256_hex(token.as_bytes()), state.clock.now())
        .await?
        .ok_or(AuthError::InviteGone)
}

/// What the person who opened a link chose.
pub struct Joining<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub confirm: &'a str,
}

/// Takes up a link: makes the admin with the link's role. The link is used once, whatever
/// happens after.
pub async fn join(
    state: &AppState,
    token: &str,
    joining: Joining<'_>,
) -> Result<(AdminId, Role), AuthError> {
    // Checked first, so a dead link says so before the form's own mistakes.
    invite_role(state, token).await?;
    let username = super::validate_username(joining.username)?;
    if joining.password != joining.confirm {
        return Err(AuthError::PasswordsDiffer);
    }
    super::validate_password(joining.password, username)?;
    let hash = super::hash_password(joining.password.to_string()).await;
    let now = state.clock.now();
    let (id, role) = state
        .store
        .redeem_admin_invite(&crypto::sha256_hex(token.as_bytes()), username, &hash, now)
        .await?
        .map_err(|refused| match refused {
            InviteRefused::Gone => AuthError::InviteGone,
            InviteRefused::NameTaken => AuthError::UsernameTaken(username.to_string()),
        })?;
    state
        .store
        .append_event(
            NewEvent {
                actor: username,
                action: "admin.joined",
                subject: Some(username),
                detail: Some(role.as_str()),
            },
            now,
        )
        .await?;
    Ok((id, role))
}

pub async fn revoke_invite(state: &AppState, id: AdminInviteId, by: &str) -> Result<(), AuthError> {
    if !state
        .store
        .revoke_admin_invite(id, state.clock.now())
        .await?
    {
        return Err(AuthError::InviteGone);
    }
    state
        .store
        .append_event(
            NewEvent {
                actor: by,
                action: "admin.invite_revoked",
                subject: None,
                detail: None,
            },
            state.clock.now(),
        )
        .await?;
    Ok(())
}

/// Links the Telegram account `telegram_id` to an admin (`None` unlinks): the bot then acts as
/// them, within their role, and the events log names them. It must be on the bot's allow-list.
pub async fn link_telegram(
    state: &AppState,
    username: &str,
    telegram_id: Option<i64>,
    by: &str,
) -> Result<(), AuthError> {
    let admin = super::named(&state.store, username).await?;
    if let Some(id) = telegram_id {
        let settings = state.store.settings().await?;
        if !settings.telegram.allowed_ids.contains(&id) {
            return Err(AuthError::TelegramNotAllowed(id));
        }
    }
    state
        .store
        .set_admin_telegram(admin.id, telegram_id)
        .await
        .map_err(|e| match telegram_id {
            Some(id) if crate::store::is_unique_violation(&e) => AuthError::TelegramTaken(id),
            _ => AuthError::Store(e.into()),
        })?;
    let detail = telegram_id.map_or_else(|| "unlinked".to_string(), |id| format!("Telegram {id}"));
    state
        .store
        .append_event(
            NewEvent {
                actor: by,
                action: "admin.telegram_linked",
                subject: Some(&admin.username),
                detail: Some(&detail),
            },
            state.clock.now(),
        )
        .await?;
    Ok(())
}
