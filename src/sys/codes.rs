//! What each system's socket error codes mean for a probe: pure tables, one per system,
//! compiled and tested everywhere (so Windows' and macOS' mappings are tested on Linux).
//!
//! Numbers are the systems' own: Linux `errno-base.h`/`errno.h`, the BSD `errno.h` that
//! macOS and FreeBSD share for these, and Winsock's `WSAE*` (Microsoft Learn, "Windows
//! Sockets Error Codes"). This file must not open sockets or judge states: the meaning it
//! gives goes to `probe::reason::judge` as an observation like any other.

use crate::model::Protocol;
use crate::probe::reason::IcmpReport;
use std::net::IpAddr;

/// An operating system, for the meaning of its error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    /// Linux (the error queue tells ICMP errors in full).
    Linux,
    /// macOS.
    MacOs,
    /// FreeBSD (the BSD error numbers macOS shares).
    FreeBsd,
    /// Windows (Winsock's `WSAE*` codes).
    Windows,
}

impl System {
    /// The system this program was built for.
    pub const HERE: System = if cfg!(target_os = "linux") {
        System::Linux
    } else if cfg!(target_os = "macos") {
        System::MacOs
    } else if cfg!(windows) {
        System::Windows
    } else {
        System::FreeBsd
    };

    /// The system's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            System::Linux => "Linux",
            System::MacOs => "macOS",
            System::FreeBsd => "FreeBSD",
            System::Windows => "Windows",
        }
    }
}

/// What a socket error means, whatever number the system gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A non-blocking connect has started (not a failure).
    InProgress,
    /// TCP: the target answered the SYN with a RST.
    Refused,
    /// TCP: the connection was reset.
    Reset,
    /// The system gave up waiting.
    TimedOut,
    /// An ICMP port unreachable, told only by the error code (Windows UDP: 10054; BSD and
    /// Linux UDP: `ECONNREFUSED` on a connected socket); the sender is not told.
    PortUnreachable,
    /// An ICMP time exceeded, told only by the error code (Windows UDP: 10052).
    TtlExpired,
    /// No route to the host, or an ICMP host unreachable (the code alone cannot tell which).
    HostUnreachable,
    /// No route to the network, or an ICMP network unreachable.
    NetUnreachable,
    /// This host is out of a resource for now (descriptors, buffers, memory, local ports).
    Busy,
    /// The datagram is larger than this host will send.
    MessageTooLong,
    /// The address family is not supported (no IPv6 on this host).
    FamilyUnsupported,
    /// The local address and port are taken.
    AddressInUse,
    /// Not permitted (a privileged port, a raw socket, a ping socket outside its group).
    Denied,
    /// Anything else: the system's own words say it.
    Other,
}

impl Failure {
    /// The ICMP error an error code stands for, when it stands for one, with its sender
    /// unknown (`judge` then takes it as from the target, the only sender a code can mean).
    pub fn icmp(self, v6: bool) -> Option<IcmpReport> {
        let (kind, code) = match (self, v6) {
            (Failure::PortUnreachable, false) => (3, 3),
            (Failure::PortUnreachable, true) => (1, 4),
            (Failure::TtlExpired, false) => (11, 0),
            (Failure::TtlExpired, true) => (3, 0),
            _ => return None,
        };
        Some(IcmpReport {
            v6,
            kind,
            code,
            from: None,
        })
    }
}

/// `(code, meaning)` rows shared by both protocols, per system.
const LINUX: &[(i32, Failure)] = &[
    (115, Failure::InProgress),       // EINPROGRESS
    (104, Failure::Reset),            // ECONNRESET
    (110, Failure::TimedOut),         // ETIMEDOUT
    (113, Failure::HostUnreachable),  // EHOSTUNREACH
    (101, Failure::NetUnreachable),   // ENETUNREACH
    (24, Failure::Busy),              // EMFILE
    (23, Failure::Busy),              // ENFILE
    (105, Failure::Busy),             // ENOBUFS
    (12, Failure::Busy),              // ENOMEM
    (99, Failure::Busy),              // EADDRNOTAVAIL
    (90, Failure::MessageTooLong),    // EMSGSIZE
    (97, Failure::FamilyUnsupported), // EAFNOSUPPORT
    (98, Failure::AddressInUse),      // EADDRINUSE
    (13, Failure::Denied),            // EACCES
    (1, Failure::Denied),             // EPERM
];
/// `ECONNREFUSED` on Linux.
const LINUX_REFUSED: i32 = 111;

