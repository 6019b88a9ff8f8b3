//! Which datagram sizes get through, and why the others do not (pure).
//!
//! `SizeSearch` finds the largest UDP payload that arrives by bisection between a size
//! known to arrive and one known to be lost, trying the path MTU's boundary first (the
//! usual answer, found in two probes). `judge_sizes` turns what arrived into the
//! diagnosis: sizes that need IP fragments lost while the ones that fit the path MTU
//! arrive is `fragmentation`; a server that got fewer bytes than were sent is
//! `truncation`, with the exact size it saw.

use crate::diagnose::fixes::{SizeNumbers, size_fix};
use crate::diagnose::{Cause, Confidence, Hint};

/// The largest UDP payload: 65,535 minus the IPv4 and UDP headers.
pub const MAX_PAYLOAD_V4: usize = 65_507;
/// The largest UDP payload over IPv6 without jumbograms (65,535 minus the UDP header).
pub const MAX_PAYLOAD_V6: usize = 65_527;

/// IP and UDP header bytes per datagram: what separates a payload from the MTU.
pub const fn overhead(v6: bool) -> usize {
    if v6 { 48 } else { 28 }
}

/// Bisection for the largest size that arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeSearch {
    /// The largest size seen to arrive.
    arrived: usize,
    /// The smallest size seen to be lost.
    lost: usize,
    /// Sizes to try before bisecting (the path MTU's boundary).
    hints: Vec<usize>,
}

impl SizeSearch {
    /// A search between `arrived` (known to arrive) and `lost` (assumed lost: one past the
    /// largest possible payload), trying `hints` first.
    pub fn new(arrived: usize, lost: usize, hints: &[usize]) -> Self {
        Self {
            arrived,
            lost: lost.max(arrived + 1),
            hints: hints.iter().rev().copied().collect(),
        }
    }

    /// The next size to try; `None` when the answer is known.
    pub fn next_size(&mut self) -> Option<usize> {
        while let Some(hint) = self.hints.pop() {
            if hint > self.arrived && hint < self.lost {
                return Some(hint);
            }
        }
        (self.lost - self.arrived > 1).then(|| self.arrived + (self.lost - self.arrived) / 2)
    }

    /// What happened to `size`.
    pub fn record(&mut self, size: usize, arrived: bool) {
        if arrived {
            self.arrived = self.arrived.max(size);
        } else {
            self.lost = self.lost.min(size);
        }
        self.lost = self.lost.max(self.arrived + 1);
    }

    /// The largest size known to arrive.
    pub fn largest(&self) -> usize {
        self.arrived
    }
}

/// What one size came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeSeen {
    /// Payload bytes sent.
    pub size: usize,
    /// Whether any attempt got an answer.
    pub arrived: bool,
    /// Bytes the server said it received (responder), or the echo's length.
    pub received: Option<usize>,
}

