use super::*;
use pnet_packet::tcp::TcpOptionNumbers;
use proptest::prelude::*;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A reply segment from `from` to `to` with these flags and acknowledgement number.
fn segment(from: SocketAddr, to: SocketAddr, flags: u8, ack: u32) -> Vec<u8> {
    let mut buf = vec![0u8; 20];
    let mut tcp = MutableTcpPacket::new(&mut buf).unwrap();
    tcp.set_source(from.port());
    tcp.set_destination(to.port());
    tcp.set_acknowledgement(ack);
    tcp.set_data_offset(5);
    tcp.set_flags(flags);
    buf
}

/// An IPv4 header (20 bytes) from `src` to `dst` carrying `protocol`.
fn ipv4_header(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, payload: usize) -> Vec<u8> {
    let mut h = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, protocol, 0, 0];
    let total = u16::try_from(20 + payload).unwrap().to_be_bytes();
    h[2..4].copy_from_slice(&total);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    h
}

#[test]
fn a_syn_has_our_ports_sequence_mss_and_a_valid_checksum() {
    let (src, dst) = (addr("198.51.100.2:40000"), addr("203.0.113.10:7890"));
    let bytes = syn(src, dst, 0xdead_beef).unwrap();
    let tcp = TcpPacket::new(&bytes).unwrap();
    assert_eq!((tcp.get_source(), tcp.get_destination()), (40000, 7890));
    assert_eq!(tcp.get_sequence(), 0xdead_beef);
    assert_eq!(tcp.get_flags(), TcpFlags::SYN);
    assert_eq!(tcp.get_data_offset(), 6);
    let options: Vec<_> = tcp.get_options_iter().map(|o| o.get_number()).collect();
    assert_eq!(options, [TcpOptionNumbers::MSS]);
    let (IpAddr::V4(s), IpAddr::V4(d)) = (src.ip(), dst.ip()) else {
        unreachable!()
    };
    assert_eq!(tcp.get_checksum(), ipv4_checksum(&tcp, &s, &d));
    assert_ne!(tcp.get_checksum(), 0);

    let v6 = syn(addr("[2001:db8::2]:40000"), addr("[2001:db8::10]:443"), 7).unwrap();
    let tcp = TcpPacket::new(&v6).unwrap();
    let (s, d): (Ipv6Addr, Ipv6Addr) = (
        "2001:db8::2".parse().unwrap(),
        "2001:db8::10".parse().unwrap(),
    );
    assert_eq!(tcp.get_checksum(), ipv6_checksum(&tcp, &s, &d));
    assert_eq!(
        syn(src, addr("[2001:db8::10]:443"), 7),
        None,
        "families differ"
    );
}

#[test]
fn syn_ack_and_rst_give_back_our_sequence_number() {
    let (target, us) = (addr("203.0.113.10:7890"), addr("198.51.100.2:40000"));
    let from = target.ip();
    let reply = tcp_reply(
        &segment(target, us, TcpFlags::SYN | TcpFlags::ACK, 1001),
        from,
    )
    .unwrap();
    assert_eq!(
        reply,
        Reply {
            target,
            our_port: 40000,
            seq: 1000,
            from,
            said: Said::SynAck
        }
    );
    let rst = tcp_reply(&segment(target, us, TcpFlags::RST | TcpFlags::ACK, 0), from).unwrap();
    assert_eq!((rst.said, rst.seq), (Said::Rst, u32::MAX), "ack 0 wraps");
    assert_eq!(
        tcp_reply(&segment(target, us, TcpFlags::SYN, 0), from),
        None,
        "our own SYN"
    );
    assert_eq!(
        tcp_reply(&segment(target, us, TcpFlags::RST, 0), from),
        None,
        "no ACK"
    );
    assert_eq!(
        tcp_reply(&segment(target, us, TcpFlags::ACK, 5), from),
        None,
        "plain ACK"
    );
    assert_eq!(tcp_reply(&[0u8; 19], from), None, "short");
}

