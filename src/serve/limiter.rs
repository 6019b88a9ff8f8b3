//! Replies per source address: a token bucket each, so a flood from one address (or a
//! spoofed one) gets a bounded trickle of answers while everyone else is still answered.
//! The table is bounded too: when full, idle buckets go first, then the whole table.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Sources tracked at most (a flood from random spoofed sources must not grow memory).
pub const MAX_SOURCES: usize = 65_536;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// A token bucket per source address.
#[derive(Debug)]
pub struct Limiter {
    rate: f64,
    burst: f64,
    buckets: HashMap<IpAddr, Bucket>,
}

impl Limiter {
    /// `rate` replies a second per source, bursts of `burst`.
    pub fn new(rate: f64, burst: f64) -> Self {
        Self {
            rate,
            burst: burst.max(1.0),
            buckets: HashMap::new(),
        }
    }

    /// Whether `source` may get a reply at `now` (takes a token if so).
    pub fn allow(&mut self, source: IpAddr, now: Instant) -> bool {
        if self.buckets.len() >= MAX_SOURCES && !self.buckets.contains_key(&source) {
            self.evict(now);
        }
        let (rate, burst) = (self.rate, self.burst);
        let bucket = self.buckets.entry(source).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Sources tracked now.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether no source is tracked.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Drops buckets that have refilled (idle long enough to be full again); if none did,
    /// starts over, which only ever errs towards answering.
    fn evict(&mut self, now: Instant) {
        // `serve --rate 1e-20` refills in 1e20 s, past what a `Duration` holds: never.
        let full_after = Duration::try_from_secs_f64(self.burst / self.rate.max(f64::MIN_POSITIVE))
            .unwrap_or(Duration::MAX);
        self.buckets
            .retain(|_, b| now.saturating_duration_since(b.last) < full_after);
        if self.buckets.len() >= MAX_SOURCES {
            self.buckets.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_from_one_source_gets_its_burst_then_the_rate() {
        let mut limiter = Limiter::new(10.0, 5.0);
        let start = Instant::now();
        let source: IpAddr = "198.51.100.2".parse().unwrap();
        let allowed = (0..10_000).filter(|_| limiter.allow(source, start)).count();
        assert_eq!(allowed, 5, "the burst, at one instant");
        // One second later: ten more tokens, capped at the burst.
        let later = start + Duration::from_secs(1);
        assert_eq!((0..100).filter(|_| limiter.allow(source, later)).count(), 5);
        // Another source is not affected by the first one's flood.
        assert!(limiter.allow("198.51.100.3".parse().unwrap(), start));
    }

    #[test]
    fn the_table_stays_bounded() {
        let mut limiter = Limiter::new(1.0, 1.0);
        let now = Instant::now();
        for i in 0..(u32::try_from(MAX_SOURCES).unwrap() + 1000) {
            limiter.allow(IpAddr::from(i.to_be_bytes()), now);
        }
        assert!(limiter.len() <= MAX_SOURCES);
    }

    /// A full table under `serve --rate 1e-20` (or `--rate 1e308`, whose burst is
    /// infinite) once panicked: the refill time did not fit a `Duration`.
    #[test]
    fn a_full_table_at_an_extreme_rate_is_emptied_without_a_panic() {
        for rate in [1e-20, 1e308] {
            let mut limiter = Limiter::new(rate, rate * 2.0);
            let now = Instant::now();
            for i in 0..=u32::try_from(MAX_SOURCES).unwrap() {
                limiter.allow(IpAddr::from(i.to_be_bytes()), now);
            }
            assert_eq!(
                limiter.len(),
                1,
                "{rate}: none refilled, the table started over"
            );
        }
    }
}
