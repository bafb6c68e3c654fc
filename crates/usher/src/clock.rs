//! Time is injected so expiry, lockouts and sessions are tested by moving the clock, not by
//! sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Seconds since the Unix epoch, as stored in the database.
pub type Timestamp = i64;

/// Pins a process's clock: Unix seconds that the clock reads at start, running on from there at
/// the real rate. A test that wrote a data dir with its manual clock hands its current time to the
/// `usher` processes it spawns, so both sides agree on what "now" is whatever today's date.
pub const TEST_NOW_VAR: &str = "USHER_TEST_NOW";

#[derive(Clone, Debug, Default)]
pub enum Clock {
    #[default]
    System,
    /// The system clock moved by a fixed number of seconds (see [`TEST_NOW_VAR`]).
    Shifted(i64),
    /// A clock that only moves when told to; shared by clones.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn manual(start: Timestamp) -> Self {
        Clock::Manual(Arc::new(AtomicI64::new(start)))
    }

    /// The clock a process runs on: the system clock, or the one [`TEST_NOW_VAR`] pins.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(TEST_NOW_VAR) {
            Err(std::env::VarError::NotPresent) => Ok(Clock::System),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(format!("{TEST_NOW_VAR}: not a number of seconds"))
            }
            Ok(v) => Self::starting_at(&v),
        }
    }

    fn starting_at(value: &str) -> Result<Self, String> {
        let at: Timestamp = value
            .trim()
            .parse()
            .map_err(|_| format!("{TEST_NOW_VAR}: `{value}` is not a number of Unix seconds"))?;
        Ok(Clock::Shifted(at - system_now()))
    }

    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => system_now(),
            Clock::Shifted(offset) => system_now() + offset,
            Clock::Manual(t) => t.load(Ordering::SeqCst),
        }
    }

    /// Whether time passes by itself, so background work can run on timers. A manual clock
    /// (tests) only moves when told to, and background work is driven on demand instead.
    pub fn runs_by_itself(&self) -> bool {
        !matches!(self, Clock::Manual(_))
    }

    /// Moves a manual clock forward. A running clock cannot be moved.
    pub fn advance(&self, seconds: i64) {
        match self {
            Clock::System | Clock::Shifted(_) => panic!("a running clock cannot be advanced"),
            Clock::Manual(t) => {
                t.fetch_add(seconds, Ordering::SeqCst);
            }
        }
    }
}

fn system_now() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Formats a timestamp as RFC 3339 in UTC, e.g. `2026-11-22T02:11:00Z`.
pub fn rfc3339(ts: Timestamp) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// A short human form, e.g. `2026-11-22 02:11 UTC`.
pub fn human(ts: Timestamp) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

/// The owner's time zone, by its IANA name (`Europe/Madrid`), in which the console shows times
/// and reads the times typed into it. The zone rules are built into usher, so a container
/// without `/usr/share/zoneinfo` still knows them. UTC when none is set.
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: jiff::tz::TimeZone,
}

/// Pages hold the zone as an object their filters read; `zone.name` says which it is.
impl minijinja::value::Object for Zone {
    fn get_value(self: &std::sync::Arc<Self>, key: &minijinja::Value) -> Option<minijinja::Value> {
        match key.as_str()? {
            "name" => Some(minijinja::Value::from(self.name.clone())),
            _ => None,
        }
    }
}

impl Default for Zone {
    fn default() -> Self {
        Zone::utc()
    }
}

