//! The likely cloud provider of a public address, from the embedded prefix table.
//!
//! The table (`data/cloud-ipv4.tsv`, `data/cloud-ipv6.tsv`) holds the ranges announced by the
//! providers' autonomous systems, sorted and non-overlapping (checked by `build.rs`), so a
//! lookup is one binary search. An ASN says who announces a prefix, not which product sits
//! there, so every user-facing text says "likely".

use super::tables::{
    CLOUD_V4, CLOUD_V4_INDEX, CLOUD_V4_SLASH16, CLOUD_V6, CloudRange, PROVIDERS, Provider,
};

/// A provider match: who announces the range, and through which ASN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloudMatch {
    /// The provider.
    pub provider: &'static Provider,
    /// The autonomous system that announces the range.
    pub asn: u32,
}

fn lookup<A: Copy + Ord>(table: &'static [CloudRange<A>], addr: A) -> Option<CloudMatch> {
    let after = table.partition_point(|r| r.first <= addr);
    let range = table.get(after.checked_sub(1)?)?;
    if addr > range.last {
        return None;
    }
    let provider = PROVIDERS.get(usize::from(range.provider))?;
    Some(CloudMatch {
        provider,
        asn: range.asn,
    })
}

fn matched<A>(range: &CloudRange<A>) -> Option<CloudMatch> {
    PROVIDERS
        .get(usize::from(range.provider))
        .map(|provider| CloudMatch {
            provider,
            asn: range.asn,
        })
}

/// The provider announcing an IPv4 address.
///
/// First a bitmap of the /16s any range touches (8 KiB, in L1): most of the address space
/// has no cloud range and stops there. Otherwise the /16 index (built by `build.rs`) points at the first range ending at or after the
/// /16's first address; ranges are disjoint and sorted, so the first range ending at or
/// after `addr` is the only candidate, and it is at most a few steps further.
#[inline]
pub fn lookup_v4(addr: u32) -> Option<CloudMatch> {
    let high = addr >> 16;
    if CLOUD_V4_SLASH16[(high / 64) as usize] & (1 << (high % 64)) == 0 {
        return None;
    }
    let start = usize::from(CLOUD_V4_INDEX[(addr >> 16) as usize]);
    let candidate = CLOUD_V4.get(start..)?.iter().find(|r| r.last >= addr)?;
    if candidate.first <= addr {
        matched(candidate)
    } else {
        None
    }
}

/// The provider announcing an IPv6 address.
pub fn lookup_v6(addr: u128) -> Option<CloudMatch> {
    lookup(&CLOUD_V6, addr)
}

/// A provider by its id (`aws`, `alibaba`, ...).
pub fn provider(id: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v4(text: &str) -> Option<(&'static str, u32)> {
        lookup_v4(u32::from(text.parse::<Ipv4Addr>().unwrap())).map(|m| (m.provider.id, m.asn))
    }

    #[test]
    fn edges_of_every_range_match_and_neighbours_differ() {
        for (i, r) in CLOUD_V4.iter().enumerate() {
            let id = PROVIDERS[usize::from(r.provider)].id;
            assert_eq!(lookup_v4(r.first).map(|m| m.provider.id), Some(id));
            assert_eq!(
                lookup_v4(r.last).map(|m| (m.provider.id, m.asn)),
                Some((id, r.asn))
            );
            let next_starts_here = CLOUD_V4
                .get(i + 1)
                .is_some_and(|n| n.first == r.last.wrapping_add(1));
            if !next_starts_here && r.last < u32::MAX {
                assert_eq!(lookup_v4(r.last + 1), None, "after range {i}");
            }
        }
    }

    #[test]
    fn indexed_lookup_agrees_with_binary_search() {
        let mut x: u32 = 0x9e37_79b9;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            assert_eq!(lookup_v4(x), lookup(&CLOUD_V4, x), "{x:#x}");
        }
        for r in &CLOUD_V4 {
            for a in [
                r.first.wrapping_sub(1),
                r.first,
                r.last,
                r.last.wrapping_add(1),
            ] {
                assert_eq!(lookup_v4(a), lookup(&CLOUD_V4, a), "{a:#x}");
            }
        }
    }

    #[test]
    fn known_provider_addresses() {
        // 1.1.1.0/24 is announced by AS13335 (Cloudflare) in the June 2026 snapshot.
        assert_eq!(v4("1.1.1.1"), Some(("cloudflare", 13335)));
        assert_eq!(v4("0.0.0.1"), None);
        assert_eq!(v4("255.255.255.255"), None);
        assert!(lookup_v6(u128::from("2400:cb00::1".parse::<Ipv6Addr>().unwrap())).is_some());
    }

    #[test]
    fn providers_by_id() {
        for id in ["alibaba", "aws", "gcp", "azure", "tencent", "huawei"] {
            assert!(provider(id).is_some(), "{id}");
        }
        assert!(provider("nope").is_none());
    }
}
