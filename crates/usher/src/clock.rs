//! Time is injected so expiry, lockouts and sessions are tested by moving the clock, not by
//! sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Seconds since the Unix epoch, as stored in the database.
pub type Timestamp = i64;

#[derive(Clone, Debug, Default)]
pub enum Clock {
    #[default]
    System,
    /// A clock that only moves when told to; shared by clones.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn manual(start: Timestamp) -> Self {
        Clock::Manual(Arc::new(AtomicI64::new(start)))
    }

    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
            Clock::Manual(t) => t.load(Ordering::SeqCst),
        }
    }

    /// Moves a manual clock forward. A system clock cannot be moved.
    pub fn advance(&self, seconds: i64) {
        match self {
            Clock::System => panic!("the system clock cannot be advanced"),
            Clock::Manual(t) => {
                t.fetch_add(seconds, Ordering::SeqCst);
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced_and_clones_share_it() {
        let clock = Clock::manual(1_000);
        let other = clock.clone();
        assert_eq!(clock.now(), 1_000);
        other.advance(60);
        assert_eq!(clock.now(), 1_060);
    }

    #[test]
    fn timestamps_format_as_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(human(86_400 + 3_600 + 60), "1970-01-02 01:01 UTC");
    }
}
