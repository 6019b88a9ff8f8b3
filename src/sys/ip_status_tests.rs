//! Tests of the `IP_STATUS` table: every status `IcmpSendEcho2` may give, per ICMP version,
//! read through the same `icmp_reason` Linux's error queue goes through.

use super::*;
use crate::model::Reason;
use crate::probe::reason::{IcmpReport, icmp_reason};

/// The reason ipdiag gives a status, or what else it is.
fn reason(v6: bool, status: u32) -> Result<Reason, EchoStatus> {
    match echo_status(v6, status) {
        EchoStatus::Icmp { kind, code } => Ok(icmp_reason(&IcmpReport {
            v6,
            kind,
            code,
            from: None,
        })),
        other => Err(other),
    }
}

#[test]
fn each_status_named_in_the_sdk_maps_to_ipdiags_reason() {
    let rows: &[(u32, Reason)] = &[
        (11002, Reason::NetUnreach),   // IP_DEST_NET_UNREACHABLE
        (11003, Reason::HostUnreach),  // IP_DEST_HOST_UNREACHABLE
        (11004, Reason::ProtoUnreach), // IP_DEST_PROT_UNREACHABLE
        (11005, Reason::PortUnreach),  // IP_DEST_PORT_UNREACHABLE
        (11009, Reason::FragNeeded),   // IP_PACKET_TOO_BIG
        (11013, Reason::TimeExceeded), // IP_TTL_EXPIRED_TRANSIT
        (11014, Reason::TimeExceeded), // IP_TTL_EXPIRED_REASSEM
        (11015, Reason::HostUnreach),  // IP_PARAM_PROBLEM (no reason of its own)
        (11016, Reason::HostUnreach),  // IP_SOURCE_QUENCH (no reason of its own)
        (11040, Reason::HostUnreach),  // IP_DEST_UNREACHABLE
        (11041, Reason::TimeExceeded), // IP_TIME_EXCEEDED
    ];
    for (status, want) in rows {
        assert_eq!(reason(false, *status), Ok(*want), "IPv4, status {status}");
    }
    let rows6: &[(u32, Reason)] = &[
        (11002, Reason::NetUnreach),      // IP_DEST_NO_ROUTE
        (11003, Reason::HostUnreach),     // IP_DEST_ADDR_UNREACHABLE
        (11004, Reason::AdminProhibited), // IP_DEST_PROHIBITED
        (11005, Reason::PortUnreach),     // IP_DEST_PORT_UNREACHABLE
        (11009, Reason::FragNeeded),      // IP_PACKET_TOO_BIG
        (11013, Reason::TimeExceeded),    // IP_HOP_LIMIT_EXCEEDED
        (11014, Reason::TimeExceeded),    // IP_REASSEMBLY_TIME_EXCEEDED
        (11040, Reason::HostUnreach),     // IP_DEST_UNREACHABLE
        (11041, Reason::TimeExceeded),    // IP_TIME_EXCEEDED
        (11043, Reason::HostUnreach),     // IP_UNRECOGNIZED_NEXT_HEADER
        (11045, Reason::HostUnreach),     // IP_DEST_SCOPE_MISMATCH
    ];
    for (status, want) in rows6 {
        assert_eq!(reason(true, *status), Ok(*want), "IPv6, status {status}");
    }
    assert_eq!(
        (rows.len(), rows6.len()),
        (11, 11),
        "every ICMP row of each version is checked above"
    );
}

#[test]
fn the_icmp_types_are_each_versions_own() {
    let icmp = |kind, code| EchoStatus::Icmp { kind, code };
    assert_eq!(echo_status(false, 11013), icmp(11, 0), "time exceeded");
    assert_eq!(echo_status(true, 11013), icmp(3, 0), "hop limit exceeded");
    assert_eq!(echo_status(false, 11005), icmp(3, 3));
    assert_eq!(echo_status(true, 11005), icmp(1, 4));
    assert_eq!(
        echo_status(false, 11004),
        icmp(3, 2),
        "protocol unreachable"
    );
    assert_eq!(
        echo_status(true, 11004),
        icmp(1, 1),
        "administratively prohibited"
    );
    assert_eq!(
        echo_status(true, 11016),
        EchoStatus::Unknown(11016),
        "no ICMPv6 quench"
    );
    assert_eq!(
        echo_status(false, 11043),
        EchoStatus::Unknown(11043),
        "IPv6's alone"
    );
}

