//! What Windows' `IP_STATUS` codes mean for ipdiag: the answer `IcmpSendEcho2` and
//! `Icmp6SendEcho2` give for one echo request (ping, and trace's ICMP mode with a TTL).
//! A pure table compiled and tested on every system, as `codes.rs` is, so the Windows
//! mapping is tested on Linux.
//!
//! Numbers and names are `ipexport.h`'s (Microsoft Learn, `ICMP_ECHO_REPLY`,
//! `ICMPV6_ECHO_REPLY`): several names share a number, one name per ICMP version
//! (`IP_DEST_HOST_UNREACHABLE` and `IP_DEST_ADDR_UNREACHABLE` are both 11003). An ICMP error
//! is given back as the type and code it stands for in that version, so `reason::icmp_reason`
//! and `trace::classify` read it as they read Linux's error queue; the sender is the reply's
//! address.

/// What one echo request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EchoStatus {
    /// The echo reply came (`IP_SUCCESS`).
    Reply,
    /// An ICMP error came back instead: its type and code in the request's ICMP version.
    Icmp {
        /// The ICMP type.
        kind: u8,
        /// The ICMP code.
        code: u8,
    },
    /// Nothing came back within the timeout (`IP_REQ_TIMED_OUT`).
    NoReply,
    /// The request failed without an answer ipdiag can read (mostly on this host: no
    /// resources, a bad route or request): what the status says, in words.
    Local(&'static str),
    /// A code this table does not know (a Win32 error from `GetLastError`, say): the
    /// caller names it with the system's own message.
    Unknown(u32),
}

/// `IP_SUCCESS`.
const IP_SUCCESS: u32 = 0;
/// `IP_REQ_TIMED_OUT`.
const IP_REQ_TIMED_OUT: u32 = 11010;

/// ICMP errors: `(status, names, ICMPv4 type and code, ICMPv6 type and code)`; `None` where
/// that version has no such message.
type IcmpRow = (u32, &'static str, Option<(u8, u8)>, Option<(u8, u8)>);
const ICMP: &[IcmpRow] = &[
    (
        11002,
        "IP_DEST_NET_UNREACHABLE / IP_DEST_NO_ROUTE",
        Some((3, 0)),
        Some((1, 0)),
    ),
    (
        11003,
        "IP_DEST_HOST_UNREACHABLE / IP_DEST_ADDR_UNREACHABLE",
        Some((3, 1)),
        Some((1, 3)),
    ),
    (
        11004,
        "IP_DEST_PROT_UNREACHABLE / IP_DEST_PROHIBITED",
        Some((3, 2)),
        Some((1, 1)),
    ),
    (
        11005,
        "IP_DEST_PORT_UNREACHABLE",
        Some((3, 3)),
        Some((1, 4)),
    ),
    (11009, "IP_PACKET_TOO_BIG", Some((3, 4)), Some((2, 0))),
    (
        11013,
        "IP_TTL_EXPIRED_TRANSIT / IP_HOP_LIMIT_EXCEEDED",
        Some((11, 0)),
        Some((3, 0)),
    ),
    (
        11014,
        "IP_TTL_EXPIRED_REASSEM / IP_REASSEMBLY_TIME_EXCEEDED",
        Some((11, 1)),
        Some((3, 1)),
    ),
    (
        11015,
        "IP_PARAM_PROBLEM / IP_PARAMETER_PROBLEM",
        Some((12, 0)),
        Some((4, 0)),
    ),
    (11016, "IP_SOURCE_QUENCH", Some((4, 0)), None),
    // The generic ICMPv6 codes: a destination unreachable of a code the system does not
    // name reads as host unreachable (as `icmp_reason` reads any unlisted code).
    (11040, "IP_DEST_UNREACHABLE", Some((3, 1)), Some((1, 3))),
    (11041, "IP_TIME_EXCEEDED", Some((11, 0)), Some((3, 0))),
    (11042, "IP_BAD_HEADER", Some((12, 0)), Some((4, 0))),
    (11043, "IP_UNRECOGNIZED_NEXT_HEADER", None, Some((4, 1))),
    (11045, "IP_DEST_SCOPE_MISMATCH", None, Some((1, 2))),
];

/// Failures on this host: `(status, what it means)`.
const LOCAL: &[(u32, &str)] = &[
    (11001, "the reply buffer was too small (IP_BUF_TOO_SMALL)"),
    (11006, "out of resources (IP_NO_RESOURCES)"),
    (11007, "a bad IP option (IP_BAD_OPTION)"),
    (11008, "a hardware error (IP_HW_ERROR)"),
    (11011, "a bad request (IP_BAD_REQ)"),
    (11012, "a bad route (IP_BAD_ROUTE)"),
    (11017, "the IP options are too big (IP_OPTION_TOO_BIG)"),
    (11018, "a bad destination (IP_BAD_DESTINATION)"),
    (
        11044,
        "an ICMP error the system did not name (IP_ICMP_ERROR)",
    ),
    (
        11050,
        "a general failure (IP_GENERAL_FAILURE: no route, or the request was blocked on this host)",
    ),
];

/// What status `status` means for an echo request in ICMPv6 (`v6`) or ICMPv4.
pub fn echo_status(v6: bool, status: u32) -> EchoStatus {
    match status {
        IP_SUCCESS => return EchoStatus::Reply,
        IP_REQ_TIMED_OUT => return EchoStatus::NoReply,
        _ => {}
    }
    if let Some((_, _, four, six)) = ICMP.iter().find(|row| row.0 == status)
        && let Some((kind, code)) = if v6 { *six } else { *four }
    {
        return EchoStatus::Icmp { kind, code };
    }
    LOCAL
        .iter()
        .find(|(s, _)| *s == status)
        .map_or(EchoStatus::Unknown(status), |(_, what)| {
            EchoStatus::Local(what)
        })
}

/// Every status this table knows, for tests.
#[cfg(test)]
pub(crate) fn known() -> Vec<u32> {
    let mut all = vec![IP_SUCCESS, IP_REQ_TIMED_OUT];
    all.extend(ICMP.iter().map(|row| row.0));
    all.extend(LOCAL.iter().map(|row| row.0));
    all
}

#[cfg(test)]
#[path = "ip_status_tests.rs"]
mod tests;
