//! The load generator: N keep-alive connections hammering one URL for a while, and bursts of N
//! requests released at the same instant, each on its own connection.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Request;
use http_body_util::Full;

use crate::client::{Conn, Error};

/// Builds the request a keep-alive connection sends next.
pub type MakeRequest = Arc<dyn Fn(&Conn) -> Request<Full<Bytes>> + Send + Sync>;
/// Builds the n-th request of a burst.
pub type MakeNthRequest = Arc<dyn Fn(&Conn, usize) -> Request<Full<Bytes>> + Send + Sync>;

/// Latencies and status counts of a run.
#[derive(Debug, Default)]
pub struct Stats {
    /// Microseconds, sorted.
    pub latencies: Vec<u64>,
    pub statuses: BTreeMap<u16, u64>,
    /// Connection or protocol errors (no status).
    pub errors: u64,
    /// How long the measured part lasted.
    pub wall: Duration,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        self.latencies.extend(other.latencies);
        for (s, n) in other.statuses {
            *self.statuses.entry(s).or_default() += n;
        }
        self.errors += other.errors;
    }

    fn finish(mut self, wall: Duration) -> Stats {
        self.latencies.sort_unstable();
        self.wall = wall;
        self
    }

    pub fn count(&self) -> u64 {
        self.latencies.len() as u64
    }

    pub fn per_second(&self) -> f64 {
        self.count() as f64 / self.wall.as_secs_f64()
    }

    /// The `p`th percentile (0–100) in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        let i = rank.clamp(1, self.latencies.len()) - 1;
        self.latencies[i] as f64 / 1000.0
    }

    pub fn status(&self, code: u16) -> u64 {
        self.statuses.get(&code).copied().unwrap_or(0)
    }

    pub fn server_errors(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| **s >= 500)
            .map(|(_, n)| n)
            .sum()
    }

    pub fn summary(&self) -> String {
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(s, n)| format!("{s}×{n}"))
            .collect();
        format!(
            "{} requests in {:.1}s ({:.0}/s), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, statuses [{}], errors {}",
            self.count(),
            self.wall.as_secs_f64(),
            self.per_second(),
            self.percentile_ms(50.0),
            self.percentile_ms(99.0),
            self.percentile_ms(100.0),
            statuses.join(", "),
            self.errors
        )
    }
}

/// `connections` keep-alive connections each sending `make()` back to back; the first `warmup`
/// is not counted, the next `duration` is.
pub async fn keep_alive(
    addr: SocketAddr,
    connections: usize,
    warmup: Duration,
    duration: Duration,
    make: MakeRequest,
) -> Result<Stats, Error> {
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let make = make.clone();
        let mut conn = Conn::open(addr).await?;
        tasks.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            stats.latencies.reserve(64 * 1024);
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let req = make(&conn);
                match conn.send(req).await {
                    Ok(reply) => {
                        if sent >= measure_from {
                            stats.latencies.push(reply.elapsed.as_micros() as u64);
                            *stats.statuses.entry(reply.status.as_u16()).or_default() += 1;
                        }
                    }
                    Err(_) => {
                        stats.errors += 1;
                        match Conn::open(addr).await {
                            Ok(c) => conn = c,
                            Err(_) => break,
                        }
                    }
                }
            }
            stats
        }));
    }
    let mut all = Stats::default();
    for t in tasks {
        all.merge(t.await?);
    }
    Ok(all.finish(duration))
}

/// `n` requests, each on its own connection, all sent at the same instant (connections are opened
/// first). Latency counts from the release to the full answer.
pub async fn burst(addr: SocketAddr, n: usize, make: MakeNthRequest) -> Result<Stats, Error> {
    let barrier = Arc::new(tokio::sync::Barrier::new(n + 1));
    let mut tasks = Vec::new();
    for i in 0..n {
        let conn = Conn::open(addr).await?;
        let barrier = barrier.clone();
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = conn;
            let req = make(&conn, i);
            barrier.wait().await;
            let sent = Instant::now();
            let result = conn.send(req).await;
            (sent.elapsed(), result)
        }));
    }
    barrier.wait().await;
    let released = Instant::now();
    let mut stats = Stats::default();
    for t in tasks {
        let (elapsed, result) = t.await?;
        match result {
            Ok(reply) => {
                stats.latencies.push(elapsed.as_micros() as u64);
                *stats.statuses.entry(reply.status.as_u16()).or_default() += 1;
            }
            Err(_) => stats.errors += 1,
        }
    }
    Ok(stats.finish(released.elapsed()))
}
