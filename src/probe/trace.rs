//! `ipdiag trace`: probes to the real destination port with a growing TTL, so each router
//! where the TTL runs out answers with ICMP time exceeded (read from the socket error queue:
//! ordinary sockets, no privileges), until the destination answers, a router rejects, or
//! the replies stop.

use super::reason::{Observation, icmp_reason, judge};
use super::{tcp, udp};
use crate::model::{Protocol, Reason, State};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// How a trace runs.
#[derive(Debug, Clone)]
pub struct TraceConfig {
    /// TCP SYN or UDP datagram.
    pub protocol: Protocol,
    /// The highest TTL tried.
    pub max_hops: u8,
    /// Probes per hop (sent at once).
    pub queries: u32,
    /// The longest wait for each answer.
    pub wait: Duration,
    /// Stop after this many hops in a row where nothing answered.
    pub max_silent: u8,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

/// What one probe of a hop found.
#[derive(Debug, Clone, PartialEq)]
pub enum HopAnswer {
    /// The TTL ran out at a router, which said so.
    TimeExceeded,
    /// The destination answered: the port's state.
    Destination(State, Reason),
    /// A router refused the packet (ICMP unreachable / prohibited).
    Unreachable(Reason),
    /// Nothing came back in time.
    Silent,
    /// This host could not send (no route, ...): the system's message.
    Local(String),
}

/// One probe of a hop.
#[derive(Debug, Clone, PartialEq)]
pub struct HopProbe {
    /// Who answered.
    pub from: Option<IpAddr>,
    /// When.
    pub rtt: Option<Duration>,
    /// What it said.
    pub answer: HopAnswer,
}

/// The probes of one TTL.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    /// The TTL (hop number).
    pub ttl: u8,
    /// Its probes.
    pub probes: Vec<HopProbe>,
}

impl Hop {
    /// Nothing answered at this hop.
    pub fn silent(&self) -> bool {
        self.probes
            .iter()
            .all(|p| matches!(p.answer, HopAnswer::Silent))
    }

    /// The trace ends here: the destination answered, a router refused, or sending failed.
    pub fn ends(&self) -> bool {
        self.probes.iter().any(|p| {
            matches!(
                p.answer,
                HopAnswer::Destination(..) | HopAnswer::Unreachable(_) | HopAnswer::Local(_)
            )
        })
    }
}

/// Traces the path to `target`, telling `on_hop` about each hop as it is done.
pub async fn trace<F: FnMut(&Hop)>(
    target: SocketAddr,
    config: &TraceConfig,
    mut on_hop: F,
) -> Vec<Hop> {
    let mut hops = Vec::new();
    let mut silent_run = 0u8;
    for ttl in 1..=config.max_hops {
        let mut tasks = Vec::new();
        for _ in 0..config.queries.max(1) {
            let (protocol, wait, payload) = (config.protocol, config.wait, config.payload.clone());
            tasks.push(tokio::spawn(async move {
                probe(target, protocol, &payload, wait, ttl).await
            }));
        }
        let mut probes = Vec::new();
        for task in tasks {
            probes.push(task.await.unwrap_or_else(|e| HopProbe {
                from: None,
                rtt: None,
                answer: HopAnswer::Local(format!("the probe task failed: {e}")),
            }));
        }
        let hop = Hop { ttl, probes };
        on_hop(&hop);
        silent_run = if hop.silent() { silent_run + 1 } else { 0 };
        let end = hop.ends() || silent_run >= config.max_silent;
        hops.push(hop);
        if end {
            break;
        }
    }
    hops
}

/// One probe with this TTL.
async fn probe(
    target: SocketAddr,
    protocol: Protocol,
    payload: &[u8],
    wait: Duration,
    ttl: u8,
) -> HopProbe {
    let answer = match protocol {
        Protocol::Tcp => tcp::attempt_with_ttl(target, wait, Some(ttl)).await,
        Protocol::Udp => udp::attempt_with_ttl(target, payload, wait, Some(ttl)).await,
    };
    match answer {
        Ok(answer) => classify(target, protocol, &answer.observation, answer.rtt),
        Err(busy) => HopProbe {
            from: None,
            rtt: None,
            answer: HopAnswer::Local(busy.0.to_string()),
        },
    }
}

