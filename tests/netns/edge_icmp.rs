//! SYN mode's ICMP paths when the edge router, not the target, answers for the port: a
//! REJECT with port unreachable (3/3) or admin prohibited (3/13), and time exceeded when
//! the TTL runs out there (the client's default TTL set to 1 in its own namespace; nmap
//! gets `--ttl 1`). Connect mode, SYN mode and nmap -sS must agree on the state and the
//! reason, and name the router as the ICMP sender. The target is [`ROUTED`]: through the
//! edge's NAT the router's ICMP would carry the public address instead.

use crate::bed::{Bed, EDGE, ROUTED, Setup, nft, sysctl};
use crate::cases::probe;
use crate::nmap;

/// How the edge answers in one scenario.
enum Edge {
    /// `reject with icmp type TYPE` in its forward chain, before the security group.
    Rejects(&'static str),
    /// The client's packets arrive with TTL 1: the edge cannot forward them.
    TtlRunsOut,
}

/// Probes `ROUTED:port` by connect and by SYN scan and asserts both, and nmap -sS, say
/// `filtered` for `reason` with the edge as the sender; both modes diagnose `cause`.
fn edge_answers(name: &str, port: u16, edge: &Edge, reason: &str, cause: &str) {
    let setup = Setup {
        routed: true,
        ..Setup::default()
    };
    let Some(bed) = Bed::new(name, setup) else {
        return;
    };
    match edge {
        Edge::Rejects(kind) => nft(
            &bed.edge,
            &format!(
                "table ip edge_reject {{
                  chain forward {{
                    type filter hook forward priority -10; policy accept;
                    ip daddr {ROUTED} tcp dport {port} reject with icmp type {kind}
                  }}
                }}"
            ),
        ),
        Edge::TtlRunsOut => sysctl(&bed.client, &["net.ipv4.ip_default_ttl=1"]),
    }
    let connect = probe(&bed, ROUTED, port, false, &[]);
    let syn = probe(&bed, ROUTED, port, false, &["--raw"]);
    for (method, record) in [("connect", &connect), ("syn", &syn)] {
        let got = ["method", "state", "reason", "icmp_from", "cause"].map(|k| record[k].as_str());
        assert_eq!(
            got,
            [
                Some(method),
                Some("filtered"),
                Some(reason),
                Some(EDGE),
                Some(cause)
            ],
            "{name}: {record}"
        );
    }
    let extra: &[&str] = match edge {
        Edge::TtlRunsOut => &["--ttl", "1"],
        Edge::Rejects(_) => &[],
    };
    let theirs = nmap::syn_verdict(&bed, ROUTED, port, extra);
    assert_eq!(
        theirs,
        ("filtered".into(), reason.into(), Some(EDGE.into())),
        "{name}: nmap -sS disagrees with {syn}"
    );
}

pub fn the_edge_rejects_with_port_unreachable() {
    edge_answers(
        "edge_port_unreachable",
        7901,
        &Edge::Rejects("port-unreachable"),
        "port-unreach",
        "security_group",
    );
}

pub fn the_edge_rejects_with_admin_prohibited() {
    edge_answers(
        "edge_admin_prohibited",
        7902,
        &Edge::Rejects("admin-prohibited"),
        "admin-prohibited",
        "security_group",
    );
}

pub fn the_ttl_runs_out_at_the_edge() {
    edge_answers(
        "edge_ttl_exceeded",
        7890,
        &Edge::TtlRunsOut,
        "time-exceeded",
        "no_route",
    );
}
