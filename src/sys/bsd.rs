//! macOS and FreeBSD: no error queue. A connected UDP socket hears an ICMP port unreachable
//! as `ECONNREFUSED` (without its sender); a TCP connect hears a RST as `ECONNREFUSED`.
//! Port facts are `net.inet.ip.portrange.*` (`portrange.rs`); ping uses an ICMP datagram socket (icmp(4):
//! no root needed; IPv4 replies carry their IP header and the identifier is not rewritten,
//! so replies are read as from a raw socket). The path MTU and `sock_diag` are Linux's.

pub use super::plain::{
    PacketSocket, enable_error_queue, known_mtu, new_socket, sock_diag_dump, take_queued,
    want_path_mtu_discovery,
};
pub use super::unix::{hand_over, interfaces, is_superuser, raise_open_files, restore_open_files};

use super::System;
use crate::classify::port::PortFacts;
use crate::probe::icmp::Delivery;
use crate::probe::reason::IcmpReport;
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::net::IpAddr;

/// Nothing to ask: errors arrive as error codes.
pub fn report_errors(_socket: &Socket) {}

/// No per-socket ICMP details for TCP here.
pub fn tcp_icmp_error(_socket: &SockRef<'_>, _v6: bool) -> Option<IcmpReport> {
    None
}

/// The port ranges (`net.inet.ip.portrange.*`) and the privileged-port rule, read with
/// sysctl(8); the system's defaults for what it will not say (`portrange.rs`).
pub fn port_facts() -> PortFacts {
    let text = sysctl("net.inet.ip.portrange").unwrap_or_default();
    super::portrange::bsd_facts(System::HERE, &super::portrange::parse(&text))
}

/// sysctl(8)'s `name: value` lines under `name` (`/usr/sbin` on macOS, `/sbin` on FreeBSD;
/// a child process instead of `sysctlbyname`, so no `unsafe` here).
fn sysctl(name: &str) -> Option<String> {
    ["/usr/sbin/sysctl", "/sbin/sysctl"]
        .iter()
        .find_map(|tool| super::plain::tool_output(std::process::Command::new(tool).arg(name)))
}

/// An ICMP datagram socket (macOS: no root; it reads as a raw socket does), else a raw one
/// (root; FreeBSD has no ICMP datagram sockets). `keep` (the ICMP types the caller reads)
/// is not applied here: the readers skip other types themselves.
pub fn open_ping(address: IpAddr, _keep: &[u8]) -> Result<(Socket, Delivery), String> {
    let (domain, protocol) = if address.is_ipv6() {
        (Domain::IPV6, Protocol::ICMPV6)
    } else {
        (Domain::IPV4, Protocol::ICMPV4)
    };
    match Socket::new(domain, Type::DGRAM, Some(protocol)) {
        Ok(s) => Ok((s, Delivery::Unfiltered)),
        Err(datagram) => match Socket::new(domain, Type::RAW, Some(protocol)) {
            Ok(s) => Ok((s, Delivery::Raw)),
            Err(raw) => Err(super::words::no_icmp_socket(System::HERE, &datagram, &raw)),
        },
    }
}
