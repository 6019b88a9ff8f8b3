//! macOS and FreeBSD: no error queue. A connected UDP socket hears an ICMP port unreachable
//! as `ECONNREFUSED` (without its sender); a TCP connect hears a RST as `ECONNREFUSED`.
//! Port facts are `net.inet.ip.portrange.*`; ping uses an ICMP datagram socket (icmp(4):
//! no root needed; IPv4 replies carry their IP header and the identifier is not rewritten,
//! so replies are read as from a raw socket). The path MTU and `sock_diag` are Linux's.

pub use super::plain::{
    enable_error_queue, known_mtu, new_socket, sock_diag_dump, take_queued, want_path_mtu_discovery,
};
pub use super::unix::{hand_over, interfaces, is_superuser, raise_open_files, restore_open_files};

use crate::classify::port::{FactSource, PortFacts};
use crate::probe::reason::IcmpReport;
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::net::IpAddr;

/// Nothing to ask: errors arrive as error codes.
pub fn report_errors(_socket: &Socket) {}

/// No per-socket ICMP details for TCP here.
pub fn tcp_icmp_error(_socket: &SockRef<'_>, _v6: bool) -> Option<IcmpReport> {
    None
}

/// The ephemeral range (`net.inet.ip.portrange.first`/`last`) and the privileged ports
/// (below `net.inet.ip.portrange.reservedhigh` + 1), read with sysctl(8); the defaults
/// per value when it will not say.
pub fn port_facts() -> PortFacts {
    let mut facts = PortFacts::default();
    let first = sysctl("net.inet.ip.portrange.first");
    let last = sysctl("net.inet.ip.portrange.last");
    if let (Some(first), Some(last)) = (first, last)
        && let (Ok(first), Ok(last)) = (u16::try_from(first), u16::try_from(last))
        && first <= last
    {
        facts.ephemeral = (first, last);
        facts.ephemeral_source = FactSource::Kernel;
    }
    if let Some(high) = sysctl("net.inet.ip.portrange.reservedhigh") {
        facts.unprivileged_start = u16::try_from(high.saturating_add(1)).unwrap_or(u16::MAX);
        facts.unprivileged_source = FactSource::Kernel;
    }
    facts
}

/// One numeric sysctl value, by name (sysctl(8) is `/usr/sbin` on macOS, `/sbin` on
/// FreeBSD; a child process instead of `sysctlbyname`, so no `unsafe` here).
fn sysctl(name: &str) -> Option<u64> {
    ["/usr/sbin/sysctl", "/sbin/sysctl"]
        .iter()
        .find_map(|tool| {
            let output = std::process::Command::new(tool)
                .args(["-n", name])
                .stderr(std::process::Stdio::null())
                .output()
                .ok()?;
            if !output.status.success() {
                return None;
            }
            String::from_utf8(output.stdout).ok()?.trim().parse().ok()
        })
}

/// An ICMP datagram socket (no root); a raw one when that is refused. Both read as raw.
pub fn open_ping(address: IpAddr) -> Result<(Socket, bool), String> {
    let (domain, protocol) = if address.is_ipv6() {
        (Domain::IPV6, Protocol::ICMPV6)
    } else {
        (Domain::IPV4, Protocol::ICMPV4)
    };
    Socket::new(domain, Type::DGRAM, Some(protocol))
        .or_else(|_| Socket::new(domain, Type::RAW, Some(protocol)))
        .map(|s| (s, true))
        .map_err(|e| format!("cannot open an ICMP socket: {e}"))
}
