//! Adaptive timeouts and retries per host, the way nmap and TCP do it.
//!
//! Each host keeps a smoothed RTT and its variation (RFC 6298: `srtt`, `rttvar`); an
//! attempt waits `srtt + 4·rttvar` (and at least `2·srtt`, so a path with tiny variance
//! still tolerates a doubled RTT), clamped to `[min, max]`; before any sample it waits
//! `initial`. Retries happen only for silence, and only as many as loss on that host has
//! shown to be worth it: one on a host that has lost nothing (a clean host costs one retry
//! per silent port, not ten); once loss is seen, enough that an answering port is lost on
//! every try at most once in [`MISSED_ANSWER_ODDS`] (at 30 % loss: 9 retries, where a fixed 3
//! left 6 to 12 of 1000 closed ports `filtered`), capped by `max_retries` (nmap, too, raises
//! its retries with the loss it measures, up to `--max-retries`).

use std::time::Duration;

/// The chance, at most, that a port which answers is lost on every try and reported silent,
/// once a host has shown loss: 1 in 100,000 (a 1000-port sweep at 30 % loss is exact in
/// 99.4 % of runs).
pub const MISSED_ANSWER_ODDS: f64 = 1e-5;

/// The retries a host that has shown loss gets at least: one lost try in a row is common on
/// a lossy path, three are not.
pub const LOSSY_FLOOR: u32 = 3;

/// The default ceiling of retries (`--retries`), nmap's `--max-retries` default.
pub const DEFAULT_MAX_RETRIES: u32 = 10;

/// The knobs (defaults: nmap `-T4`-like, ceiling 1 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimingConfig {
    /// The wait before any RTT sample exists.
    pub initial: Duration,
    /// The shortest wait.
    pub min: Duration,
    /// The longest wait (`--timeout`).
    pub max: Duration,
    /// The most retries for one silent attempt; loss decides how many are used.
    pub max_retries: u32,
}

impl Default for TimingConfig {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            min: Duration::from_millis(100),
            max: Duration::from_secs(1),
            max_retries: DEFAULT_MAX_RETRIES,
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
    /// Sends to endpoints that answered, up to and including the answered one.
    answered_sends: u64,
    /// Of those, the ones before the answered try: each was lost.
    lost_sends: u64,
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
        self.answered_sends += u64::from(try_no) + 1;
        self.lost_sends += u64::from(try_no);
    }

    /// The share of sends this host lost, from the endpoints that answered (each try
    /// before the answered one was lost); Laplace's rule keeps a first sample from
    /// reading 0 or 1. `None` before any answer.
    pub fn loss(&self) -> Option<f64> {
        (self.answered_sends > 0).then(|| {
            #[allow(clippy::cast_precision_loss)] // counts far below 2^52
            let (lost, sent) = (self.lost_sends as f64, self.answered_sends as f64);
            (lost + 1.0) / (sent + 2.0)
        })
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
    /// once some attempt was answered only on a retry (loss), enough that an answering
    /// port is lost on every try at most once in [`MISSED_ANSWER_ODDS`] given the loss
    /// measured on this host, and at least three — within `max_retries`. (Allowing only one
    /// more than the latest successful try, as this once did, let a port lost twice in a
    /// row on a 10 %-loss path end `filtered`; a fixed three left about 1 % of closed ports
    /// `filtered` at 30 % loss.)
    pub fn retries(&self, config: &TimingConfig) -> u32 {
        match self.loss() {
            Some(loss) if self.max_successful_try > 0 => {
                retries_for_loss(loss).min(config.max_retries)
            }
            _ => config.max_retries.min(1),
        }
    }

    /// The smoothed RTT, once sampled.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt_ms.map(|ms| Duration::from_secs_f64(ms / 1000.0))
    }
}

/// The retries that make `loss^(tries)` at most [`MISSED_ANSWER_ODDS`], at least
/// [`LOSSY_FLOOR`] (pure; `loss` in (0, 1)).
pub fn retries_for_loss(loss: f64) -> u32 {
    if !(loss > 0.0 && loss < 1.0) {
        return if loss >= 1.0 { u32::MAX } else { LOSSY_FLOOR };
    }
    let tries = (MISSED_ANSWER_ODDS.ln() / loss.ln()).ceil();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // 1 ≤ tries < 2^32
    let retries = (tries.min(f64::from(u32::MAX)) as u32).saturating_sub(1);
    retries.max(LOSSY_FLOOR)
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
        // One lost send in three: (1 + 1) / (3 + 2) = 40 % by Laplace's rule, which takes
        // 13 tries to miss an answer less than once in 100,000: --retries caps it.
        assert_eq!(host.loss(), Some(0.4));
        assert_eq!(host.retries(&config), 10);
        let three = TimingConfig {
            max_retries: 3,
            ..config
        };
        assert_eq!(host.retries(&three), 3, "capped by --retries");
    }

    #[test]
    fn a_host_losing_30_percent_gets_9_retries_and_one_losing_20_percent_7() {
        // 1000 answered ports, each answered on the try that a 30 % (then 20 %) loss gives
        // in expectation: 0.7 on the first, 0.21 on the second, … (a fixed pattern).
        for (loss_pct, retries) in [(30u32, 9), (20, 7)] {
            let mut host = HostTiming::default();
            let mut left = 1000u32;
            for try_no in 0..12u32 {
                let answered = (left * (100 - loss_pct) + 50) / 100;
                for _ in 0..answered {
                    host.observe(MS(10), try_no);
                }
                left -= answered;
            }
            let loss = f64::from(loss_pct) / 100.0;
            let measured = host.loss().unwrap();
            assert!((measured - loss).abs() < 0.01, "{measured}");
            assert_eq!(host.retries(&TimingConfig::default()), retries, "{loss}");
        }
    }

    #[test]
    fn retries_for_loss_meet_the_odds() {
        for (loss, retries) in [(0.01, 3), (0.05, 3), (0.2, 7), (0.3, 9), (0.5, 16)] {
            assert_eq!(retries_for_loss(loss), retries, "{loss}");
            let tries = i32::try_from(retries + 1).unwrap();
            assert!(f64::powi(loss, tries) <= MISSED_ANSWER_ODDS || retries == LOSSY_FLOOR);
        }
        assert_eq!(retries_for_loss(0.0), LOSSY_FLOOR);
        assert_eq!(retries_for_loss(1.0), u32::MAX);
        assert_eq!(retries_for_loss(f64::NAN), LOSSY_FLOOR);
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
