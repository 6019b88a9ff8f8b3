//! `--rate` in a SYN scan: each sending thread gets an equal share of the rate and its
//! own [`Pacer`], so together they never exceed it; loopback is paced only when the user
//! asked for a rate (the automatic sweep's rate is for networks, not for this host).
//!
//! The clock is handed in (`now`, `sleep`), so tests count the sends in each second of a
//! simulated scan instead of timing a real one.

use crate::probe::rate::Pacer;
use std::net::IpAddr;
use std::time::Duration;
use tokio::time::Instant;

/// The rate of one of `workers` sending threads when the scan may send `rate` SYNs a
/// second in all.
pub fn share(rate: Option<f64>, workers: usize) -> Option<f64> {
    rate.map(|r| r / f64::from(u32::try_from(workers.max(1)).unwrap_or(u32::MAX)))
}

/// Whether a SYN to `target` waits for the pacer.
pub fn paces(pace_loopback: bool, target: IpAddr) -> bool {
    pace_loopback || !target.is_loopback()
}

/// Waits for the pacer's next slot: `now` reads the clock, `sleep` waits. Returns the
/// slot (when the send may happen).
pub fn pace(pacer: &mut Pacer, now: impl Fn() -> Instant, sleep: impl FnOnce(Duration)) -> Instant {
    let at = now();
    let slot = pacer.reserve(at);
    if slot > at {
        sleep(slot - at);
    }
    slot
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// The send times of `workers` threads, each sending `per_worker` SYNs through its
    /// own pacer at its share of `rate`, on a simulated clock per thread (they run side
    /// by side) that only `sleep` advances.
    fn sends(rate: f64, workers: usize, per_worker: usize) -> Vec<Instant> {
        let start = Instant::now();
        let mut all = Vec::new();
        for _ in 0..workers {
            let clock = Cell::new(start);
            let mut pacer = Pacer::new(share(Some(rate), workers).unwrap());
            for _ in 0..per_worker {
                pace(&mut pacer, || clock.get(), |d| clock.set(clock.get() + d));
                all.push(clock.get());
            }
        }
        all.sort();
        all
    }

    /// The most sends in any one-second window `[t, t + 1 s)` starting at a send.
    fn busiest_second(sends: &[Instant]) -> usize {
        (0..sends.len())
            .map(|i| {
                let end = sends[i] + Duration::from_secs(1);
                sends[i..].iter().take_while(|s| **s < end).count()
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn threads_share_the_rate() {
        assert_eq!(share(Some(1000.0), 4), Some(250.0));
        assert_eq!(share(Some(1000.0), 1), Some(1000.0));
        assert_eq!(share(Some(1000.0), 0), Some(1000.0), "no division by zero");
        assert_eq!(share(None, 4), None, "unpaced stays unpaced");
    }

    #[test]
    fn four_threads_send_at_most_the_rate_in_any_second() {
        // 4 threads × 1,000 SYNs at --rate 1000: 4 s of sending.
        let sends = sends(1000.0, 4, 1000);
        assert_eq!(sends.len(), 4000);
        assert_eq!(busiest_second(&sends), 1000);
        let first = sends[0];
        let in_first_second = sends
            .iter()
            .take_while(|s| **s < first + Duration::from_secs(1))
            .count();
        assert_eq!(in_first_second, 1000, "and the rate is used, not undershot");
        assert_eq!(
            *sends.last().unwrap() - first,
            Duration::from_millis(3996),
            "the last of each thread's 1,000 sends leaves 999 intervals of 4 ms after its first"
        );
    }

    #[test]
    fn one_thread_sends_exactly_the_rate() {
        let sends = sends(250.0, 1, 1000);
        assert_eq!(busiest_second(&sends), 250);
    }

    #[test]
    fn a_late_caller_is_not_made_to_wait() {
        let start = Instant::now();
        let mut pacer = Pacer::new(10.0);
        let slept = Cell::new(Duration::ZERO);
        let sleep = |d| slept.set(slept.get() + d);
        assert_eq!(pace(&mut pacer, || start, sleep), start);
        assert_eq!(slept.get(), Duration::ZERO, "the first send goes at once");
        let later = start + Duration::from_secs(1);
        assert_eq!(pace(&mut pacer, || later, sleep), later);
        assert_eq!(slept.get(), Duration::ZERO, "its slot has passed");
        assert_eq!(
            pace(&mut pacer, || later, sleep),
            later + Duration::from_millis(100)
        );
        assert_eq!(slept.get(), Duration::from_millis(100));
    }

    #[test]
    fn loopback_is_paced_only_when_asked() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let v6_lo: IpAddr = "::1".parse().unwrap();
        let far: IpAddr = "203.0.113.10".parse().unwrap();
        assert!(!paces(false, lo));
        assert!(!paces(false, v6_lo));
        assert!(paces(false, far));
        assert!(paces(true, lo));
    }
}
