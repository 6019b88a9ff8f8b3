//! `ipdiag trace --multipath`'s output: each hop's addresses and the links between them, as
//! text and as JSON. Renders the graph found; decides nothing.

use crate::model::Protocol;
use crate::probe::multipath::{CONFIDENCE, Graph};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::SocketAddr;

/// The text: a line per hop, then the links.
pub fn text(target: SocketAddr, protocol: Protocol, graph: &Graph) -> String {
    let mut out = format!(
        "multipath to {target}/{protocol}: flows varied at each hop until every next hop is found with {:.1} % confidence (MDA)\n",
        CONFIDENCE * 100.0
    );
    for hop in &graph.hops {
        let addresses = if hop.addresses.is_empty() {
            "*".to_owned()
        } else {
            join(hop.addresses.iter())
        };
        let _ = writeln!(
            out,
            "hop {:>2}: {addresses} ({} probes)",
            hop.ttl, hop.probes
        );
    }
    let links = graph
        .links
        .iter()
        .map(|l| format!("{} → {}", l.from, l.to))
        .collect::<Vec<_>>();
    let _ = writeln!(out, "links: {}", links.join(", "));
    out
}

fn join<T: ToString>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

/// `ipdiag trace --multipath --json`.
#[derive(Debug, Serialize)]
pub struct MultipathRecord {
    /// The address traced.
    pub address: String,
    /// The destination port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub protocol: Protocol,
    /// The stopping rule's confidence that no next hop was missed.
    pub confidence: f64,
    /// Each hop: its TTL, addresses and probes.
    pub hops: Vec<MultiHopRecord>,
    /// Each link: the TTL of its far end, and its two ends.
    pub links: Vec<LinkRecord>,
}

/// One hop.
#[derive(Debug, Serialize)]
pub struct MultiHopRecord {
    /// The TTL.
    pub ttl: u8,
    /// The addresses that answered.
    pub addresses: Vec<String>,
    /// Probes sent.
    pub probes: u32,
}

/// One link.
#[derive(Debug, Serialize)]
pub struct LinkRecord {
    /// The TTL of `to`.
    pub ttl: u8,
    /// The hop before.
    pub from: String,
    /// The hop after.
    pub to: String,
}

impl MultipathRecord {
    /// The record of `graph`.
    pub fn new(target: SocketAddr, protocol: Protocol, graph: &Graph) -> Self {
        Self {
            address: target.ip().to_string(),
            port: target.port(),
            protocol,
            confidence: CONFIDENCE,
            hops: graph
                .hops
                .iter()
                .map(|h| MultiHopRecord {
                    ttl: h.ttl,
                    addresses: h.addresses.iter().map(ToString::to_string).collect(),
                    probes: h.probes,
                })
                .collect(),
            links: graph
                .links
                .iter()
                .map(|l| LinkRecord {
                    ttl: l.ttl,
                    from: l.from.to_string(),
                    to: l.to.to_string(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::multipath::{Link, MultiHop};

    #[test]
    fn the_graph_as_text() {
        let a = |s: &str| s.parse().unwrap();
        let hop = |ttl, addresses: &[&str], probes| MultiHop {
            ttl,
            addresses: addresses.iter().map(|s| a(s)).collect(),
            probes,
            ends: false,
        };
        let graph = Graph {
            hops: vec![
                hop(1, &["198.51.100.1"], 6),
                hop(2, &["192.0.2.2", "192.0.2.6"], 11),
            ],
            links: vec![
                Link {
                    ttl: 2,
                    from: a("198.51.100.1"),
                    to: a("192.0.2.2"),
                },
                Link {
                    ttl: 2,
                    from: a("198.51.100.1"),
                    to: a("192.0.2.6"),
                },
            ],
        };
        let target: SocketAddr = "203.0.113.10:7890".parse().unwrap();
        assert_eq!(
            text(target, Protocol::Tcp, &graph),
            "multipath to 203.0.113.10:7890/tcp: flows varied at each hop until every next hop is found with 99.9 % confidence (MDA)\n\
             hop  1: 198.51.100.1 (6 probes)\n\
             hop  2: 192.0.2.2, 192.0.2.6 (11 probes)\n\
             links: 198.51.100.1 → 192.0.2.2, 198.51.100.1 → 192.0.2.6\n"
        );
        let record = MultipathRecord::new(target, Protocol::Tcp, &graph);
        assert_eq!(record.hops[1].addresses, ["192.0.2.2", "192.0.2.6"]);
        assert_eq!(record.links.len(), 2);
    }
}