/// The diagnosis of a size probe: `None` when every size arrived whole.
pub fn judge_sizes(seen: &[SizeSeen], path_mtu: Option<u32>, v6: bool) -> Vec<Hint> {
    let mut hints = Vec::new();
    if let Some(t) = seen
        .iter()
        .filter(|s| s.arrived)
        .find(|s| s.received.is_some_and(|r| r < s.size))
    {
        let got = t.received.unwrap_or_default();
        hints.push(Hint {
            cause: Cause::Truncation,
            confidence: Confidence::High,
            evidence: vec![format!(
                "a {}-byte datagram arrived, but the server received only {got} bytes",
                t.size
            )],
            fix: size_fix(SizeNumbers::Truncation { received: got }),
        });
    }
    let largest = seen.iter().filter(|s| s.arrived).map(|s| s.size).max();
    let smallest_lost = seen
        .iter()
        .filter(|s| !s.arrived && largest.is_none_or(|l| s.size > l))
        .map(|s| s.size)
        .min();
    let (Some(largest), Some(lost)) = (largest, smallest_lost) else {
        return hints;
    };
    let overhead = overhead(v6);
    let fits = path_mtu.map(|m| {
        usize::try_from(m)
            .unwrap_or(usize::MAX)
            .saturating_sub(overhead)
    });
    let mut evidence = vec![format!(
        "datagrams of up to {largest} bytes arrive; {lost} bytes and more are lost"
    )];
    let confidence = match fits {
        Some(fits) if lost > fits && largest <= fits => {
            evidence.push(format!(
                "the path MTU is {} bytes, so {fits} bytes of payload is the most one packet carries: larger datagrams travel as IP fragments, and the fragments do not arrive",
                path_mtu.unwrap_or_default()
            ));
            Confidence::High
        }
        Some(fits) if lost <= fits => {
            // Lost although it fits one packet: not fragments (loss, or a size filter).
            evidence.push(format!(
                "{lost} bytes fit one packet (path MTU {}): something drops large packets, not fragments",
                path_mtu.unwrap_or_default()
            ));
            Confidence::Low
        }
        Some(fits) => {
            evidence.push(format!(
                "fragmented datagrams up to {largest} bytes arrive (one packet carries {fits}): the larger ones lose a fragment"
            ));
            Confidence::Medium
        }
        None => {
            evidence
                .push("the path MTU is unknown (no ICMP fragmentation-needed came back)".into());
            Confidence::Medium
        }
    };
    hints.push(Hint {
        cause: Cause::Fragmentation,
        confidence,
        evidence,
        fix: size_fix(SizeNumbers::Fragmentation {
            largest,
            per_packet: fits.filter(|&fits| largest < fits && lost > fits),
        }),
    });
    hints
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a search against a path where sizes up to `limit` arrive.
    fn search(limit: usize, hints: &[usize]) -> (usize, usize) {
        let mut s = SizeSearch::new(64, MAX_PAYLOAD_V4 + 1, hints);
        let mut probes = 0;
        while let Some(size) = s.next_size() {
            probes += 1;
            s.record(size, size <= limit);
            assert!(probes < 40, "the search ends");
        }
        (s.largest(), probes)
    }

    #[test]
    fn bisection_finds_the_largest_size_that_arrives() {
        assert_eq!(search(1372, &[]).0, 1372);
        assert!(search(1372, &[]).1 <= 17, "log2 of the range");
        assert_eq!(search(MAX_PAYLOAD_V4, &[]).0, MAX_PAYLOAD_V4);
        assert_eq!(search(64, &[]).0, 64, "nothing larger arrives");
    }

    #[test]
    fn the_path_mtu_hint_answers_in_two_probes() {
        assert_eq!(search(1372, &[1372, 1373]), (1372, 2));
        // A wrong hint costs two probes, not the answer.
        assert_eq!(search(1000, &[1372, 1373]).0, 1000);
    }

    fn seen(size: usize, arrived: bool, received: Option<usize>) -> SizeSeen {
        SizeSeen {
            size,
            arrived,
            received,
        }
    }

    #[test]
    fn lost_fragments_are_fragmentation() {
        let sizes = [
            seen(64, true, Some(64)),
            seen(1372, true, Some(1372)),
            seen(1373, false, None),
            seen(4000, false, None),
        ];
        let hints = judge_sizes(&sizes, Some(1400), false);
        assert_eq!(hints.len(), 1);
        assert_eq!(
            (hints[0].cause, hints[0].confidence),
            (Cause::Fragmentation, Confidence::High)
        );
        assert_eq!(
            hints[0].evidence[0],
            "datagrams of up to 1372 bytes arrive; 1373 bytes and more are lost"
        );
        assert!(hints[0].fix[0].contains("at or below 1372 bytes"));
        assert_eq!(
            hints[0].fix.len(),
            2,
            "the limit is known: {:?}",
            hints[0].fix
        );
        assert_eq!(
            judge_sizes(&sizes, None, false)[0].confidence,
            Confidence::Medium
        );
        let between = [seen(1024, true, None), seen(1472, false, None)];
        let hints = judge_sizes(&between, Some(1400), false);
        assert_eq!(
            hints[0].confidence,
            Confidence::High,
            "1024 fits, 1472 needs fragments"
        );
        assert_eq!(
            hints[0].fix[..2],
            [
                "Keep every datagram at or below 1024 bytes: lower the application's message size (split larger messages, or compress), as DNS does with EDNS buffer sizes.",
                "Up to 1372 bytes fit one packet on this path: --size-sweep finds the exact limit.",
            ]
        );
        let below_mtu = [seen(512, true, None), seen(1024, false, None)];
        assert_eq!(
            judge_sizes(&below_mtu, Some(1500), false)[0].confidence,
            Confidence::Low
        );
    }

    #[test]
    fn a_short_read_is_truncation_with_the_size_seen() {
        let sizes = [seen(512, true, Some(512)), seen(4000, true, Some(1024))];
        let hints = judge_sizes(&sizes, Some(1500), false);
        assert_eq!(hints.len(), 1);
        assert_eq!(hints[0].cause, Cause::Truncation);
        assert_eq!(
            hints[0].evidence,
            ["a 4000-byte datagram arrived, but the server received only 1024 bytes"]
        );
        assert_eq!(
            hints[0].fix[0],
            "The receiver reads with a 1024-byte buffer: recvfrom(1024) (Python: sock.recvfrom(1024)) silently cuts every larger datagram to 1024 bytes and drops the rest."
        );
    }

    #[test]
    fn everything_whole_is_no_finding() {
        let sizes = [seen(64, true, Some(64)), seen(8972, true, None)];
        assert!(judge_sizes(&sizes, Some(9000), false).is_empty());
        assert!(judge_sizes(&[seen(64, false, None)], None, false).is_empty());
    }
}
