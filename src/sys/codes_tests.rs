//! Every row of the error-code tables, and what each becomes once judged: the Windows and
//! macOS mappings, tested on every system.

use super::*;
use crate::model::{Protocol as P, Reason, State};
use crate::probe::reason::{Observation, judge};
use test_case::test_case;

const TCP: P = P::Tcp;
const UDP: P = P::Udp;

#[test_case(System::Windows, TCP, 10035, Failure::InProgress; "windows would block")]
#[test_case(System::Windows, TCP, 10036, Failure::InProgress; "windows in progress")]
#[test_case(System::Windows, TCP, 10061, Failure::Refused; "windows refused")]
#[test_case(System::Windows, TCP, 10054, Failure::Reset; "windows tcp reset")]
#[test_case(System::Windows, UDP, 10054, Failure::PortUnreachable; "windows udp connreset")]
#[test_case(System::Windows, UDP, 10052, Failure::TtlExpired; "windows udp netreset")]
#[test_case(System::Windows, TCP, 10052, Failure::Other; "windows tcp netreset")]
#[test_case(System::Windows, TCP, 10060, Failure::TimedOut; "windows timed out")]
#[test_case(System::Windows, TCP, 10065, Failure::HostUnreachable; "windows host unreachable")]
#[test_case(System::Windows, UDP, 10051, Failure::NetUnreachable; "windows net unreachable")]
#[test_case(System::Windows, TCP, 10024, Failure::Busy; "windows emfile")]
#[test_case(System::Windows, TCP, 10055, Failure::Busy; "windows enobufs")]
#[test_case(System::Windows, TCP, 10049, Failure::Busy; "windows addrnotavail")]
#[test_case(System::Windows, UDP, 10040, Failure::MessageTooLong; "windows msgsize")]
#[test_case(System::Windows, TCP, 10047, Failure::FamilyUnsupported; "windows afnosupport")]
#[test_case(System::Windows, TCP, 10048, Failure::AddressInUse; "windows addrinuse")]
#[test_case(System::Windows, TCP, 10013, Failure::Denied; "windows access")]
#[test_case(System::Windows, TCP, 111, Failure::Other; "windows knows no linux numbers")]
#[test_case(System::MacOs, TCP, 36, Failure::InProgress; "macos in progress")]
#[test_case(System::MacOs, TCP, 61, Failure::Refused; "macos tcp refused")]
#[test_case(System::MacOs, UDP, 61, Failure::PortUnreachable; "macos udp refused")]
#[test_case(System::MacOs, TCP, 54, Failure::Reset; "macos reset")]
#[test_case(System::MacOs, TCP, 60, Failure::TimedOut; "macos timed out")]
#[test_case(System::MacOs, TCP, 65, Failure::HostUnreachable; "macos host unreachable")]
#[test_case(System::MacOs, UDP, 51, Failure::NetUnreachable; "macos net unreachable")]
#[test_case(System::MacOs, TCP, 24, Failure::Busy; "macos emfile")]
#[test_case(System::MacOs, TCP, 23, Failure::Busy; "macos enfile")]
#[test_case(System::MacOs, TCP, 55, Failure::Busy; "macos enobufs")]
#[test_case(System::MacOs, TCP, 12, Failure::Busy; "macos enomem")]
#[test_case(System::MacOs, TCP, 49, Failure::Busy; "macos addrnotavail")]
#[test_case(System::MacOs, UDP, 40, Failure::MessageTooLong; "macos msgsize")]
#[test_case(System::MacOs, TCP, 47, Failure::FamilyUnsupported; "macos afnosupport")]
#[test_case(System::MacOs, TCP, 48, Failure::AddressInUse; "macos addrinuse")]
#[test_case(System::MacOs, TCP, 13, Failure::Denied; "macos eacces")]
#[test_case(System::MacOs, TCP, 1, Failure::Denied; "macos eperm")]
#[test_case(System::MacOs, TCP, 111, Failure::Other; "macos knows no linux refused")]
#[test_case(System::FreeBsd, UDP, 61, Failure::PortUnreachable; "freebsd udp refused")]
#[test_case(System::FreeBsd, TCP, 36, Failure::InProgress; "freebsd in progress")]
#[test_case(System::Linux, TCP, 115, Failure::InProgress; "linux in progress")]
#[test_case(System::Linux, TCP, 111, Failure::Refused; "linux tcp refused")]
#[test_case(System::Linux, UDP, 111, Failure::PortUnreachable; "linux udp refused")]
#[test_case(System::Linux, TCP, 104, Failure::Reset; "linux reset")]
#[test_case(System::Linux, TCP, 110, Failure::TimedOut; "linux timed out")]
#[test_case(System::Linux, TCP, 113, Failure::HostUnreachable; "linux host unreachable")]
#[test_case(System::Linux, TCP, 101, Failure::NetUnreachable; "linux net unreachable")]
#[test_case(System::Linux, TCP, 24, Failure::Busy; "linux emfile")]
#[test_case(System::Linux, TCP, 23, Failure::Busy; "linux enfile")]
#[test_case(System::Linux, TCP, 105, Failure::Busy; "linux enobufs")]
#[test_case(System::Linux, TCP, 12, Failure::Busy; "linux enomem")]
#[test_case(System::Linux, TCP, 99, Failure::Busy; "linux addrnotavail")]
#[test_case(System::Linux, UDP, 90, Failure::MessageTooLong; "linux msgsize")]
#[test_case(System::Linux, TCP, 97, Failure::FamilyUnsupported; "linux afnosupport")]
#[test_case(System::Linux, TCP, 98, Failure::AddressInUse; "linux addrinuse")]
#[test_case(System::Linux, TCP, 13, Failure::Denied; "linux eacces")]
#[test_case(System::Linux, TCP, 1, Failure::Denied; "linux eperm")]
#[test_case(System::Linux, TCP, 0, Failure::Other; "linux nothing")]
fn code_means(system: System, protocol: P, code: i32, expected: Failure) {
    assert_eq!(failure(system, protocol, code), expected);
}

