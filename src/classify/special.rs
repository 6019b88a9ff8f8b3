//! Longest-prefix lookup in the IANA special-purpose registries (`data/*-special.tsv`).
//!
//! IPv4 is on the hot path of bulk classification, so `build.rs` precomputes, for each first
//! octet, the few blocks that can match (longest prefix first): a lookup is one index load
//! and at most a handful of mask compares. IPv6 is a short linear scan of the same order.

use super::tables::{IPV4_BLOCKS, IPV4_CANDIDATES, IPV4_OCTET_INDEX, IPV6_BLOCKS, RangeInfo};

/// The most specific registry block containing `addr`, if any.
#[inline]
pub fn lookup_v4(addr: u32) -> Option<&'static RangeInfo> {
    // The index has 256 entries, one per first octet, so this cannot go out of bounds.
    let (start, end) = IPV4_OCTET_INDEX[(addr >> 24) as usize];
    IPV4_CANDIDATES[usize::from(start)..usize::from(end)]
        .iter()
        .map(|&i| &IPV4_BLOCKS[usize::from(i)])
        .find(|block| addr & block.mask == block.addr)
        .map(|block| &block.info)
}

/// The most specific registry block containing `addr`, if any.
pub fn lookup_v6(addr: u128) -> Option<&'static RangeInfo> {
    IPV6_BLOCKS
        .iter()
        .find(|block| addr & block.mask == block.addr)
        .map(|block| &block.info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v4(text: &str) -> Option<&'static str> {
        lookup_v4(u32::from(text.parse::<Ipv4Addr>().unwrap())).map(|r| r.prefix)
    }

    fn v6(text: &str) -> Option<&'static str> {
        lookup_v6(u128::from(text.parse::<Ipv6Addr>().unwrap())).map(|r| r.prefix)
    }

    /// A block as (first, last, prefix length, name), widened to u128 for both families.
    type Edge = (u128, u128, u32, &'static str);

    /// Every block: its first and last address match it unless a more specific block sits
    /// there (0.0.0.0/32 inside 0.0.0.0/8; that block is then tested on its own), and the
    /// neighbours just outside do not.
    fn check_edges(blocks: &[Edge], lookup: impl Fn(u128) -> Option<&'static RangeInfo>) {
        for &(first, last, len, prefix) in blocks {
            for edge in [first, last] {
                let nested = blocks
                    .iter()
                    .any(|&(f, l, n, _)| n > len && (f..=l).contains(&edge));
                if !nested {
                    assert_eq!(
                        lookup(edge).map(|r| r.prefix),
                        Some(prefix),
                        "edge of {prefix}"
                    );
                }
            }
            for outside in [first.checked_sub(1), last.checked_add(1)]
                .into_iter()
                .flatten()
            {
                assert!(
                    lookup(outside).is_none_or(|r| r.prefix != prefix),
                    "outside {prefix}"
                );
            }
        }
    }

    #[test]
    fn every_ipv4_block_edges() {
        let edges: Vec<Edge> = IPV4_BLOCKS
            .iter()
            .map(|b| {
                (
                    b.addr.into(),
                    (b.addr | !b.mask).into(),
                    b.mask.count_ones(),
                    b.info.prefix,
                )
            })
            .collect();
        check_edges(&edges, |a| u32::try_from(a).ok().and_then(lookup_v4));
    }

    #[test]
    fn every_ipv6_block_edges() {
        let edges: Vec<Edge> = IPV6_BLOCKS
            .iter()
            .map(|b| (b.addr, b.addr | !b.mask, b.mask.count_ones(), b.info.prefix))
            .collect();
        check_edges(&edges, lookup_v6);
    }

    #[test]
    fn longest_prefix_wins() {
        assert_eq!(v4("192.0.0.9"), Some("192.0.0.9/32"));
        assert_eq!(v4("192.0.0.11"), Some("192.0.0.0/24"));
        assert_eq!(v4("192.0.0.7"), Some("192.0.0.0/29"));
        assert_eq!(v4("0.0.0.0"), Some("0.0.0.0/32"));
        assert_eq!(v4("0.0.0.1"), Some("0.0.0.0/8"));
        assert_eq!(v4("192.88.99.2"), Some("192.88.99.2/32"));
        assert_eq!(v4("224.0.0.251"), Some("224.0.0.0/24"));
        assert_eq!(v4("225.1.2.3"), Some("224.0.0.0/4"));
        assert_eq!(v6("2001:1::1"), Some("2001:1::1/128"));
        assert_eq!(v6("2001::1"), Some("2001::/32"));
        assert_eq!(v6("2001:100::1"), Some("2001::/23"));
        assert_eq!(v6("2001:200::1"), Some("2000::/3"));
    }

    #[test]
    fn neighbours_of_the_private_ranges() {
        assert_eq!(v4("9.255.255.255"), None);
        assert_eq!(v4("10.0.0.0"), Some("10.0.0.0/8"));
        assert_eq!(v4("10.255.255.255"), Some("10.0.0.0/8"));
        assert_eq!(v4("11.0.0.0"), None);
        assert_eq!(v4("172.15.255.255"), None);
        assert_eq!(v4("172.16.0.0"), Some("172.16.0.0/12"));
        assert_eq!(v4("172.31.255.255"), Some("172.16.0.0/12"));
        assert_eq!(v4("172.32.0.0"), None);
        assert_eq!(v4("100.63.255.255"), None);
        assert_eq!(v4("100.64.0.0"), Some("100.64.0.0/10"));
        assert_eq!(v4("100.127.255.255"), Some("100.64.0.0/10"));
        assert_eq!(v4("100.128.0.0"), None);
        assert_eq!(v4("255.255.255.254"), Some("240.0.0.0/4"));
        assert_eq!(v4("255.255.255.255"), Some("255.255.255.255/32"));
    }

    #[test]
    fn public_addresses_match_no_block() {
        for a in ["1.1.1.1", "8.8.8.8", "41.0.0.1", "223.255.255.255"] {
            assert_eq!(v4(a), None, "{a}");
        }
        assert_eq!(v6("2400:cb00::1"), Some("2000::/3"));
        assert_eq!(v6("4000::1"), None);
    }
}
