use super::*;
use crate::classify::classify;
use crate::model::{Endpoint, RttStats};
use test_case::test_case;

fn result(
    address: &str,
    port: u16,
    protocol: Protocol,
    state: State,
    reason: Reason,
) -> ProbeResult {
    let address: IpAddr = address.parse().unwrap();
    let answered = !matches!(
        reason,
        Reason::NoResponse | Reason::DnsError | Reason::LocalError
    );
    ProbeResult {
        endpoint: Endpoint {
            target: format!("{address}:{port}"),
            host: address.to_string(),
            address: Some(address),
            port,
            protocol,
            scope_id: 0,
        },
        state,
        reason,
        icmp_from: None,
        attempts: if answered { 1 } else { 3 },
        received: u32::from(answered),
        late: 0,
        rtt: answered.then_some(RttStats {
            min: 30.0,
            avg: 31.0,
            max: 32.0,
            stddev: 0.5,
        }),
        error: None,
        payload: None,
        responder: false,
        observed_source: None,
        method: crate::model::Method::Connect,
        fault: None,
        reset_after_accept: false,
    }
}

fn tcp(address: &str, port: u16, state: State, reason: Reason) -> ProbeResult {
    result(address, port, Protocol::Tcp, state, reason)
}

fn seen(port: u16, state: State, reason: Reason) -> PortSeen {
    PortSeen {
        port,
        protocol: Protocol::Tcp,
        state,
        reason,
        rtt_avg_ms: Some(31.0),
    }
}

/// (cause, confidence) of each finding, in rank order.
fn ranked(
    r: &ProbeResult,
    others: &[PortSeen],
    ping: Option<PingSeen>,
    nets: &[IpNet],
) -> Vec<(Cause, Confidence)> {
    let info = r.endpoint.address.map(classify);
    let facts = Facts {
        target: info.as_ref(),
        local_networks: nets,
        others,
        ping,
        path: None,
        ttls: None,
    };
    findings(r, &facts)
        .into_iter()
        .map(|f| (f.cause, f.confidence))
        .collect()
}

const PUBLIC: &str = "8.8.4.4";
const OPEN: State = State::Open;
const CLOSED: State = State::Closed;
const FILTERED: State = State::Filtered;
const H: Confidence = Confidence::High;
const M: Confidence = Confidence::Medium;
const L: Confidence = Confidence::Low;

#[test]
fn open_is_ok() {
    let r = tcp(PUBLIC, 7890, OPEN, Reason::SynAck);
    assert_eq!(ranked(&r, &[], None, &[]), [(Cause::Ok, H)]);
}

#[test]
fn closed_is_not_listening_or_loopback_bind() {
    let r = tcp(PUBLIC, 7890, CLOSED, Reason::ConnRefused);
    assert_eq!(
        ranked(&r, &[], None, &[]),
        [
            (Cause::NotListening, M),
            (Cause::LoopbackBind, M),
            (Cause::BindPublicIp, L),
            (Cause::HostFirewall, L)
        ]
    );
    let mut udp = result(PUBLIC, 7890, Protocol::Udp, CLOSED, Reason::PortUnreach);
    udp.icmp_from = Some(PUBLIC.parse().unwrap());
    assert_eq!(
        ranked(&udp, &[], None, &[]),
        [
            (Cause::NotListening, M),
            (Cause::LoopbackBind, M),
            (Cause::BindPublicIp, L)
        ]
    );
    // Windows and macOS: the port unreachable came as an error code, sender unknown. The
    // same diagnosis, saying so, and a filter on the path is not ruled out.
    udp.icmp_from = None;
    assert_eq!(
        ranked(&udp, &[], None, &[]),
        [
            (Cause::NotListening, M),
            (Cause::LoopbackBind, M),
            (Cause::BindPublicIp, L),
            (Cause::SecurityGroup, L)
        ]
    );
    let said = findings(&udp, &Facts::default());
    assert_eq!(
        said[0].evidence,
        [format!(
            "7890/udp port-unreach, rtt 31.0 ms: {SENDER_UNKNOWN}; taken as the host's own refusal, so \
             packets reach it"
        )]
    );
    assert_eq!(
        SENDER_UNKNOWN,
        "the sender is unknown (this system reports a port unreachable as an error code, \
         without who sent it), so nmap's rule, closed only when the target itself sends it, \
         cannot be applied"
    );
    assert!(
        said[3].evidence[0]
            .ends_with("a filter on the path rejecting with port unreachable looks the same"),
        "{said:?}"
    );
    // The error the user saw is quoted, so the hint reads as their own problem.
    let facts = Facts::default();
    assert!(
        findings(&r, &facts)[2].evidence[0].contains("[Errno 99] Cannot assign requested address"),
        "{:?}",
        findings(&r, &facts)
    );
}

