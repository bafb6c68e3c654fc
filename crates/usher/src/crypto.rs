//! Random tokens, hashes and the at-rest encryption of secrets.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, KeyInit as _, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Fills a buffer from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system's random source failed");
    buf
}

/// A URL-safe random token carrying 256 bits.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// A uniformly random index below `n` (rejection sampling, so no modulo bias).
pub fn random_below(n: u32) -> u32 {
    assert!(n > 0);
    let zone = u32::MAX - (u32::MAX % n);
    loop {
        let v = u32::from_le_bytes(random_bytes::<4>());
        if v < zone {
            return v % n;
        }
    }
}

/// SHA-256 as lowercase hex. Used to store tokens that only need to be recognised, never read.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("USHER_SECRET_KEY must be 64 hex characters or 43 base64url characters (32 bytes)")]
    BadFormat,
    #[error("could not read or create the key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// The installation's secret key: encrypts secrets at rest and signs CSRF tokens.
#[derive(Clone)]
pub struct SecretKey {
    key: [u8; 32],
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    pub fn from_bytes(key: [u8; 32]) -> Self {
        SecretKey { key }
    }

    /// Parses `USHER_SECRET_KEY`: 64 hex characters or unpadded base64url of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).unwrap_or(0))
                .collect::<Vec<_>>()
        } else {
            URL_SAFE_NO_PAD
                .decode(text)
                .map_err(|_| KeyError::BadFormat)?
        };
        let key: [u8; 32] = bytes.try_into().map_err(|_| KeyError::BadFormat)?;
        Ok(SecretKey { key })
    }

    /// Reads `secret.key` from the data dir, creating it (mode 0600) on first start.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, KeyError> {
        let path = data_dir.join("secret.key");
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = random_bytes::<32>();
                let text = hex(&key);
                write_private(&path, text.as_bytes()).map_err(io)?;
                Ok(SecretKey { key })
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Encrypts a secret for storage: base64url(nonce || ciphertext).
    pub fn seal(&self, plaintext: &str) -> String {
        let cipher = XChaCha20Poly1305::new((&self.key).into());
        let nonce_bytes = random_bytes::<24>();
        let nonce = XNonce::from_slice(&nonce_bytes);
        let mut out = nonce_bytes.to_vec();
        out.extend(
            cipher
                .encrypt(nonce, plaintext.as_bytes())
                .expect("encryption with a valid key cannot fail"),
        );
        URL_SAFE_NO_PAD.encode(out)
    }

    /// Decrypts what [`SecretKey::seal`] produced. `None` when the key is wrong or data is damaged.
    pub fn open(&self, sealed: &str) -> Option<String> {
        let data = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if data.len() < 24 {
            return None;
        }
        let (nonce, ct) = data.split_at(24);
        let cipher = XChaCha20Poly1305::new((&self.key).into());
        let plain = cipher.decrypt(XNonce::from_slice(nonce), ct).ok()?;
        String::from_utf8(plain).ok()
    }

    /// HMAC-SHA256 of `message` under a purpose-specific derivation of the key, as hex.
    pub fn sign(&self, purpose: &str, message: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length works");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(message.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

/// Writes a file readable by its owner only.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_with_the_same_key_only() {
        let key = SecretKey::from_bytes([7; 32]);
        let sealed = key.seal("plex-token-123");
        assert!(!sealed.contains("plex-token-123"));
        assert_eq!(key.open(&sealed).as_deref(), Some("plex-token-123"));
        assert_eq!(SecretKey::from_bytes([8; 32]).open(&sealed), None);
        assert_eq!(key.open("garbage"), None);
    }

    #[test]
    fn secret_keys_parse_from_hex_or_base64url() {
        let hex_key = "ab".repeat(32);
        assert!(SecretKey::parse(&hex_key).is_ok());
        assert!(SecretKey::parse(&URL_SAFE_NO_PAD.encode([1u8; 32])).is_ok());
        assert!(SecretKey::parse("short").is_err());
    }

    #[test]
    fn random_below_stays_in_range() {
        for _ in 0..1000 {
            assert!(random_below(31) < 31);
        }
    }

    #[test]
    fn signatures_depend_on_purpose_and_message() {
        let key = SecretKey::from_bytes([1; 32]);
        assert_eq!(key.sign("csrf", "a"), key.sign("csrf", "a"));
        assert_ne!(key.sign("csrf", "a"), key.sign("csrf", "b"));
        assert_ne!(key.sign("csrf", "a"), key.sign("other", "a"));
    }
}
