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
//! silence indeed. Each host gets [`BUDGET`] spaced retries (about half a minute): a
//! sweep of a thousand silent ports would otherwise take twenty minutes (as `nmap -sU`
//! does); past the budget its silent ports are retried as anywhere else, and the user is
//! told how to get the rest right. Pure data: the engine hands it the time.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;
use tokio::time::Instant;

/// The spacing of retries to a host that rations ICMP: Linux's default refill (1 s) plus
/// a margin for timer granularity on both ends.
pub const ALLOWANCE: Duration = Duration::from_millis(1100);

/// Spaced retries per host at most: 30 allowances, about 33 s.
pub const BUDGET: u32 = 30;

/// Hosts seen answering UDP with port unreachable, each with its retry spacing.
#[derive(Debug, Default)]
pub struct IcmpLimits {
    hosts: HashMap<IpAddr, Spacing>,
}

#[derive(Debug)]
struct Spacing {
    /// The earliest moment the host has a token for us again.
    next: Instant,
    /// Spaced retries reserved so far (the user is told at the first, and when the
    /// budget runs out).
    granted: u32,
}

/// What a retry to a host gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The host does not ration (or is loopback): retry at once.
    NotRationed,
    /// A spaced slot.
    Spaced(Slot),
    /// The host's budget of spaced retries is spent: retry at once; `first` for the first
    /// retry turned away (time to say so).
    Spent {
        /// The first retry to this host turned away.
        first: bool,
    },
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
            granted: 0,
        });
        spacing.next = spacing.next.max(at + ALLOWANCE);
    }

    /// Whether `address` has answered with port unreachable in this run and has spaced
    /// retries left (then each silent UDP port there deserves one).
    pub fn rations(&self, address: IpAddr) -> bool {
        self.hosts.get(&address).is_some_and(|s| s.granted < BUDGET)
    }

    /// The next spaced slot for a retry to `address` at or after `now`, if the host
    /// rations and its budget lasts.
    pub fn reserve(&mut self, address: IpAddr, now: Instant) -> Reservation {
        let Some(spacing) = self.hosts.get_mut(&address) else {
            return Reservation::NotRationed;
        };
        if spacing.granted >= BUDGET {
            let first = spacing.granted == BUDGET;
            spacing.granted = BUDGET + 1;
            return Reservation::Spent { first };
        }
        let at = spacing.next.max(now);
        spacing.next = at + ALLOWANCE;
        spacing.granted += 1;
        Reservation::Spaced(Slot {
            at,
            first: spacing.granted == 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn slot(r: Reservation) -> Slot {
        match r {
            Reservation::Spaced(slot) => slot,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_hosts_that_answered_are_spaced_one_allowance_apart() {
        let (a, b): (IpAddr, IpAddr) = ("198.51.100.2".parse().unwrap(), "::1".parse().unwrap());
        let mut limits = IcmpLimits::default();
        let t0 = Instant::now();
        assert_eq!(limits.reserve(a, t0), Reservation::NotRationed);
        assert!(!limits.rations(a));
        // Two answers, the later at t0 + 300 ms: the host's next token is an allowance on.
        limits.answered_unreachable(a, t0);
        limits.answered_unreachable(a, t0 + MS * 300);
        assert!(limits.rations(a) && !limits.rations(b));
        let next = t0 + MS * 300 + ALLOWANCE;
        let slots: Vec<Slot> = (0..3).map(|_| slot(limits.reserve(a, t0))).collect();
        let want = |k: u32, first| Slot {
            at: next + ALLOWANCE * k,
            first,
        };
        assert_eq!(slots, [want(0, true), want(1, false), want(2, false)]);
        // Asked long after: then, not in the past.
        let late = next + ALLOWANCE * 10;
        assert_eq!(slot(limits.reserve(a, late)).at, late);
        assert_eq!(limits.reserve(b, t0), Reservation::NotRationed);
        limits.answered_unreachable(b, t0);
        assert!(!limits.rations(b), "loopback is never rationed");
    }

    #[test]
    fn the_budget_ends_the_spacing_and_says_so_once() {
        let a: IpAddr = "198.51.100.2".parse().unwrap();
        let mut limits = IcmpLimits::default();
        let t0 = Instant::now();
        limits.answered_unreachable(a, t0);
        for _ in 0..BUDGET {
            assert!(matches!(limits.reserve(a, t0), Reservation::Spaced(_)));
        }
        assert!(!limits.rations(a), "no retry is owed past the budget");
        assert_eq!(limits.reserve(a, t0), Reservation::Spent { first: true });
        assert_eq!(limits.reserve(a, t0), Reservation::Spent { first: false });
    }
}
