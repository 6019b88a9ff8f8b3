//! Classful IPv4 (RFC 791, as tutorials still teach it) and the full IPv4 classification.
//!
//! Classes are history: routing has been classless since 1993 (RFC 1519). They are still
//! how people first learn addresses, so ipdiag shows the class beside the modern facts
//! (the special-purpose range and the scope), never instead of them.

use super::address::AddrInfo;
use super::{cloud, special};
use crate::model::Scope;
use ipnet::Ipv4Net;
use serde::Serialize;
use std::net::Ipv4Addr;

/// The five classes, by the leading bits of the first octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Ipv4Class {
    /// `0xxx`: 0-127, default mask /8.
    A,
    /// `10xx`: 128-191, default mask /16.
    B,
    /// `110x`: 192-223, default mask /24.
    C,
    /// `1110`: 224-239, multicast, no mask.
    D,
    /// `1111`: 240-255, reserved, no mask.
    E,
}

impl Ipv4Class {
    /// The class of an address, from its leading bits.
    #[inline]
    pub const fn of(addr: u32) -> Self {
        match addr >> 28 {
            0..=7 => Ipv4Class::A,
            8..=11 => Ipv4Class::B,
            12 | 13 => Ipv4Class::C,
            14 => Ipv4Class::D,
            _ => Ipv4Class::E,
        }
    }

    /// "A" ... "E".
    pub const fn letter(self) -> &'static str {
        match self {
            Ipv4Class::A => "A",
            Ipv4Class::B => "B",
            Ipv4Class::C => "C",
            Ipv4Class::D => "D",
            Ipv4Class::E => "E",
        }
    }

    /// The leading bits that define the class.
    pub const fn leading_bits(self) -> &'static str {
        match self {
            Ipv4Class::A => "0",
            Ipv4Class::B => "10",
            Ipv4Class::C => "110",
            Ipv4Class::D => "1110",
            Ipv4Class::E => "1111",
        }
    }

    /// The classful prefix length; none for D (multicast) and E (reserved).
    pub const fn default_prefix(self) -> Option<u8> {
        match self {
            Ipv4Class::A => Some(8),
            Ipv4Class::B => Some(16),
            Ipv4Class::C => Some(24),
            Ipv4Class::D | Ipv4Class::E => None,
        }
    }

    /// The classful mask in dotted form (`255.255.255.0`).
    pub fn default_mask(self) -> Option<Ipv4Addr> {
        self.default_prefix()
            .map(|len| Ipv4Addr::from(u32::MAX << (32 - len)))
    }

    /// The classful network an address falls in (`192.168.1.0/24` for `192.168.1.103`).
    pub fn network_of(self, addr: u32) -> Option<Ipv4Net> {
        let len = self.default_prefix()?;
        Ipv4Net::new(Ipv4Addr::from(addr & (u32::MAX << (32 - len))), len).ok()
    }
}

/// Classifies one IPv4 address: class, registry block, scope, global, provider.
#[inline]
pub fn classify_v4(addr: Ipv4Addr) -> AddrInfo {
    let bits = u32::from(addr);
    let range = special::lookup_v4(bits);
    let scope = range.map_or(Scope::Public, |r| r.scope);
    let global = range.is_none_or(|r| {
        r.flags
            .globally_reachable
            .unwrap_or(r.scope == Scope::Public)
    });
    let cloud = if scope == Scope::Public {
        cloud::lookup_v4(bits)
    } else {
        None
    };
    AddrInfo {
        address: addr.into(),
        class: Some(Ipv4Class::of(bits)),
        range,
        scope,
        global,
        multicast_scope: range.and_then(|r| r.multicast_scope),
        cloud,
        embedded: super::address::Embedded::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("0.0.0.0", Ipv4Class::A; "0 is A")]
    #[test_case("127.255.255.255", Ipv4Class::A; "127 is A")]
    #[test_case("128.0.0.0", Ipv4Class::B; "128 is B")]
    #[test_case("191.255.255.255", Ipv4Class::B; "191 is B")]
    #[test_case("192.0.0.0", Ipv4Class::C; "192 is C")]
    #[test_case("223.255.255.255", Ipv4Class::C; "223 is C")]
    #[test_case("224.0.0.0", Ipv4Class::D; "224 is D")]
    #[test_case("239.255.255.255", Ipv4Class::D; "239 is D")]
    #[test_case("240.0.0.0", Ipv4Class::E; "240 is E")]
    #[test_case("255.255.255.255", Ipv4Class::E; "255 is E")]
    fn class_boundaries(addr: &str, class: Ipv4Class) {
        assert_eq!(
            Ipv4Class::of(u32::from(addr.parse::<Ipv4Addr>().unwrap())),
            class
        );
    }

    #[test]
    fn classful_networks_and_masks() {
        let a = u32::from(Ipv4Addr::new(192, 168, 1, 103));
        assert_eq!(
            Ipv4Class::C.network_of(a).unwrap().to_string(),
            "192.168.1.0/24"
        );
        assert_eq!(
            Ipv4Class::C.default_mask(),
            Some(Ipv4Addr::new(255, 255, 255, 0))
        );
        assert_eq!(
            Ipv4Class::A.default_mask(),
            Some(Ipv4Addr::new(255, 0, 0, 0))
        );
        assert_eq!(
            Ipv4Class::B
                .network_of(u32::from(Ipv4Addr::new(172, 20, 3, 4)))
                .unwrap()
                .to_string(),
            "172.20.0.0/16"
        );
        assert_eq!(Ipv4Class::D.default_mask(), None);
        assert_eq!(Ipv4Class::E.network_of(u32::MAX), None);
    }

    #[test_case("192.168.1.103", Scope::Private, false; "tutorial private address")]
    #[test_case("127.0.0.1", Scope::Loopback, false; "loopback")]
    #[test_case("100.64.0.1", Scope::Shared, false; "cgnat")]
    #[test_case("169.254.169.254", Scope::LinkLocal, false; "cloud metadata")]
    #[test_case("0.0.0.0", Scope::Unspecified, false; "unspecified")]
    #[test_case("0.1.2.3", Scope::ThisNetwork, false; "this network")]
    #[test_case("203.0.113.10", Scope::Documentation, false; "documentation")]
    #[test_case("198.18.0.1", Scope::Benchmarking, false; "benchmarking")]
    #[test_case("224.0.0.1", Scope::Multicast, false; "multicast")]
    #[test_case("255.255.255.255", Scope::Broadcast, false; "broadcast")]
    #[test_case("240.0.0.1", Scope::Reserved, false; "class e")]
    #[test_case("192.0.0.9", Scope::Public, true; "pcp anycast is globally reachable")]
    #[test_case("192.88.99.1", Scope::Reserved, false; "deprecated 6to4 relay")]
    #[test_case("41.1.2.3", Scope::Public, true; "ordinary public")]
    fn scope_and_global(addr: &str, scope: Scope, global: bool) {
        let info = classify_v4(addr.parse().unwrap());
        assert_eq!((info.scope, info.global), (scope, global));
    }
}
