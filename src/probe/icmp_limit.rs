//! Targets that ration their ICMP errors, and the spacing that gets past the ration.
//!
//! Linux sends "port unreachable" to one address at most once a second after a burst of
//! six (`net.ipv4.icmp_ratelimit` = 1000 ms over `icmp_ratemask`; `net.ipv6.icmp.ratelimit`
//! likewise), a token bucket per destination. In a UDP sweep the first closed ports answer
//! and the rest fall silent: taken at face value they are `open|filtered`, and a diagnosis
//! would blame a firewall for what is the target's own thrift. nmap meets this by slowing
//! down ("Increasing send delay"). ipdiag slows only where it must: once a host has
//! answered a UDP probe with port unreachable, the retries of its silent UDP ports are
//! spaced one allowance apart ([`ALLOWANCE`], a little over the kernel's second so that
//! jiffies never make a slot early), and none leaves sooner than an allowance after the
//! host's latest port unreachable (each one spent a token), so a retry finds a token
//! unless a first probe of another port was answered just before it and took that one (a
//! sweep's first probes are not spaced). A retry still silent is then almost surely
//! silence indeed. Pure data: the engine hands it the time.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;
use tokio::time::Instant;

/// The spacing of retries to a host that rations ICMP: Linux's default refill (1 s) plus
/// a margin for timer granularity on both ends.
pub const ALLOWANCE: Duration = Duration::from_millis(1100);

/// Hosts seen answering UDP with port unreachable, each with its retry spacing.
#[derive(Debug, Default)]
pub struct IcmpLimits {
    hosts: HashMap<IpAddr, Spacing>,
}

#[derive(Debug)]
struct Spacing {
    /// The earliest moment the host has a token for us again.
    next: Instant,
    /// A spaced retry has been reserved already (the user was told once).
    used: bool,
}

/// A reserved retry: when to send it, and whether it is the host's first (time to say why
/// the run slows down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// When the retry may leave.
    pub at: Instant,
    /// The first spaced retry to this host.
    pub first: bool,
}

impl IcmpLimits {
    /// `address` answered a UDP probe with port unreachable at `at`: it sends ICMP errors,
    /// so its silences may be the ration running out, and that answer spent a token.
    /// Loopback is never rationed (Linux: "No rate limit on loopback", `icmpv4_xrlim_allow`
    /// and `icmpv6_xrlim_allow`), so its silences need no second look.
    pub fn answered_unreachable(&mut self, address: IpAddr, at: Instant) {
        if address.is_loopback() {
            return;
        }
        let spacing = self.hosts.entry(address).or_insert(Spacing {
            next: at,
            used: false,
        });
        spacing.next = spacing.next.max(at + ALLOWANCE);
    }

    /// Whether `address` has answered with port unreachable in this run.
    pub fn rations(&self, address: IpAddr) -> bool {
        self.hosts.contains_key(&address)
    }

    /// The next spaced slot for a retry to `address` at or after `now`; `None` for a host
    /// not seen answering with port unreachable (its retries need no spacing).
    pub fn reserve(&mut self, address: IpAddr, now: Instant) -> Option<Slot> {
        let spacing = self.hosts.get_mut(&address)?;
        let first = !spacing.used;
        let at = spacing.next.max(now);
        spacing.next = at + ALLOWANCE;
        spacing.used = true;
        Some(Slot { at, first })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn only_hosts_that_answered_are_spaced_one_allowance_apart() {
        let (a, b): (IpAddr, IpAddr) = ("198.51.100.2".parse().unwrap(), "::1".parse().unwrap());
        let mut limits = IcmpLimits::default();
        let t0 = Instant::now();
        assert_eq!(limits.reserve(a, t0), None);
        assert!(!limits.rations(a));
        // Two answers, the later at t0 + 300 ms: the host's next token is an allowance on.
        limits.answered_unreachable(a, t0);
        limits.answered_unreachable(a, t0 + MS * 300);
        assert!(limits.rations(a) && !limits.rations(b));
        let next = t0 + MS * 300 + ALLOWANCE;
        let slots: Vec<Slot> = (0..3).map(|_| limits.reserve(a, t0).unwrap()).collect();
        assert_eq!(
            slots,
            [
                Slot {
                    at: next,
                    first: true
                },
                Slot {
                    at: next + ALLOWANCE,
                    first: false
                },
                Slot {
                    at: next + ALLOWANCE * 2,
                    first: false
                },
            ]
        );
        // Asked long after: then, not in the past.
        let late = next + ALLOWANCE * 10;
        assert_eq!(limits.reserve(a, late).map(|s| s.at), Some(late));
        assert_eq!(limits.reserve(b, t0), None);
        limits.answered_unreachable(b, t0);
        assert!(!limits.rations(b), "loopback is never rationed");
    }
}