#[test]
fn every_row_is_found_back_by_its_meaning() {
    for system in [
        System::Linux,
        System::MacOs,
        System::FreeBsd,
        System::Windows,
    ] {
        let rows = table(system);
        let mut found = 0;
        for &(c, f) in rows {
            let back = code(system, f).expect("every meaning in a table has a code");
            assert_eq!(failure(system, P::Tcp, back), f, "{system:?} {c}");
            found += 1;
        }
        assert_eq!(found, rows.len());
        assert!(code(system, Failure::Refused).is_some(), "{system:?}");
        assert_eq!(code(system, Failure::Other), None);
    }
}

/// The observation a probe makes of a code-only error, judged: what a user sees.
fn judged(system: System, protocol: P, code: i32, v6: bool) -> (State, Reason) {
    let target: IpAddr = if v6 {
        "2001:db8::10".parse().unwrap()
    } else {
        "203.0.113.10".parse().unwrap()
    };
    let observation = match failure(system, protocol, code) {
        Failure::Refused => Observation::Refused,
        Failure::TimedOut => Observation::Silence,
        other => other.icmp(v6).map_or_else(
            || Observation::Local(format!("code {code}").into()),
            Observation::Icmp,
        ),
    };
    judge(protocol, target, &observation)
}

#[test_case(System::Windows, UDP, 10054, false, (State::Closed, Reason::PortUnreach); "windows udp closed v4")]
#[test_case(System::Windows, UDP, 10054, true, (State::Closed, Reason::PortUnreach); "windows udp closed v6")]
#[test_case(System::Windows, UDP, 10052, false, (State::Filtered, Reason::TimeExceeded); "windows udp ttl v4")]
#[test_case(System::Windows, UDP, 10052, true, (State::Filtered, Reason::TimeExceeded); "windows udp ttl v6")]
#[test_case(System::Windows, TCP, 10061, false, (State::Closed, Reason::ConnRefused); "windows tcp closed")]
#[test_case(System::Windows, TCP, 10060, false, (State::Filtered, Reason::NoResponse); "windows tcp timed out")]
#[test_case(System::Windows, TCP, 10065, false, (State::Error, Reason::LocalError); "windows unreachable without info")]
#[test_case(System::MacOs, UDP, 61, false, (State::Closed, Reason::PortUnreach); "macos udp closed")]
#[test_case(System::MacOs, UDP, 61, true, (State::Closed, Reason::PortUnreach); "macos udp closed v6")]
#[test_case(System::MacOs, TCP, 61, false, (State::Closed, Reason::ConnRefused); "macos tcp closed")]
#[test_case(System::MacOs, TCP, 60, false, (State::Filtered, Reason::NoResponse); "macos tcp timed out")]
#[test_case(System::MacOs, UDP, 65, false, (State::Error, Reason::LocalError); "macos host unreachable")]
fn judged_as(system: System, protocol: P, code: i32, v6: bool, expected: (State, Reason)) {
    assert_eq!(judged(system, protocol, code, v6), expected);
}

