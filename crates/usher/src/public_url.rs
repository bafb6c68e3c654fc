//! The address people reach usher at: the one source of every link usher hands out (pages, CLI,
//! Telegram, email, API `url` fields).
//!
//! Precedence: `public_url` from the configuration (the operator's word wins) → the address the
//! owner gave at first-run setup or in Settings → the address the server last listened on, as it
//! recorded it in the database, so a CLI command against the same data dir prints the same links
//! as `serve` even when `serve` was given other flags.

use std::net::{IpAddr, SocketAddr};
use std::sync::RwLock;

use crate::clock::Timestamp;
use crate::store::{Store, StoreError};

/// The settings row holding the owner's public address.
const SETTING: &str = "public_url";
/// The settings row holding where the server last listened (`http://127.0.0.1:9450`).
const LISTENING_SETTING: &str = "listening_url";

/// An http(s) base URL with a host, without query, fragment or trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    #[error("not a web address")]
    NotUrl,
    #[error("must start with http:// or https://")]
    Scheme,
    #[error("must not carry a query or a fragment")]
    Extra,
}

impl BaseUrl {
    pub fn parse(raw: &str) -> Result<Self, BaseUrlError> {
        let raw = raw.trim();
        let url = url::Url::parse(raw).map_err(|_| BaseUrlError::NotUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(BaseUrlError::Scheme);
        }
        if url.host_str().is_none_or(str::is_empty) || !url.username().is_empty() {
            return Err(BaseUrlError::NotUrl);
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(BaseUrlError::Extra);
        }
        Ok(BaseUrl(url.as_str().trim_end_matches('/').to_string()))
    }

    fn from_addr(addr: SocketAddr) -> Self {
        BaseUrl(format!("http://{addr}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// `host[:port]` as a browser sends it in `Host` and `Origin`.
    pub fn authority(&self) -> &str {
        let rest = self.0.split_once("://").map_or(self.0.as_str(), |(_, r)| r);
        rest.split('/').next().unwrap_or(rest)
    }

    /// Whether people elsewhere can follow a link to this address.
    pub fn reach(&self) -> Reach {
        let Ok(url) = url::Url::parse(&self.0) else {
            return Reach::Unspecified;
        };
        match url.host() {
            Some(url::Host::Ipv4(ip)) => Reach::of_ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Reach::of_ip(IpAddr::V6(ip)),
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if name == "localhost" || name.ends_with(".localhost") {
                    Reach::Loopback
                } else if !name.contains('.')
                    || [".local", ".lan", ".home.arpa", ".internal", ".home"]
                        .iter()
                        .any(|s| name.ends_with(s))
                {
                    Reach::Private
                } else {
                    Reach::Public
                }
            }
            None => Reach::Unspecified,
        }
    }
}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who can follow a link: anyone, or only this machine or this network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    Public,
    /// 127.0.0.1, ::1, localhost: only this machine.
    Loopback,
    /// 0.0.0.0 or ::: not an address anyone can open.
    Unspecified,
    /// A private, link-local or local-only name: only this network.
    Private,
}

impl Reach {
    fn of_ip(ip: IpAddr) -> Reach {
        if ip.is_loopback() {
            return Reach::Loopback;
        }
        if ip.is_unspecified() {
            return Reach::Unspecified;
        }
        let private = match ip {
            IpAddr::V4(v4) => {
                v4.is_private()
                    || v4.is_link_local()
                    // 100.64.0.0/10, carrier-grade NAT (and Tailscale's addresses)
                    || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
            }
            IpAddr::V6(v6) => {
                let first = v6.segments()[0];
                (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
            }
        };
        if private {
            Reach::Private
        } else {
            Reach::Public
        }
    }

    pub fn is_public(self) -> bool {
        self == Reach::Public
    }
}

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
        self.current().0.0
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
        .map(|u| u.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_web_addresses_without_a_trailing_slash() {
        assert_eq!(
            BaseUrl::parse(" https://usher.example.com/ ")
                .unwrap()
                .as_str(),
            "https://usher.example.com"
        );
        assert_eq!(
            BaseUrl::parse("http://example.com:8080/usher/")
                .unwrap()
                .as_str(),
            "http://example.com:8080/usher"
        );
        assert_eq!(BaseUrl::parse("ftp://x.org"), Err(BaseUrlError::Scheme));
        assert_eq!(
            BaseUrl::parse("usher.example.com"),
            Err(BaseUrlError::NotUrl)
        );
        assert_eq!(
            BaseUrl::parse("https://x.org/?a=1"),
            Err(BaseUrlError::Extra)
        );
        assert_eq!(
            BaseUrl::parse("https://u:p@x.org"),
            Err(BaseUrlError::NotUrl)
        );
    }

    #[test]
    fn reach_tells_loopback_unspecified_private_and_public_apart() {
        let reach = |s: &str| BaseUrl::parse(s).unwrap().reach();
        assert_eq!(reach("http://127.0.0.1:9450"), Reach::Loopback);
        assert_eq!(reach("http://[::1]:9450"), Reach::Loopback);
        assert_eq!(reach("http://localhost:9450"), Reach::Loopback);
        assert_eq!(reach("http://0.0.0.0:9450"), Reach::Unspecified);
        assert_eq!(reach("http://192.168.1.20:9450"), Reach::Private);
        assert_eq!(reach("http://10.0.0.5"), Reach::Private);
        assert_eq!(reach("http://100.101.102.103"), Reach::Private);
        assert_eq!(reach("http://[fd00::1]"), Reach::Private);
        assert_eq!(reach("http://nas.local:9450"), Reach::Private);
        assert_eq!(reach("http://nas:9450"), Reach::Private);
        assert_eq!(reach("https://usher.example.com"), Reach::Public);
        assert_eq!(reach("http://203.0.113.7:9450"), Reach::Public);
    }

    #[test]
    fn authority_is_host_and_port() {
        let u = BaseUrl::parse("https://usher.example.com:8443/x").unwrap();
        assert_eq!(u.authority(), "usher.example.com:8443");
    }
}
