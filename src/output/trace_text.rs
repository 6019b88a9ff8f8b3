//! `ipdiag trace`'s output: a header, a line per hop as it is done (address, network, loss,
//! RTT), what the destination answered, and the verdict; and the JSON record. A hop's
//! figures come summarised (`diagnose::hops`): nothing here computes or looks up.

use super::probe_json::RttRecord;
use crate::diagnose::hops::HopSummary;
use crate::diagnose::path::{PathVerdict, provider_of};
use crate::probe::trace::{Hop, HopAnswer, HopProbe};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::SocketAddr;

/// The destination as shown: `203.0.113.10:7890`, or the address alone for ICMP (port 0:
/// a trace to a port has one from 1 up).
fn shown(target: SocketAddr) -> String {
    if target.port() == 0 {
        target.ip().to_string()
    } else {
        target.to_string()
    }
}

/// The address column's width: room for the family's longest address.
fn width(target: SocketAddr) -> usize {
    if target.is_ipv6() { 39 } else { 15 }
}

/// `trace to 3.5.141.10:7890/tcp (aws), 30 hops max, 3 probes per hop` and the column names;
/// `given` is the target as typed (a name is shown before its address).
pub fn header(
    given: &str,
    target: SocketAddr,
    protocol: &str,
    max_hops: u8,
    queries: u32,
) -> String {
    let named = if given == target.to_string() || given == shown(target) {
        String::new()
    } else {
        format!(" {given}:")
    };
    let provider = provider_of(target.ip()).map_or(String::new(), |p| format!(" ({p})"));
    let noun = if queries == 1 { "probe" } else { "probes" };
    let w = width(target);
    let target = shown(target);
    format!(
        "trace to{named} {target}/{protocol}{provider}, {max_hops} hops max, {queries} {noun} per hop\n\
         hop  {:<w$}  {:<14}  {:>5}  rtt min/avg/max",
        "address", "network", "loss"
    )
}

/// One hop's line: `  3  3.5.140.2        aws AS16509        0%  0.061/0.072/0.090 ms`.
pub fn hop_line(target: SocketAddr, hop: &Hop, s: &HopSummary) -> String {
    let w = width(target);
    let address = if s.addresses.is_empty() {
        "*".to_owned()
    } else {
        s.addresses
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let network = s
        .network
        .map_or(String::new(), |(p, asn)| format!("{p} AS{asn}"));
    let loss = format!("{:.0}%", s.loss_pct);
    let rtt = s.rtt.map_or(String::new(), |r| {
        format!("{:.3}/{:.3}/{:.3} ms", r.min, r.avg, r.max)
    });
    let mut line = format!(
        "{:>3}  {address:<w$}  {network:<14}  {loss:>5}  {rtt}",
        s.ttl
    );
    if let Some(note) = hop_note(hop) {
        let _ = write!(line, "  {note}");
    }
    line.trim_end().to_owned()
}

/// What a hop said besides "time exceeded": the destination's answer, a refusal, an error.
fn hop_note(hop: &Hop) -> Option<String> {
    hop.probes.iter().find_map(|p| match &p.answer {
        HopAnswer::Destination(state, reason) => Some(format!("destination: {state} ({reason})")),
        HopAnswer::Unreachable(reason) => Some(format!("refused: {reason}")),
        HopAnswer::Local(why) => Some(format!("cannot send: {why}")),
        HopAnswer::TimeExceeded | HopAnswer::Silent => None,
    })
}

/// The closing lines: the hops whose silence is their router's own (ICMP limited), what
/// the destination answered, and the verdict.
pub fn footer(
    target: SocketAddr,
    hops: &[Hop],
    summaries: &[HopSummary],
    verdict: &PathVerdict,
) -> String {
    let mut out = String::new();
    for (hop, s) in hops.iter().zip(summaries).filter(|(_, s)| s.icmp_limited) {
        let unanswered = hop.probes.iter().filter(|p| p.rtt.is_none()).count();
        let what = if unanswered == hop.probes.len() {
            "no probe answered".to_owned()
        } else {
            format!("{unanswered} of {} probes unanswered", hop.probes.len())
        };
        let _ = writeln!(
            out,
            "hop {}: {what}, yet later hops answer: its router limits (or does not send) ICMP time exceeded; not loss on the path",
            s.ttl
        );
    }
    let silent = hops.iter().rev().take_while(|h| h.silent()).count();
    let destination = if let PathVerdict::Reached { state, reason, .. } = verdict {
        format!("{state} ({reason})")
    } else if silent > 0 {
        let noun = if silent == 1 { "hop" } else { "hops" };
        format!("no answer ({silent} silent {noun} at the end)")
    } else {
        "no answer".to_owned()
    };
    let target = shown(target);
    let _ = write!(
        out,
        "destination {target}: {destination}\nverdict: {verdict}\n"
    );
    out
}

/// `ipdiag trace --json`.
#[derive(Debug, Serialize)]
pub struct TraceRecord<'a> {
    /// The target as given.
    pub target: &'a str,
    /// The address traced.
    pub address: String,
    /// The destination port (`null` for ICMP).
    pub port: Option<u16>,
    /// `tcp`, `udp` or `icmp`.
    pub protocol: &'static str,
    /// The target's likely provider.
    pub provider: Option<&'static str>,
    /// Every hop tried.
    pub hops: Vec<HopRecord>,
    /// What the destination answered; `null` when it never did.
    pub destination: Option<DestinationRecord>,
    /// Where the path ends.
    pub verdict: VerdictRecord,
}

