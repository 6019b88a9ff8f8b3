//! The shared vocabulary: small types every layer speaks (see DESIGN.md "Vocabulary").
//!
//! This module holds data only: no I/O, no formatting beyond the canonical words that
//! JSON, CSV and tables all print, so the words cannot drift between output formats.

use serde::Serialize;
use std::fmt;

/// What kind of address this is, in one word a user understands.
///
/// Derived from the most specific IANA registry block containing the address
/// (`data/ipv4-special.tsv`, `data/ipv6-special.tsv`); `Public` when no block applies
/// or the block is globally reachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Routable on the Internet.
    Public,
    /// RFC 1918 private-use (IPv4) or unique-local `fc00::/7` (IPv6).
    Private,
    /// RFC 6598 shared address space `100.64.0.0/10` (carrier-grade NAT).
    Shared,
    /// `127.0.0.0/8` or `::1`: this host only.
    Loopback,
    /// `169.254.0.0/16` or `fe80::/10`: this link only.
    LinkLocal,
    /// `224.0.0.0/4` or `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// RFC 5737 / RFC 3849 / RFC 9637 documentation ranges.
    Documentation,
    /// RFC 2544 / RFC 5180 benchmarking ranges.
    Benchmarking,
    /// Reserved, deprecated or protocol-specific; not an ordinary host address.
    Reserved,
    /// `0.0.0.0` or `::`: "no address" (as a bind address: all interfaces).
    Unspecified,
    /// `0.0.0.0/8`: "this network", valid only as a source.
    ThisNetwork,
}

impl Scope {
    /// The word used in every output format.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::Public => "public",
            Scope::Private => "private",
            Scope::Shared => "shared",
            Scope::Loopback => "loopback",
            Scope::LinkLocal => "link-local",
            Scope::Multicast => "multicast",
            Scope::Broadcast => "broadcast",
            Scope::Documentation => "documentation",
            Scope::Benchmarking => "benchmarking",
            Scope::Reserved => "reserved",
            Scope::Unspecified => "unspecified",
            Scope::ThisNetwork => "this-network",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A transport protocol as the IANA port registry knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
    /// DCCP.
    Dccp,
}

impl Transport {
    /// The lowercase name, as IANA and nmap write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Sctp => "sctp",
            Transport::Dccp => "dccp",
        }
    }

    /// Parses `tcp`, `udp`, `sctp` or `dccp` (any case).
    pub fn parse(text: &str) -> Option<Self> {
        [
            Transport::Tcp,
            Transport::Udp,
            Transport::Sctp,
            Transport::Dccp,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