#[test]
fn silence_with_another_port_open_is_the_security_group() {
    let r = tcp(PUBLIC, 7890, FILTERED, Reason::NoResponse);
    let others = [seen(22, OPEN, Reason::SynAck)];
    // From one side a security group and the server's firewall drop alike: both listed,
    // neither high, and the command that decides it named.
    assert_eq!(
        ranked(&r, &others, None, &[]),
        [(Cause::SecurityGroup, M), (Cause::HostFirewall, M)]
    );
    let facts = Facts {
        others: &others,
        ..Facts::default()
    };
    assert_eq!(
        findings(&r, &facts)[0].evidence,
        [
            "7890/tcp no-response ×3",
            "22/tcp open 31.0 ms",
            "from here, the security group or the server's own firewall: they drop alike \
             (`ipdiag local --port 7890` on the server tells which)"
        ]
    );
}

#[test]
fn silence_while_ping_answers_is_the_security_group() {
    let r = tcp(PUBLIC, 7890, FILTERED, Reason::NoResponse);
    let ping = PingSeen {
        sent: 3,
        received: 3,
        rtt_avg_ms: Some(30.0),
    };
    assert_eq!(
        ranked(&r, &[], Some(ping), &[]),
        [(Cause::SecurityGroup, M), (Cause::HostFirewall, M)]
    );
}

#[test]
fn silence_everywhere_is_host_down_or_wrong_ip() {
    let r = tcp(PUBLIC, 7890, FILTERED, Reason::NoResponse);
    let others = [
        seen(22, FILTERED, Reason::NoResponse),
        seen(443, FILTERED, Reason::NoResponse),
    ];
    let ping = PingSeen {
        sent: 3,
        received: 0,
        rtt_avg_ms: None,
    };
    assert_eq!(
        ranked(&r, &others, Some(ping), &[]),
        [(Cause::HostDownOrWrongIp, M), (Cause::SecurityGroup, L)]
    );
}

#[test]
fn silence_with_nothing_else_checked_leans_to_the_security_group() {
    let r = tcp(PUBLIC, 7890, FILTERED, Reason::NoResponse);
    assert_eq!(
        ranked(&r, &[], None, &[]),
        [(Cause::SecurityGroup, M), (Cause::HostDownOrWrongIp, L)]
    );
}

#[test]
fn udp_silence_says_it_proves_neither() {
    let r = result(
        PUBLIC,
        5000,
        Protocol::Udp,
        State::OpenFiltered,
        Reason::NoResponse,
    );
    assert_eq!(
        ranked(&r, &[seen(22, OPEN, Reason::SynAck)], None, &[]),
        [
            (Cause::SecurityGroup, M),
            (Cause::HostFirewall, M),
            (Cause::ServerNotReplying, M),
            (Cause::Ok, L)
        ]
    );
    assert_eq!(
        ranked(&r, &[], None, &[]),
        [(Cause::SecurityGroup, L), (Cause::HostDownOrWrongIp, L)]
    );
}

#[test]
fn admin_prohibited_from_the_target_is_the_host_firewall() {
    let mut r = tcp(PUBLIC, 7890, FILTERED, Reason::AdminProhibited);
    r.icmp_from = r.endpoint.address;
    // Across the internet an edge that translates the address rejects from it too.
    assert_eq!(
        ranked(&r, &[], None, &[]),
        [(Cause::HostFirewall, M), (Cause::SecurityGroup, M)]
    );
    // On this machine's own network nothing translates between: the host itself.
    let lan: IpNet = "8.8.4.0/24".parse().unwrap();
    assert_eq!(ranked(&r, &[], None, &[lan]), [(Cause::HostFirewall, H)]);
}

#[test]
fn admin_prohibited_from_a_router_is_a_filter_on_the_path() {
    let mut r = tcp(PUBLIC, 7890, FILTERED, Reason::AdminProhibited);
    r.icmp_from = Some("8.8.8.1".parse().unwrap());
    assert_eq!(
        ranked(&r, &[], None, &[]),
        [(Cause::SecurityGroup, M), (Cause::HostFirewall, L)]
    );
}

