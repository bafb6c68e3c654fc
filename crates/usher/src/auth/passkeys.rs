//! Passkeys (WebAuthn): who usher is to an authenticator (the relying party), taken from the
//! public address, and whether passkeys can work there at all.
//!
//! A browser offers passkeys only on a secure page (https, or `localhost`) and binds each
//! passkey to a domain name: an address like `http://192.168.1.20:9450` can have none.

use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

use crate::domain::base_url::BaseUrl;

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
