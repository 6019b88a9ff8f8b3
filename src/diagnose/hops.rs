//! What a traced hop comes to (pure): the addresses that answered, the network of the
//! first (the embedded prefix table), loss and RTT statistics. Worked out before
//! rendering, so `output/` only shows the figures.

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
    }
}

/// The provider id and ASN of an address.
fn network_of(address: IpAddr) -> Option<(&'static str, u32)> {
    let matched = match address {
        IpAddr::V4(a) => cloud::lookup_v4(u32::from(a)),
        IpAddr::V6(a) => cloud::lookup_v6(u128::from(a)),
    }?;
    Some((matched.provider.id, matched.asn))
}
