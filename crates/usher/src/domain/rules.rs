//! The rules of invites, without I/O: codes, durations, expiry, and what state an invite is in.

use crate::clock::Timestamp;

/// Letters and digits people cannot confuse when reading a code aloud or off a screen: no
/// 0/O, 1/I/L.
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
pub const GENERATED_CODE_LEN: usize = 10;
pub const MIN_CUSTOM_CODE: usize = 4;
pub const MAX_CODE: usize = 32;
pub const MAX_USES: i64 = 1000;
/// Limits of the public invite fields, the same as the form's `maxlength`/`minlength`.
pub const MAX_USERNAME: usize = 64;
pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 256;
pub const MAX_EMAIL: usize = 254;
pub const MAX_PASSPHRASE: usize = 128;

/// A name for an account usher makes on a server with local accounts (Jellyfin, Emby):
/// trimmed, 1–[`MAX_USERNAME`] characters, letters, digits and `_ -'.@` and spaces. `+` is
/// refused before Jellyfin 10.11 and by Emby, so it is refused everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Username(String);

/// Why a username cannot be used: a Fluent key and the offending character, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsernameProblem {
    pub key: &'static str,
    pub character: Option<String>,
}

impl Username {
    pub fn parse(input: &str) -> Result<Username, UsernameProblem> {
        let name = input.trim();
        let problem = |key| UsernameProblem {
            key,
            character: None,
        };
        if name.is_empty() {
            return Err(problem("redeem-username-needed"));
        }
        if name.chars().count() > MAX_USERNAME {
            return Err(problem("redeem-username-long"));
        }
        if name == "." || name == ".." {
            return Err(problem("redeem-username-chars"));
        }
        let bad = name
            .chars()
            .find(|&c| !(c.is_alphanumeric() || matches!(c, '_' | ' ' | '-' | '\'' | '.' | '@')));
        match bad {
            Some(bad) => Err(UsernameProblem {
                key: "redeem-username-char",
                character: Some(if bad.is_control() || bad.is_whitespace() {
                    format!("U+{:04X}", bad as u32)
                } else {
                    bad.to_string()
                }),
            }),
            None => Ok(Username(name.to_string())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::ops::Deref for Username {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// A plex.tv account as a person types it: their email, or their Plex username (letters,
/// digits, `_ - .`, at most 64). plex.tv itself decides whether it exists.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct PlexAccount(String);

impl PlexAccount {
    pub fn parse(input: &str) -> Option<PlexAccount> {
        let raw = input.trim();
        let ok = if raw.contains('@') {
            email_text(raw).is_ok()
        } else {
            !raw.is_empty()
                && raw.chars().count() <= 64
                && raw
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        };
        ok.then(|| PlexAccount(raw.to_string()))
    }

    /// The email, when the person gave one rather than a username.
    pub fn email(&self) -> Option<&str> {
        self.0.contains('@').then_some(self.0.as_str())
    }
}

impl std::ops::Deref for PlexAccount {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// Why a new password cannot be used, as a Fluent key.
pub fn password_problem(password: &str) -> Option<&'static str> {
    let len = password.chars().count();
    if password.trim().is_empty() {
        Some("redeem-password-needed")
    } else if len < MIN_PASSWORD {
        Some("redeem-password-short")
    } else if len > MAX_PASSWORD {
        Some("redeem-password-long")
    } else if password.chars().any(char::is_control) {
        Some("redeem-password-control")
    } else {
        None
    }
}

/// An invite code as it is stored and compared: trimmed, upper-cased, at most [`MAX_CODE`]
/// letters, digits, `-` or `_`. Made only by the constructors below, so one never holds junk
/// and a lookup of junk never reaches the database.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct InviteCode(String);

impl InviteCode {
    /// A code typed or linked, in any case. `None` when it cannot be a code.
    pub fn parse(input: &str) -> Option<InviteCode> {
        let code = input.trim().to_ascii_uppercase();
        let ok = !code.is_empty()
            && code.len() <= MAX_CODE
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then_some(InviteCode(code))
    }

    /// A code the owner chose: at least [`MIN_CUSTOM_CODE`] characters.
    pub fn custom(input: &str) -> Result<InviteCode, RuleError> {
        let code = InviteCode::parse(input).ok_or(RuleError::BadCode)?;
        if code.0.len() < MIN_CUSTOM_CODE {
            return Err(RuleError::BadCode);
        }
        Ok(code)
    }

    /// A fresh code from the operating system's CSPRNG: 10 characters of a 31-letter alphabet
    /// (about 49 bits), far beyond guessing under the rate limits.
    pub fn generate() -> InviteCode {
        InviteCode(
            (0..GENERATED_CODE_LEN)
                .map(|_| {
                    CODE_ALPHABET[crate::crypto::random_below(CODE_ALPHABET.len() as u32) as usize]
                        as char
                })
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::ops::Deref for InviteCode {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for InviteCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("a custom code is {MIN_CUSTOM_CODE}–{MAX_CODE} letters, digits, - or _")]
    BadCode,
    #[error("write a duration like 30d, 12h, 2w or 90m")]
    BadDuration,
    #[error("write `never`, a duration like 7d, or a date like 2026-12-31")]
    BadExpiry,
    #[error("that date is already past")]
    ExpiryInPast,
    #[error("uses are a number from 1 to {MAX_USES}, or `unlimited`")]
    BadUses,
    #[error("that is not an email address")]
    BadEmail,
}

/// A span of time written `30d`, `12h`, `2w`, `90m` (minutes) or `1y`: positive and at most a
/// hundred years, so adding it to any clock reading cannot overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(i64);

impl Duration {
    pub fn parse(input: &str) -> Result<Duration, RuleError> {
        let s = input.trim().to_ascii_lowercase();
        let split = s
            .find(|c: char| !c.is_ascii_digit())
            .ok_or(RuleError::BadDuration)?;
        let (num, unit) = s.split_at(split);
        let n: i64 = num.parse().map_err(|_| RuleError::BadDuration)?;
        let unit_seconds = match unit.trim() {
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hour" | "hours" => 3_600,
            "d" | "day" | "days" => 86_400,
            "w" | "week" | "weeks" => 7 * 86_400,
            "y" | "year" | "years" => 365 * 86_400,
            _ => return Err(RuleError::BadDuration),
        };
        if n <= 0 || n > 100 * 365 * 86_400 / unit_seconds {
            return Err(RuleError::BadDuration);
        }
        Ok(Duration(n * unit_seconds))
    }

    pub fn seconds(self) -> i64 {
        self.0
    }
}

/// How long access lasts once given: forever (written blank, `forever` or `never`) or for a
/// [`Duration`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessLength {
    Forever,
    For(Duration),
}

impl AccessLength {
    pub fn parse(input: &str) -> Result<AccessLength, RuleError> {
        let s = input.trim();
        if s.is_empty() || s.eq_ignore_ascii_case("forever") || s.eq_ignore_ascii_case("never") {
            Ok(AccessLength::Forever)
        } else {
            Duration::parse(s).map(AccessLength::For)
        }
    }

    /// The length in seconds, `None` for forever (how it is stored).
    pub fn seconds(self) -> Option<i64> {
        match self {
            AccessLength::Forever => None,
            AccessLength::For(d) => Some(d.seconds()),
        }
    }
}

/// A point in time or never: `never`, a duration from now (`7d`), a date (`2026-12-31`, the end
/// of that day in UTC) or a date and time (`2026-12-31T18:00`, UTC).
pub fn parse_expiry(input: &str, now: Timestamp) -> Result<Option<Timestamp>, RuleError> {
    let s = input.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    let at = if s.as_bytes().first().is_some_and(u8::is_ascii_digit) && s.contains('-') {
        parse_date_time(s).ok_or(RuleError::BadExpiry)?
    } else {
        now + Duration::parse(s)
            .map_err(|_| RuleError::BadExpiry)?
            .seconds()
    };
    if at <= now {
        return Err(RuleError::ExpiryInPast);
    }
    Ok(Some(at))
}

fn parse_date_time(s: &str) -> Option<Timestamp> {
    let date_fmt = time::macros::format_description!("[year]-[month]-[day]");
    let (date, time_part) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let date = time::Date::parse(date, &date_fmt).ok()?;
    let time = match time_part {
        Some(t) => {
            let t = t.trim_end_matches('Z');
            let fmt = time::macros::format_description!("[hour]:[minute]");
            let fmt_s = time::macros::format_description!("[hour]:[minute]:[second]");
            time::Time::parse(t, &fmt)
                .or_else(|_| time::Time::parse(t, &fmt_s))
                .ok()?
        }
        // A bare date means "through that day".
        None => time::Time::from_hms(23, 59, 59).ok()?,
    };
    Some(
        time::PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp(),
    )
}

/// `unlimited` (or empty) or a number of uses from 1 to [`MAX_USES`].
pub fn parse_uses(input: &str) -> Result<Option<i64>, RuleError> {
    let s = input.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("unlimited") {
        return Ok(None);
    }
    match s.parse::<i64>() {
        Ok(n) if (1..=MAX_USES).contains(&n) => Ok(Some(n)),
        _ => Err(RuleError::BadUses),
    }
}

/// An email address that passed a pragmatic check: one `@`, a dot in the domain, no spaces or
/// list separators, sane length. The server or the mail that follows is the real test.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Email, RuleError> {
        email_text(input).map(|e| Email(e.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::ops::Deref for Email {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn email_text(input: &str) -> Result<&str, RuleError> {
    let email = input.trim();
    if email.len() > MAX_EMAIL {
        return Err(RuleError::BadEmail);
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(RuleError::BadEmail);
    };
    let ok = !local.is_empty()
        && local.len() <= 64
        && domain.len() <= 253
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(|c| {
            c.is_whitespace() || crate::text::unprintable(c) || matches!(c, '<' | '>' | ',' | ';')
        });
    if ok {
        Ok(email)
    } else {
        Err(RuleError::BadEmail)
    }
}

/// The facts that decide an invite's state.
#[derive(Debug, Clone, Copy)]
pub struct InviteFacts {
    pub used: i64,
    pub max_uses: Option<i64>,
    pub expires_at: Option<Timestamp>,
    pub disabled: bool,
}

/// Why an invite cannot be redeemed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    Disabled,
    Expired,
    UsedUp,
}

impl InviteFacts {
    pub fn expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }

    pub fn used_up(&self) -> bool {
        self.max_uses.is_some_and(|m| self.used >= m)
    }

    /// Whether a redemption may be tried now (the reservation itself re-checks atomically).
    pub fn usable(&self, now: Timestamp) -> Result<(), Unusable> {
        if self.disabled {
            Err(Unusable::Disabled)
        } else if self.expired(now) {
            Err(Unusable::Expired)
        } else if self.used_up() {
            Err(Unusable::UsedUp)
        } else {
            Ok(())
        }
    }

    /// Every badge that applies; several can at once (a disabled, expired invite redeemed 3/5).
    pub fn badges(&self, now: Timestamp) -> Vec<Badge> {
        let mut b = Vec::new();
        if self.usable(now).is_ok() {
            b.push(Badge::Active);
        }
        if self.used > 0 {
            b.push(Badge::Redeemed);
        }
        if self.expired(now) {
            b.push(Badge::Expired);
        }
        if self.used_up() {
            b.push(Badge::UsedUp);
        }
        if self.disabled {
            b.push(Badge::Disabled);
        }
        b
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Badge {
    Active,
    Redeemed,
    Expired,
    UsedUp,
    Disabled,
}

impl Badge {
    pub const ALL: [Badge; 5] = [
        Badge::Active,
        Badge::Redeemed,
        Badge::Expired,
        Badge::UsedUp,
        Badge::Disabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Badge::Active => "active",
            Badge::Redeemed => "redeemed",
            Badge::Expired => "expired",
            Badge::UsedUp => "used_up",
            Badge::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Badge> {
        Badge::ALL.into_iter().find(|b| b.as_str() == s)
    }
}

/// Backoff for provisioning retries: 30 s doubling to at most an hour.
pub fn retry_delay(attempts: i64) -> i64 {
    let exp = attempts.clamp(0, 7) as u32;
    (30i64 * 2i64.pow(exp)).min(3_600)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = 1_795_305_600; // 2026-11-22T00:00:00Z

    #[test]
    fn generated_codes_use_only_unambiguous_characters() {
        for _ in 0..200 {
            let code = InviteCode::generate();
            assert_eq!(code.len(), GENERATED_CODE_LEN);
            assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{code}");
            for bad in ['0', 'O', '1', 'I', 'L'] {
                assert!(!code.contains(bad));
            }
        }
        assert_ne!(InviteCode::generate(), InviteCode::generate());
    }

    #[test]
    fn codes_match_case_insensitively_and_junk_is_rejected() {
        assert_eq!(InviteCode::parse(" abcd-23 ").as_deref(), Some("ABCD-23"));
        assert_eq!(InviteCode::parse("a/b"), None);
        assert_eq!(InviteCode::parse(""), None);
        assert_eq!(InviteCode::parse(&"A".repeat(33)), None);
        assert_eq!(InviteCode::custom("summer-25").as_deref(), Ok("SUMMER-25"));
        assert_eq!(InviteCode::custom("abc"), Err(RuleError::BadCode));
        assert_eq!(InviteCode::custom("héllo"), Err(RuleError::BadCode));
    }

    #[test]
    fn durations_parse_in_common_units() {
        let secs = |s: &str| Duration::parse(s).map(Duration::seconds);
        assert_eq!(secs("30d"), Ok(30 * 86_400));
        assert_eq!(secs("12h"), Ok(12 * 3_600));
        assert_eq!(secs("2w"), Ok(14 * 86_400));
        assert_eq!(secs("90m"), Ok(5_400));
        assert_eq!(secs(" 1 y "), Ok(365 * 86_400));
        for bad in ["", "d", "30", "-3d", "0d", "3x", "99999999999d"] {
            assert_eq!(secs(bad), Err(RuleError::BadDuration), "{bad}");
        }
    }

    #[test]
    fn access_lasts_forever_or_for_a_duration() {
        for forever in ["", " forever ", "Never"] {
            assert_eq!(AccessLength::parse(forever), Ok(AccessLength::Forever));
        }
        assert_eq!(
            AccessLength::parse("7d").map(AccessLength::seconds),
            Ok(Some(7 * 86_400))
        );
        assert_eq!(AccessLength::parse("soon"), Err(RuleError::BadDuration));
    }

    #[test]
    fn usernames_are_trimmed_and_bad_characters_named() {
        assert_eq!(
            Username::parse(" Ana María ").unwrap().as_str(),
            "Ana María"
        );
        assert_eq!(
            Username::parse("  ").unwrap_err().key,
            "redeem-username-needed"
        );
        assert_eq!(
            Username::parse("..").unwrap_err().key,
            "redeem-username-chars"
        );
        let plus = Username::parse("ana+tv").unwrap_err();
        assert_eq!(
            (plus.key, plus.character.as_deref()),
            ("redeem-username-char", Some("+"))
        );
        let tab = Username::parse("a\tb").unwrap_err();
        assert_eq!(tab.character.as_deref(), Some("U+0009"));
        assert_eq!(
            Username::parse(&"x".repeat(65)).unwrap_err().key,
            "redeem-username-long"
        );
    }

    #[test]
    fn expiry_accepts_never_durations_and_dates() {
        assert_eq!(parse_expiry("never", NOW), Ok(None));
        assert_eq!(parse_expiry("", NOW), Ok(None));
        assert_eq!(parse_expiry("7d", NOW), Ok(Some(NOW + 7 * 86_400)));
        assert_eq!(parse_expiry("2026-12-31", NOW), Ok(Some(1_798_761_599)));
        assert_eq!(
            parse_expiry("2026-12-31T18:00", NOW),
            Ok(Some(1_798_740_000))
        );
        assert_eq!(
            parse_expiry("2020-01-01", NOW),
            Err(RuleError::ExpiryInPast)
        );
        assert_eq!(parse_expiry("soon", NOW), Err(RuleError::BadExpiry));
        assert_eq!(parse_expiry("2026-13-40", NOW), Err(RuleError::BadExpiry));
    }

    #[test]
    fn uses_are_bounded_or_unlimited() {
        assert_eq!(parse_uses("unlimited"), Ok(None));
        assert_eq!(parse_uses("5"), Ok(Some(5)));
        assert_eq!(parse_uses("0"), Err(RuleError::BadUses));
        assert_eq!(parse_uses("1001"), Err(RuleError::BadUses));
    }

    #[test]
    fn emails_are_checked_pragmatically() {
        assert!(Email::parse("ana@example.com").is_ok());
        assert!(Email::parse(" ana+tv@mail.example.org ").is_ok());
        for bad in [
            "ana",
            "ana@",
            "@x.com",
            "ana@localhost",
            "a b@x.com",
            "a@x.com>",
            "a@@x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn badges_can_apply_together() {
        let f = InviteFacts {
            used: 5,
            max_uses: Some(5),
            expires_at: Some(NOW - 1),
            disabled: true,
        };
        assert_eq!(
            f.badges(NOW),
            vec![
                Badge::Redeemed,
                Badge::Expired,
                Badge::UsedUp,
                Badge::Disabled
            ]
        );
        assert_eq!(f.usable(NOW), Err(Unusable::Disabled));
        let fresh = InviteFacts {
            used: 0,
            max_uses: None,
            expires_at: None,
            disabled: false,
        };
        assert_eq!(fresh.badges(NOW), vec![Badge::Active]);
        let partly = InviteFacts {
            used: 2,
            max_uses: Some(5),
            expires_at: Some(NOW + 10),
            disabled: false,
        };
        assert_eq!(partly.badges(NOW), vec![Badge::Active, Badge::Redeemed]);
        assert_eq!(
            InviteFacts {
                expires_at: Some(NOW),
                ..partly
            }
            .usable(NOW),
            Err(Unusable::Expired),
            "expiry is exclusive"
        );
    }

    #[test]
    fn retries_back_off_up_to_an_hour() {
        assert_eq!(retry_delay(0), 30);
        assert_eq!(retry_delay(1), 60);
        assert_eq!(retry_delay(20), 3_600);
    }
}
