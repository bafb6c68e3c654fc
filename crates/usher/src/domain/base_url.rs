//! A base web address (`https://usher.example.com`) and who can follow a link to it.

use std::net::{IpAddr, SocketAddr};

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

    /// The address of a listening socket. One bound to every interface (0.0.0.0 or ::, as in a
    /// container) is written `localhost`: a browser on this machine, or on the host of a
    /// container whose port is published, opens it, while no browser opens `http://0.0.0.0`.
    pub fn from_addr(addr: SocketAddr) -> Self {
        if addr.ip().is_unspecified() {
            return BaseUrl(format!("http://localhost:{}", addr.port()));
        }
        BaseUrl(format!("http://{addr}"))
    }

    pub fn into_string(self) -> String {
        self.0
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
    fn a_socket_on_every_interface_is_linked_as_localhost() {
        let url = |s: &str| BaseUrl::from_addr(s.parse().unwrap()).into_string();
        assert_eq!(url("0.0.0.0:9450"), "http://localhost:9450");
        assert_eq!(url("[::]:9450"), "http://localhost:9450");
        assert_eq!(url("127.0.0.1:9450"), "http://127.0.0.1:9450");
        assert_eq!(url("[::1]:8080"), "http://[::1]:8080");
        assert_eq!(url("192.168.1.20:9450"), "http://192.168.1.20:9450");
    }

    #[test]
    fn authority_is_host_and_port() {
        let u = BaseUrl::parse("https://usher.example.com:8443/x").unwrap();
        assert_eq!(u.authority(), "usher.example.com:8443");
    }
}