/// One hop.
#[derive(Debug, Serialize)]
pub struct HopRecord {
    /// The hop number (TTL).
    pub ttl: u8,
    /// The addresses that answered.
    pub addresses: Vec<String>,
    /// The provider of the first address.
    pub provider: Option<&'static str>,
    /// Its ASN.
    pub asn: Option<u32>,
    /// Percent of probes without an answer.
    pub loss_pct: f64,
    /// RTT over the answers; `null` when none came.
    pub rtt_ms: Option<RttRecord>,
    /// A later hop answered more of its probes: this hop's unanswered probes are its router
    /// limiting (or not sending) ICMP, not loss on the path.
    pub icmp_limited: bool,
    /// Every probe.
    pub probes: Vec<ProbeRecord>,
}

/// One probe of a hop.
#[derive(Debug, Serialize)]
pub struct ProbeRecord {
    /// Who answered.
    pub from: Option<String>,
    /// RTT in milliseconds.
    pub rtt_ms: Option<f64>,
    /// `time-exceeded`, `destination`, `unreachable`, `no-response` or `local-error`.
    pub answer: &'static str,
    /// The destination's state (answer `destination`).
    pub state: Option<String>,
    /// The ICMP or TCP reason (answers `destination`, `unreachable`).
    pub reason: Option<String>,
}

/// What the destination answered.
#[derive(Debug, Serialize)]
pub struct DestinationRecord {
    /// The hop it answered at.
    pub ttl: u8,
    /// The port's state.
    pub state: String,
    /// Its evidence.
    pub reason: String,
}

/// The verdict.
#[derive(Debug, Serialize)]
pub struct VerdictRecord {
    /// `reached`, `rejected`, `edge_answers_for_target`, `dropped_at_edge`,
    /// `dropped_before_provider`, `dropped_after`, `no_replies`.
    pub kind: &'static str,
    /// The last hop that answered (or the router that refused).
    pub last_hop: Option<PlaceRecord>,
    /// The sentence.
    pub text: String,
}

/// A hop in the verdict.
#[derive(Debug, Serialize)]
pub struct PlaceRecord {
    /// The hop number.
    pub ttl: u8,
    /// Its address.
    pub address: String,
    /// Its provider.
    pub provider: Option<&'static str>,
}

impl HopRecord {
    /// The record of a hop and its summary.
    pub fn new(hop: &Hop, s: &HopSummary) -> Self {
        Self {
            ttl: hop.ttl,
            addresses: s.addresses.iter().map(ToString::to_string).collect(),
            provider: s.network.map(|(p, _)| p),
            asn: s.network.map(|(_, asn)| asn),
            loss_pct: (s.loss_pct * 10.0).round() / 10.0,
            rtt_ms: s.rtt.as_ref().map(RttRecord::from),
            icmp_limited: s.icmp_limited,
            probes: hop.probes.iter().map(ProbeRecord::from).collect(),
        }
    }
}

impl From<&HopProbe> for ProbeRecord {
    fn from(p: &HopProbe) -> Self {
        let (answer, state, reason) = match &p.answer {
            HopAnswer::TimeExceeded => ("time-exceeded", None, None),
            HopAnswer::Destination(s, r) => {
                ("destination", Some(s.to_string()), Some(r.to_string()))
            }
            HopAnswer::Unreachable(r) => ("unreachable", None, Some(r.to_string())),
            HopAnswer::Silent => ("no-response", None, None),
            HopAnswer::Local(why) => ("local-error", None, Some(why.clone())),
        };
        Self {
            from: p.from.map(|a| a.to_string()),
            rtt_ms: p
                .rtt
                .map(|d| (d.as_secs_f64() * 1_000_000.0).round() / 1000.0),
            answer,
            state,
            reason,
        }
    }
}

impl From<&PathVerdict> for VerdictRecord {
    fn from(v: &PathVerdict) -> Self {
        let place = |p: &crate::diagnose::path::Place| PlaceRecord {
            ttl: p.ttl,
            address: p.address.to_string(),
            provider: p.provider,
        };
        let (kind, last_hop) = match v {
            PathVerdict::Reached { .. } => ("reached", None),
            PathVerdict::RejectedAt { at, .. } => ("rejected", Some(place(at))),
            PathVerdict::EdgeAnswersForTarget { last } => {
                ("edge_answers_for_target", Some(place(last)))
            }
            PathVerdict::DroppedAtEdge { last } => ("dropped_at_edge", Some(place(last))),
            PathVerdict::DroppedBeforeProvider { last, .. } => {
                ("dropped_before_provider", Some(place(last)))
            }
            PathVerdict::DroppedAfter { last } => ("dropped_after", Some(place(last))),
            PathVerdict::NoReplies => ("no_replies", None),
        };
        Self {
            kind,
            last_hop,
            text: v.to_string(),
        }
    }
}

