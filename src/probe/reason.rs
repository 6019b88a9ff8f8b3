//! From what came back to nmap's state and reason: a pure table, no sockets.
//!
//! The rules are nmap's (<https://nmap.org/book/scan-methods.html>): TCP SYN-ACK → open;
//! RST → closed; ICMP unreachable (type 3 codes 0-3, 9, 10, 13) → filtered; silence after
//! retries → filtered. UDP: any reply → open; ICMP port unreachable *from the target
//! itself* → closed, from anyone else (a firewall speaking for it) → filtered; other ICMP
//! unreachables → filtered; silence → open|filtered. ICMP details come from the socket
//! error queue (`errqueue.rs`), which is how connect mode sees what nmap's raw mode sees.

use crate::model::{Protocol, Reason, State};
use std::net::IpAddr;

/// What one attempt observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// The TCP handshake completed.
    Connected,
    /// The TCP connection was refused with no ICMP error queued: a RST.
    Refused,
    /// A UDP datagram came back from the target.
    UdpReply,
    /// An ICMP (or ICMPv6) error about the probe, as queued on the socket.
    Icmp(IcmpReport),
    /// Nothing came back within the timeout.
    Silence,
    /// This host could not send the probe; the system's message.
    Local(String),
}

/// An ICMP error from the socket error queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpReport {
    /// ICMPv6 rather than ICMP.
    pub v6: bool,
    /// The ICMP type.
    pub kind: u8,
    /// The ICMP code.
    pub code: u8,
    /// Who sent it (`SO_EE_OFFENDER`), when the kernel says.
    pub from: Option<IpAddr>,
}

/// State and reason for one observation of a probe to `target`.
///
/// nmap's rules: an ICMP port unreachable from the target itself closes a UDP port; from a
/// router on the way (or for TCP) it is a firewall's answer, so the port is filtered.
///
/// ```
/// use ipdiag::model::{Protocol, Reason, State};
/// use ipdiag::probe::reason::{IcmpReport, Observation, judge};
///
/// let target = "203.0.113.10".parse().unwrap();
/// let unreachable = |from: &str| {
///     Observation::Icmp(IcmpReport { v6: false, kind: 3, code: 3, from: from.parse().ok() })
/// };
/// assert_eq!(
///     judge(Protocol::Udp, target, &unreachable("203.0.113.10")),
///     (State::Closed, Reason::PortUnreach)
/// );
/// assert_eq!(
///     judge(Protocol::Udp, target, &unreachable("198.51.100.1")),
///     (State::Filtered, Reason::PortUnreach)
/// );
/// assert_eq!(
///     judge(Protocol::Udp, target, &Observation::Silence),
///     (State::OpenFiltered, Reason::NoResponse)
/// );
/// ```
pub fn judge(protocol: Protocol, target: IpAddr, observation: &Observation) -> (State, Reason) {
    match observation {
        Observation::Connected => (State::Open, Reason::SynAck),
        Observation::Refused => (State::Closed, Reason::ConnRefused),
        Observation::UdpReply => (State::Open, Reason::UdpResponse),
        Observation::Silence => match protocol {
            Protocol::Tcp => (State::Filtered, Reason::NoResponse),
            Protocol::Udp => (State::OpenFiltered, Reason::NoResponse),
        },
        Observation::Local(_) => (State::Error, Reason::LocalError),
        Observation::Icmp(report) => {
            let reason = icmp_reason(report);
            let from_target = report.from.is_none_or(|from| same_host(from, target));
            let state = match (protocol, reason) {
                (Protocol::Udp, Reason::PortUnreach) if from_target => State::Closed,
                _ => State::Filtered,
            };
            (state, reason)
        }
    }
}

/// IPv4-mapped and plain IPv4 forms of one address are the same host.
fn same_host(a: IpAddr, b: IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}