#[test]
fn admin_prohibited_from_this_machine_is_its_own_firewall() {
    let mut r = tcp(PUBLIC, 7890, FILTERED, Reason::AdminProhibited);
    r.icmp_from = Some("192.168.1.5".parse().unwrap());
    let nets: [IpNet; 1] = ["192.168.1.5/24".parse().unwrap()];
    assert_eq!(ranked(&r, &[], None, &nets), [(Cause::HostFirewall, M)]);
}

#[test_case("172.16.0.10"; "rfc 1918")]
#[test_case("100.64.1.2"; "cgnat")]
#[test_case("169.254.1.1"; "link-local")]
fn a_private_address_from_outside(address: &str) {
    let r = tcp(address, 7890, FILTERED, Reason::NoResponse);
    assert_eq!(
        ranked(&r, &[], None, &["192.168.1.5/24".parse().unwrap()]),
        [
            (Cause::PrivateAddress, H),
            (Cause::SecurityGroup, M),
            (Cause::HostDownOrWrongIp, L)
        ]
    );
}

#[test]
fn a_private_address_on_my_own_network_is_an_ordinary_host() {
    let r = tcp("192.168.1.20", 7890, FILTERED, Reason::NoResponse);
    let nets: [IpNet; 1] = ["192.168.1.5/24".parse().unwrap()];
    assert_eq!(
        ranked(&r, &[], None, &nets),
        [
            (Cause::SecurityGroup, M),
            (Cause::PrivateAddress, L),
            (Cause::HostDownOrWrongIp, L)
        ],
        "another network's private address is a late suspicion on an overlapping LAN"
    );
}

#[test_case("0.0.0.0"; "unspecified")]
#[test_case("240.0.0.1"; "reserved")]
#[test_case("224.0.0.1"; "multicast")]
fn special_addresses_come_first_when_nothing_answers(address: &str) {
    let r = tcp(address, 7890, FILTERED, Reason::NoResponse);
    assert_eq!(ranked(&r, &[], None, &[])[0], (Cause::SpecialAddress, H));
}

#[test]
fn documentation_addresses_are_a_late_suspicion() {
    let r = tcp("203.0.113.10", 7890, FILTERED, Reason::NoResponse);
    let ranks = ranked(&r, &[seen(22, OPEN, Reason::SynAck)], None, &[]);
    assert_eq!(
        ranks,
        [
            (Cause::SecurityGroup, M),
            (Cause::HostFirewall, M),
            (Cause::SpecialAddress, L)
        ]
    );
    assert_eq!(
        ranked(
            &tcp("203.0.113.10", 7890, OPEN, Reason::SynAck),
            &[],
            None,
            &[]
        ),
        [(Cause::Ok, H)]
    );
}

#[test]
fn loopback_open_is_ok_with_a_note() {
    let r = tcp("127.0.0.1", 7890, OPEN, Reason::SynAck);
    assert_eq!(
        ranked(&r, &[], None, &[]),
        [(Cause::Ok, H), (Cause::SpecialAddress, L)]
    );
}

#[test]
fn loss_and_jitter_make_a_lossy_path() {
    let mut r = tcp(PUBLIC, 7890, OPEN, Reason::SynAck);
    (r.attempts, r.received) = (200, 186);
    assert_eq!(ranked(&r, &[], None, &[]), [(Cause::LossyPath, H)]);
    (r.attempts, r.received) = (100, 95);
    assert_eq!(ranked(&r, &[], None, &[]), [(Cause::LossyPath, M)]);
    // 3 of 100 could be chance at a 1 % background: reachable, lossy only possible.
    (r.attempts, r.received) = (100, 97);
    assert_eq!(
        ranked(&r, &[], None, &[]),
        [(Cause::Ok, M), (Cause::LossyPath, L)]
    );
    // Too few attempts to call a path lossy, or even to suspect it.
    (r.attempts, r.received) = (2, 1);
    assert_eq!(
        ranked(&r, &[], None, &[]),
        [(Cause::Ok, M), (Cause::LossyPath, L)]
    );
    (r.attempts, r.received) = (1, 1);
    assert_eq!(ranked(&r, &[], None, &[]), [(Cause::Ok, H)]);
    // No loss, but the RTT swings widely.
    (r.attempts, r.received) = (20, 20);
    r.rtt = Some(RttStats {
        min: 10.0,
        avg: 60.0,
        max: 200.0,
        stddev: 45.0,
    });
    assert_eq!(ranked(&r, &[], None, &[]), [(Cause::LossyPath, M)]);
}

