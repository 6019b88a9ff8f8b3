//! `ipdiag trace`: probes to the real destination port with a growing TTL, so each router
//! where the TTL runs out answers with ICMP time exceeded (read from the socket error queue:
//! ordinary sockets, no privileges), until the destination answers, a router rejects, or
//! the replies stop.
//!
//! One path per trace (Paris traceroute): every probe of a trace carries the same flow,
//! the same addresses, protocol and ports, so a router that balances flows by their hash
//! (ECMP) sends them all the same way and the hops of one trace belong to one path. A
//! socket holds the source port for the whole trace and each probe's socket binds it too
//! (`SO_REUSEADDR`); the probes go one after another, since two connections cannot share
//! a flow at once. What the hash does not read tells the probes apart: the TCP sequence
//! number the kernel picks for each connect (and checks in the quote of an ICMP error),
//! the nonce in each UDP probe's payload (checked against the error's quote).

use super::attempt::{Answer, Busy, Outgoing};
use super::reason::{Observation, icmp_reason, judge};
use super::trace_watch::Watch;
use super::{tcp, udp};
use crate::model::{Protocol, Reason, State};
use socket2::{Domain, Socket, Type};
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

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
    /// The UDP payload of each probe.
    pub payload: Payloads,
    /// ICMP echo requests instead (`--icmp`, as tracert; `protocol` is then unused).
    pub icmp: bool,
}

/// Makes each UDP probe's payload: the same bytes, or ipdiag's request with a fresh nonce
/// (which then tells the probes of a trace apart in the quotes of ICMP errors).
#[derive(Clone)]
pub struct Payloads(Arc<dyn Fn() -> Vec<u8> + Send + Sync>);

impl Payloads {
    /// Payloads made by `make`, once per probe.
    pub fn new(make: impl Fn() -> Vec<u8> + Send + Sync + 'static) -> Self {
        Self(Arc::new(make))
    }

    /// The next probe's payload.
    pub fn next(&self) -> Vec<u8> {
        (self.0)()
    }
}

impl fmt::Debug for Payloads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Payloads")
    }
}

/// The flow of one trace: its source port, held by a socket that never sends, so no other
/// program gets the port while the probes' own sockets come and go.
pub struct Flow {
    _holder: Socket,
    port: u16,
}

impl Flow {
    /// Reserves a source port for a trace to `target` by `protocol`.
    pub fn reserve(target: SocketAddr, protocol: Protocol) -> io::Result<Self> {
        let kind = match protocol {
            Protocol::Tcp => Type::STREAM,
            Protocol::Udp => Type::DGRAM,
        };
        let (holder, port) = hold_port(target.is_ipv6(), kind, true)?;
        Ok(Self {
            _holder: holder,
            port,
        })
    }

