//! ICMP errors read with their quotes, for systems without an error queue (macOS: an ICMP
//! datagram socket, no root; FreeBSD: a raw one). Such a socket receives every ICMP message
//! of the host, IPv4 ones after their IP header; an error (IPv4 destination unreachable 3,
//! time exceeded 11; ICMPv6 destination unreachable 1, packet too big 2, time exceeded 3)
//! quotes the packet that caused it: its IP header and at least the first 8 bytes past it
//! (RFC 792, RFC 4443; RFC 1812 routers quote more). Those 8 bytes hold the transport's
//! ports, which say whether the error is about a probe of ours, and for UDP the quoted
//! payload says which probe. Pure: any bytes are safe to give.

use super::reason::IcmpReport;
use crate::model::Protocol;
use crate::sys::Quote;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// `IPPROTO_TCP`, `IPPROTO_UDP` in a quoted header's protocol / next-header field.
const TCP: u8 = 6;
const UDP: u8 = 17;

/// An ICMP error about a packet, with what it quotes of that packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotedError {
    /// The error: type, code and its sender.
    pub report: IcmpReport,
    /// The quoted packet's transport.
    pub protocol: Protocol,
    /// The quoted packet's source port (ours, if the packet was ours).
    pub source_port: u16,
    /// The quoted packet's destination address and port.
    pub destination: SocketAddr,
    /// The quoted UDP payload, as far as the sender quoted it (empty for TCP).
    pub payload: Quote,
}

impl QuotedError {
    /// Whether this error is about a packet of the flow `source_port` → `target` by
    /// `protocol` (the flow every probe of a trace shares).
    pub fn is_about(&self, protocol: Protocol, source_port: u16, target: SocketAddr) -> bool {
        self.protocol == protocol
            && self.source_port == source_port
            && self.destination.port() == target.port()
            && self.destination.ip().to_canonical() == target.ip().to_canonical()
    }
}

/// The ICMP types [`parse`] reads: IPv4 destination unreachable and time exceeded; ICMPv6
/// destination unreachable, packet too big and time exceeded.
pub const fn error_types(v6: bool) -> &'static [u8] {
    if v6 { &[1, 2, 3] } else { &[3, 11] }
}

/// The ICMP error in `data` as read from an ICMP socket: after an IPv4 header when
/// `ip_header` (IPv4 raw sockets and macOS' datagram sockets; never for ICMPv6), sent by
/// `from`. `None` for any other ICMP message, a quote of anything but TCP or UDP, or a read
/// too short to hold the quoted ports.
pub fn parse(v6: bool, ip_header: bool, data: &[u8], from: IpAddr) -> Option<QuotedError> {
    let icmp = if ip_header && !v6 {
        let first = *data.first()?;
        let length = usize::from(first & 0x0f) * 4;
        if first >> 4 != 4 || length < 20 {
            return None;
        }
        data.get(length..)?
    } else {
        data
    };
    let (&kind, rest) = icmp.split_first()?;
    let code = *rest.first()?;
    if !error_types(v6).contains(&kind) {
        return None;
    }
    let quoted = icmp.get(8..)?;
    let (protocol, destination, transport) = if v6 {
        quoted_v6(quoted)?
    } else {
        quoted_v4(quoted)?
    };
    let protocol = match protocol {
        TCP => Protocol::Tcp,
        UDP => Protocol::Udp,
        _ => return None,
    };
    let port = |at: usize| {
        Some(u16::from_be_bytes([
            *transport.get(at)?,
            *transport.get(at + 1)?,
        ]))
    };
    let payload = match protocol {
        Protocol::Udp => Quote::new(transport.get(8..).unwrap_or_default()),
        Protocol::Tcp => Quote::default(),
    };
    Some(QuotedError {
        report: IcmpReport {
            v6,
            kind,
            code,
            from: Some(from.to_canonical()),
        },
        protocol,
        source_port: port(0)?,
        destination: SocketAddr::new(destination, port(2)?),
        payload,
    })
}

/// A quoted IPv4 header: protocol, destination, and what follows the header.
fn quoted_v4(quoted: &[u8]) -> Option<(u8, IpAddr, &[u8])> {
    let first = *quoted.first()?;
    let length = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || length < 20 {
        return None;
    }
    let destination: [u8; 4] = quoted.get(16..20)?.try_into().ok()?;
    Some((
        *quoted.get(9)?,
        Ipv4Addr::from(destination).into(),
        quoted.get(length..)?,
    ))
}

/// A quoted IPv6 header (a probe's packets carry no extension headers): next header,
/// destination, and what follows the 40-byte header.
fn quoted_v6(quoted: &[u8]) -> Option<(u8, IpAddr, &[u8])> {
    if quoted.first()? >> 4 != 6 {
        return None;
    }
    let destination: [u8; 16] = quoted.get(24..40)?.try_into().ok()?;
    Some((
        *quoted.get(6)?,
        Ipv6Addr::from(destination).into(),
        quoted.get(40..)?,
    ))
}

#[cfg(test)]
#[path = "quoted_tests.rs"]
mod tests;