#[test]
fn errors_are_dns_or_no_route() {
    let mut r = tcp(PUBLIC, 7890, State::Error, Reason::DnsError);
    r.endpoint.address = None;
    r.error = Some("failed to lookup address information: Name or service not known".into());
    assert_eq!(ranked(&r, &[], None, &[]), [(Cause::Dns, H)]);
    let r = tcp(PUBLIC, 7890, State::Error, Reason::LocalError);
    assert_eq!(ranked(&r, &[], None, &[])[0], (Cause::NoRoute, H));
    // The client's own firewall is "this machine cannot send" too; the message names it.
    let mut r = tcp(PUBLIC, 7890, State::Error, Reason::LocalError);
    r.fault = Some(crate::model::LocalFault::OwnFirewall);
    assert_eq!(ranked(&r, &[], None, &[]), [(Cause::NoRoute, H)]);
}

#[test]
fn no_arp_reply_for_a_private_address_on_my_lan_is_another_networks_address() {
    let nets: [IpNet; 1] = ["172.16.0.2/24".parse().unwrap()];
    let mut r = tcp("172.16.0.10", 8000, State::Error, Reason::LocalError);
    r.fault = Some(crate::model::LocalFault::NoNeighbour);
    assert_eq!(
        ranked(&r, &[], None, &nets),
        [(Cause::PrivateAddress, M), (Cause::HostDownOrWrongIp, L)]
    );
    // A public address: a host that is down (or a gateway that does not answer).
    let mut r = tcp(PUBLIC, 8000, State::Error, Reason::LocalError);
    r.fault = Some(crate::model::LocalFault::NoNeighbour);
    assert_eq!(
        ranked(&r, &[], None, &nets),
        [(Cause::HostDownOrWrongIp, M), (Cause::NoRoute, L)]
    );
}

#[test]
fn a_reset_after_the_handshake_is_open_with_a_note() {
    let mut r = tcp(PUBLIC, 7890, OPEN, Reason::SynAck);
    r.reset_after_accept = true;
    assert_eq!(ranked(&r, &[], None, &[]), [(Cause::Ok, M)]);
    assert_eq!(
        evidence_of(&r),
        "7890/tcp syn-ack, rtt 31.0 ms; the server accepted the connection and reset it at once (an overloaded server, or a load balancer without a backend)"
    );
}

#[test]
fn icmp_unreachables() {
    let r = tcp(PUBLIC, 7890, FILTERED, Reason::HostUnreach);
    assert_eq!(
        ranked(&r, &[], None, &[]),
        [(Cause::HostDownOrWrongIp, M), (Cause::NoRoute, L)]
    );
    let r = tcp(PUBLIC, 7890, FILTERED, Reason::NetUnreach);
    assert_eq!(
        ranked(&r, &[], None, &[]),
        [(Cause::NoRoute, M), (Cause::HostDownOrWrongIp, L)]
    );
    // UDP port unreachable is filtered only when someone else sent it: a filter on the way.
    let mut r = result(PUBLIC, 53, Protocol::Udp, FILTERED, Reason::PortUnreach);
    r.icmp_from = Some("198.51.100.1".parse().unwrap());
    assert_eq!(
        ranked(&r, &[], None, &[]),
        [(Cause::SecurityGroup, M), (Cause::HostFirewall, L)]
    );
    // A TCP SYN answered with port unreachable by the target: iptables' default REJECT.
    let mut r = tcp(PUBLIC, 7890, FILTERED, Reason::PortUnreach);
    r.icmp_from = r.endpoint.address;
    assert_eq!(ranked(&r, &[], None, &[])[0], (Cause::HostFirewall, M));
}

#[test]
fn evidence_text() {
    let mut r = tcp(PUBLIC, 7890, OPEN, Reason::SynAck);
    (r.attempts, r.received) = (200, 186);
    assert_eq!(
        evidence_of(&r),
        "7890/tcp syn-ack, 14 of 200 lost (7.0 %), rtt 31.0 ms"
    );
    let mut r = tcp(PUBLIC, 7894, FILTERED, Reason::AdminProhibited);
    r.icmp_from = Some("203.0.113.10".parse().unwrap());
    assert_eq!(
        evidence_of(&r),
        "7894/tcp admin-prohibited from 203.0.113.10, rtt 31.0 ms"
    );
}

