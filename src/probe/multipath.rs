//! `ipdiag trace --multipath`: every next hop of a load-balanced path (MDA, Augustin et
//! al.'s Multipath Detection Algorithm). At each TTL, probes leave from more and more flows
//! (a source port each, kept across TTLs) until enough probes found no new address to say,
//! with 99.9 % confidence, that no next hop was missed; the same flow at two successive TTLs
//! gives a link of the graph, since a flow keeps its path.

use super::attempt::Outgoing;
use super::trace::{Flow, HopAnswer, TraceConfig, probe};
use std::net::{IpAddr, SocketAddr};

/// The confidence of the stopping rule: the chance that a hop with one more next hop than
/// found (each as likely) would have shown it. High, since a silent probe costs little on
/// a path that answers, and a missed path is the one thing this mode is for.
pub const CONFIDENCE: f64 = 0.999;

/// The probes a hop needs once `found` addresses answered there (pure): MDA's stopping
/// point n(k) = ceil(ln((1 - confidence) / (k + 1)) / ln(k / (k + 1))) (Veitch, Augustin
/// et al., "Failure control in multipath route tracing", 2009; at 95 % it gives their 6,
/// 11, 16, ...), capped at 200.
pub fn probes_needed(found: usize) -> u32 {
    let k = f64::from(u32::try_from(found.max(1)).unwrap_or(u32::MAX));
    let n = (((1.0 - CONFIDENCE) / (k + 1.0)).ln() / (k / (k + 1.0)).ln()).ceil();
    if n >= 200.0 {
        200
    } else {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "between 1 and 200"
        )]
        let n = n as u32;
        n
    }
}

/// One TTL of the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiHop {
    /// The TTL.
    pub ttl: u8,
    /// Every address that answered, in order of first answer.
    pub addresses: Vec<IpAddr>,
    /// Probes sent at this TTL.
    pub probes: u32,
    /// The destination answered, a router refused, or sending failed here.
    pub ends: bool,
}

/// A link: an address at TTL `ttl - 1` and the next one a flow reached from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// The TTL of `to`.
    pub ttl: u8,
    /// The hop before.
    pub from: IpAddr,
    /// The hop after.
    pub to: IpAddr,
}

/// The load-balanced paths to a destination.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    /// The hops, TTL 1 on.
    pub hops: Vec<MultiHop>,
    /// The links between successive hops.
    pub links: Vec<Link>,
}

/// Finds every path to `target` (the trace's settings; `queries` is not used: the
/// stopping rule decides how many probes each hop gets).
pub async fn discover(target: SocketAddr, config: &TraceConfig) -> std::io::Result<Graph> {
    let mut graph = Graph::default();
    let mut flows: Vec<Flow> = Vec::new();
    let mut before: Vec<Option<IpAddr>> = Vec::new();
    let mut silent_run = 0u8;
    for ttl in 1..=config.max_hops {
        let mut hop = MultiHop {
            ttl,
            addresses: Vec::new(),
            probes: 0,
            ends: false,
        };
        let mut now: Vec<Option<IpAddr>> = Vec::new();
        while hop.probes < probes_needed(hop.addresses.len()) {
            let i = now.len();
            if flows.len() <= i {
                flows.push(Flow::reserve(target, config.protocol)?);
            }
            let out = Outgoing {
                ttl: Some(ttl),
                source_port: Some(flows[i].port()),
            };
            let answer = probe(target, config, out).await;
            hop.probes += 1;
            hop.ends |= matches!(
                answer.answer,
                HopAnswer::Destination(..) | HopAnswer::Unreachable(_) | HopAnswer::Local(_)
            );
            if let Some(to) = answer.from {
                if !hop.addresses.contains(&to) {
                    hop.addresses.push(to);
                }
                if let Some(Some(from)) = before.get(i) {
                    let link = Link {
                        ttl,
                        from: *from,
                        to,
                    };
                    if !graph.links.contains(&link) {
                        graph.links.push(link);
                    }
                }
            }
            now.push(answer.from);
        }
        before = now;
        silent_run = if hop.addresses.is_empty() {
            silent_run + 1
        } else {
            0
        };
        let end = hop.ends || silent_run >= config.max_silent;
        graph.hops.push(hop);
        if end {
            break;
        }
    }
    Ok(graph)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_next_hops_found_need_more_probes() {
        // At 99.9 %: one next hop found takes 11 probes (a second one as likely would stay
        // hidden in 10 more with chance 2^-10 < 0.1 %), two take 20, three 29.
        assert_eq!(probes_needed(0), 11);
        assert_eq!(probes_needed(1), 11);
        assert_eq!(probes_needed(2), 20);
        assert_eq!(probes_needed(3), 29);
        assert_eq!(probes_needed(1000), 200, "capped");
    }
}
