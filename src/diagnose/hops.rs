//! What a traced hop comes to (pure): the addresses that answered, the network of the
//! first (the embedded prefix table), loss and RTT statistics, and whether its silence is
//! the router's own (ICMP limited) rather than loss. Worked out before rendering, so
//! `output/` only shows the figures.
//!
//! A hop that answers fewer probes than a later hop lost nothing on the path: the probes
//! that went unanswered there went on and were answered further along. Its router limits
//! the ICMP time exceeded it sends (Linux: `icmp_ratelimit`, routers' control-plane
//! policers) or sends none, mtr's most common misreading. Such a hop is labelled and its
//! loss is no evidence; the verdict (`path.rs`) only ever reads the last hop that answered.

use crate::classify::cloud;
use crate::model::RttStats;
use crate::probe::stats::rtt_stats;
use crate::probe::trace::Hop;
use std::net::IpAddr;

/// What one hop comes to: who answered, from which network, loss and RTT.
#[derive(Debug, Clone, PartialEq)]
pub struct HopSummary {
    /// The hop number.
    pub ttl: u8,
    /// The addresses that answered, in order of first answer (several: load balancing).
    pub addresses: Vec<IpAddr>,
    /// The provider and ASN of the first address, from the embedded prefix table.
    pub network: Option<(&'static str, u32)>,
    /// Percent of probes without an answer.
    pub loss_pct: f64,
    /// RTT over the answers.
    pub rtt: Option<RttStats>,
    /// A later hop answered more of its probes: this hop's silence is its router limiting
    /// (or not sending) ICMP, not loss. Known only once the later hops are in
    /// ([`summarise_all`]); `false` from [`summarise`].
    pub icmp_limited: bool,
}

/// Summarises a hop (pure).
pub fn summarise(hop: &Hop) -> HopSummary {
    let mut addresses: Vec<IpAddr> = Vec::new();
    for a in hop.probes.iter().filter_map(|p| p.from) {
        if !addresses.contains(&a) {
            addresses.push(a);
        }
    }
    let network = addresses.first().and_then(|a| network_of(*a));
    let answered: Vec<_> = hop.probes.iter().filter_map(|p| p.rtt).collect();
    let total = hop.probes.len().max(1);
    #[allow(clippy::cast_precision_loss)] // a handful of probes
    let loss_pct = 100.0 * (total - answered.len().min(total)) as f64 / total as f64;
    HopSummary {
        ttl: hop.ttl,
        addresses,
        network,
        loss_pct,
        rtt: rtt_stats(&answered),
        icmp_limited: false,
    }
}

/// Summarises every hop of a finished trace, labelling the hops whose silence later hops
/// show to be the router's own.
pub fn summarise_all(hops: &[Hop]) -> Vec<HopSummary> {
    let mut all: Vec<HopSummary> = hops.iter().map(summarise).collect();
    // The least loss from each hop on to the end, from the back.
    let mut least_after = f64::INFINITY;
    for s in all.iter_mut().rev() {
        s.icmp_limited = s.loss_pct > 0.0 && least_after < s.loss_pct;
        least_after = least_after.min(s.loss_pct);
    }
    all
}

/// The provider id and ASN of an address.
fn network_of(address: IpAddr) -> Option<(&'static str, u32)> {
    let matched = match address {
        IpAddr::V4(a) => cloud::lookup_v4(u32::from(a)),
        IpAddr::V6(a) => cloud::lookup_v6(u128::from(a)),
    }?;
    Some((matched.provider.id, matched.asn))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::trace::{HopAnswer, HopProbe};
    use std::time::Duration;

    /// A hop whose probes answered (`true`) or stayed silent (`false`).
    fn hop(ttl: u8, answers: &[bool]) -> Hop {
        let probe = |answered: bool| HopProbe {
            from: answered.then(|| format!("192.0.2.{ttl}").parse().unwrap()),
            rtt: answered.then(|| Duration::from_millis(1)),
            answer: if answered {
                HopAnswer::TimeExceeded
            } else {
                HopAnswer::Silent
            },
        };
        Hop {
            ttl,
            probes: answers.iter().map(|&a| probe(a)).collect(),
        }
    }

    fn limited(hops: &[Hop]) -> Vec<u8> {
        summarise_all(hops)
            .iter()
            .filter(|s| s.icmp_limited)
            .map(|s| s.ttl)
            .collect()
    }

    #[test]
    fn silence_that_later_hops_do_not_share_is_the_routers_own() {
        let all = [true, true, true];
        // A silent middle hop, a partly silent one: later hops answered everything.
        let hops = [
            hop(1, &all),
            hop(2, &[false, false, false]),
            hop(3, &[true, false, false]),
            hop(4, &all),
        ];
        assert_eq!(limited(&hops), [2, 3]);
        assert!(
            (summarise_all(&hops)[1].loss_pct - 100.0).abs() < 1e-9,
            "loss stays as measured"
        );
    }

    #[test]
    fn loss_that_carries_on_to_the_end_is_not_labelled() {
        let some = [true, false, true];
        // The same loss from hop 2 on: it may be real, on the link before hop 2.
        assert!(limited(&[hop(1, &[true; 3]), hop(2, &some), hop(3, &some)]).is_empty());
        // Silent hops at the end: where replies stop, not a router's limit.
        assert!(
            limited(&[hop(1, &[true; 3]), hop(2, &[false; 3]), hop(3, &[false; 3])]).is_empty()
        );
        // A streamed hop's summary cannot know yet.
        assert!(!summarise(&hop(2, &[false; 3])).icmp_limited);
    }
}