#[test_case(1, 3, 1, "198.51.100.1", Some((false, 3, 1)), (State::Filtered, Reason::HostUnreach); "v4 host unreachable from a router")]
#[test_case(1, 3, 13, "198.51.100.1", Some((false, 3, 13)), (State::Filtered, Reason::AdminProhibited); "v4 admin prohibited")]
#[test_case(1, 3, 3, "203.0.113.10", Some((false, 3, 3)), (State::Filtered, Reason::PortUnreach); "v4 port unreachable on tcp")]
#[test_case(1, 11, 0, "198.51.100.1", Some((false, 11, 0)), (State::Filtered, Reason::TimeExceeded); "v4 time exceeded")]
#[test_case(58, 1, 1, "2001:db8::1", Some((true, 1, 1)), (State::Filtered, Reason::AdminProhibited); "v6 admin prohibited")]
#[test_case(58, 1, 3, "2001:db8::1", Some((true, 1, 3)), (State::Filtered, Reason::HostUnreach); "v6 address unreachable")]
#[test_case(58, 3, 0, "2001:db8::1", Some((true, 3, 0)), (State::Filtered, Reason::TimeExceeded); "v6 time exceeded")]
fn icmp_error_info_is_the_queue_s_evidence(
    protocol: i32,
    kind: u8,
    code: u8,
    from: &str,
    expected: Option<(bool, u8, u8)>,
    judged: (State, Reason),
) {
    let from: IpAddr = from.parse().unwrap();
    let report = icmp_error_info(protocol, kind, code, Some(from)).unwrap();
    assert_eq!(Some((report.v6, report.kind, report.code)), expected);
    assert_eq!(report.from, Some(from));
    let target: IpAddr = if report.v6 {
        "2001:db8::10"
    } else {
        "203.0.113.10"
    }
    .parse()
    .unwrap();
    assert_eq!(judge(P::Tcp, target, &Observation::Icmp(report)), judged);
}

#[test]
fn icmp_error_info_without_an_icmp_version_or_sender() {
    assert_eq!(icmp_error_info(0, 3, 1, None), None);
    assert_eq!(icmp_error_info(6, 3, 1, None), None);
    let unspecified = icmp_error_info(1, 3, 1, Some("0.0.0.0".parse().unwrap())).unwrap();
    assert_eq!(unspecified.from, None);
    let mapped = icmp_error_info(58, 1, 4, Some("::ffff:198.51.100.1".parse().unwrap())).unwrap();
    assert_eq!(mapped.from, Some("198.51.100.1".parse().unwrap()));
}

#[test]
fn only_port_unreachable_and_ttl_expiry_are_icmp_by_code() {
    let all = [
        Failure::InProgress,
        Failure::Refused,
        Failure::Reset,
        Failure::TimedOut,
        Failure::HostUnreachable,
        Failure::NetUnreachable,
        Failure::Busy,
        Failure::MessageTooLong,
        Failure::FamilyUnsupported,
        Failure::AddressInUse,
        Failure::Denied,
        Failure::Other,
    ];
    for f in all {
        assert_eq!((f.icmp(false), f.icmp(true)), (None, None), "{f:?}");
    }
}
