//! RTT statistics over the attempts to one endpoint (min/avg/max/stddev, like ping).

use crate::model::RttStats;
use std::time::Duration;

/// RTT statistics kept as samples come, in constant memory (Welford's online mean and
/// variance): `-c 0` runs until Ctrl-C, and keeping every sample grew without bound.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct RunningRtt {
    count: u64,
    mean: f64,
    /// Sum of squared differences from the mean.
    m2: f64,
    min: f64,
    max: f64,
}

impl RunningRtt {
    /// Adds one sample.
    pub fn add(&mut self, sample: Duration) {
        let ms = sample.as_secs_f64() * 1000.0;
        self.count += 1;
        #[expect(
            clippy::cast_precision_loss,
            reason = "sample counts are far below 2^52"
        )]
        let n = self.count as f64;
        let delta = ms - self.mean;
        self.mean += delta / n;
        self.m2 += delta * (ms - self.mean);
        if self.count == 1 {
            (self.min, self.max) = (ms, ms);
        } else {
            (self.min, self.max) = (self.min.min(ms), self.max.max(ms));
        }
    }

    /// The summary; `None` before the first sample.
    pub fn stats(&self) -> Option<RttStats> {
        #[expect(
            clippy::cast_precision_loss,
            reason = "sample counts are far below 2^52"
        )]
        let n = self.count as f64;
        (self.count > 0).then(|| RttStats {
            min: self.min,
            avg: self.mean,
            max: self.max,
            stddev: (self.m2 / n).max(0.0).sqrt(),
        })
    }
}

/// Summarises RTT samples; `None` when nothing came back.
pub fn rtt_stats(samples: &[Duration]) -> Option<RttStats> {
    let mut running = RunningRtt::default();
    for &sample in samples {
        running.add(sample);
    }
    running.stats()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary() {
        let samples: Vec<Duration> = [1.0, 2.0, 3.0, 4.0]
            .iter()
            .map(|ms| Duration::from_secs_f64(ms / 1000.0))
            .collect();
        let s = rtt_stats(&samples).unwrap();
        assert!((s.min - 1.0).abs() < 1e-9 && (s.max - 4.0).abs() < 1e-9);
        assert!((s.avg - 2.5).abs() < 1e-9);
        assert!((s.stddev - 1.118_033_988_749_895).abs() < 1e-9);
        assert_eq!(rtt_stats(&[]), None);
    }

    #[test]
    fn running_statistics_match_the_two_pass_ones_in_constant_memory() {
        // A million samples, 1.000 to 1.999 ms: the same figures as summing twice over a
        // kept list, with nothing kept.
        let mut running = RunningRtt::default();
        let (mut sum, mut sum_sq) = (0.0_f64, 0.0_f64);
        for i in 0..1_000_000_u32 {
            let ms = 1.0 + f64::from(i % 1000) / 1000.0;
            running.add(Duration::from_secs_f64(ms / 1000.0));
            sum += ms;
            sum_sq += ms * ms;
        }
        let s = running.stats().unwrap();
        let avg = sum / 1e6;
        let stddev = (sum_sq / 1e6 - avg * avg).sqrt();
        assert!((s.avg - avg).abs() < 1e-6, "{s:?}");
        assert!((s.stddev - stddev).abs() < 1e-6, "{s:?}");
        assert!((s.min - 1.0).abs() < 1e-6 && (s.max - 1.999).abs() < 1e-6);
        assert_eq!(std::mem::size_of::<RunningRtt>(), 40);
    }
}
