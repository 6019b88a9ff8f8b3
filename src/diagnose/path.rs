//! Where along the path a port dies: the verdict of `ipdiag trace` (pure).
//!
//! The last hop that answered says where replies stop. When it lies inside the network of
//! the cloud provider the target belongs to, and the target itself never answered, the
//! packet was dropped at the provider's edge (the security group) or by the server behind
//! it (its own firewall): a trace cannot tell those two apart. A hop that answers from the
//! destination address itself is an edge that translates it (cloud NAT), not a hop before
//! the destination. When replies stop before
//! the provider's network, the client's own network or ISP blocks it.

use crate::classify::classify;
use crate::model::{Reason, State};
use crate::probe::trace::{Hop, HopAnswer};
use std::fmt;
use std::net::IpAddr;

/// A hop's address with the cloud provider whose range it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// The hop number (TTL).
    pub ttl: u8,
    /// The address that answered.
    pub address: IpAddr,
    /// The provider id (`aws`, ...), from the embedded prefix table.
    pub provider: Option<&'static str>,
}

/// Where the path ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathVerdict {
    /// The destination answered at this hop.
    Reached {
        /// The hop.
        ttl: u8,
        /// The port's state.
        state: State,
        /// Its evidence.
        reason: Reason,
    },
    /// A router refused the packet with an ICMP error.
    RejectedAt {
        /// The router.
        at: Place,
        /// The ICMP error.
        reason: Reason,
    },
    /// Time exceeded came from the destination address itself, yet the port never
    /// answered: an edge that owns the public address and translates it (cloud NAT)
    /// answers for the target, and the port's packets die there or behind it.
    EdgeAnswersForTarget {
        /// The hop that answered from the destination address.
        last: Place,
    },
    /// Replies stop after a hop inside the target's provider network.
    DroppedAtEdge {
        /// The last hop that answered.
        last: Place,
    },
    /// Replies stop before the target's provider network.
    DroppedBeforeProvider {
        /// The last hop that answered.
        last: Place,
        /// The target's provider.
        provider: &'static str,
    },
    /// Replies stop after this hop (the target is in no known provider's range).
    DroppedAfter {
        /// The last hop that answered.
        last: Place,
    },
    /// No hop answered at all.
    NoReplies,
}

/// The provider id of an address, from the embedded prefix table.
pub fn provider_of(address: IpAddr) -> Option<&'static str> {
    classify(address).cloud.map(|c| c.provider.id)
}

/// The verdict of a trace to `target`.
pub fn verdict(target: IpAddr, hops: &[Hop]) -> PathVerdict {
    let mut last: Option<Place> = None;
    for hop in hops {
        for probe in &hop.probes {
            match &probe.answer {
                HopAnswer::Destination(state, reason) => {
                    return PathVerdict::Reached {
                        ttl: hop.ttl,
                        state: *state,
                        reason: *reason,
                    };
                }
                HopAnswer::Unreachable(reason) => {
                    if let Some(address) = probe.from {
                        return PathVerdict::RejectedAt {
                            at: place(hop.ttl, address),
                            reason: *reason,
                        };
                    }
                }
                HopAnswer::TimeExceeded => {
                    if let Some(address) = probe.from {
                        last = Some(place(hop.ttl, address));
                    }
                }
                HopAnswer::Silent | HopAnswer::Local(_) => {}
            }
        }
    }
    let Some(last) = last else {
        return PathVerdict::NoReplies;
    };
    if last.address == target {
        return PathVerdict::EdgeAnswersForTarget { last };
    }
    match provider_of(target) {
        Some(p) if last.provider == Some(p) => PathVerdict::DroppedAtEdge { last },
        Some(provider) => PathVerdict::DroppedBeforeProvider { last, provider },
        None => PathVerdict::DroppedAfter { last },
    }
}

fn place(ttl: u8, address: IpAddr) -> Place {
    Place {
        ttl,
        address,
        provider: provider_of(address),
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "hop {} ({}", self.ttl, self.address)?;
        if let Some(p) = self.provider {
            write!(f, ", {p}")?;
        }
        f.write_str(")")
    }
}

