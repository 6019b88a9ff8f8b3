//! Who sent an ICMP error, from its TTL: an error "from the target's address" may come from
//! the server itself (its firewall) or from a cloud edge that translates that address and
//! answers for it (the security group). The edge is at least one hop closer than the
//! server, so the error's hop count, set against the hop count of the server's own answers
//! on a control port (a SYN-ACK or RST from 22, 80, 443 …), tells them apart.
//!
//! Hops are counted from the initial TTL the sender most likely used: the smallest of the
//! common ones (64: Linux, macOS, BSD; 128: Windows; 255: routers, Solaris) at or above the
//! TTL read; the same guess traceroute tools and p0f make. Pure: the TTLs are read by
//! `probe::ttl_watch` (a packet socket, `CAP_NET_RAW`) and handed in.

use crate::model::Protocol;
use std::collections::BTreeMap;

/// Initial TTLs senders use (IPv6 hop limits alike), smallest first.
const INITIAL: [u8; 3] = [64, 128, 255];

/// TTLs heard from one address while `doctor` probed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ttls {
    /// ICMP errors about our probes, by the probed port and protocol: the TTL the error
    /// arrived with (the first heard).
    pub errors: BTreeMap<(u16, Protocol), u8>,
    /// TCP segments the address sent from a port (a SYN-ACK or a RST): their TTL.
    pub answers: BTreeMap<u16, u8>,
}

/// How far an ICMP error's sender is, against the server's own answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// Fewer hops than the server: something before it answers for its address.
    Closer,
    /// As many hops as the server: the server itself.
    Same,
    /// More hops than the server: the TTLs do not place it.
    Unplaced,
}

/// The comparison, with its figures for the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Distance {
    /// Where the error's sender is.
    pub sender: Sender,
    /// The error's TTL.
    pub error_ttl: u8,
    /// The control port whose answer it was set against.
    pub control_port: u16,
    /// That answer's TTL.
    pub control_ttl: u8,
}

/// Hops a packet that arrived with `ttl` travelled (from the likeliest initial TTL).
pub fn hops(ttl: u8) -> u8 {
    let initial = INITIAL.into_iter().find(|&i| i >= ttl).unwrap_or(u8::MAX);
    initial - ttl
}

/// The comparison for an error about `port`/`protocol`, against the first control port
/// in `controls` (in the caller's order) that answered; `None` without both TTLs.
pub fn compare(ttls: &Ttls, port: u16, protocol: Protocol, controls: &[u16]) -> Option<Distance> {
    let error_ttl = *ttls.errors.get(&(port, protocol))?;
    let (control_port, control_ttl) = controls
        .iter()
        .filter(|&&c| !(c == port && protocol == Protocol::Tcp))
        .find_map(|c| ttls.answers.get(c).map(|t| (*c, *t)))?;
    let sender = match hops(error_ttl).cmp(&hops(control_ttl)) {
        std::cmp::Ordering::Less => Sender::Closer,
        std::cmp::Ordering::Equal => Sender::Same,
        std::cmp::Ordering::Greater => Sender::Unplaced,
    };
    Some(Distance {
        sender,
        error_ttl,
        control_port,
        control_ttl,
    })
}

impl Distance {
    /// The comparison in words, both TTLs named.
    pub fn text(&self) -> String {
        let (e, c) = (hops(self.error_ttl), hops(self.control_ttl));
        let figures = format!(
            "the ICMP error arrived with TTL {} ({}), the server's own answer on {}/tcp with TTL {} ({})",
            self.error_ttl,
            hop_word(e),
            self.control_port,
            self.control_ttl,
            hop_word(c)
        );
        match self.sender {
            Sender::Closer => format!(
                "{figures}: the error was sent {} closer than the server, by something answering for its address (a translating edge: the security group)",
                plural(c - e, "hop", "hops")
            ),
            Sender::Same => format!(
                "{figures}: the error was sent from as far as the server's answers, by the server itself (its own firewall)"
            ),
            Sender::Unplaced => format!(
                "{figures}: the error's sender seems farther than the server, so the TTLs do not tell who sent it"
            ),
        }
    }
}

fn hop_word(hops: u8) -> String {
    format!("{} away", plural(hops, "hop", "hops"))
}