/// The reason word for an ICMP error (RFC 792 / RFC 1812 §5.2.7.1 codes; RFC 4443 for v6).
pub fn icmp_reason(report: &IcmpReport) -> Reason {
    if report.v6 {
        return match (report.kind, report.code) {
            (1, 1 | 5 | 6) => Reason::AdminProhibited,
            (1, 4) => Reason::PortUnreach,
            (1, 0) => Reason::NetUnreach,
            (2, _) => Reason::FragNeeded,
            (3, _) => Reason::TimeExceeded,
            _ => Reason::HostUnreach,
        };
    }
    match (report.kind, report.code) {
        (3, 0 | 6 | 11) => Reason::NetUnreach,
        (3, 2) => Reason::ProtoUnreach,
        (3, 3) => Reason::PortUnreach,
        (3, 4) => Reason::FragNeeded,
        (3, 9 | 10 | 13 | 14 | 15) => Reason::AdminProhibited,
        (11, _) => Reason::TimeExceeded,
        _ => Reason::HostUnreach,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    const TARGET: &str = "203.0.113.10";
    const ROUTER: &str = "198.51.100.1";

    fn icmp(v6: bool, kind: u8, code: u8, from: &str) -> Observation {
        Observation::Icmp(IcmpReport {
            v6,
            kind,
            code,
            from: Some(from.parse().unwrap()),
        })
    }

    fn judge_v4(protocol: Protocol, o: &Observation) -> (State, Reason) {
        judge(protocol, TARGET.parse().unwrap(), o)
    }

    #[test]
    fn tcp_rules() {
        let tcp = |o| judge_v4(Protocol::Tcp, &o);
        assert_eq!(tcp(Observation::Connected), (State::Open, Reason::SynAck));
        assert_eq!(
            tcp(Observation::Refused),
            (State::Closed, Reason::ConnRefused)
        );
        assert_eq!(
            tcp(Observation::Silence),
            (State::Filtered, Reason::NoResponse)
        );
        assert_eq!(
            tcp(Observation::Local("no route".into())),
            (State::Error, Reason::LocalError)
        );
        // ICMP port unreachable for TCP is a firewall's REJECT, even from the target: filtered.
        assert_eq!(
            tcp(icmp(false, 3, 3, TARGET)),
            (State::Filtered, Reason::PortUnreach)
        );
    }

    #[test]
    fn udp_rules() {
        let udp = |o| judge_v4(Protocol::Udp, &o);
        assert_eq!(
            udp(Observation::UdpReply),
            (State::Open, Reason::UdpResponse)
        );
        assert_eq!(
            udp(Observation::Silence),
            (State::OpenFiltered, Reason::NoResponse)
        );
        assert_eq!(
            udp(icmp(false, 3, 3, TARGET)),
            (State::Closed, Reason::PortUnreach)
        );
        assert_eq!(
            udp(icmp(false, 3, 3, ROUTER)),
            (State::Filtered, Reason::PortUnreach)
        );
        let unknown_sender = Observation::Icmp(IcmpReport {
            v6: false,
            kind: 3,
            code: 3,
            from: None,
        });
        assert_eq!(udp(unknown_sender), (State::Closed, Reason::PortUnreach));
        let v6 = judge(
            Protocol::Udp,
            "2001:db8::1".parse().unwrap(),
            &icmp(true, 1, 4, "2001:db8::1"),
        );
        assert_eq!(v6, (State::Closed, Reason::PortUnreach));
        let mapped = judge(
            Protocol::Udp,
            "::ffff:203.0.113.10".parse().unwrap(),
            &icmp(false, 3, 3, TARGET),
        );
        assert_eq!(mapped, (State::Closed, Reason::PortUnreach));
    }

    #[test_case(false, 3, 0, Reason::NetUnreach; "net unreachable")]
    #[test_case(false, 3, 1, Reason::HostUnreach; "host unreachable")]
    #[test_case(false, 3, 2, Reason::ProtoUnreach; "protocol unreachable")]
    #[test_case(false, 3, 3, Reason::PortUnreach; "port unreachable")]
    #[test_case(false, 3, 4, Reason::FragNeeded; "fragmentation needed")]
    #[test_case(false, 3, 9, Reason::AdminProhibited; "net admin prohibited")]
    #[test_case(false, 3, 10, Reason::AdminProhibited; "host admin prohibited")]
    #[test_case(false, 3, 13, Reason::AdminProhibited; "communication admin prohibited")]
    #[test_case(false, 11, 0, Reason::TimeExceeded; "ttl exceeded")]
    #[test_case(true, 1, 0, Reason::NetUnreach; "v6 no route")]
    #[test_case(true, 1, 1, Reason::AdminProhibited; "v6 admin prohibited")]
    #[test_case(true, 1, 3, Reason::HostUnreach; "v6 address unreachable")]
    #[test_case(true, 1, 4, Reason::PortUnreach; "v6 port unreachable")]
    #[test_case(true, 1, 6, Reason::AdminProhibited; "v6 reject route")]
    #[test_case(true, 2, 0, Reason::FragNeeded; "v6 packet too big")]
    #[test_case(true, 3, 0, Reason::TimeExceeded; "v6 hop limit")]
    fn icmp_codes(v6: bool, kind: u8, code: u8, reason: Reason) {
        assert_eq!(
            icmp_reason(&IcmpReport {
                v6,
                kind,
                code,
                from: None
            }),
            reason
        );
    }

    #[test]
    fn every_icmp_unreachable_filters_tcp() {
        for code in [0, 1, 2, 3, 9, 10, 13] {
            assert_eq!(
                judge_v4(Protocol::Tcp, &icmp(false, 3, code, ROUTER)).0,
                State::Filtered,
                "code {code}"
            );
        }
    }
}
