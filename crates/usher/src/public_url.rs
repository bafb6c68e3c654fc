//! The address people reach usher at: the one source of every link usher hands out (pages, CLI,
//! Telegram, email, API `url` fields).
//!
//! Precedence: `public_url` from the configuration (the operator's word wins) → the address the
//! owner gave at first-run setup or in Settings → the address the server last listened on, as it
//! recorded it in the database, so a CLI command against the same data dir prints the same links
//! as `serve` even when `serve` was given other flags.

use std::net::SocketAddr;
use std::sync::RwLock;

use crate::clock::Timestamp;
use crate::domain::base_url::{BaseUrl, Reach};
use crate::store::{Store, StoreError};

/// The settings row holding the owner's public address.
const SETTING: &str = "public_url";
/// The settings row holding where the server last listened (`http://127.0.0.1:9450`).
const LISTENING_SETTING: &str = "listening_url";

/// Where the current public address comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `public_url` / `USHER_PUBLIC_URL`: wins over the setting.
    Config,
    /// Given by the owner at setup or in Settings.
    Setting,
    /// Nobody said: the address the server listens on.
    Listening,
}

/// The public address as this process knows it; the server updates it when the owner saves it.
#[derive(Debug)]
pub struct PublicUrl {
    configured: Option<BaseUrl>,
    stored: RwLock<Option<BaseUrl>>,
    listening: RwLock<BaseUrl>,
}

impl PublicUrl {
    /// Reads the owner's setting and the server's last address from the database.
    pub async fn load(
        store: &Store,
        configured: Option<&str>,
        bind: SocketAddr,
    ) -> Result<Self, StoreError> {
        let read = |v: Option<String>| v.and_then(|v| BaseUrl::parse(&v).ok());
        let stored = read(store.setting(SETTING).await?);
        let listening = read(store.setting(LISTENING_SETTING).await?)
            .unwrap_or_else(|| BaseUrl::from_addr(bind));
        Ok(PublicUrl {
            configured: configured.and_then(|c| BaseUrl::parse(c).ok()),
            stored: RwLock::new(stored),
            listening: RwLock::new(listening),
        })
    }

    /// The base of every link, e.g. `https://usher.example.com`.
    pub fn base(&self) -> String {
        self.current().0.into_string()
    }

    pub fn current(&self) -> (BaseUrl, Source) {
        if let Some(c) = &self.configured {
            return (c.clone(), Source::Config);
        }
        if let Some(s) = self
            .stored
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return (s, Source::Setting);
        }
        let listening = self.listening.read().unwrap_or_else(|e| e.into_inner());
        (listening.clone(), Source::Listening)
    }

    /// The owner's own setting, whether or not the configuration overrides it.
    pub fn stored(&self) -> Option<BaseUrl> {
        self.stored
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// What a form's "public address" field shows, and whether it is locked because the
    /// configuration sets it: the configured value, else the owner's, else the address the
    /// browser used to reach this page (the best guess at first-run setup).
    pub fn form_value(&self, headers: &http::HeaderMap) -> (String, bool) {
        if let Some(c) = &self.configured {
            return (c.to_string(), true);
        }
        if let Some(s) = self.stored() {
            return (s.to_string(), false);
        }
        let value = address_used(headers).unwrap_or_else(|| self.base());
        (value, false)
    }

    /// Whether links would only work on this machine or network: the admin pages then warn.
    pub fn needs_attention(&self) -> Option<Reach> {
        let reach = self.current().0.reach();
        (!reach.is_public()).then_some(reach)
    }

    /// Saves the owner's address (`None` forgets it and falls back to the listening address).
    pub async fn save(
        &self,
        store: &Store,
        url: Option<BaseUrl>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        match &url {
            Some(u) => store.set_setting(SETTING, u.as_str(), now).await?,
            None => store.delete_setting(SETTING).await?,
        }
        *self.stored.write().unwrap_or_else(|e| e.into_inner()) = url;
        Ok(())
    }

    /// The server records where it listens, so CLI commands build the same links.
    pub async fn record_listening(
        &self,
        store: &Store,
        addr: SocketAddr,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let url = BaseUrl::from_addr(addr);
        store
            .set_setting(LISTENING_SETTING, url.as_str(), now)
            .await?;
        *self.listening.write().unwrap_or_else(|e| e.into_inner()) = url;
        Ok(())
    }
}

/// `scheme://host` of the request, as the browser addressed it (behind a proxy, with the scheme
/// the proxy says it received: only a guess the owner confirms).
fn address_used(headers: &http::HeaderMap) -> Option<String> {
    let host = headers.get(http::header::HOST)?.to_str().ok()?;
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    let scheme = if https { "https" } else { "http" };
    BaseUrl::parse(&format!("{scheme}://{host}"))
        .ok()
        .map(BaseUrl::into_string)
}
