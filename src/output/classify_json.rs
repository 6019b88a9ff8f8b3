//! The JSON schema of `ipdiag classify` (documented in README.md "JSON fields").
//!
//! DTOs built from the domain types, so internal refactors cannot change the schema.
//! Field names are `snake_case` and stable; absent facts are `null`, never missing.

use crate::classify::ipv4::Ipv4Class;
use crate::classify::tables::{Registry, RegistryFlags};
use crate::classify::{AddrInfo, Classified, Subnet};
use serde::Serialize;
use std::borrow::Cow;

/// One classified address.
#[derive(Debug, Serialize)]
pub struct ClassifyRecord<'a> {
    /// The token as given.
    pub input: Cow<'a, str>,
    /// The address in canonical form.
    pub address: String,
    /// 4 or 6.
    pub version: u8,
    /// "A".."E" (IPv4 only).
    pub class: Option<&'static str>,
    /// The classful mask, dotted (`255.255.255.0`).
    pub default_mask: Option<String>,
    /// The classful prefix length (8, 16, 24).
    pub default_prefix: Option<u8>,
    /// The classful network (`192.168.1.0/24`).
    pub classful_network: Option<String>,
    /// The most specific IANA registry block.
    pub range: Option<RangeRecord>,
    /// One-word scope.
    pub scope: &'static str,
    /// Globally reachable.
    pub global: bool,
    /// Multicast scope, for multicast addresses.
    pub multicast_scope: Option<&'static str>,
    /// Likely cloud provider id (`aws`, `alibaba`, ...).
    pub provider: Option<&'static str>,
    /// Its display name.
    pub provider_name: Option<&'static str>,
    /// The announcing autonomous system.
    pub asn: Option<u32>,
    /// IPv4 addresses embedded in an IPv6 address.
    pub embedded_ipv4: Vec<EmbeddedRecord>,
    /// Subnet facts, for a CIDR input.
    pub network: Option<NetworkRecord>,
}

/// A registry block.
#[derive(Debug, Serialize)]
pub struct RangeRecord {
    /// CIDR of the block.
    pub prefix: &'static str,
    /// Registry name.
    pub name: &'static str,
    /// Defining RFC(s).
    pub rfc: &'static str,
    /// Source registry.
    pub registry: Registry,
    /// The registry's flags (`null` = N/A).
    pub flags: RegistryFlags,
}

/// An embedded IPv4 address, classified.
#[derive(Debug, Serialize)]
pub struct EmbeddedRecord {
    /// `ipv4-mapped`, `6to4`, `teredo-client`, ...
    pub kind: &'static str,
    /// The IPv4 address.
    pub address: String,
    /// Its class.
    pub class: Option<&'static str>,
    /// Its registry block name.
    pub range: Option<&'static str>,
    /// Its scope.
    pub scope: &'static str,
    /// Globally reachable.
    pub global: bool,
    /// Likely provider.
    pub provider: Option<&'static str>,
    /// Announcing ASN.
    pub asn: Option<u32>,
}

/// A count that is a number for IPv4 and a decimal string for IPv6 (2^128 overflows JSON numbers).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Count {
    /// Exact number.
    Number(u64),
    /// Decimal digits.
    Text(String),
}

/// Subnet facts.
#[derive(Debug, Serialize)]
pub struct NetworkRecord {
    /// Network in CIDR form.
    pub network: String,
    /// Prefix length.
    pub prefix_len: u8,
    /// Netmask.
    pub netmask: String,
    /// Wildcard mask (IPv4).
    pub wildcard: Option<String>,
    /// Broadcast (IPv4, not /31 or /32).
    pub broadcast: Option<String>,
    /// First usable host.
    pub first_host: String,
    /// Last usable host.
    pub last_host: String,
    /// Usable hosts.
    pub hosts: Count,
    /// All addresses.
    pub addresses: Count,
    /// Relation to the classful network (IPv4).
    pub classful: Option<String>,
}

impl<'a> From<&Classified<'a>> for ClassifyRecord<'a> {
    fn from(c: &Classified<'a>) -> Self {
        let info = &c.info;
        let class = info.class;
        let v4_bits = match info.address {
            std::net::IpAddr::V4(a) => Some(u32::from(a)),
            std::net::IpAddr::V6(_) => None,
        };
        Self {
            input: c.input_text(),
            address: info.address.to_string(),
            version: if info.address.is_ipv4() { 4 } else { 6 },
            class: class.map(Ipv4Class::letter),
            default_mask: class
                .and_then(Ipv4Class::default_mask)
                .map(|m| m.to_string()),
            default_prefix: class.and_then(Ipv4Class::default_prefix),
            classful_network: class
                .zip(v4_bits)
                .and_then(|(k, bits)| k.network_of(bits))
                .map(|n| n.to_string()),
            range: info.range.map(|r| RangeRecord {
                prefix: r.prefix,
                name: r.name,
                rfc: r.rfc,
                registry: r.registry,
                flags: r.flags,
            }),
            scope: info.scope.as_str(),
            global: info.global,
            multicast_scope: info.multicast_scope,
            provider: info.cloud.map(|m| m.provider.id),
            provider_name: info.cloud.map(|m| m.provider.name),
            asn: info.cloud.map(|m| m.asn),
            embedded_ipv4: info
                .embedded_infos()
                .map(|(kind, e)| embedded(kind, &e))
                .collect(),
            network: c.subnet.map(network),
        }
    }
}

