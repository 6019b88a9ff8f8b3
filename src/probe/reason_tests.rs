//! The evidence → state/reason table, the socket-error and own-stack ICMP mappings.

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

#[cfg(unix)]
use nix::libc;

// The errno values are Unix's; the same meanings by Winsock code are `sys::codes_tests`.
#[cfg(unix)]
#[test_case(libc::ECONNREFUSED, SocketError::Refused; "refused")]
#[test_case(libc::ETIMEDOUT, SocketError::TimedOut; "syn retries ran out")]
#[test_case(libc::ECONNRESET, SocketError::ResetAfterHandshake; "reset when established")]
#[test_case(libc::EPIPE, SocketError::ResetAfterHandshake; "reset in close wait")]
#[test_case(libc::ENETUNREACH, SocketError::Local(LocalFault::NoRoute); "no route")]
#[test_case(libc::EHOSTUNREACH, SocketError::Local(LocalFault::NoRoute); "unreachable route")]
#[test_case(libc::ENETDOWN, SocketError::Local(LocalFault::NoRoute); "interface down")]
#[test_case(libc::EPERM, SocketError::Local(LocalFault::OwnFirewall); "output drop")]
#[test_case(libc::EACCES, SocketError::Local(LocalFault::OwnFirewall); "access denied")]
#[test_case(libc::EMFILE, SocketError::Busy; "out of descriptors")]
#[test_case(libc::ENFILE, SocketError::Busy; "system out of descriptors")]
#[test_case(libc::ENOBUFS, SocketError::Busy; "out of buffers")]
#[test_case(libc::EADDRNOTAVAIL, SocketError::Busy; "out of local ports")]
#[test_case(libc::EAFNOSUPPORT, SocketError::Local(LocalFault::Other); "no ipv6 here")]
fn socket_errors(errno: i32, meaning: SocketError) {
    assert_eq!(socket_error(&io::Error::from_raw_os_error(errno)), meaning);
}

#[cfg(unix)]
#[test]
fn local_failures_name_the_errno() {
    let target: IpAddr = "203.0.113.53".parse().unwrap();
    let no_route = local_failure(
        LocalFault::NoRoute,
        &io::Error::from_raw_os_error(libc::ENETUNREACH),
        target,
    );
    assert_eq!(
        no_route.to_string(),
        "no route from this machine to 203.0.113.53 (ENETUNREACH: Network is unreachable)"
    );
    let firewall = local_failure(
        LocalFault::OwnFirewall,
        &io::Error::from_raw_os_error(libc::EPERM),
        target,
    );
    // The advice is this system's (`sys::words` tests each system's exact words).
    let advice = System::HERE.words().outbound_firewall;
    assert_eq!(
        (firewall.fault, firewall.message),
        (
            LocalFault::OwnFirewall,
            format!(
                "this machine's own firewall refused to send to 203.0.113.53 (EPERM: Operation not permitted): {advice}"
            )
        )
    );
    if cfg!(target_os = "linux") {
        assert_eq!(
            advice,
            "look at its output rules (nft list ruleset; iptables -S OUTPUT)"
        );
    }
    assert_eq!(
        errno_text(&io::Error::other("no address to probe")),
        "no address to probe"
    );
}

const OWN: &str = "172.16.0.2";

fn lan() -> Vec<(String, IpNet)> {
    vec![
        ("lo".to_owned(), "127.0.0.1/8".parse().unwrap()),
        ("eth0".to_owned(), "172.16.0.2/24".parse().unwrap()),
    ]
}

fn own_stack(v6: bool, kind: u8, code: u8, target: &str, from: &str) -> Option<LocalFailure> {
    let report = IcmpReport {
        v6,
        kind,
        code,
        from: from.parse().ok(),
    };
    let source = if v6 { "fd00::2" } else { OWN };
    own_stack_failure(
        &report,
        target.parse().unwrap(),
        source.parse().unwrap(),
        &lan(),
    )
}

#[test]
fn no_arp_reply_on_an_overlapping_lan() {
    let failure = own_stack(false, 3, 1, "172.16.0.10", OWN).unwrap();
    assert_eq!(failure.fault, LocalFault::NoNeighbour);
    assert_eq!(
        failure.message,
        "no ARP reply on the local network eth0: 172.16.0.10 is on this LAN's subnet (172.16.0.0/24) — a private address of another network?"
    );
    // Through a gateway that does not answer ARP.
    let gateway = own_stack(false, 3, 1, "203.0.113.10", OWN).unwrap();
    assert_eq!(
        gateway.message,
        "no ARP reply on the local network eth0 from the gateway towards 203.0.113.10: is the router down?"
    );
    // IPv6 address unreachable: no neighbour discovery reply (interface unknown here).
    let v6 = own_stack(true, 1, 3, "fd00::10", "fd00::2").unwrap();
    assert_eq!(
        (v6.fault, v6.message.as_str()),
        (
            LocalFault::NoNeighbour,
            "no neighbour discovery reply on the local network for fd00::10: is it down?"
        )
    );
}

#[test_case(false, 3, 1, LocalFault::NoNeighbour; "host unreachable")]
#[test_case(false, 3, 0, LocalFault::NoRoute; "net unreachable")]
#[test_case(false, 3, 3, LocalFault::OwnFirewall; "iptables reject in output")]
#[test_case(false, 3, 2, LocalFault::OwnFirewall; "reject with protocol unreachable")]
#[test_case(false, 3, 13, LocalFault::OwnFirewall; "reject admin prohibited")]
#[test_case(true, 1, 3, LocalFault::NoNeighbour; "v6 address unreachable")]
#[test_case(true, 1, 0, LocalFault::NoRoute; "v6 no route")]
#[test_case(true, 1, 1, LocalFault::OwnFirewall; "v6 admin prohibited")]
#[test_case(true, 1, 4, LocalFault::OwnFirewall; "v6 reject port unreachable")]
fn own_stack_icmp(v6: bool, kind: u8, code: u8, fault: LocalFault) {
    let (target, from) = if v6 {
        ("2001:db8::10", "fd00::2")
    } else {
        (TARGET, OWN)
    };
    assert_eq!(
        own_stack(v6, kind, code, target, from).map(|f| f.fault),
        Some(fault)
    );
}

#[test]
fn only_our_own_stack_is_local() {
    // From a router on the way, or from the target: answers from the path.
    assert_eq!(own_stack(false, 3, 1, TARGET, ROUTER), None);
    assert_eq!(own_stack(false, 3, 3, TARGET, TARGET), None);
    // Loopback: the target is this host, its port unreachable is the target's answer.
    let report = IcmpReport {
        v6: false,
        kind: 3,
        code: 3,
        from: "127.0.0.1".parse().ok(),
    };
    let lo: IpAddr = "127.0.0.1".parse().unwrap();
    assert_eq!(own_stack_failure(&report, lo, lo, &lan()), None);
    // Unknown sender, time exceeded, fragmentation needed: not a local failure.
    assert_eq!(own_stack(false, 3, 1, TARGET, "not an address"), None);
    assert_eq!(own_stack(false, 11, 0, TARGET, OWN), None);
    assert_eq!(own_stack(false, 3, 4, TARGET, OWN), None);
}

#[test]
fn local_failures_are_errors() {
    let failure = LocalFailure {
        fault: LocalFault::NoNeighbour,
        message: "no ARP reply".into(),
    };
    assert_eq!(
        judge_v4(Protocol::Udp, &Observation::Local(failure)),
        (State::Error, Reason::LocalError)
    );
}