#[test]
fn an_ipv4_packet_is_split_into_sender_protocol_and_payload() {
    let (src, dst) = (
        Ipv4Addr::new(203, 0, 113, 10),
        Ipv4Addr::new(198, 51, 100, 2),
    );
    let mut packet = ipv4_header(src, dst, 6, 3);
    packet.extend_from_slice(&[1, 2, 3]);
    assert_eq!(ipv4_payload(&packet), Some((src, 6, &[1u8, 2, 3][..])));
    packet[0] = 0x4f; // a 60-byte header in a 23-byte packet
    assert_eq!(ipv4_payload(&packet), None);
    packet[0] = 0x65;
    assert_eq!(ipv4_payload(&packet), None, "not version 4");
    assert_eq!(ipv4_payload(&[]), None);
}

#[test]
fn icmp_errors_quote_the_target_our_port_and_the_cookie() {
    let us = Ipv4Addr::new(198, 51, 100, 2);
    let target = Ipv4Addr::new(203, 0, 113, 10);
    let router = Ipv4Addr::new(192, 0, 2, 1);
    let sent = syn(
        SocketAddr::new(us.into(), 40000),
        SocketAddr::new(target.into(), 7890),
        77,
    )
    .unwrap();
    let mut icmp = vec![3, 13, 0, 0, 0, 0, 0, 0];
    icmp.extend(ipv4_header(us, target, 6, sent.len()));
    icmp.extend_from_slice(&sent[..8]);
    let reply = icmp4_reply(&icmp, router).unwrap();
    assert_eq!(reply.target, SocketAddr::new(target.into(), 7890));
    assert_eq!(
        (reply.our_port, reply.seq, reply.from),
        (40000, 77, IpAddr::from(router))
    );
    assert_eq!(
        reply.said,
        Said::Icmp {
            v6: false,
            kind: 3,
            code: 13
        }
    );
    for code in [0, 1, 2, 3, 9, 10, 13] {
        icmp[1] = code;
        assert!(icmp4_reply(&icmp, router).is_some(), "3/{code} decides");
    }
    for code in [4, 5, 6, 7, 8, 11, 12, 14, 15] {
        icmp[1] = code;
        assert_eq!(
            icmp4_reply(&icmp, router),
            None,
            "nmap ignores 3/{code} (fragmentation needed, source route failed, ...)"
        );
    }
    icmp[0] = 11;
    icmp[1] = 0;
    assert!(icmp4_reply(&icmp, router).is_some(), "time exceeded");
    icmp[0] = 0;
    assert_eq!(
        icmp4_reply(&icmp, router),
        None,
        "an echo reply is not about our SYN"
    );
    icmp[0] = 3;
    assert_eq!(
        icmp4_reply(&icmp[..8 + 20 + 7], router),
        None,
        "quote cut before the sequence"
    );
    icmp[8 + 9] = 17;
    assert_eq!(icmp4_reply(&icmp, router), None, "quotes UDP");

    let us6: Ipv6Addr = "2001:db8::2".parse().unwrap();
    let target6: Ipv6Addr = "2001:db8::10".parse().unwrap();
    let sent = syn(
        SocketAddr::new(us6.into(), 40000),
        SocketAddr::new(target6.into(), 443),
        99,
    )
    .unwrap();
    let mut icmp6 = vec![1, 1, 0, 0, 0, 0, 0, 0, 0x60, 0, 0, 0, 0, 24, 6, 64];
    icmp6.extend_from_slice(&us6.octets());
    icmp6.extend_from_slice(&target6.octets());
    icmp6.extend_from_slice(&sent);
    let reply = icmp6_reply(&icmp6, "2001:db8::1".parse().unwrap()).unwrap();
    assert_eq!(reply.target, SocketAddr::new(target6.into(), 443));
    assert_eq!((reply.our_port, reply.seq), (40000, 99));
    assert_eq!(
        reply.said,
        Said::Icmp {
            v6: true,
            kind: 1,
            code: 1
        }
    );
    icmp6[0] = 2;
    icmp6[1] = 0;
    assert_eq!(
        icmp6_reply(&icmp6, "2001:db8::1".parse().unwrap()),
        None,
        "packet too big says nothing about the port"
    );
}

proptest! {
    #[test]
    fn no_input_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        let _ = ipv4_payload(&bytes);
        let _ = tcp_reply(&bytes, IpAddr::from([127, 0, 0, 1]));
        let _ = icmp4_reply(&bytes, Ipv4Addr::LOCALHOST);
        let _ = icmp6_reply(&bytes, Ipv6Addr::LOCALHOST);
    }
}
