//! CIDR arithmetic for a network given as `address/len`, and its classful reading.
//!
//! ipnet does the bit work; this file decides what to show: usable hosts per RFC 3021 (a
//! /31 has two usable addresses and no broadcast; a /32 is one host) and how the block
//! relates to the old classful network ("a /26 subnet of the class C network ...").

use super::ipv4::Ipv4Class;
use ipnet::{Ipv4Net, Ipv6Net};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The facts of an IPv4 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet4 {
    /// The network (host bits cleared).
    pub network: Ipv4Net,
    /// The netmask (`255.255.255.0`).
    pub netmask: Ipv4Addr,
    /// The wildcard (inverse) mask, as ACLs write it (`0.0.0.255`).
    pub wildcard: Ipv4Addr,
    /// The directed broadcast; none for /31 and /32 (RFC 3021).
    pub broadcast: Option<Ipv4Addr>,
    /// The first usable host.
    pub first_host: Ipv4Addr,
    /// The last usable host.
    pub last_host: Ipv4Addr,
    /// Usable host addresses.
    pub hosts: u64,
    /// All addresses in the block.
    pub addresses: u64,
    /// How the block relates to the classful network.
    pub classful: ClassfulView,
}

/// How a CIDR block relates to the classful network of its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassfulView {
    /// Longer than the class's mask: a subnet of one classful network.
    Subnet {
        /// The class.
        class: Ipv4Class,
        /// The classful network it is carved from.
        network: Ipv4Net,
    },
    /// Exactly the classful network.
    Exact {
        /// The class.
        class: Ipv4Class,
    },
    /// Shorter than the class's mask: a supernet of `count` classful networks.
    Supernet {
        /// The class.
        class: Ipv4Class,
        /// How many classful networks it aggregates.
        count: u64,
    },
    /// Its first and last addresses are in different classes.
    SpansClasses,
    /// Class D or E, which have no classful mask.
    Classless {
        /// D or E.
        class: Ipv4Class,
    },
}

impl fmt::Display for ClassfulView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ClassfulView::Subnet { class, network } => {
                write!(
                    f,
                    "a subnet of the class {} network {network}",
                    class.letter()
                )
            }
            ClassfulView::Exact { class } => {
                write!(f, "exactly one class {} network", class.letter())
            }
            ClassfulView::Supernet { class, count } => {
                write!(f, "a supernet of {count} class {} networks", class.letter())
            }
            ClassfulView::SpansClasses => f.write_str("spans several address classes"),
            ClassfulView::Classless {
                class: Ipv4Class::D,
            } => f.write_str("class D (multicast) has no classful mask"),
            ClassfulView::Classless { .. } => {
                f.write_str("class E (reserved) has no classful mask")
            }
        }
    }
}

/// Computes the facts of an IPv4 network.
///
/// ```
/// use ipdiag::classify::subnet::subnet_v4;
///
/// let s = subnet_v4("192.168.1.103/26".parse().unwrap());
/// assert_eq!(s.network.to_string(), "192.168.1.64/26");
/// assert_eq!(s.netmask.to_string(), "255.255.255.192");
/// assert_eq!(s.wildcard.to_string(), "0.0.0.63");
/// assert_eq!(s.broadcast.map(|b| b.to_string()).as_deref(), Some("192.168.1.127"));
/// assert_eq!((s.first_host.to_string(), s.hosts), ("192.168.1.65".to_owned(), 62));
/// // A point-to-point /31 has two hosts and no broadcast (RFC 3021).
/// let p2p = subnet_v4("10.0.0.0/31".parse().unwrap());
/// assert_eq!((p2p.hosts, p2p.broadcast), (2, None));
/// ```
pub fn subnet_v4(net: Ipv4Net) -> Subnet4 {
    let network = net.trunc();
    let len = net.prefix_len();
    let (first, last) = (u32::from(net.network()), u32::from(net.broadcast()));
    let addresses = 1u64 << (32 - u32::from(len));
    let (broadcast, first_host, last_host, hosts) = match len {
        32 => (None, first, last, 1),
        31 => (None, first, last, 2),
        _ => (Some(net.broadcast()), first + 1, last - 1, addresses - 2),
    };
    Subnet4 {
        network,
        netmask: net.netmask(),
        wildcard: net.hostmask(),
        broadcast,
        first_host: first_host.into(),
        last_host: last_host.into(),
        hosts,
        addresses,
        classful: classful_view(first, last, len),
    }
}