fn plural(n: u8, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::{Cause, Confidence, Facts, PortSeen, findings};
    use crate::model::{ProbeResult, Reason, State};

    fn heard(error: u8, answers: &[(u16, u8)]) -> Ttls {
        Ttls {
            errors: BTreeMap::from([((8000, Protocol::Tcp), error)]),
            answers: answers.iter().copied().collect(),
        }
    }

    #[test]
    fn hops_count_from_the_likeliest_initial_ttl() {
        let got: Vec<u8> = [64, 63, 1, 65, 128, 120, 255, 250]
            .into_iter()
            .map(hops)
            .collect();
        assert_eq!(got, [0, 1, 63, 63, 0, 8, 0, 5]);
    }

    #[test]
    fn an_error_one_hop_closer_than_the_server_is_the_edge() {
        let d = compare(&heard(64, &[(22, 63)]), 8000, Protocol::Tcp, &[22, 80]).unwrap();
        assert_eq!(d.sender, Sender::Closer);
        assert_eq!(
            d.text(),
            "the ICMP error arrived with TTL 64 (0 hops away), the server's own answer on 22/tcp with TTL 63 (1 hop away): the error was sent 1 hop closer than the server, by something answering for its address (a translating edge: the security group)"
        );
    }

    #[test]
    fn an_error_as_far_as_the_server_is_the_server() {
        // A Windows server (128) behind the same hop as its error.
        let d = compare(&heard(127, &[(80, 127)]), 8000, Protocol::Tcp, &[22, 80]).unwrap();
        assert_eq!((d.sender, d.control_port), (Sender::Same, 80));
        assert!(
            d.text()
                .ends_with("by the server itself (its own firewall)")
        );
        // A router's 255 against a Linux server's 64, 2 hops on: still closer.
        let d = compare(&heard(254, &[(22, 61)]), 8000, Protocol::Tcp, &[22]).unwrap();
        assert_eq!(d.sender, Sender::Closer);
        let d = compare(&heard(60, &[(22, 62)]), 8000, Protocol::Tcp, &[22]).unwrap();
        assert_eq!(d.sender, Sender::Unplaced);
    }

    /// The rules with the TTLs: a rejection from the public address of a translated
    /// server, SSH answering.
    fn ranked(ttls: &Ttls) -> Vec<(Cause, Confidence, String)> {
        let mut r = ProbeResult::sample(
            "203.0.113.10",
            8000,
            State::Filtered,
            Reason::AdminProhibited,
        );
        r.icmp_from = r.endpoint.address;
        let ssh = PortSeen {
            port: 22,
            protocol: Protocol::Tcp,
            state: State::Open,
            reason: Reason::SynAck,
            rtt_avg_ms: None,
        };
        let facts = Facts {
            others: &[ssh],
            ttls: Some(ttls),
            ..Facts::default()
        };
        findings(&r, &facts)
            .into_iter()
            .map(|f| (f.cause, f.confidence, f.evidence.join(" | ")))
            .collect()
    }

    #[test]
    fn the_ttls_rank_the_edge_or_the_server_and_keep_both_listed() {
        let edge = ranked(&heard(64, &[(22, 63)]));
        let causes: Vec<_> = edge.iter().map(|f| (f.0, f.1)).collect();
        assert_eq!(
            causes,
            [
                (Cause::SecurityGroup, Confidence::Medium),
                (Cause::HostFirewall, Confidence::Low)
            ]
        );
        assert!(
            edge[0].2.contains("TTL 64 (0 hops away)") && edge[0].2.contains("TTL 63 (1 hop away)"),
            "{edge:?}"
        );
        let host = ranked(&heard(63, &[(22, 63)]));
        let causes: Vec<_> = host.iter().map(|f| (f.0, f.1)).collect();
        assert_eq!(
            causes,
            [
                (Cause::HostFirewall, Confidence::Medium),
                (Cause::SecurityGroup, Confidence::Low)
            ]
        );
        // Without the server's answer heard: both alike, as before.
        let none = ranked(&heard(64, &[]));
        let causes: Vec<_> = none.iter().map(|f| (f.0, f.1)).collect();
        assert_eq!(
            causes,
            [
                (Cause::HostFirewall, Confidence::Medium),
                (Cause::SecurityGroup, Confidence::Medium)
            ]
        );
        assert!(!none[0].2.contains("TTL"), "{none:?}");
    }

    #[test]
    fn without_both_ttls_nothing_is_compared() {
        assert_eq!(compare(&heard(64, &[]), 8000, Protocol::Tcp, &[22]), None);
        assert_eq!(
            compare(&heard(64, &[(22, 63)]), 8000, Protocol::Udp, &[22]),
            None
        );
        // The probed port itself is no control.
        assert_eq!(
            compare(&heard(64, &[(8000, 63)]), 8000, Protocol::Tcp, &[8000]),
            None
        );
    }
}
