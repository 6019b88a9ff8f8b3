//! The packet-rate cap: every send reserves the next slot, spaced `1/rate` apart.
//!
//! No bursts: within any second at most `rate` probes leave (plus the one at the window's
//! edge), which is what a `--rate` promises a network operator. The pacer is plain data
//! (it is handed the time), so tests count its slots without a clock.

use std::time::Duration;
use tokio::time::Instant;

/// The widest spacing: a year (the longest duration ipdiag reads). `--rate 1e-300` would
/// ask for 1e300 s, more than a `Duration` holds (`from_secs_f64` panics) and more than an
/// `Instant` can be moved by; past a year the next send never comes in any case.
const MAX_INTERVAL: Duration = Duration::from_secs(366 * 86_400);

/// Spaces sends at a fixed interval.
#[derive(Debug, Clone)]
pub struct Pacer {
    interval: Duration,
    next: Option<Instant>,
}

impl Pacer {
    /// A pacer for `rate` sends per second (must be positive).
    pub fn new(rate: f64) -> Self {
        Self {
            interval: Duration::try_from_secs_f64(1.0 / rate.max(f64::MIN_POSITIVE))
                .map_or(MAX_INTERVAL, |d| d.min(MAX_INTERVAL)),
            next: None,
        }
    }

    /// Reserves the next slot at or after `now`; returns when the send may happen.
    pub fn reserve(&mut self, now: Instant) -> Instant {
        let slot = self.next.map_or(now, |next| next.max(now));
        self.next = Some(slot + self.interval);
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_more_than_rate_in_any_second() {
        let start = Instant::now();
        let mut pacer = Pacer::new(1000.0);
        // 5000 callers arriving at once get slots 1 ms apart.
        let slots: Vec<Instant> = (0..5000).map(|_| pacer.reserve(start)).collect();
        for (i, slot) in slots.iter().enumerate() {
            let window_end = *slot + Duration::from_secs(1);
            let in_window = slots[i..].iter().take_while(|s| **s < window_end).count();
            assert!(in_window <= 1000, "{in_window} sends in one second");
        }
        assert_eq!(slots[4999] - slots[0], Duration::from_millis(4999));
    }

    /// `--rate 1e-300` (and a rate split among threads, smaller still) once panicked in
    /// `Duration::from_secs_f64`: the interval is capped at a year instead.
    #[test]
    fn a_rate_too_small_for_a_duration_waits_a_year() {
        let start = Instant::now();
        for rate in [1e-300, f64::MIN_POSITIVE, 5e-324, 1e-20] {
            let mut pacer = Pacer::new(rate);
            assert_eq!(
                pacer.reserve(start),
                start,
                "{rate}: the first send goes at once"
            );
            assert_eq!(pacer.reserve(start), start + MAX_INTERVAL, "{rate}");
        }
        let mut pacer = Pacer::new(1e-6);
        pacer.reserve(start);
        assert_eq!(pacer.reserve(start), start + Duration::from_secs(1_000_000));
    }

    #[test]
    fn idle_time_is_not_banked() {
        let start = Instant::now();
        let mut pacer = Pacer::new(10.0);
        pacer.reserve(start);
        let later = start + Duration::from_secs(60);
        assert_eq!(pacer.reserve(later), later);
        assert_eq!(
            pacer.reserve(later),
            later + Duration::from_millis(100),
            "no burst after idling"
        );
    }
}