#[test]
fn a_trace_that_stops_at_the_providers_edge_clears_the_client_side_only() {
    use crate::diagnose::path::{PathVerdict, Place};
    let r = tcp(PUBLIC, 7890, FILTERED, Reason::NoResponse);
    let last = Place {
        ttl: 3,
        address: "3.5.140.2".parse().unwrap(),
        provider: Some("aws"),
    };
    let edge = PathVerdict::DroppedAtEdge { last };
    let facts = Facts {
        path: Some(&edge),
        ..Facts::default()
    };
    let found = findings(&r, &facts);
    // The hop after the edge is the server, silent whether the group or its own firewall
    // drops: both medium.
    let ranks: Vec<_> = found.iter().map(|f| (f.cause, f.confidence)).collect();
    assert_eq!(
        ranks,
        [
            (Cause::SecurityGroup, M),
            (Cause::HostFirewall, M),
            (Cause::HostDownOrWrongIp, L)
        ]
    );
    assert!(
        found[0]
            .evidence
            .last()
            .is_some_and(|e| e.starts_with("trace: replies stop after hop 3 (3.5.140.2, aws)")),
        "{found:?}"
    );
    let before = PathVerdict::DroppedBeforeProvider {
        last: Place {
            ttl: 1,
            address: "198.51.100.1".parse().unwrap(),
            provider: None,
        },
        provider: "aws",
    };
    let facts = Facts {
        path: Some(&before),
        ..Facts::default()
    };
    let ranked: Vec<_> = findings(&r, &facts)
        .into_iter()
        .map(|f| (f.cause, f.confidence))
        .collect();
    assert_eq!(ranked[0], (Cause::NoRoute, H));
    assert!(
        ranked.contains(&(Cause::SecurityGroup, Confidence::Low)),
        "{ranked:?}"
    );
}

#[test]
fn open_beside_open_canaries_is_a_middlebox_answering_every_port() {
    let r = tcp(PUBLIC, 7890, OPEN, Reason::SynAck);
    let both = [
        seen(CANARY_PORTS[0], OPEN, Reason::SynAck),
        seen(CANARY_PORTS[1], OPEN, Reason::SynAck),
    ];
    assert_eq!(
        ranked(&r, &both, None, &[]),
        [(Cause::AnswersEveryPort, H), (Cause::Ok, L)]
    );
    let one = [
        seen(CANARY_PORTS[0], OPEN, Reason::SynAck),
        seen(CANARY_PORTS[1], CLOSED, Reason::ConnRefused),
    ];
    assert_eq!(
        ranked(&r, &one, None, &[]),
        [(Cause::AnswersEveryPort, M), (Cause::Ok, L)]
    );
    // Closed canaries: the open port is the server's.
    let none = [seen(CANARY_PORTS[0], CLOSED, Reason::ConnRefused)];
    assert_eq!(ranked(&r, &none, None, &[]), [(Cause::Ok, H)]);
}

#[test]
fn udp_silence_on_a_live_host_allows_a_server_that_never_answers() {
    let r = result(
        PUBLIC,
        8000,
        Protocol::Udp,
        State::OpenFiltered,
        Reason::NoResponse,
    );
    let ranks = ranked(&r, &[seen(22, OPEN, Reason::SynAck)], None, &[]);
    assert!(ranks.contains(&(Cause::ServerNotReplying, M)), "{ranks:?}");
    assert!(!ranks.iter().any(|(_, c)| *c == H), "{ranks:?}");
}

#[test]
fn a_cdn_address_on_a_port_it_does_not_proxy_stops_at_the_cdn() {
    // 104.16.0.0/13 is Cloudflare's (AS13335) in the embedded table.
    let r = tcp("104.16.1.1", 7890, FILTERED, Reason::NoResponse);
    assert_eq!(ranked(&r, &[], None, &[])[0], (Cause::ProxiedCdn, H));
    let https = tcp("104.16.1.1", 443, FILTERED, Reason::NoResponse);
    assert!(
        !ranked(&https, &[], None, &[])
            .iter()
            .any(|(c, _)| *c == Cause::ProxiedCdn)
    );
}