/// What an observation means for a trace (pure).
pub fn classify(
    target: SocketAddr,
    protocol: Protocol,
    observation: &Observation,
    rtt: Duration,
) -> HopProbe {
    let answered = |from, answer| HopProbe {
        from,
        rtt: Some(rtt),
        answer,
    };
    match observation {
        Observation::Silence => HopProbe {
            from: None,
            rtt: None,
            answer: HopAnswer::Silent,
        },
        Observation::Local(why) => HopProbe {
            from: None,
            rtt: None,
            answer: HopAnswer::Local(why.to_string()),
        },
        Observation::Connected | Observation::Refused | Observation::UdpReply => {
            let (state, reason) = judge(protocol, target.ip(), observation);
            answered(Some(target.ip()), HopAnswer::Destination(state, reason))
        }
        Observation::Icmp(report) => {
            let reason = icmp_reason(report);
            let from = report.from;
            let from_target = from.is_some_and(|f| f.to_canonical() == target.ip().to_canonical());
            if reason == Reason::TimeExceeded {
                answered(from, HopAnswer::TimeExceeded)
            } else if from_target {
                let (state, reason) = judge(protocol, target.ip(), observation);
                answered(from, HopAnswer::Destination(state, reason))
            } else {
                answered(from, HopAnswer::Unreachable(reason))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::reason::IcmpReport;

    fn icmp(kind: u8, code: u8, from: &str) -> Observation {
        Observation::Icmp(IcmpReport {
            v6: false,
            kind,
            code,
            from: Some(from.parse().unwrap()),
        })
    }

    #[test]
    fn what_each_answer_means() {
        let target: SocketAddr = "203.0.113.10:7890".parse().unwrap();
        let rtt = Duration::from_millis(3);
        let c = |o: &Observation, p| classify(target, p, o, rtt).answer;
        assert_eq!(
            c(&icmp(11, 0, "198.51.100.1"), Protocol::Tcp),
            HopAnswer::TimeExceeded
        );
        assert_eq!(
            classify(target, Protocol::Tcp, &icmp(11, 0, "198.51.100.1"), rtt).from,
            Some("198.51.100.1".parse().unwrap())
        );
        assert_eq!(
            c(&Observation::Connected, Protocol::Tcp),
            HopAnswer::Destination(State::Open, Reason::SynAck)
        );
        assert_eq!(
            c(&Observation::Refused, Protocol::Tcp),
            HopAnswer::Destination(State::Closed, Reason::ConnRefused)
        );
        assert_eq!(
            c(&icmp(3, 3, "203.0.113.10"), Protocol::Udp),
            HopAnswer::Destination(State::Closed, Reason::PortUnreach)
        );
        assert_eq!(
            c(&icmp(3, 13, "198.51.100.1"), Protocol::Tcp),
            HopAnswer::Unreachable(Reason::AdminProhibited)
        );
        assert_eq!(c(&Observation::Silence, Protocol::Tcp), HopAnswer::Silent);
    }

    #[test]
    fn a_hop_ends_the_trace_when_the_destination_or_a_router_answers_for_good() {
        let probe = |answer| HopProbe {
            from: None,
            rtt: None,
            answer,
        };
        let hop = |answers: Vec<HopAnswer>| Hop {
            ttl: 1,
            probes: answers.into_iter().map(probe).collect(),
        };
        assert!(hop(vec![HopAnswer::Silent, HopAnswer::Silent]).silent());
        assert!(!hop(vec![HopAnswer::Silent, HopAnswer::TimeExceeded]).silent());
        assert!(!hop(vec![HopAnswer::TimeExceeded]).ends());
        assert!(
            hop(vec![
                HopAnswer::Silent,
                HopAnswer::Destination(State::Open, Reason::SynAck)
            ])
            .ends()
        );
        assert!(hop(vec![HopAnswer::Unreachable(Reason::AdminProhibited)]).ends());
    }
}