/// macOS and FreeBSD (4.4BSD's numbers).
const BSD: &[(i32, Failure)] = &[
    (36, Failure::InProgress),        // EINPROGRESS
    (54, Failure::Reset),             // ECONNRESET
    (60, Failure::TimedOut),          // ETIMEDOUT
    (65, Failure::HostUnreachable),   // EHOSTUNREACH
    (51, Failure::NetUnreachable),    // ENETUNREACH
    (24, Failure::Busy),              // EMFILE
    (23, Failure::Busy),              // ENFILE
    (55, Failure::Busy),              // ENOBUFS
    (12, Failure::Busy),              // ENOMEM
    (49, Failure::Busy),              // EADDRNOTAVAIL
    (40, Failure::MessageTooLong),    // EMSGSIZE
    (47, Failure::FamilyUnsupported), // EAFNOSUPPORT
    (48, Failure::AddressInUse),      // EADDRINUSE
    (13, Failure::Denied),            // EACCES
    (1, Failure::Denied),             // EPERM
];
/// `ECONNREFUSED` on macOS and FreeBSD.
const BSD_REFUSED: i32 = 61;

/// Winsock. A non-blocking connect says `WSAEWOULDBLOCK`, not "in progress".
const WINDOWS: &[(i32, Failure)] = &[
    (10035, Failure::InProgress),        // WSAEWOULDBLOCK
    (10036, Failure::InProgress),        // WSAEINPROGRESS
    (10061, Failure::Refused),           // WSAECONNREFUSED
    (10060, Failure::TimedOut),          // WSAETIMEDOUT
    (10065, Failure::HostUnreachable),   // WSAEHOSTUNREACH
    (10051, Failure::NetUnreachable),    // WSAENETUNREACH
    (10024, Failure::Busy),              // WSAEMFILE
    (10055, Failure::Busy),              // WSAENOBUFS
    (10049, Failure::Busy),              // WSAEADDRNOTAVAIL
    (10040, Failure::MessageTooLong),    // WSAEMSGSIZE
    (10047, Failure::FamilyUnsupported), // WSAEAFNOSUPPORT
    (10048, Failure::AddressInUse),      // WSAEADDRINUSE
    (10013, Failure::Denied),            // WSAEACCES
];
/// `WSAECONNRESET`: TCP, a reset; UDP, the port unreachable a datagram met (`SIO_UDP_CONNRESET`).
const WSAECONNRESET: i32 = 10054;
/// `WSAENETRESET`: UDP, a time exceeded a datagram met (`SIO_UDP_NETRESET`).
const WSAENETRESET: i32 = 10052;

/// What `code` means on `system` for a socket of `protocol`.
pub fn failure(system: System, protocol: Protocol, code: i32) -> Failure {
    let udp = protocol == Protocol::Udp;
    match system {
        System::Windows => match code {
            WSAECONNRESET if udp => return Failure::PortUnreachable,
            WSAECONNRESET => return Failure::Reset,
            WSAENETRESET if udp => return Failure::TtlExpired,
            _ => {}
        },
        System::Linux | System::MacOs | System::FreeBsd => {
            let refused = if system == System::Linux {
                LINUX_REFUSED
            } else {
                BSD_REFUSED
            };
            if code == refused {
                // A connected UDP socket hears an ICMP port unreachable as a refusal.
                return if udp {
                    Failure::PortUnreachable
                } else {
                    Failure::Refused
                };
            }
        }
    }
    table(system)
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(Failure::Other, |(_, f)| *f)
}

/// The first code `system` gives `failure` (TCP's, where the protocols differ).
pub fn code(system: System, failure: Failure) -> Option<i32> {
    match (system, failure) {
        (System::Linux, Failure::Refused) => Some(LINUX_REFUSED),
        (System::MacOs | System::FreeBsd, Failure::Refused) => Some(BSD_REFUSED),
        (System::Windows, Failure::Reset) => Some(WSAECONNRESET),
        _ => table(system)
            .iter()
            .find(|(_, f)| *f == failure)
            .map(|(c, _)| *c),
    }
}

fn table(system: System) -> &'static [(i32, Failure)] {
    match system {
        System::Linux => LINUX,
        System::MacOs | System::FreeBsd => BSD,
        System::Windows => WINDOWS,
    }
}

/// `IPPROTO_ICMPV6`, as `ICMP_ERROR_INFO.protocol` names the ICMP version.
const IPPROTO_ICMPV6: i32 = 58;
/// `IPPROTO_ICMP`.
const IPPROTO_ICMP: i32 = 1;

/// Windows' `ICMP_ERROR_INFO` (from `TCP_ICMP_ERROR_INFO`, Windows 10 2004 and later) as
/// the report the error queue gives on Linux: the same evidence, sender included. `None`
/// when it names no ICMP version (no ICMP error was recorded).
pub fn icmp_error_info(
    protocol: i32,
    kind: u8,
    code: u8,
    from: Option<IpAddr>,
) -> Option<IcmpReport> {
    let v6 = match protocol {
        IPPROTO_ICMP => false,
        IPPROTO_ICMPV6 => true,
        _ => return None,
    };
    Some(IcmpReport {
        v6,
        kind,
        code,
        from: from
            .filter(|a| !a.is_unspecified())
            .map(|a| a.to_canonical()),
    })
}

#[cfg(test)]
#[path = "codes_tests.rs"]
mod tests;
