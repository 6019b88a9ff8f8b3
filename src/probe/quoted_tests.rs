//! ICMP errors built byte by byte as RFC 791/792, RFC 8200/4443 lay them out, read as
//! macOS' ICMP datagram socket returns them.

use super::*;

const ROUTER: [u8; 4] = [198, 51, 100, 1];
const ME: [u8; 4] = [192, 0, 2, 10];
const TARGET: [u8; 4] = [203, 0, 113, 10];

/// An IPv4 header (20 bytes) from `src` to `dst` carrying `protocol`.
fn ipv4(protocol: u8, src: [u8; 4], dst: [u8; 4], ttl: u8) -> Vec<u8> {
    let mut h = vec![0x45, 0, 0, 60, 0xbe, 0xef, 0x40, 0, ttl, protocol, 0, 0];
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h
}

/// The first bytes of a transport header: source and destination ports, then 4 more
/// (UDP length and checksum; TCP's sequence number).
fn ports(src: u16, dst: u16) -> Vec<u8> {
    let mut t = src.to_be_bytes().to_vec();
    t.extend_from_slice(&dst.to_be_bytes());
    t.extend_from_slice(&[0, 20, 0xab, 0xcd]);
    t
}

/// What the socket reads: the outer IPv4 header (ICMP, from the router), the ICMP error
/// header, then the quote of our probe.
fn v4_error(kind: u8, code: u8, protocol: u8, src_port: u16, rest: &[u8]) -> Vec<u8> {
    let mut packet = ipv4(1, ROUTER, ME, 250);
    packet.extend_from_slice(&[kind, code, 0x12, 0x34, 0, 0, 0, 0]);
    packet.extend_from_slice(&ipv4(protocol, ME, TARGET, 1));
    packet.extend_from_slice(&ports(src_port, 7890));
    packet.extend_from_slice(rest);
    packet
}

fn target() -> SocketAddr {
    SocketAddr::from((TARGET, 7890))
}

#[test]
fn a_time_exceeded_names_the_router_and_the_probe_it_quotes() {
    let from = IpAddr::from(ROUTER);
    let error = parse(
        false,
        true,
        &v4_error(11, 0, UDP, 40000, b"IPDG\x02nonce"),
        from,
    )
    .expect("a time exceeded quoting UDP");
    assert_eq!(
        error.report,
        IcmpReport {
            v6: false,
            kind: 11,
            code: 0,
            from: Some(from)
        }
    );
    assert_eq!(
        (error.protocol, error.source_port, error.destination),
        (Protocol::Udp, 40000, target())
    );
    assert!(error.payload.agrees_with(b"IPDG\x02nonce"));
    assert!(
        !error.payload.agrees_with(b"IPDG\x02other"),
        "another probe's nonce"
    );
    assert!(error.is_about(Protocol::Udp, 40000, target()));
    assert!(
        !error.is_about(Protocol::Udp, 40001, target()),
        "another flow"
    );
    assert!(!error.is_about(Protocol::Tcp, 40000, target()));
    assert!(!error.is_about(Protocol::Udp, 40000, SocketAddr::from((TARGET, 7891))));
}

#[test]
fn tcp_quotes_and_unreachables_from_the_target() {
    // RFC 792's minimum: the IP header and 8 bytes (ports and the SYN's sequence number).
    let from = IpAddr::from(TARGET);
    let error = parse(false, true, &v4_error(3, 13, TCP, 40000, &[]), from).unwrap();
    assert_eq!((error.report.kind, error.report.code), (3, 13));
    assert_eq!(error.protocol, Protocol::Tcp);
    assert!(error.is_about(Protocol::Tcp, 40000, target()));
    assert!(
        error.payload.agrees_with(b"anything"),
        "TCP quotes no payload"
    );
    // A UDP port unreachable quoting only 8 bytes agrees with every payload.
    let short = parse(false, true, &v4_error(3, 3, UDP, 40000, &[]), from).unwrap();
    assert!(short.payload.agrees_with(b"IPDG\x02nonce"));
}

#[test]
fn other_messages_and_short_reads_are_not_errors_about_a_probe() {
    let from = IpAddr::from(ROUTER);
    let whole = v4_error(11, 0, UDP, 40000, b"x");
    for cut in 0..52 {
        assert_eq!(
            parse(false, true, &whole[..cut], from),
            None,
            "cut at {cut}"
        );
    }
    assert!(
        parse(false, true, &whole[..52], from).is_some(),
        "the ports are in"
    );
    // An echo reply, a quote of ICMP (protocol 1), an IPv6 header where IPv4 belongs.
    let mut echo = ipv4(1, ROUTER, ME, 60);
    echo.extend_from_slice(&[0, 0, 0, 0, 0x12, 0x34, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8]);
    echo.resize(64, 0);
    assert_eq!(parse(false, true, &echo, from), None);
    assert_eq!(
        parse(false, true, &v4_error(11, 0, 1, 40000, &[]), from),
        None
    );
    let mut odd = v4_error(11, 0, UDP, 40000, &[]);
    odd[28] = 0x65;
    assert_eq!(parse(false, true, &odd, from), None);
    // Without its outer header (a socket that strips it), the same bytes read too.
    assert!(parse(false, false, &whole[20..], from).is_some());
}

#[test]
fn icmpv6_time_exceeded_quotes_an_ipv6_header() {
    let (me, target, router): (Ipv6Addr, Ipv6Addr, Ipv6Addr) = (
        "2001:db8::10".parse().unwrap(),
        "2001:db8:1::10".parse().unwrap(),
        "2001:db8::1".parse().unwrap(),
    );
    // ICMPv6 time exceeded (3/0), then the quoted IPv6 header: version 6, payload length,
    // next header UDP, hop limit 1, source, destination; then the UDP header and payload.
    let mut packet = vec![3, 0, 0xaa, 0xbb, 0, 0, 0, 0];
    packet.extend_from_slice(&[0x60, 0, 0, 0, 0, 16, UDP, 1]);
    packet.extend_from_slice(&me.octets());
    packet.extend_from_slice(&target.octets());
    packet.extend_from_slice(&ports(40000, 53));
    packet.extend_from_slice(b"IPDG");
    let error = parse(true, false, &packet, router.into()).unwrap();
    assert_eq!((error.report.v6, error.report.kind), (true, 3));
    assert_eq!(error.report.from, Some(router.into()));
    assert!(error.is_about(Protocol::Udp, 40000, SocketAddr::new(target.into(), 53)));
    assert!(error.payload.agrees_with(b"IPDG\x02"));
    // ICMPv6 echo reply (129) is not an error; ICMPv6 never comes after a header.
    let mut echo = packet.clone();
    echo[0] = 129;
    assert_eq!(parse(true, false, &echo, router.into()), None);
    assert_eq!(parse(true, true, &packet, router.into()), Some(error));
}