/// The destination's answer, when it gave one.
pub fn destination(verdict: &PathVerdict) -> Option<DestinationRecord> {
    match verdict {
        PathVerdict::Reached { ttl, state, reason } => Some(DestinationRecord {
            ttl: *ttl,
            state: state.to_string(),
            reason: reason.to_string(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::hops::{summarise, summarise_all};
    use crate::model::{Reason, State};
    use std::time::Duration;

    fn answered(from: &str, ms: u64, answer: HopAnswer) -> HopProbe {
        HopProbe {
            from: Some(from.parse().unwrap()),
            rtt: Some(Duration::from_millis(ms)),
            answer,
        }
    }

    fn silent() -> HopProbe {
        HopProbe {
            from: None,
            rtt: None,
            answer: HopAnswer::Silent,
        }
    }

    #[test]
    fn a_hop_line_gives_address_network_loss_and_rtt() {
        let target: SocketAddr = "3.5.141.10:7890".parse().unwrap();
        let hop = Hop {
            ttl: 3,
            probes: vec![
                answered("3.5.140.2", 1, HopAnswer::TimeExceeded),
                answered("3.5.140.2", 3, HopAnswer::TimeExceeded),
                silent(),
            ],
        };
        assert_eq!(
            hop_line(target, &hop, &summarise(&hop)),
            "  3  3.5.140.2        aws AS16509       33%  1.000/2.000/3.000 ms"
        );
        let quiet = Hop {
            ttl: 4,
            probes: vec![silent(), silent()],
        };
        assert_eq!(
            hop_line(target, &quiet, &summarise(&quiet)),
            "  4  *                                 100%"
        );
        let end = Hop {
            ttl: 5,
            probes: vec![answered(
                "3.5.141.10",
                2,
                HopAnswer::Destination(State::Open, Reason::SynAck),
            )],
        };
        assert!(
            hop_line(target, &end, &summarise(&end))
                .ends_with("2.000/2.000/2.000 ms  destination: open (syn-ack)"),
            "{}",
            hop_line(target, &end, &summarise(&end))
        );
    }

    #[test]
    fn the_footer_names_the_destination_and_the_verdict() {
        let target: SocketAddr = "3.5.141.10:7890".parse().unwrap();
        let hops = vec![
            Hop {
                ttl: 1,
                probes: vec![answered("3.5.140.2", 1, HopAnswer::TimeExceeded)],
            },
            Hop {
                ttl: 2,
                probes: vec![silent()],
            },
        ];
        let verdict = crate::diagnose::path::verdict(target.ip(), &hops);
        let text = footer(target, &hops, &summarise_all(&hops), &verdict);
        assert!(
            text.starts_with("destination 3.5.141.10:7890: no answer (1 silent hop at the end)\nverdict: replies stop after hop 1 (3.5.140.2, aws)"),
            "{text}"
        );
        let record = VerdictRecord::from(&verdict);
        assert_eq!(record.kind, "dropped_at_edge");
        assert_eq!(record.last_hop.map(|p| p.ttl), Some(1));
    }

    #[test]
    fn a_hop_whose_router_limits_its_icmp_is_labelled_in_the_footer_and_the_json() {
        let target: SocketAddr = "203.0.113.10:7890".parse().unwrap();
        let te = |from| answered(from, 1, HopAnswer::TimeExceeded);
        let hops = vec![
            Hop {
                ttl: 1,
                probes: vec![te("198.51.100.1"), te("198.51.100.1")],
            },
            Hop {
                ttl: 2,
                probes: vec![silent(), silent()],
            },
            Hop {
                ttl: 3,
                probes: vec![te("192.0.2.9"), silent()],
            },
            Hop {
                ttl: 4,
                probes: vec![
                    answered(
                        "203.0.113.10",
                        1,
                        HopAnswer::Destination(State::Open, Reason::SynAck),
                    ),
                    answered(
                        "203.0.113.10",
                        1,
                        HopAnswer::Destination(State::Open, Reason::SynAck),
                    ),
                ],
            },
        ];
        let summaries = summarise_all(&hops);
        let verdict = crate::diagnose::path::verdict(target.ip(), &hops);
        assert_eq!(
            footer(target, &hops, &summaries, &verdict),
            "hop 2: no probe answered, yet later hops answer: its router limits (or does not send) ICMP time exceeded; not loss on the path\n\
             hop 3: 1 of 2 probes unanswered, yet later hops answer: its router limits (or does not send) ICMP time exceeded; not loss on the path\n\
             destination 203.0.113.10:7890: open (syn-ack)\n\
             verdict: the destination answered at hop 4: open (syn-ack)\n"
        );
        let records: Vec<bool> = hops
            .iter()
            .zip(&summaries)
            .map(|(h, s)| HopRecord::new(h, s).icmp_limited)
            .collect();
        assert_eq!(records, [false, true, true, false]);
    }
}
