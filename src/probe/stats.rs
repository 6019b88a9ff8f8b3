//! RTT statistics over the attempts to one endpoint (min/avg/max/stddev, like ping).

use crate::model::RttStats;
use std::time::Duration;

/// Summarises RTT samples; `None` when nothing came back.
pub fn rtt_stats(samples: &[Duration]) -> Option<RttStats> {
    {
        if samples.is_empty() {
            return None;
        }
        let ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        #[expect(
            clippy::cast_precision_loss,
            reason = "sample counts are far below 2^52"
        )]
        let n = ms.len() as f64;
        let avg = ms.iter().sum::<f64>() / n;
        let variance = ms.iter().map(|x| (x - avg).powi(2)).sum::<f64>() / n;
        Some(RttStats {
            min: ms.iter().copied().fold(f64::INFINITY, f64::min),
            avg,
            max: ms.iter().copied().fold(0.0, f64::max),
            stddev: variance.sqrt(),
        })
    }
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
}
