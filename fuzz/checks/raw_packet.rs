//! The SYN scan's packet parsers (`ipdiag::raw::packet::{ipv4_payload, tcp_reply,
//! icmp4_reply, icmp6_reply}`) on arbitrary bytes, both as a whole IPv4 packet (what a raw
//! IPv4 socket delivers) and as a bare segment or ICMPv6 message: never a panic, and what
//! they read is what the bytes say. A SYN built from the input is never taken for a reply.
//! Run: `cargo +nightly fuzz run raw_packet -- -max_total_time=60`.

use ipdiag::raw::packet::{Said, icmp4_reply, icmp6_reply, ipv4_payload, syn, tcp_reply};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

const TCP: u8 = 6;
const ICMP: u8 = 1;

fn check_tcp(segment: &[u8], from: IpAddr) {
    let Some(reply) = tcp_reply(segment, from) else {
        return;
    };
    assert!(segment.len() >= 20, "a reply from a short segment");
    let flags = segment[13];
    assert_ne!(flags & 0x10, 0, "no ACK");
    let expected = if flags & 0x04 != 0 {
        Said::Rst
    } else {
        Said::SynAck
    };
    assert_eq!(reply.said, expected);
    assert_eq!(reply.from, from);
    assert_eq!(reply.target.ip(), from);
    assert_eq!(
        reply.target.port(),
        u16::from_be_bytes([segment[0], segment[1]])
    );
    assert_eq!(reply.our_port, u16::from_be_bytes([segment[2], segment[3]]));
    let ack = u32::from_be_bytes([segment[8], segment[9], segment[10], segment[11]]);
    assert_eq!(reply.seq, ack.wrapping_sub(1));
}

fn check_icmp(icmp: &[u8], reply: Option<ipdiag::raw::packet::Reply>, v6: bool, from: IpAddr) {
    let Some(reply) = reply else {
        return;
    };
    assert!(
        icmp.len() >= 8 + if v6 { 48 } else { 28 },
        "a reply from a short quote"
    );
    assert_eq!(
        reply.said,
        Said::Icmp {
            v6,
            kind: icmp[0],
            code: icmp[1]
        }
    );
    assert_eq!(reply.from, from);
}

/// The target's assertions on one input.
pub fn run(data: &[u8]) {
    if let Some((from, protocol, payload)) = ipv4_payload(data) {
        assert_eq!(data[0] >> 4, 4);
        let header = usize::from(data[0] & 0x0f) * 4;
        assert!(header >= 20 && payload.len() + header == data.len());
        assert_eq!(protocol, data[9]);
        assert_eq!(from.octets(), [data[12], data[13], data[14], data[15]]);
        match protocol {
            TCP => check_tcp(payload, from.into()),
            ICMP => check_icmp(payload, icmp4_reply(payload, from), false, from.into()),
            _ => {}
        }
    }
    let v4 = Ipv4Addr::new(192, 0, 2, 1);
    let v6 = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    check_tcp(data, v6.into());
    check_icmp(data, icmp4_reply(data, v4), false, v4.into());
    check_icmp(data, icmp6_reply(data, v6), true, v6.into());

    // A SYN we would send, from the first bytes: never read back as a reply.
    if let Some(head) = data.get(..8) {
        let port = |i: usize| u16::from_be_bytes([head[i], head[i + 1]]);
        let seq = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
        let src = SocketAddr::new(v4.into(), port(0));
        let dst = SocketAddr::new(Ipv4Addr::new(198, 51, 100, 7).into(), port(2));
        let packet = syn(src, dst, seq).expect("same family");
        assert_eq!(
            tcp_reply(&packet, dst.ip()),
            None,
            "our SYN read as a reply"
        );
        assert_eq!(syn(src, SocketAddr::new(v6.into(), port(2)), seq), None);
    }
}