fn embedded(kind: &'static str, e: &AddrInfo) -> EmbeddedRecord {
    EmbeddedRecord {
        kind,
        address: e.address.to_string(),
        class: e.class.map(Ipv4Class::letter),
        range: e.range.map(|r| r.name),
        scope: e.scope.as_str(),
        global: e.global,
        provider: e.cloud.map(|m| m.provider.id),
        asn: e.cloud.map(|m| m.asn),
    }
}

fn network(subnet: Subnet) -> NetworkRecord {
    match subnet {
        Subnet::V4(s) => NetworkRecord {
            network: s.network.to_string(),
            prefix_len: s.network.prefix_len(),
            netmask: s.netmask.to_string(),
            wildcard: Some(s.wildcard.to_string()),
            broadcast: s.broadcast.map(|b| b.to_string()),
            first_host: s.first_host.to_string(),
            last_host: s.last_host.to_string(),
            hosts: Count::Number(s.hosts),
            addresses: Count::Number(s.addresses),
            classful: Some(s.classful.to_string()),
        },
        Subnet::V6(s) => NetworkRecord {
            network: s.network.to_string(),
            prefix_len: s.network.prefix_len(),
            netmask: s.network.netmask().to_string(),
            wildcard: None,
            broadcast: None,
            first_host: s.first.to_string(),
            last_host: s.last.to_string(),
            hosts: Count::Text(s.addresses()),
            addresses: Count::Text(s.addresses()),
            classful: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tutorial_address_as_json() {
        let c = Classified::address("192.168.1.103", "192.168.1.103".parse().unwrap());
        let json = serde_json::to_value(ClassifyRecord::from(&c)).unwrap();
        assert_eq!(json["input"], "192.168.1.103");
        assert_eq!(json["version"], 4);
        assert_eq!(json["class"], "C");
        assert_eq!(json["default_mask"], "255.255.255.0");
        assert_eq!(json["default_prefix"], 24);
        assert_eq!(json["classful_network"], "192.168.1.0/24");
        assert_eq!(json["range"]["prefix"], "192.168.0.0/16");
        assert_eq!(json["range"]["name"], "Private-Use");
        assert_eq!(json["range"]["rfc"], "RFC 1918");
        assert_eq!(json["range"]["registry"], "special-purpose");
        assert_eq!(json["range"]["flags"]["globally_reachable"], false);
        assert_eq!(json["range"]["flags"]["forwardable"], true);
        assert_eq!(json["scope"], "private");
        assert_eq!(json["global"], false);
        assert!(json["provider"].is_null() && json["asn"].is_null() && json["network"].is_null());
    }

    #[test]
    fn cidr_as_json() {
        let c = Classified::network("192.168.1.103/26", "192.168.1.103/26".parse().unwrap());
        let json = serde_json::to_value(ClassifyRecord::from(&c)).unwrap();
        let net = &json["network"];
        assert_eq!(net["network"], "192.168.1.64/26");
        assert_eq!(net["broadcast"], "192.168.1.127");
        assert_eq!(net["hosts"], 62);
        assert_eq!(
            net["classful"],
            "a subnet of the class C network 192.168.1.0/24"
        );
        let v6 = Classified::network("2001:db8::/64", "2001:db8::/64".parse().unwrap());
        let json = serde_json::to_value(ClassifyRecord::from(&v6)).unwrap();
        assert_eq!(json["network"]["addresses"], "18446744073709551616");
        assert_eq!(json["network"]["netmask"], "ffff:ffff:ffff:ffff::");
        assert!(json["class"].is_null());
    }

    #[test]
    fn embedded_ipv4_is_classified() {
        let c = Classified::address("::ffff:127.0.0.1", "::ffff:127.0.0.1".parse().unwrap());
        let json = serde_json::to_value(ClassifyRecord::from(&c)).unwrap();
        assert_eq!(json["scope"], "loopback");
        assert_eq!(json["embedded_ipv4"][0]["kind"], "ipv4-mapped");
        assert_eq!(json["embedded_ipv4"][0]["address"], "127.0.0.1");
        assert_eq!(json["embedded_ipv4"][0]["scope"], "loopback");
    }
}