#[test]
fn success_timeout_and_local_failures() {
    for v6 in [false, true] {
        assert_eq!(echo_status(v6, 0), EchoStatus::Reply, "IP_SUCCESS");
        assert_eq!(
            echo_status(v6, 11010),
            EchoStatus::NoReply,
            "IP_REQ_TIMED_OUT"
        );
        assert_eq!(
            echo_status(v6, 11050),
            EchoStatus::Local(
                "a general failure (IP_GENERAL_FAILURE: no route, or the request was blocked \
                 on this host)"
            )
        );
        assert_eq!(
            echo_status(v6, 11001),
            EchoStatus::Local("the reply buffer was too small (IP_BUF_TOO_SMALL)")
        );
        // A Win32 error from GetLastError (wine's Icmp6SendEcho2 stub says 120,
        // ERROR_CALL_NOT_IMPLEMENTED): named by the caller with the system's message.
        assert_eq!(echo_status(v6, 120), EchoStatus::Unknown(120));
        assert_eq!(
            echo_status(v6, 11255),
            EchoStatus::Unknown(11255),
            "IP_PENDING"
        );
    }
}

#[test]
fn every_known_status_is_known_once_and_in_ipexports_range() {
    let all = known();
    assert_eq!(all.len(), 26, "{all:?}");
    let mut unique = all.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), all.len(), "a status is listed twice: {all:?}");
    for status in all {
        assert!(status == 0 || (11001..=11050).contains(&status), "{status}");
        let known_somewhere = [false, true]
            .iter()
            .any(|v6| !matches!(echo_status(*v6, status), EchoStatus::Unknown(_)));
        assert!(known_somewhere, "{status}");
    }
}

/// The numbers are the SDK's (checked where `windows-sys` is built).
#[cfg(windows)]
#[test]
fn the_numbers_are_the_sdks() {
    use windows_sys::Win32::NetworkManagement::IpHelper as ip;
    assert_eq!(echo_status(false, ip::IP_SUCCESS), EchoStatus::Reply);
    assert_eq!(
        echo_status(false, ip::IP_REQ_TIMED_OUT),
        EchoStatus::NoReply
    );
    // (ICMPv6, status, the ICMP type and code it stands for in that version)
    let icmp = [
        (false, ip::IP_DEST_HOST_UNREACHABLE, 3, 1),
        (false, ip::IP_DEST_NET_UNREACHABLE, 3, 0),
        (false, ip::IP_DEST_PORT_UNREACHABLE, 3, 3),
        (false, ip::IP_DEST_PROT_UNREACHABLE, 3, 2),
        (false, ip::IP_PACKET_TOO_BIG, 3, 4),
        (false, ip::IP_TTL_EXPIRED_TRANSIT, 11, 0),
        (false, ip::IP_TTL_EXPIRED_REASSEM, 11, 1),
        (false, ip::IP_PARAM_PROBLEM, 12, 0),
        (false, ip::IP_SOURCE_QUENCH, 4, 0),
        (true, ip::IP_DEST_NO_ROUTE, 1, 0),
        (true, ip::IP_DEST_ADDR_UNREACHABLE, 1, 3),
        (true, ip::IP_DEST_PROHIBITED, 1, 1),
        (true, ip::IP_HOP_LIMIT_EXCEEDED, 3, 0),
        (true, ip::IP_REASSEMBLY_TIME_EXCEEDED, 3, 1),
        (true, ip::IP_PARAMETER_PROBLEM, 4, 0),
        (true, ip::IP_DEST_UNREACHABLE, 1, 3),
        (true, ip::IP_TIME_EXCEEDED, 3, 0),
        (true, ip::IP_BAD_HEADER, 4, 0),
        (true, ip::IP_UNRECOGNIZED_NEXT_HEADER, 4, 1),
        (true, ip::IP_DEST_SCOPE_MISMATCH, 1, 2),
    ];
    for (v6, status, kind, code) in icmp {
        assert_eq!(
            echo_status(v6, status),
            EchoStatus::Icmp { kind, code },
            "v6 {v6}, {status}"
        );
    }
    for status in [
        ip::IP_BUF_TOO_SMALL,
        ip::IP_NO_RESOURCES,
        ip::IP_BAD_OPTION,
        ip::IP_HW_ERROR,
        ip::IP_BAD_REQ,
        ip::IP_BAD_ROUTE,
        ip::IP_OPTION_TOO_BIG,
        ip::IP_BAD_DESTINATION,
        ip::IP_ICMP_ERROR,
        ip::IP_GENERAL_FAILURE,
    ] {
        assert!(
            matches!(echo_status(false, status), EchoStatus::Local(_)),
            "{status}"
        );
    }
}
