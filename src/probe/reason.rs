//! From what came back to nmap's state and reason: a pure table, no sockets.
//!
//! The rules are nmap's (<https://nmap.org/book/scan-methods.html>): TCP SYN-ACK → open;
//! RST → closed; ICMP unreachable (type 3 codes 0-3, 9, 10, 13) → filtered; silence after
//! retries → filtered. UDP: any reply → open; ICMP port unreachable *from the target
//! itself* → closed, from anyone else (a firewall speaking for it) → filtered; other ICMP
//! unreachables → filtered; silence → open|filtered. ICMP details come from the socket
//! error queue (`errqueue.rs`), which is how connect mode sees what nmap's raw mode sees.

use crate::model::{LocalFault, Protocol, Reason, State};
use crate::sys::System;
use ipnet::IpNet;
use std::fmt;
use std::io;
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
    /// This host could not send the probe (or its own stack reported the failure): not an
    /// answer from the path, no RTT sample.
    Local(LocalFailure),
}

/// A failure on this host: its kind and the words that say what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFailure {
    /// The kind, for the diagnosis.
    pub fault: LocalFault,
    /// The message shown to the user (the errno named where there is one).
    pub message: String,
}

impl fmt::Display for LocalFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for LocalFailure {
    fn from(message: String) -> Self {
        Self {
            fault: LocalFault::Other,
            message,
        }
    }
}

impl From<&str> for LocalFailure {
    fn from(message: &str) -> Self {
        message.to_owned().into()
    }
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

/// What a socket error from `socket`, `connect`, `send` or `recv` means for a probe, once
/// the error queue has been read (an ICMP error queued there is the answer, not this).
/// Every error is a result or a bounded retry: none may be retried for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketError {
    /// Out of a local resource (descriptors, buffers, ports): try again shortly; the
    /// engine bounds how long.
    Busy,
    /// A RST to the SYN (TCP), or a port unreachable without its details (UDP).
    Refused,
    /// The kernel gave up on the handshake after its own SYN retries: silence.
    TimedOut,
    /// The connection was established, then reset. Linux's `tcp_reset()` gives
    /// `ECONNREFUSED` in `SYN_SENT`, `EPIPE` in `CLOSE_WAIT` and `ECONNRESET` otherwise, so
    /// either of the last two means the SYN-ACK came: the port is open.
    ResetAfterHandshake,
    /// This host could not send the probe: a result of its own.
    Local(LocalFault),
}

/// Maps a socket error to what it means (pure; by `io::ErrorKind`, so other systems'
/// codes map the same way).
pub fn socket_error(error: &io::Error) -> SocketError {
    use io::ErrorKind as K;
    if super::attempt::is_busy(error) {
        return SocketError::Busy;
    }
    match error.kind() {
        K::ConnectionRefused => SocketError::Refused,
        K::TimedOut => SocketError::TimedOut,
        K::ConnectionReset | K::BrokenPipe => SocketError::ResetAfterHandshake,
        K::NetworkUnreachable | K::HostUnreachable | K::NetworkDown => {
            SocketError::Local(LocalFault::NoRoute)
        }
        K::PermissionDenied => SocketError::Local(LocalFault::OwnFirewall),
        _ => SocketError::Local(LocalFault::Other),
    }
}

/// The words for a local failure of kind `fault` that `error` reported about a probe to
/// `target`, with the errno named (`no route from this machine to 203.0.113.53
/// (ENETUNREACH: Network is unreachable)`).
pub fn local_failure(fault: LocalFault, error: &io::Error, target: IpAddr) -> LocalFailure {
    let errno = errno_text(error);
    let message = match fault {
        LocalFault::NoRoute => format!("no route from this machine to {target} ({errno})"),
        LocalFault::OwnFirewall => format!(
            "this machine's own firewall refused to send to {target} ({errno}): {}",
            System::HERE.words().outbound_firewall
        ),
        LocalFault::NoNeighbour | LocalFault::Other => errno,
    };
    LocalFailure { fault, message }
}

