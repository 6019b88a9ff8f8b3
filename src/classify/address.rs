//! The classification of one address: the data every output format renders.
//!
//! Plain data with `'static` references into the embedded tables, `Copy` and allocation-free,
//! so the bulk path can classify millions of addresses without touching the allocator.

use super::cloud::CloudMatch;
use super::ipv4::{Ipv4Class, classify_v4};
use super::ipv6::classify_v6;
use super::tables::RangeInfo;
use crate::model::Scope;
use std::net::{IpAddr, Ipv4Addr};

/// Everything ipdiag knows about one address without touching the network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AddrInfo {
    /// The address itself.
    pub address: IpAddr,
    /// The classful class (IPv4 only).
    pub class: Option<Ipv4Class>,
    /// The most specific IANA registry block containing it.
    pub range: Option<&'static RangeInfo>,
    /// One word for what kind of address it is.
    pub scope: Scope,
    /// Globally reachable: the registry's flag, or true for ordinary public space.
    pub global: bool,
    /// For multicast: `interface-local`, `link-local`, ..., `global`.
    pub multicast_scope: Option<&'static str>,
    /// The likely cloud provider of a public address.
    pub cloud: Option<CloudMatch>,
    /// IPv4 addresses carried inside an IPv6 address.
    pub embedded: Embedded,
}

/// An IPv4 address carried inside an IPv6 address, by the mechanism that carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embedded {
    /// Nothing embedded (or an IPv4 address).
    None,
    /// `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2): how dual-stack sockets show IPv4 peers.
    Mapped(Ipv4Addr),
    /// `::a.b.c.d` (RFC 4291 §2.5.5.1, deprecated).
    Compatible(Ipv4Addr),
    /// `64:ff9b::a.b.c.d` (RFC 6052): NAT64 well-known prefix.
    Nat64(Ipv4Addr),
    /// `2002:AABB:CCDD::/48` (RFC 3056).
    SixToFour(Ipv4Addr),
    /// `2001:0::/32` (RFC 4380): the Teredo server and the client's obfuscated public IPv4.
    Teredo {
        /// The Teredo server.
        server: Ipv4Addr,
        /// The client's public (NAT) address, de-obfuscated.
        client: Ipv4Addr,
    },
}

impl Embedded {
    /// Each embedded address with the name of its mechanism.
    pub fn addresses(&self) -> impl Iterator<Item = (&'static str, Ipv4Addr)> {
        let pair = match *self {
            Embedded::None => [None, None],
            Embedded::Mapped(a) => [Some(("ipv4-mapped", a)), None],
            Embedded::Compatible(a) => [Some(("ipv4-compatible", a)), None],
            Embedded::Nat64(a) => [Some(("nat64", a)), None],
            Embedded::SixToFour(a) => [Some(("6to4", a)), None],
            Embedded::Teredo { server, client } => [
                Some(("teredo-server", server)),
                Some(("teredo-client", client)),
            ],
        };
        pair.into_iter().flatten()
    }
}

/// Classifies any address.
pub fn classify(address: IpAddr) -> AddrInfo {
    match address {
        IpAddr::V4(a) => classify_v4(a),
        IpAddr::V6(a) => classify_v6(a),
    }
}

impl AddrInfo {
    /// The embedded IPv4 addresses, each classified.
    pub fn embedded_infos(&self) -> impl Iterator<Item = (&'static str, AddrInfo)> {
        self.embedded
            .addresses()
            .map(|(kind, a)| (kind, classify_v4(a)))
    }
}