impl Zone {
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".into(),
            tz: jiff::tz::TimeZone::UTC,
        }
    }

    /// A zone by name; blank is UTC; a name the rules do not know is `None`.
    pub fn parse(name: &str) -> Option<Zone> {
        let name = name.trim();
        if name.is_empty() || name.eq_ignore_ascii_case("utc") {
            return Some(Zone::utc());
        }
        let tz = jiff::tz::db().get(name).ok()?;
        Some(Zone {
            name: tz.iana_name().unwrap_or(name).to_string(),
            tz,
        })
    }

    /// A stored name, trusted to have been checked when saved; anything unreadable is UTC.
    pub fn stored(name: Option<&str>) -> Zone {
        name.and_then(Zone::parse).unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_utc(&self) -> bool {
        self.name == "UTC"
    }

    /// Every zone name the built-in rules know, for the settings form.
    pub fn names() -> Vec<String> {
        let mut names: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
        names.sort();
        names
    }

    fn civil(&self, ts: Timestamp) -> Option<jiff::Zoned> {
        jiff::Timestamp::from_second(ts)
            .ok()
            .map(|t| t.to_zoned(self.tz.clone()))
    }

    /// A short human form in this zone, e.g. `2026-11-22 03:11 CET`.
    pub fn human(&self, ts: Timestamp) -> String {
        self.civil(ts)
            .map(|z| z.strftime("%Y-%m-%d %H:%M %Z").to_string())
            .unwrap_or_default()
    }

    /// The date and time an `<input type=date>` and `<input type=time>` show, in this zone.
    pub fn inputs(&self, ts: Timestamp) -> (String, String) {
        self.civil(ts)
            .map(|z| {
                (
                    z.strftime("%Y-%m-%d").to_string(),
                    z.strftime("%H:%M").to_string(),
                )
            })
            .unwrap_or_default()
    }

    /// The instant a date (`2026-12-31`) and time (`18:00`) typed in this zone mean. A time a
    /// clock change skips or repeats takes the later reading, as people expect of "after".
    pub fn instant(&self, date: &str, time: &str) -> Option<Timestamp> {
        let date: jiff::civil::Date = date.trim().parse().ok()?;
        let time: jiff::civil::Time = time.trim().parse().ok()?;
        let zoned = date.to_datetime(time).to_zoned(self.tz.clone()).ok()?;
        Some(zoned.timestamp().as_second())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zone_shows_and_reads_its_own_clock() {
        let madrid = Zone::parse("Europe/Madrid").unwrap();
        // 2026-12-31 18:00 UTC is 19:00 in Madrid (winter, UTC+1).
        assert_eq!(madrid.human(1_798_740_000), "2026-12-31 19:00 CET");
        assert_eq!(
            madrid.inputs(1_798_740_000),
            ("2026-12-31".into(), "19:00".into())
        );
        assert_eq!(madrid.instant("2026-12-31", "19:00"), Some(1_798_740_000));
        // Summer time: 2026-07-01 12:00 in Madrid is 10:00 UTC.
        assert_eq!(madrid.instant("2026-07-01", "12:00"), Some(1_782_900_000));
        let utc = Zone::parse("").unwrap();
        assert!(utc.is_utc());
        assert_eq!(utc.human(1_798_740_000), human(1_798_740_000));
        assert!(Zone::parse("Mars/Olympus").is_none());
        assert_eq!(Zone::stored(Some("Mars/Olympus")).name(), "UTC");
        assert!(Zone::names().iter().any(|n| n == "America/New_York"));
    }

    #[test]
    fn a_manual_clock_moves_only_when_advanced_and_clones_share_it() {
        let clock = Clock::manual(1_000);
        let other = clock.clone();
        assert_eq!(clock.now(), 1_000);
        other.advance(60);
        assert_eq!(clock.now(), 1_060);
    }

    #[test]
    fn a_pinned_clock_starts_where_it_is_told_and_runs_on() {
        let clock = Clock::starting_at("1795305600").unwrap();
        let now = clock.now();
        assert!((1_795_305_600..1_795_305_660).contains(&now), "{now}");
        assert!(clock.runs_by_itself());
        assert!(!Clock::manual(0).runs_by_itself());
        let err = Clock::starting_at("tomorrow").unwrap_err();
        assert!(
            err.contains(TEST_NOW_VAR) && err.contains("tomorrow"),
            "{err}"
        );
    }

    #[test]
    fn timestamps_format_as_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(human(86_400 + 3_600 + 60), "1970-01-02 01:01 UTC");
    }
}