/// `ENETUNREACH: Network is unreachable`: the errno's name and the system's words.
pub fn errno_text(error: &io::Error) -> String {
    let text = error.to_string();
    let Some(code) = error.raw_os_error() else {
        return text;
    };
    let words = text
        .strip_suffix(&format!(" (os error {code})"))
        .unwrap_or(&text);
    match errno_name(code) {
        Some(name) => format!("{name}: {words}"),
        None => format!("{words} (os error {code})"),
    }
}

/// The symbolic name of the errno values a probe meets.
#[cfg(unix)]
fn errno_name(code: i32) -> Option<&'static str> {
    use nix::libc;
    Some(match code {
        libc::ENETUNREACH => "ENETUNREACH",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::ENETDOWN => "ENETDOWN",
        libc::EPERM => "EPERM",
        libc::EACCES => "EACCES",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ECONNRESET => "ECONNRESET",
        libc::EPIPE => "EPIPE",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EMFILE => "EMFILE",
        libc::ENFILE => "ENFILE",
        libc::ENOBUFS => "ENOBUFS",
        libc::ENOMEM => "ENOMEM",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::EINVAL => "EINVAL",
        _ => return None,
    })
}

/// Elsewhere the system's own words name the error (Winsock codes are not errno values).
#[cfg(not(unix))]
fn errno_name(_code: i32) -> Option<&'static str> {
    None
}

/// An ICMP error that this host's own stack generated about our probe is no answer from
/// the path: its sender is our own source address (and not the target, which may be this
/// host). Linux sends itself host unreachable when nobody answers ARP / neighbour
/// discovery (`neigh_invalidate` → `icmp_send`), and a REJECT in the output chain sends
/// port unreachable or admin prohibited. `interfaces` (name, address/prefix) say which
/// network the failure is on. `None`: the error came from elsewhere, or means something
/// else (time exceeded, fragmentation needed stay answers).
pub fn own_stack_failure(
    report: &IcmpReport,
    target: IpAddr,
    source: IpAddr,
    interfaces: &[(String, IpNet)],
) -> Option<LocalFailure> {
    let from = report.from?;
    if !same_host(from, source) || same_host(from, target) {
        return None;
    }
    let fault = match (report.v6, report.kind, report.code) {
        (false, 3, 1) | (true, 1, 3) => LocalFault::NoNeighbour,
        (false, 3, 0 | 6 | 11) | (true, 1, 0) => LocalFault::NoRoute,
        (false, 3, 2 | 3 | 9 | 10 | 13) | (true, 1, 1 | 4 | 5 | 6) => LocalFault::OwnFirewall,
        _ => return None,
    };
    let reason = icmp_reason(report);
    let message = match fault {
        LocalFault::NoNeighbour => no_neighbour_text(report.v6, target, source, interfaces),
        LocalFault::NoRoute => {
            format!("no route from this machine to {target} ({reason} from this machine itself)")
        }
        _ => format!(
            "this machine's own firewall rejected the probe to {target} ({reason} from this machine itself): {}",
            System::HERE.words().outbound_firewall
        ),
    };
    Some(LocalFailure { fault, message })
}

/// `no ARP reply on the local network eth0: 172.16.0.10 is on this LAN's subnet
/// (172.16.0.0/24) — a private address of another network?`
fn no_neighbour_text(
    v6: bool,
    target: IpAddr,
    source: IpAddr,
    interfaces: &[(String, IpNet)],
) -> String {
    let what = if v6 {
        "no neighbour discovery reply"
    } else {
        "no ARP reply"
    };
    let Some((name, net)) = interfaces
        .iter()
        .find(|(_, net)| same_host(net.addr(), source))
    else {
        return format!("{what} on the local network for {target}: is it down?");
    };
    let subnet = net.trunc();
    if !subnet.contains(&target) {
        return format!(
            "{what} on the local network {name} from the gateway towards {target}: is the router down?"
        );
    }
    let private = matches!(
        crate::classify::classify(target).scope,
        crate::model::Scope::Private | crate::model::Scope::Shared | crate::model::Scope::LinkLocal
    );
    let question = if private {
        "a private address of another network?"
    } else {
        "is the host down or the address wrong?"
    };
    format!(
        "{what} on the local network {name}: {target} is on this LAN's subnet ({subnet}) — {question}"
    )
}

#[cfg(test)]
#[path = "reason_tests.rs"]
mod tests;
