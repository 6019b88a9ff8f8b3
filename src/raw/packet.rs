//! The packets of a SYN scan (pure): the SYN we craft, and the replies we read back — a
//! SYN-ACK or RST from the target, or an ICMP error that quotes our SYN.
//!
//! Parsing never trusts the network: every length is checked, nothing here can panic on
//! any input (a proptest feeds random bytes).

use pnet_packet::tcp::{
    MutableTcpPacket, TcpFlags, TcpOption, TcpPacket, ipv4_checksum, ipv6_checksum,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// A SYN: a 20-byte header and the MSS option (as nmap sends).
pub const SYN_LEN: usize = 24;
/// The MSS we announce: Ethernet's, as most stacks do.
const MSS: u16 = 1460;
/// The window we announce (nmap's): a SYN scan never sends data.
const WINDOW: u16 = 1024;
/// IANA protocol numbers.
const TCP: u8 = 6;
/// ICMP types: destination unreachable and time exceeded (IPv4, then IPv6).
const ICMP4_UNREACH: u8 = 3;
const ICMP4_TIME_EXCEEDED: u8 = 11;
const ICMP6_UNREACH: u8 = 1;
const ICMP6_TIME_EXCEEDED: u8 = 3;

/// Builds a SYN from `src` to `dst` with sequence number `seq`, checksum included.
/// `None` when the two addresses are of different families.
///
/// The sequence number is the scan's cookie: the target's SYN-ACK or RST acknowledges it
/// plus one, and [`tcp_reply`] hands it back for matching, with no table of probes sent.
///
/// ```
/// use ipdiag::raw::packet::{Said, syn, tcp_reply};
///
/// let (us, them) = ("192.0.2.1:40000".parse().unwrap(), "203.0.113.10:22".parse().unwrap());
/// let packet = syn(us, them, 0x1234_5678).unwrap();
/// assert_eq!(packet[13], 0x02, "SYN and nothing else");
///
/// // The target's SYN-ACK: ports swapped, SYN|ACK, acknowledging our sequence + 1.
/// let mut reply = packet;
/// reply[..4].copy_from_slice(&[0, 22, 0x9c, 0x40]);
/// reply[8..12].copy_from_slice(&0x1234_5679u32.to_be_bytes());
/// reply[13] = 0x12;
/// let r = tcp_reply(&reply, them.ip()).unwrap();
/// assert_eq!((r.said, r.seq, r.our_port, r.target), (Said::SynAck, 0x1234_5678, 40000, them));
/// ```
pub fn syn(src: SocketAddr, dst: SocketAddr, seq: u32) -> Option<[u8; SYN_LEN]> {
    let mut buf = [0u8; SYN_LEN];
    let mut tcp = MutableTcpPacket::new(&mut buf)?;
    tcp.set_source(src.port());
    tcp.set_destination(dst.port());
    tcp.set_sequence(seq);
    tcp.set_acknowledgement(0);
    tcp.set_data_offset(6);
    tcp.set_flags(TcpFlags::SYN);
    tcp.set_window(WINDOW);
    tcp.set_options(&[TcpOption::mss(MSS)]);
    let checksum = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => ipv4_checksum(&tcp.to_immutable(), &s, &d),
        (IpAddr::V6(s), IpAddr::V6(d)) => ipv6_checksum(&tcp.to_immutable(), &s, &d),
        _ => return None,
    };
    tcp.set_checksum(checksum);
    Some(buf)
}

/// What a reply says about our SYN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Said {
    /// SYN-ACK: the port is open.
    SynAck,
    /// RST: closed.
    Rst,
    /// An ICMP error quoting our SYN: its type and code.
    Icmp {
        /// ICMPv6 rather than ICMP.
        v6: bool,
        /// The ICMP type.
        kind: u8,
        /// The ICMP code.
        code: u8,
    },
}

/// A reply matched to the SYN it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The port our SYN went to.
    pub target: SocketAddr,
    /// The port our SYN came from.
    pub our_port: u16,
    /// Our SYN's sequence number, as the reply carries it back (the cookie to check).
    pub seq: u32,
    /// Who sent the reply (the target, or a router for ICMP).
    pub from: IpAddr,
    /// What it said.
    pub said: Said,
}

/// The payload of an IPv4 packet (raw IPv4 sockets deliver the IP header), with the
/// sender and the protocol. `None` for anything that is not a whole IPv4 header.
pub fn ipv4_payload(packet: &[u8]) -> Option<(Ipv4Addr, u8, &[u8])> {
    let first = *packet.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let header = usize::from(first & 0x0f) * 4;
    if header < 20 || packet.len() < header {
        return None;
    }
    let from = Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]);
    Some((from, packet[9], &packet[header..]))
}