impl fmt::Display for PathVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reached { ttl, state, reason } => write!(
                f,
                "the destination answered at hop {ttl}: {state} ({reason})"
            ),
            Self::RejectedAt { at, reason } => write!(
                f,
                "{at} refused the packet ({reason}): a firewall on the way rejects it"
            ),
            Self::EdgeAnswersForTarget { last } => write!(
                f,
                "{last} answers from the destination address itself, but the port never does: an edge that translates the address answers for it, and the packets are dropped there (security group) or by the server behind it (its own firewall)"
            ),
            Self::DroppedAtEdge { last } => write!(
                f,
                "replies stop after {last}, inside the provider's network, and the server never answered: dropped at the edge (security group) or by the server (its own firewall)"
            ),
            Self::DroppedBeforeProvider { last, provider } => write!(
                f,
                "replies stop after {last}, before {provider}'s network: your network or ISP blocks it"
            ),
            Self::DroppedAfter { last } => write!(
                f,
                "replies stop after {last}: something after it drops the packet"
            ),
            Self::NoReplies => f.write_str(
                "no hop answered: this machine's own firewall or its first router drops the packet, or ICMP is filtered",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::trace::HopProbe;

    /// 3.5.140.0/22 is in the embedded AWS ranges; the documentation ranges are in none.
    const AWS_EDGE: &str = "3.5.140.2";
    const AWS_SERVER: &str = "3.5.141.10";

    fn hop(ttl: u8, answers: &[(Option<&str>, HopAnswer)]) -> Hop {
        Hop {
            ttl,
            probes: answers
                .iter()
                .map(|(from, answer)| HopProbe {
                    from: from.map(|f| f.parse().unwrap()),
                    rtt: None,
                    answer: answer.clone(),
                })
                .collect(),
        }
    }

    fn router(ttl: u8, address: &'static str) -> Hop {
        hop(ttl, &[(Some(address), HopAnswer::TimeExceeded)])
    }

    fn silent(ttl: u8) -> Hop {
        hop(ttl, &[(None, HopAnswer::Silent)])
    }

    #[test]
    fn replies_stopping_inside_the_provider_mean_the_edge() {
        let hops = [
            router(1, "198.51.100.1"),
            router(2, "192.0.2.2"),
            router(3, AWS_EDGE),
            silent(4),
        ];
        let v = verdict(AWS_SERVER.parse().unwrap(), &hops);
        assert_eq!(
            v.to_string(),
            "replies stop after hop 3 (3.5.140.2, aws), inside the provider's network, and the server never answered: dropped at the edge (security group) or by the server (its own firewall)"
        );
    }

    #[test]
    fn time_exceeded_from_the_target_itself_is_a_translating_edge_not_a_hop_before_it() {
        // Through a cloud NAT the edge owns 203.0.113.10 and answers time exceeded from it.
        let hops = [router(1, "203.0.113.10"), silent(2), silent(3)];
        let v = verdict("203.0.113.10".parse().unwrap(), &hops);
        assert!(
            matches!(v, PathVerdict::EdgeAnswersForTarget { .. }),
            "{v:?}"
        );
        assert_eq!(
            v.to_string(),
            "hop 1 (203.0.113.10) answers from the destination address itself, but the port never does: an edge that translates the address answers for it, and the packets are dropped there (security group) or by the server behind it (its own firewall)"
        );
    }

    #[test]
    fn replies_stopping_before_the_provider_mean_the_isp() {
        let hops = [router(1, "198.51.100.1"), silent(2), silent(3)];
        let v = verdict(AWS_SERVER.parse().unwrap(), &hops);
        assert_eq!(
            v,
            PathVerdict::DroppedBeforeProvider {
                last: Place {
                    ttl: 1,
                    address: "198.51.100.1".parse().unwrap(),
                    provider: None
                },
                provider: "aws"
            }
        );
        let v = verdict("203.0.113.10".parse().unwrap(), &hops);
        assert_eq!(
            v.to_string(),
            "replies stop after hop 1 (198.51.100.1): something after it drops the packet"
        );
    }

    #[test]
    fn an_answer_or_a_rejection_ends_it() {
        let hops = [
            router(1, "198.51.100.1"),
            hop(
                2,
                &[
                    (None, HopAnswer::Silent),
                    (
                        Some(AWS_SERVER),
                        HopAnswer::Destination(State::Open, Reason::SynAck),
                    ),
                ],
            ),
        ];
        assert_eq!(
            verdict(AWS_SERVER.parse().unwrap(), &hops).to_string(),
            "the destination answered at hop 2: open (syn-ack)"
        );
        let hops = [hop(
            1,
            &[(
                Some("198.51.100.1"),
                HopAnswer::Unreachable(Reason::AdminProhibited),
            )],
        )];
        assert_eq!(
            verdict(AWS_SERVER.parse().unwrap(), &hops).to_string(),
            "hop 1 (198.51.100.1) refused the packet (admin-prohibited): a firewall on the way rejects it"
        );
        assert_eq!(
            verdict(AWS_SERVER.parse().unwrap(), &[silent(1), silent(2)]),
            PathVerdict::NoReplies
        );
    }
}
