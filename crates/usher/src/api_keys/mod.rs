//! API keys: made with a scope (shown once, stored hashed), listed with their last use, revoked.
//! The pages, the JSON API and the CLI all go through [`create`] and [`revoke`].

pub mod api;
pub mod cli;
mod pages;

use crate::domain::ApiScope;
use crate::domain::ids::ApiKeyId;
use crate::state::AppState;
use crate::store::api_keys::ApiKeyRow;

/// The API keys pages and endpoints, as the router registers them.
pub fn routes(r: crate::web::Routes) -> crate::web::Routes {
    use crate::web::OWNER;
    r.get("/admin/api-keys", OWNER, pages::list)
        .post("/admin/api-keys", OWNER, pages::create)
        .post("/admin/api-keys/{id}/revoke", OWNER, pages::revoke)
        .api(api::endpoints())
}

/// A new key: `ush_` and 256 random bits.
pub fn new_key() -> String {
    format!("ush_{}", crate::crypto::random_token())
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("give the key a name of 1–60 characters")]
    BadName,
    #[error("the scope is read, requests or full")]
    BadScope,
    #[error("no such API key, or it was revoked already")]
    NotFound,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl crate::web::error::Failure for KeyError {
    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode as S;
        match self {
            KeyError::BadName | KeyError::BadScope => S::UNPROCESSABLE_ENTITY,
            KeyError::NotFound => S::NOT_FOUND,
            KeyError::Store(_) => S::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            KeyError::BadName | KeyError::BadScope => "invalid",
            KeyError::NotFound => "not_found",
            KeyError::Store(_) => "internal",
        }
    }

    fn message_key(&self) -> &'static str {
        match self {
            KeyError::BadName => "api-key-bad-name",
            KeyError::BadScope => "api-key-bad-scope",
            KeyError::NotFound => "error-not-found",
            KeyError::Store(_) => "error-internal",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            KeyError::BadName => Some("name"),
            KeyError::BadScope => Some("scope"),
            _ => None,
        }
    }
}

/// Makes a key called `name` that may do `scope` (text as a form or a command gives it) and
/// returns it with the one copy of the key there will ever be.
pub async fn create(
    state: &AppState,
    name: &str,
    scope: &str,
    actor: &str,
) -> Result<(ApiKeyRow, String), KeyError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(crate::text::unprintable) {
        return Err(KeyError::BadName);
    }
    let scope = ApiScope::parse(scope).ok_or(KeyError::BadScope)?;
    let key = new_key();
    let now = state.clock.now();
    let id = state
        .store
        .insert_api_key(
            name,
            &key[..8],
            &crate::crypto::sha256_hex(key.as_bytes()),
            scope,
            actor,
            now,
        )
        .await?;
    state
        .store
        .append_event(
            crate::store::events::NewEvent {
                actor,
                action: "api_key.created",
                subject: Some(name),
                detail: Some(&format!("scope {scope}")),
            },
            now,
        )
        .await?;
    let row = state.store.api_key(id).await?.ok_or(KeyError::NotFound)?;
    Ok((row, key))
}

/// Revokes a key: scripts using it stop at once.
pub async fn revoke(state: &AppState, id: ApiKeyId, actor: &str) -> Result<(), KeyError> {
    let now = state.clock.now();
    if !state.store.revoke_api_key(id, now).await? {
        return Err(KeyError::NotFound);
    }
    state
        .store
        .append_event(
            crate::store::events::NewEvent {
                actor,
                action: "api_key.revoked",
                subject: Some(&id.to_string()),
                detail: None,
            },
            now,
        )
        .await?;
    Ok(())
}
