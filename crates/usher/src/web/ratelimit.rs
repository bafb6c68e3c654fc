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

#[cfg(test)]
mod tests {
    use super::*;

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
