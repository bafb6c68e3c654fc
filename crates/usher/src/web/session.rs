//! Admin sessions: a random id in an HttpOnly cookie, only its hash stored, sliding forward
//! while in use. Signing in (the auth feature) starts one; every request looks its cookie up.

use crate::crypto;
use crate::domain::ids::*;
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::visitor::AdminSession;

/// Sliding sessions are written back at most this often, not on every request.
const TOUCH_INTERVAL: i64 = 3600;

/// Starts a session for `admin_id`, signed in from `address`, and returns the cookie value.
pub async fn start(
    state: &AppState,
    admin_id: AdminId,
    user_agent: Option<&str>,
    address: &str,
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
            now + state.config.session_seconds(),
            ua.as_deref(),
            address,
        )
        .await?;
    Ok(raw)
}

/// Looks up the session a cookie names, sliding its expiry forward on use.
pub async fn for_cookie(state: &AppState, raw: &str) -> Result<Option<AdminSession>, AppError> {
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
            .touch_session(&id_hash, now, now + state.config.session_seconds())
            .await?;
    }
    Ok(Some(AdminSession {
        admin_id: row.admin_id,
        username: row.username,
        role: row.role,
        id_hash,
        waiting: row.waiting,
        zone: crate::clock::Zone::stored(row.time_zone.as_deref()),
    }))
}
