//! Adaptive timeouts and retries per host, the way nmap and TCP do it.
//!
//! Each host keeps a smoothed RTT and its variation (RFC 6298: `srtt`, `rttvar`); an
//! attempt waits `srtt + 4·rttvar` (and at least `2·srtt`, so a path with tiny variance
//! still tolerates a doubled RTT), clamped to `[min, max]`; before any sample it waits
//! `initial`. Retries happen only for silence, and only as many as loss on that host has
//! shown to be worth it: one more than the highest retry that ever got an answer (nmap's
//! `max_successful_tryno`), capped by `max_retries`. A clean host costs one retry per
//! silent port, not ten.

use std::time::Duration;

/// The knobs (defaults: nmap `-T4`-like, ceiling 1 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimingConfig {
    /// The wait before any RTT sample exists.
    pub initial: Duration,
    /// The shortest wait.
    pub min: Duration,
    /// The longest wait (`--timeout`).
    pub max: Duration,
    /// The most retries for one silent attempt.
    pub max_retries: u32,
}

impl Default for TimingConfig {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            min: Duration::from_millis(100),
            max: Duration::from_secs(1),
            max_retries: 3,
        }
    }
}

/// What one host has taught us.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HostTiming {
    srtt_ms: Option<f64>,
    rttvar_ms: f64,
    /// The highest try number (0 = first send) that got an answer.
    max_successful_try: u32,
}

impl HostTiming {
    /// Records an answer that came `rtt` after try number `try_no` (0 = first send).
    pub fn observe(&mut self, rtt: Duration, try_no: u32) {
        let r = rtt.as_secs_f64() * 1000.0;
        match self.srtt_ms {
            None => {
                self.srtt_ms = Some(r);
                self.rttvar_ms = r / 2.0;
            }
            Some(srtt) => {
                self.rttvar_ms = 0.75 * self.rttvar_ms + 0.25 * (srtt - r).abs();
                self.srtt_ms = Some(0.875 * srtt + 0.125 * r);
            }
        }
        self.max_successful_try = self.max_successful_try.max(try_no);
    }

    /// How long the next attempt waits.
    pub fn timeout(&self, config: &TimingConfig) -> Duration {
        let wait = match self.srtt_ms {
            None => config.initial,
            Some(srtt) => {
                Duration::from_secs_f64((srtt + (4.0 * self.rttvar_ms).max(srtt)) / 1000.0)
            }
        };
        wait.clamp(config.min, config.max.max(config.min))
    }

    /// How many retries a silent attempt gets: one on a path that has lost nothing yet;
    /// once some attempt was answered only on a retry (loss), every retry `--retries`
    /// allows, since each try of a silent port may have been lost too. (Allowing only one
    /// more than the latest successful try, as this once did, let a port lost twice in a
    /// row on a 10 %-loss path end `filtered`; the namespace loss test caught it.)
    pub fn retries(&self, config: &TimingConfig) -> u32 {
        if self.max_successful_try > 0 {
            config.max_retries
        } else {
            config.max_retries.min(1)
        }
    }

    /// The smoothed RTT, once sampled.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt_ms.map(|ms| Duration::from_secs_f64(ms / 1000.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn initial_then_adapts_to_the_path() {
        let config = TimingConfig::default();
        let mut host = HostTiming::default();
        assert_eq!(host.timeout(&config), MS(1000));
        for _ in 0..50 {
            host.observe(MS(100), 0);
        }
        // Converged: srtt 100 ms, rttvar ~0 → the 2·srtt floor.
        let t = host.timeout(&config);
        assert!(t >= MS(199) && t <= MS(201), "{t:?}");
    }

    #[test]
    fn clamped_to_min_and_max() {
        let config = TimingConfig::default();
        let mut fast = HostTiming::default();
        fast.observe(Duration::from_micros(50), 0);
        assert_eq!(fast.timeout(&config), MS(100));
        let mut slow = HostTiming::default();
        slow.observe(MS(900), 0);
        assert_eq!(slow.timeout(&config), MS(1000));
    }

    #[test]
    fn retries_follow_observed_loss() {
        let config = TimingConfig::default();
        let mut host = HostTiming::default();
        assert_eq!(host.retries(&config), 1, "no loss seen: one retry");
        host.observe(MS(10), 0);
        assert_eq!(host.retries(&config), 1);
        host.observe(MS(10), 1);
        assert_eq!(
            host.retries(&config),
            3,
            "an answer on a retry is loss: every retry allowed"
        );
        host.observe(MS(10), 9);
        assert_eq!(host.retries(&config), 3, "capped by max_retries");
    }

    #[test]
    fn variance_widens_the_wait() {
        let config = TimingConfig {
            max: Duration::from_secs(5),
            ..TimingConfig::default()
        };
        let mut host = HostTiming::default();
        for rtt in [100, 300, 100, 300, 100, 300] {
            host.observe(MS(rtt), 0);
        }
        assert!(
            host.timeout(&config) > MS(400),
            "{:?}",
            host.timeout(&config)
        );
    }
}
