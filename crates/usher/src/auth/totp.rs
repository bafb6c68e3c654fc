//! Authenticator codes (TOTP, RFC 6238: HMAC-SHA1, 6 digits, 30-second steps) and the one-time
//! recovery codes that stand in for a lost phone. Pure functions; the account keeps the secret
//! sealed and the recovery codes hashed.

use hmac::{Hmac, KeyInit, Mac};

use crate::clock::Timestamp;
use crate::crypto;

/// Seconds per code.
pub const STEP: i64 = 30;
const DIGITS: u32 = 6;
/// Codes one step either side are accepted: a phone's clock a little off, or a code typed as it
/// turned over.
const DRIFT: i64 = 1;
/// Recovery codes made at enrolment.
pub const RECOVERY_CODES: usize = 10;

/// A fresh secret: 160 bits, as RFC 4226 recommends for SHA-1.
pub fn new_secret() -> Vec<u8> {
    crypto::random_bytes::<20>().to_vec()
}

/// RFC 4648 base32 without padding: how authenticator apps take a secret typed by hand.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Reads base32 back (any case, spaces ignored); `None` for anything else.
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        let v = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u32 - 'A' as u32,
            c @ '2'..='7' => c as u32 - '2' as u32 + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The `otpauth://` address an authenticator app reads from the QR code.
pub fn enrolment_uri(secret: &[u8], account: &str, issuer: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

/// The code for time step `step` (HOTP of the step counter, RFC 4226 §5.3).
pub fn code_at(secret: &[u8], step: i64) -> u32 {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[digest.len() - 1] & 0x0f) as usize;
    let value = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    value % 10u32.pow(DIGITS)
}

pub fn step_of(now: Timestamp) -> i64 {
    now.div_euclid(STEP)
}

/// Checks a typed code at `now`. A step at or before `last_used` is refused, so a code seen over
/// someone's shoulder cannot be used again. Returns the step it matched, to record.
pub fn verify(secret: &[u8], typed: &str, now: Timestamp, last_used: Option<i64>) -> Option<i64> {
    let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != DIGITS as usize || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let typed: u32 = digits.parse().ok()?;
    let current = step_of(now);
    let mut matched = None;
    // Every candidate is computed and compared, so the time taken says nothing of which matched.
    for step in current - DRIFT..=current + DRIFT {
        let expected = format!("{:06}", code_at(secret, step));
        let given = format!("{typed:06}");
        if crypto::constant_time_eq(expected.as_bytes(), given.as_bytes())
            && last_used.is_none_or(|last| step > last)
        {
            matched.get_or_insert(step);
        }
    }
    matched
}

/// Fresh recovery codes as people read them (`k7qm-2xd9-pw4t`): 60 random bits each, in an
/// alphabet without look-alikes.
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars: Vec<char> = (0..12)
                .map(|_| ALPHABET[crypto::random_below(ALPHABET.len() as u32) as usize] as char)
                .collect();
            chars
                .chunks(4)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// How a recovery code is kept: its hash, from the code as typed in any case, with or without
/// dashes and spaces.
pub fn recovery_hash(typed: &str) -> String {
    let normal: String = typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    crypto::sha256_hex(normal.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, the last six of its eight digits.
    #[test]
    fn codes_match_the_rfc_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, code) in [
            (59, 287_082),
            (1_111_111_109, 81_804),
            (1_111_111_111, 50_471),
            (1_234_567_890, 5_924),
            (2_000_000_000, 279_037),
            (20_000_000_000, 353_130),
        ] {
            assert_eq!(code_at(secret, step_of(time)), code, "at {time}");
        }
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(from_base32("mzxw 6ytb oi").unwrap(), b"foobar");
        assert!(from_base32("not base32!").is_none());
        let s = new_secret();
        assert_eq!(from_base32(&base32(&s)).unwrap(), s);
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_only_once() {
        let secret = b"12345678901234567890";
        let now = 1_111_111_111;
        let code = |step| format!("{:06}", code_at(secret, step));
        let step = step_of(now);
        assert_eq!(verify(secret, &code(step), now, None), Some(step));
        assert_eq!(verify(secret, &code(step - 1), now, None), Some(step - 1));
        assert_eq!(verify(secret, &code(step + 1), now, None), Some(step + 1));
        assert_eq!(verify(secret, &code(step - 2), now, None), None);
        // Used already: refused, and so is anything older.
        assert_eq!(verify(secret, &code(step), now, Some(step)), None);
        assert_eq!(verify(secret, &code(step - 1), now, Some(step)), None);
        assert_eq!(
            verify(
                secret,
                &format!("{} {}", &code(step)[..3], &code(step)[3..]),
                now,
                None
            ),
            Some(step)
        );
        for junk in ["", "12345", "1234567", "abcdef", "-12345"] {
            assert_eq!(verify(secret, junk, now, None), None, "{junk:?}");
        }
    }

    #[test]
    fn recovery_codes_are_readable_distinct_and_hash_as_typed() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let distinct: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        assert!(codes[0].len() == 14 && codes[0].matches('-').count() == 2);
        let c = &codes[0];
        assert_eq!(
            recovery_hash(c),
            recovery_hash(&c.to_uppercase().replace('-', " "))
        );
    }

    #[test]
    fn the_enrolment_address_names_the_account_and_issuer() {
        let uri = enrolment_uri(b"foobar", "ana maría", "usher");
        assert_eq!(
            uri,
            "otpauth://totp/usher:ana+mar%C3%ADa?secret=MZXW6YTBOI&issuer=usher&algorithm=SHA1&digits=6&period=30"
        );
    }
}