fn classful_view(first: u32, last: u32, len: u8) -> ClassfulView {
    let class = Ipv4Class::of(first);
    if Ipv4Class::of(last) != class {
        return ClassfulView::SpansClasses;
    }
    let Some(default) = class.default_prefix() else {
        return ClassfulView::Classless { class };
    };
    match len.cmp(&default) {
        std::cmp::Ordering::Greater => match class.network_of(first) {
            Some(network) => ClassfulView::Subnet { class, network },
            None => ClassfulView::Classless { class },
        },
        std::cmp::Ordering::Equal => ClassfulView::Exact { class },
        std::cmp::Ordering::Less => ClassfulView::Supernet {
            class,
            count: 1 << (default - len),
        },
    }
}

/// The facts of an IPv6 network. IPv6 has no broadcast; every address is usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet6 {
    /// The network (host bits cleared).
    pub network: Ipv6Net,
    /// The first address.
    pub first: Ipv6Addr,
    /// The last address.
    pub last: Ipv6Addr,
    /// log2 of the number of addresses (128 - prefix length).
    pub size_log2: u8,
}

impl Subnet6 {
    /// The number of addresses in decimal (2^128 does not fit a u128, hence text).
    pub fn addresses(&self) -> String {
        match 1u128.checked_shl(u32::from(self.size_log2)) {
            Some(n) if self.size_log2 < 128 => n.to_string(),
            _ => "340282366920938463463374607431768211456".to_owned(),
        }
    }
}

/// Computes the facts of an IPv6 network.
pub fn subnet_v6(net: Ipv6Net) -> Subnet6 {
    Subnet6 {
        network: net.trunc(),
        first: net.network(),
        last: net.broadcast(),
        size_log2: 128 - net.prefix_len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(text: &str) -> Subnet4 {
        subnet_v4(text.parse().unwrap())
    }

    #[test]
    fn tutorial_network() {
        let s = v4("192.168.1.103/24");
        assert_eq!(s.network.to_string(), "192.168.1.0/24");
        assert_eq!(s.netmask.to_string(), "255.255.255.0");
        assert_eq!(s.wildcard.to_string(), "0.0.0.255");
        assert_eq!(
            s.broadcast.map(|b| b.to_string()).as_deref(),
            Some("192.168.1.255")
        );
        assert_eq!(
            (s.first_host.to_string(), s.last_host.to_string()),
            ("192.168.1.1".into(), "192.168.1.254".into())
        );
        assert_eq!((s.hosts, s.addresses), (254, 256));
        assert_eq!(
            s.classful,
            ClassfulView::Exact {
                class: Ipv4Class::C
            }
        );
    }

    #[test]
    fn point_to_point_and_host_routes() {
        let p2p = v4("10.0.0.1/31");
        assert_eq!((p2p.hosts, p2p.broadcast), (2, None));
        assert_eq!(
            (p2p.first_host.to_string(), p2p.last_host.to_string()),
            ("10.0.0.0".into(), "10.0.0.1".into())
        );
        let host = v4("10.0.0.7/32");
        assert_eq!(
            (host.hosts, host.broadcast, host.first_host.to_string()),
            (1, None, "10.0.0.7".into())
        );
        let everything = v4("0.0.0.0/0");
        assert_eq!(
            (everything.addresses, everything.hosts),
            (1 << 32, (1 << 32) - 2)
        );
        assert_eq!(everything.classful, ClassfulView::SpansClasses);
    }

    #[test]
    fn classful_views() {
        assert_eq!(
            v4("192.168.1.64/26").classful.to_string(),
            "a subnet of the class C network 192.168.1.0/24"
        );
        assert_eq!(
            v4("10.0.0.0/8").classful.to_string(),
            "exactly one class A network"
        );
        assert_eq!(
            v4("192.168.0.0/22").classful.to_string(),
            "a supernet of 4 class C networks"
        );
        assert_eq!(
            v4("224.0.0.0/24").classful.to_string(),
            "class D (multicast) has no classful mask"
        );
        assert_eq!(
            v4("240.0.0.0/4").classful.to_string(),
            "class E (reserved) has no classful mask"
        );
        assert_eq!(
            v4("0.0.0.0/1").classful.to_string(),
            "a supernet of 128 class A networks"
        );
    }

    #[test]
    fn ipv6_sizes() {
        let s = subnet_v6("2001:db8::1/64".parse().unwrap());
        assert_eq!(s.network.to_string(), "2001:db8::/64");
        assert_eq!(s.last.to_string(), "2001:db8::ffff:ffff:ffff:ffff");
        assert_eq!(s.addresses(), "18446744073709551616");
        assert_eq!(
            subnet_v6("::/0".parse().unwrap()).addresses(),
            "340282366920938463463374607431768211456"
        );
        assert_eq!(subnet_v6("::1/128".parse().unwrap()).addresses(), "1");
    }
}
