//! Keyed sliding-window rate limits (per client address, per email, per account), driven by the
//! injected clock.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::clock::{Clock, Timestamp};

#[derive(Debug)]
pub struct RateLimiter {
    max: usize,
    window: i64,
    hits: Mutex<HashMap<String, VecDeque<Timestamp>>>,
}

impl RateLimiter {
    /// Allows `max` hits per key within `window_seconds`.
    pub fn new(max: usize, window_seconds: i64) -> Self {
        RateLimiter {
            max,
            window: window_seconds,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Records a hit for `key` and says whether it is within the limit. A refused hit is not
    /// counted, so a client that backs off recovers when the window passes.
    pub fn check(&self, key: &str, clock: &Clock) -> bool {
        self.check_max(key, self.max, clock)
    }

    /// Like [`RateLimiter::check`] with a limit that may change at run time (a setting).
    pub fn check_max(&self, key: &str, max: usize, clock: &Clock) -> bool {
        let now = clock.now();
        let mut hits = self.hits.lock().expect("rate limiter lock");
        if hits.len() > 50_000 {
            // Bound memory under a flood of distinct keys: forget keys with no recent hit.
            hits.retain(|_, q| q.back().is_some_and(|t| now - t < self.window));
        }
        let queue = hits.entry(key.to_string()).or_default();
        while queue.front().is_some_and(|t| now - t >= self.window) {
            queue.pop_front();
        }
        if queue.len() >= max {
            return false;
        }
        queue.push_back(now);
        true
    }

    /// Seconds until `key` may try again (0 when it may now).
    pub fn retry_after(&self, key: &str, clock: &Clock) -> i64 {
        let now = clock.now();
        let hits = self.hits.lock().expect("rate limiter lock");
        match hits.get(key) {
            Some(q) if q.len() >= self.max => q
                .front()
                .map(|t| (t + self.window - now).max(0))
                .unwrap_or(0),
            _ => 0,
        }
    }
}

/// Failed attempts per key (an address and an account) with a lockout, where every attempt is
/// reserved before it is checked: a burst cannot have more attempts checked than the limit,
/// and an attempt that succeeds after the key was locked does not count.
#[derive(Debug)]
pub struct AttemptGuard {
    max: u32,
    lockout: i64,
    keys: Mutex<HashMap<String, Attempts>>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Attempts {
    failures: u32,
    in_flight: u32,
    locked_until: Timestamp,
}

/// The key is locked until then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked(pub Timestamp);

impl AttemptGuard {
    pub fn new(max: u32, lockout_seconds: i64) -> Self {
        AttemptGuard {
            max: max.max(1),
            lockout: lockout_seconds,
            keys: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Attempts>> {
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves an attempt: refused while locked, or while the attempts already counted and
    /// under way reach the limit.
    pub fn reserve(&self, key: &str, clock: &Clock) -> Result<(), Locked> {
        let now = clock.now();
        let mut keys = self.lock();
        if keys.len() > 50_000 {
            keys.retain(|_, a| a.in_flight > 0 || a.locked_until > now || a.failures > 0);
        }
        let a = keys.entry(key.to_string()).or_default();
        if a.locked_until > now {
            return Err(Locked(a.locked_until));
        }
        if a.locked_until != 0 {
            // A lockout that ran out starts the count afresh.
            *a = Attempts {
                in_flight: a.in_flight,
                ..Attempts::default()
            };
        }
        if a.failures + a.in_flight >= self.max {
            return Err(Locked(now + self.lockout));
        }
        a.in_flight += 1;
        Ok(())
    }

    /// A reserved attempt failed; `Err` when this failure locked the key.
    pub fn failed(&self, key: &str, clock: &Clock) -> Result<(), Locked> {
        let now = clock.now();
        let mut keys = self.lock();
        let a = keys.entry(key.to_string()).or_default();
        a.in_flight = a.in_flight.saturating_sub(1);
        a.failures += 1;
        if a.locked_until > now {
            return Err(Locked(a.locked_until));
        }
        if a.failures >= self.max {
            a.locked_until = now + self.lockout;
            return Err(Locked(a.locked_until));
        }
        Ok(())
    }

    /// A reserved attempt was never checked (the server was busy): it does not count.
    pub fn released(&self, key: &str) {
        if let Some(a) = self.lock().get_mut(key) {
            a.in_flight = a.in_flight.saturating_sub(1);
        }
    }

    /// A reserved attempt passed one step of several (a right password before its code): it is
    /// not a failure, but the count goes on until every step is passed, so knowing the password
    /// gives no fresh tries at the code. `Err` when the key was locked meanwhile.
    pub fn passed_step(&self, key: &str, clock: &Clock) -> Result<(), Locked> {
        let now = clock.now();
        let mut keys = self.lock();
        let a = keys.entry(key.to_string()).or_default();
        a.in_flight = a.in_flight.saturating_sub(1);
        if a.locked_until > now {
            return Err(Locked(a.locked_until));
        }
        Ok(())
    }

    /// A reserved attempt succeeded: the count starts again, unless the key was locked
    /// meanwhile, in which case the attempt must be refused.
    pub fn succeeded(&self, key: &str, clock: &Clock) -> Result<(), Locked> {
        let now = clock.now();
        let mut keys = self.lock();
        let a = keys.entry(key.to_string()).or_default();
        a.in_flight = a.in_flight.saturating_sub(1);
        if a.locked_until > now {
            return Err(Locked(a.locked_until));
        }
        if a.in_flight == 0 {
            keys.remove(key);
        } else {
            a.failures = 0;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_gets_no_more_checks_than_the_limit_and_the_fifth_failure_locks() {
        let clock = Clock::manual(0);
        let guard = AttemptGuard::new(5, 900);
        let reserved = (0..15)
            .filter(|_| guard.reserve("k", &clock).is_ok())
            .count();
        assert_eq!(reserved, 5, "only five attempts are checked");
        for _ in 0..4 {
            assert!(guard.failed("k", &clock).is_ok());
        }
        assert_eq!(guard.failed("k", &clock), Err(Locked(900)));
        assert_eq!(guard.reserve("k", &clock), Err(Locked(900)));
        assert!(
            guard.reserve("other", &clock).is_ok(),
            "keys are independent"
        );
        clock.advance(900);
        assert!(guard.reserve("k", &clock).is_ok(), "the lockout ran out");
    }

    #[test]
    fn a_success_after_the_key_was_locked_is_refused() {
        let clock = Clock::manual(0);
        let guard = AttemptGuard::new(2, 60);
        guard.reserve("k", &clock).unwrap();
        guard.reserve("k", &clock).unwrap();
        guard.failed("k", &clock).unwrap();
        // The slow right password finishes after a second failure locked the key.
        let _ = guard.failed("k", &clock);
        assert_eq!(guard.succeeded("k", &clock), Err(Locked(60)));
        let fresh = AttemptGuard::new(2, 60);
        fresh.reserve("k", &clock).unwrap();
        assert!(fresh.succeeded("k", &clock).is_ok());
        fresh.reserve("k", &clock).unwrap();
        fresh.reserve("k", &clock).unwrap();
        assert!(fresh.reserve("k", &clock).is_err());
    }

    #[test]
    fn a_key_is_refused_past_the_limit_and_recovers_after_the_window() {
        let clock = Clock::manual(0);
        let limiter = RateLimiter::new(2, 60);
        assert!(limiter.check("a", &clock));
        assert!(limiter.check("a", &clock));
        assert!(!limiter.check("a", &clock));
        assert!(limiter.check("b", &clock), "keys are independent");
        assert_eq!(limiter.retry_after("a", &clock), 60);
        clock.advance(60);
        assert!(limiter.check("a", &clock));
    }
}