    /// The source port every probe of the trace leaves from.
    pub fn port(&self) -> u16 {
        self.port
    }
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

/// Binds a socket of `kind` to a free port of the family (`v6`) and returns it with the
/// port; `shared`: with `SO_REUSEADDR`, so sockets of the same flow may bind it too. While
/// the socket is open, no other program gets the port.
pub fn hold_port(v6: bool, kind: Type, shared: bool) -> io::Result<(Socket, u16)> {
    let (domain, any): (Domain, IpAddr) = if v6 {
        (Domain::IPV6, Ipv6Addr::UNSPECIFIED.into())
    } else {
        (Domain::IPV4, Ipv4Addr::UNSPECIFIED.into())
    };
    let socket = Socket::new(domain, kind, None)?;
    socket.set_reuse_address(shared)?;
    socket.bind(&SocketAddr::new(any, 0).into())?;
    let port = socket
        .local_addr()?
        .as_socket()
        .map(|a| a.port())
        .ok_or_else(|| io::Error::other("the bound socket has no port"))?;
    Ok((socket, port))
}

/// Traces the path to `target`, telling `on_hop` about each hop as it is done.
pub async fn trace<F: FnMut(&Hop)>(
    target: SocketAddr,
    config: &TraceConfig,
    on_hop: F,
) -> Vec<Hop> {
    trace_watched(target, config, None, on_hop).await
}

/// [`trace`] that also hears the ICMP errors its probes meet on `watch` (systems without
/// an error queue: macOS, FreeBSD), where the probe's own socket says less or nothing.
pub async fn trace_watched<F: FnMut(&Hop)>(
    target: SocketAddr,
    config: &TraceConfig,
    mut watch: Option<Watch>,
    mut on_hop: F,
) -> Vec<Hop> {
    let mut hops = Vec::new();
    let flow = match Flow::reserve(target, config.protocol) {
        Ok(flow) => flow,
        Err(e) => {
            let probe = HopProbe {
                from: None,
                rtt: None,
                answer: HopAnswer::Local(format!("cannot reserve a source port: {e}")),
            };
            let hop = Hop {
                ttl: 1,
                probes: vec![probe],
            };
            on_hop(&hop);
            return vec![hop];
        }
    };
    let mut silent_run = 0u8;
    for ttl in 1..=config.max_hops {
        let out = Outgoing {
            ttl: Some(ttl),
            source_port: Some(flow.port()),
        };
        let mut probes = Vec::new();
        for _ in 0..config.queries.max(1) {
            probes.push(probe_watched(target, config, out, watch.as_mut()).await);
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

/// One probe leaving as `out` says.
pub(crate) async fn probe(target: SocketAddr, config: &TraceConfig, out: Outgoing) -> HopProbe {
    probe_watched(target, config, out, None).await
}

/// [`probe`]; with a `watch`, the first ICMP error about it that the watch hears is its
/// answer unless the probe's own socket heard the destination first.
async fn probe_watched(
    target: SocketAddr,
    config: &TraceConfig,
    out: Outgoing,
    watch: Option<&mut Watch>,
) -> HopProbe {
    if config.icmp {
        return super::trace_icmp::probe(target.ip(), config.wait, out.ttl.unwrap_or(1)).await;
    }
    let (protocol, wait) = (config.protocol, config.wait);
    let payload = match protocol {
        Protocol::Tcp => Vec::new(),
        Protocol::Udp => config.payload.next(),
    };
    let sent_at = Instant::now();
    let attempt = async {
        match protocol {
            Protocol::Tcp => tcp::attempt_out(target, wait, out).await,
            Protocol::Udp => udp::attempt_out(target, &payload, wait, out).await,
        }
    };
    let answer = match watch {
        None => attempt.await,
        Some(watch) => {
            let flow = (out.source_port.unwrap_or(0), payload.as_slice());
            let deadline = sent_at + wait;
            let first = tokio::select! {
                answer = attempt => Ok(answer),
                heard = watch.next(flow, sent_at, deadline) => Err(heard),
            };
            let heard = match first {
                Ok(Ok(answer)) if decisive(&answer.observation) => {
                    return seen(target, protocol, &answer);
                }
                // The error behind what the socket said (no route, a refusal without its
                // sender, silence) may still be on its way through the ICMP socket.
                Ok(answer) => {
                    let grace = (Instant::now() + QUOTE_GRACE).min(deadline.max(Instant::now()));
                    match watch.next(flow, sent_at, grace).await {
                        Some(heard) => heard,
                        None => return answered(target, protocol, answer),
                    }
                }
                Err(Some(heard)) => heard,
                Err(None) => {
                    return answered(
                        target,
                        protocol,
                        Ok(Answer::new(Observation::Silence, wait)),
                    );
                }
            };
            let (report, at) = heard;
            return classify(
                target,
                protocol,
                &Observation::Icmp(report),
                at.saturating_duration_since(sent_at),
            );
        }
    };
    answered(target, protocol, answer)
}

/// How long a probe whose socket reported a failure waits for the ICMP error behind it.
const QUOTE_GRACE: Duration = Duration::from_millis(200);

/// Answers that only the destination gives (its handshake, its RST, its UDP reply): no
/// ICMP error can say more.
fn decisive(observation: &Observation) -> bool {
    matches!(
        observation,
        Observation::Connected | Observation::Refused | Observation::UdpReply
    )
}

fn seen(target: SocketAddr, protocol: Protocol, answer: &Answer) -> HopProbe {
    classify(target, protocol, &answer.observation, answer.rtt)
}

fn answered(target: SocketAddr, protocol: Protocol, answer: Result<Answer, Busy>) -> HopProbe {
    match answer {
        Ok(answer) => seen(target, protocol, &answer),
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
            // A sender the system does not name (Windows' UDP errors are codes only) is
            // taken as the target, as `judge` takes it.
            let from_target = from.is_none_or(|f| f.to_canonical() == target.ip().to_canonical());
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
