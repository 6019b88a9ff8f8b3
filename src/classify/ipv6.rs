//! IPv6 classification: registry block, scope, multicast scope and embedded IPv4.
//!
//! Sources: the IANA IPv6 Special-Purpose Address Registry (RFC 6890), RFC 4291 (address
//! architecture), RFC 7346 (multicast scopes), RFC 3056 (6to4), RFC 4380 (Teredo),
//! RFC 6052 (NAT64).

use super::address::{AddrInfo, Embedded};
use super::ipv4::classify_v4;
use super::{cloud, special};
use crate::model::Scope;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Classifies one IPv6 address.
pub fn classify_v6(addr: Ipv6Addr) -> AddrInfo {
    let bits = u128::from(addr);
    let range = special::lookup_v6(bits);
    let embedded = embedded_ipv4(addr);
    // Outside every block means outside 2000::/3 too: space the IETF keeps in reserve.
    let mut scope = range.map_or(Scope::Reserved, |r| r.scope);
    let mut global = range.is_some_and(|r| {
        r.flags
            .globally_reachable
            .unwrap_or(r.scope == Scope::Public)
    });
    if let Embedded::Mapped(v4) = embedded {
        // A socket treats ::ffff:a.b.c.d exactly as the IPv4 address (RFC 4291 §2.5.5.2),
        // so what matters to the user is the IPv4 address's scope.
        let inner = classify_v4(v4);
        scope = inner.scope;
        global = inner.global;
    }
    let cloud = if scope == Scope::Public && !matches!(embedded, Embedded::Mapped(_)) {
        cloud::lookup_v6(bits)
    } else {
        None
    };
    AddrInfo {
        address: addr.into(),
        class: None,
        range,
        scope,
        global,
        multicast_scope: addr.is_multicast().then(|| multicast_scope(addr)),
        cloud,
        embedded,
    }
}

/// The scope field of a multicast address (RFC 4291 §2.7, RFC 7346).
pub fn multicast_scope(addr: Ipv6Addr) -> &'static str {
    match addr.segments()[0] & 0x000f {
        0x1 => "interface-local",
        0x2 => "link-local",
        0x3 => "realm-local",
        0x4 => "admin-local",
        0x5 => "site-local",
        0x8 => "organization-local",
        0xe => "global",
        0x0 | 0xf => "reserved",
        _ => "unassigned",
    }
}

fn v4_from(high: u16, low: u16) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(high) << 16) | u32::from(low))
}

/// The IPv4 address an IPv6 address carries, if it is of a form that carries one.
pub fn embedded_ipv4(addr: Ipv6Addr) -> Embedded {
    let s = addr.segments();
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => Embedded::Mapped(v4_from(hi, lo)),
        // :: and ::1 are not IPv4-compatible addresses; everything else in ::/96 is.
        [0, 0, 0, 0, 0, 0, hi, lo] if (hi, lo) != (0, 0) && (hi, lo) != (0, 1) => {
            Embedded::Compatible(v4_from(hi, lo))
        }
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Embedded::Nat64(v4_from(hi, lo)),
        [0x2002, hi, lo, ..] => Embedded::SixToFour(v4_from(hi, lo)),
        [0x2001, 0, shi, slo, _, _, chi, clo] => Embedded::Teredo {
            server: v4_from(shi, slo),
            client: v4_from(!chi, !clo),
        },
        _ => Embedded::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn info(text: &str) -> AddrInfo {
        classify_v6(text.parse().unwrap())
    }

    #[test_case("::1", Scope::Loopback, false; "loopback")]
    #[test_case("::", Scope::Unspecified, false; "unspecified")]
    #[test_case("fe80::1", Scope::LinkLocal, false; "link local")]
    #[test_case("fd12:3456::1", Scope::Private, false; "unique local")]
    #[test_case("2001:db8::1", Scope::Documentation, false; "documentation")]
    #[test_case("3fff::1", Scope::Documentation, false; "documentation 2024")]
    #[test_case("2001:2::1", Scope::Benchmarking, false; "benchmarking")]
    #[test_case("ff02::1", Scope::Multicast, false; "multicast")]
    #[test_case("2400:cb00::1", Scope::Public, true; "global unicast")]
    #[test_case("4000::1", Scope::Reserved, false; "outside 2000::/3")]
    #[test_case("fec0::1", Scope::Reserved, false; "deprecated site local")]
    #[test_case("::ffff:192.168.1.103", Scope::Private, false; "mapped private")]
    #[test_case("::ffff:41.1.2.3", Scope::Public, true; "mapped public")]
    #[test_case("64:ff9b::808:808", Scope::Public, true; "nat64")]
    fn scope_and_global(addr: &str, scope: Scope, global: bool) {
        let i = info(addr);
        assert_eq!((i.scope, i.global), (scope, global));
    }

    #[test]
    fn multicast_scopes() {
        assert_eq!(info("ff01::1").multicast_scope, Some("interface-local"));
        assert_eq!(info("ff02::1").multicast_scope, Some("link-local"));
        assert_eq!(info("ff05::2").multicast_scope, Some("site-local"));
        assert_eq!(info("ff0e::101").multicast_scope, Some("global"));
        assert_eq!(info("2001:db8::1").multicast_scope, None);
    }

    #[test]
    fn embedded_addresses() {
        assert_eq!(
            embedded_ipv4("::ffff:127.0.0.1".parse().unwrap()),
            Embedded::Mapped(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            embedded_ipv4("2002:c000:0204::1".parse().unwrap()),
            Embedded::SixToFour(Ipv4Addr::new(192, 0, 2, 4))
        );
        // RFC 4380 §4 example: server 65.54.227.120, client 192.0.2.45 (obfuscated 3fff:fdd2).
        let teredo = "2001:0:4136:e378:8000:63bf:3fff:fdd2".parse().unwrap();
        assert_eq!(
            embedded_ipv4(teredo),
            Embedded::Teredo {
                server: Ipv4Addr::new(65, 54, 227, 120),
                client: Ipv4Addr::new(192, 0, 2, 45)
            }
        );
        assert_eq!(embedded_ipv4("::1".parse().unwrap()), Embedded::None);
        assert_eq!(embedded_ipv4("::".parse().unwrap()), Embedded::None);
        assert_eq!(
            embedded_ipv4("::10.0.0.1".parse().unwrap()),
            Embedded::Compatible(Ipv4Addr::new(10, 0, 0, 1))
        );
    }
}