/// A TCP segment from `from`: a SYN-ACK or RST answering a SYN (ACK set, so it carries our
/// sequence number + 1). Anything else is `None`.
pub fn tcp_reply(segment: &[u8], from: IpAddr) -> Option<Reply> {
    let tcp = TcpPacket::new(segment)?;
    let flags = tcp.get_flags();
    if flags & TcpFlags::ACK == 0 {
        return None;
    }
    let said = if flags & TcpFlags::RST != 0 {
        Said::Rst
    } else if flags & TcpFlags::SYN != 0 {
        Said::SynAck
    } else {
        return None;
    };
    Some(Reply {
        target: SocketAddr::new(from, tcp.get_source()),
        our_port: tcp.get_destination(),
        seq: tcp.get_acknowledgement().wrapping_sub(1),
        from,
        said,
    })
}

/// The ICMP types [`decides_syn`] may accept, for the kernel's filter on the raw ICMP
/// socket (everything else is dropped before it is queued).
pub const fn syn_icmp_types(v6: bool) -> &'static [u8] {
    if v6 {
        &[ICMP6_UNREACH, ICMP6_TIME_EXCEEDED]
    } else {
        &[ICMP4_UNREACH, ICMP4_TIME_EXCEEDED]
    }
}

/// Whether an ICMP error decides a SYN probe, by nmap's raw rules: destination unreachable
/// codes 0, 1, 2, 3, 9, 10 and 13 (net, host, protocol, port, the three "administratively
/// prohibited") and time exceeded for IPv4; destination unreachable (codes 0-6) and time
/// exceeded for IPv6. nmap ignores any other code (fragmentation needed, source route
/// failed, unknown network, ...) and keeps waiting, and so does a SYN scan here: such a
/// message says nothing about the port.
pub const fn decides_syn(v6: bool, kind: u8, code: u8) -> bool {
    if v6 {
        matches!(
            (kind, code),
            (ICMP6_UNREACH, 0..=6) | (ICMP6_TIME_EXCEEDED, _)
        )
    } else {
        matches!(
            (kind, code),
            (ICMP4_UNREACH, 0 | 1 | 2 | 3 | 9 | 10 | 13) | (ICMP4_TIME_EXCEEDED, _)
        )
    }
}

/// An ICMP message from `from` (the bytes after the IPv4 header): destination unreachable
/// or time exceeded quoting a TCP segment, with a code that [`decides_syn`]. The quote holds
/// the original IPv4 header and at least the first 8 bytes of TCP: ports and sequence
/// number.
pub fn icmp4_reply(icmp: &[u8], from: Ipv4Addr) -> Option<Reply> {
    let (&kind, &code) = (icmp.first()?, icmp.get(1)?);
    if !decides_syn(false, kind, code) {
        return None;
    }
    let quoted = icmp.get(8..)?;
    let first = *quoted.first()?;
    let header = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || header < 20 || quoted.get(9) != Some(&TCP) {
        return None;
    }
    let dst = Ipv4Addr::new(
        *quoted.get(16)?,
        *quoted.get(17)?,
        *quoted.get(18)?,
        *quoted.get(19)?,
    );
    quoted_tcp(
        quoted.get(header..)?,
        dst.into(),
        from.into(),
        Said::Icmp {
            v6: false,
            kind,
            code,
        },
    )
}

/// An ICMPv6 message from `from`: destination unreachable or time exceeded quoting a TCP
/// segment directly after the IPv6 header (our SYNs carry no extension headers), with a
/// code that [`decides_syn`].
pub fn icmp6_reply(icmp: &[u8], from: Ipv6Addr) -> Option<Reply> {
    let (&kind, &code) = (icmp.first()?, icmp.get(1)?);
    if !decides_syn(true, kind, code) {
        return None;
    }
    let quoted = icmp.get(8..)?;
    if quoted.first()? >> 4 != 6 || quoted.get(6) != Some(&TCP) {
        return None;
    }
    let dst: [u8; 16] = quoted.get(24..40)?.try_into().ok()?;
    quoted_tcp(
        quoted.get(40..)?,
        Ipv6Addr::from(dst).into(),
        from.into(),
        Said::Icmp {
            v6: true,
            kind,
            code,
        },
    )
}

/// The ports and sequence number at the start of a quoted TCP segment.
fn quoted_tcp(tcp: &[u8], dst: IpAddr, from: IpAddr, said: Said) -> Option<Reply> {
    let word = |at: usize| Some(u16::from_be_bytes([*tcp.get(at)?, *tcp.get(at + 1)?]));
    let seq: [u8; 4] = tcp.get(4..8)?.try_into().ok()?;
    Some(Reply {
        target: SocketAddr::new(dst, word(2)?),
        our_port: word(0)?,
        seq: u32::from_be_bytes(seq),
        from,
        said,
    })
}

#[cfg(test)]
#[path = "packet_tests.rs"]
mod tests;
