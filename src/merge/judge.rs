//! The verdict across vantage points: the same endpoint as several places saw it, judged
//! into where the problem lies.
//!
//! - filtered from every vantage: the server side (its security group or host firewall);
//! - open from some, filtered from others: a rule restricted by source, or the failing
//!   vantages' own egress firewall when they are blocked on other endpoints too that the
//!   others reach (an egress rule matches ports to every host; a server's source rule only
//!   its own ports);
//! - only the vantages that probed over IPv6 fail: the AAAA record or the listener's IPv6 bind;
//! - different answers from one network (the vantages' source addresses share a /24 or a
//!   /64, so they pass the same rules): load balancing or anycast.
//!
//! Pure: reports in, [`Merged`] out; rendering lives in `output/merge_*.rs`.

use super::elsewhere::{Elsewhere, Others};
use super::report::{EndpointKey, Report, Seen};
use crate::model::State;
use ipnet::IpNet;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;

/// The verdict for one endpoint across vantages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Open from every vantage.
    Reachable,
    /// Closed from every vantage: the host answers, nothing listens.
    NotListening,
    /// Filtered from every vantage: the security group or the host firewall.
    ServerSide,
    /// Open from some, filtered from others: a rule with a source list.
    SourceRestricted,
    /// The failing vantages are blocked on other endpoints too: their own egress firewall.
    VantageEgress,
    /// Only the vantages that probed over IPv6 fail: the AAAA record or the IPv6 bind.
    Ipv6,
    /// Different answers from one network: load balancing or anycast.
    LoadBalancing,
    /// UDP silence from every vantage: open or filtered, no vantage can tell.
    Silent,
    /// No vantage could probe it (the name does not resolve, no route).
    Error,
    /// Answers that fit none of the above.
    Mixed,
}

impl Verdict {
    /// The word in every output.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Reachable => "reachable",
            Self::NotListening => "not_listening",
            Self::ServerSide => "server_side",
            Self::SourceRestricted => "source_restricted",
            Self::VantageEgress => "vantage_egress",
            Self::Ipv6 => "ipv6",
            Self::LoadBalancing => "load_balancing",
            Self::Silent => "silent",
            Self::Error => "error",
            Self::Mixed => "mixed",
        }
    }
}

/// One endpoint, judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// Which endpoint.
    pub key: EndpointKey,
    /// The check's expectation (`check` reports).
    pub expect: Option<String>,
    /// What each vantage saw, in the order of [`Merged::vantages`]; `None`: not probed there.
    pub cells: Vec<Option<Seen>>,
    /// The verdict.
    pub verdict: Verdict,
    /// The verdict in one sentence, naming the vantages.
    pub why: String,
    /// The facts behind it.
    pub evidence: Vec<String>,
    /// Every vantage's check held (`check` reports); for `probe` reports: open everywhere.
    pub holds: bool,
}

/// Every endpoint of every report, judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// The vantages, in the order the reports were given.
    pub vantages: Vec<String>,
    /// The endpoints, in the order first seen.
    pub endpoints: Vec<Judged>,
}

impl Merged {
    /// Every endpoint holds.
    pub fn holds(&self) -> bool {
        self.endpoints.iter().all(|e| e.holds)
    }

    /// How many endpoints got each verdict, the commonest first (ties by word).
    pub fn counts(&self) -> Vec<(Verdict, usize)> {
        let mut counts: Vec<(Verdict, usize)> = Vec::new();
        for e in &self.endpoints {
            match counts.iter_mut().find(|(v, _)| *v == e.verdict) {
                Some((_, n)) => *n += 1,
                None => counts.push((e.verdict, 1)),
            }
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.as_str().cmp(b.0.as_str())));
        counts
    }
}

/// What a state says about the path from one vantage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    Open,
    Closed,
    /// Dropped or refused on the way, or by the vantage's own firewall (`local-error`).
    Blocked,
    Silent,
    Error,
}

pub(super) fn class(seen: &Seen) -> Class {
    match seen.state {
        State::Open => Class::Open,
        State::Closed => Class::Closed,
        State::Filtered => Class::Blocked,
        State::OpenFiltered => Class::Silent,
        State::Error if seen.reason == "local-error" => Class::Blocked,
        State::Error => Class::Error,
    }
}

/// The network a source address is in, for "the same network": a /24 or a /64.
fn network(address: IpAddr) -> IpNet {
    let len = if address.is_ipv4() { 24 } else { 64 };
    IpNet::new(address, len).map_or_else(|_| IpNet::from(address), |n| n.trunc())
}

/// Judges the reports, each with its vantage's name (unique; the caller checks).
pub fn merge(reports: &[(String, Report)]) -> Merged {
    let vantages: Vec<String> = reports.iter().map(|(name, _)| name.clone()).collect();
    let networks: Vec<Vec<IpNet>> = reports
        .iter()
        .map(|(_, r)| {
            let mut nets: Vec<IpNet> = Vec::new();
            let observed = r.seen.iter().filter_map(|s| s.observed_source);
            for net in r.sources.iter().copied().chain(observed).map(network) {
                if !nets.contains(&net) {
                    nets.push(net);
                }
            }
            nets
        })
        .collect();
    let mut table: Vec<(EndpointKey, Option<String>, Vec<Option<Seen>>)> = Vec::new();
    // Each endpoint's row, found by key: a scan of the table for each record made two full
    // sweeps (131,070 records) take 11 s.
    let mut rows: HashMap<&EndpointKey, usize> = HashMap::new();
    for (v, (_, report)) in reports.iter().enumerate() {
        for seen in &report.seen {
            let at = *rows.entry(&seen.key).or_insert_with(|| {
                table.push((seen.key.clone(), None, vec![None; reports.len()]));
                table.len() - 1
            });
            let row = &mut table[at];
            if row.1.is_none() {
                row.1.clone_from(&seen.expect);
            }
            row.2[v].get_or_insert_with(|| seen.clone());
        }
    }
    let ctx = Context {
        vantages: &vantages,
        networks: &networks,
        table: &table,
    };
    // First without the egress rule, whose evidence is the other endpoints' plain verdicts.
    let plain: Vec<Verdict> = (0..table.len()).map(|i| ctx.judge(i, None).0).collect();
    let mut elsewhere = Elsewhere::new(&table, reports.len(), &plain);
    let endpoints = table
        .iter()
        .enumerate()
        .map(|(i, (key, expect, cells))| {
            let (verdict, why, evidence) = ctx.judge(i, Some(&mut elsewhere));
            let checked: Vec<bool> = cells.iter().flatten().filter_map(|s| s.holds).collect();
            let holds = if checked.is_empty() {
                verdict == Verdict::Reachable
            } else {
                checked.iter().all(|h| *h)
            };
            Judged {
                key: key.clone(),
                expect: expect.clone(),
                cells: cells.clone(),
                verdict,
                why,
                evidence,
                holds,
            }
        })
        .collect();
    Merged {
        vantages,
        endpoints,
    }
}

/// The verdict when every vantage saw the same kind of answer.
fn uniform(present: &[(usize, &Seen, Class)]) -> Option<(Verdict, String)> {
    let first = present.first()?.2;
    if present.iter().any(|p| p.2 != first) {
        return None;
    }
    let (verdict, word, why) = match first {
        Class::Open => (Verdict::Reachable, "open", ""),
        Class::Closed => (
            Verdict::NotListening,
            "closed",
            ": the host answers, nothing listens on the port",
        ),
        Class::Blocked => (
            Verdict::ServerSide,
            "filtered",
            ": the server side drops it, its security group or its host firewall",
        ),
        Class::Silent => (
            Verdict::Silent,
            "open|filtered",
            ": UDP silence; a responder on the server (ipdiag serve --udp) tells open from filtered",
        ),
        Class::Error => (
            Verdict::Error,
            "error",
            ": no vantage could probe it (the name does not resolve, or no route)",
        ),
    };
    let n = present.len();
    Some((verdict, format!("{word} from every vantage ({n}){why}")))
}

pub(super) type Row = (EndpointKey, Option<String>, Vec<Option<Seen>>);

struct Context<'a> {
    vantages: &'a [String],
    networks: &'a [Vec<IpNet>],
    table: &'a [Row],
}

impl Context<'_> {
    /// The verdict of endpoint `at`; `elsewhere` (made from the verdicts without the egress
    /// rule) turns the egress rule on.
    fn judge(
        &self,
        at: usize,
        elsewhere: Option<&mut Elsewhere>,
    ) -> (Verdict, String, Vec<String>) {
        let egress_rule = elsewhere.is_some();
        let cells = &self.table[at].2;
        let present: Vec<(usize, &Seen, Class)> = cells
            .iter()
            .enumerate()
            .filter_map(|(v, s)| s.as_ref().map(|s| (v, s, class(s))))
            .collect();
        let mut evidence: Vec<String> = cells
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_none())
            .map(|(v, _)| format!("not probed from {}", self.vantages[v]))
            .collect();
        let states = self.states(&present);
        if let Some((verdict, why)) = uniform(&present) {
            return (verdict, why, evidence);
        }
        let best = if present.iter().any(|p| p.2 == Class::Open) {
            Class::Open
        } else if present.iter().any(|p| p.2 == Class::Closed) {
            Class::Closed
        } else {
            return (
                Verdict::Mixed,
                format!("{states}: no vantage reaches it"),
                evidence,
            );
        };
        let (reaching, failing): (Vec<_>, Vec<_>) = present.iter().partition(|p| p.2 == best);
        let names = |list: &[&(usize, &Seen, Class)]| self.names(list.iter().map(|p| p.0));
        let family = |list: &[&(usize, &Seen, Class)], v6: bool| {
            list.iter()
                .all(|p| p.1.address.is_some_and(|a| a.is_ipv6() == v6))
        };
        if family(&failing, true) && family(&reaching, false) {
            let why = format!(
                "{states}: only the vantages that probed over IPv6 fail ({}), so the AAAA record or the listener's IPv6 bind",
                names(&failing)
            );
            return (Verdict::Ipv6, why, evidence);
        }
        let blocked = failing.iter().all(|p| p.2 == Class::Blocked);
        let failing_ids: Vec<usize> = failing.iter().map(|p| p.0).collect();
        if blocked
            && let Some(elsewhere) = elsewhere
            && let Some(others) = elsewhere.others(&failing_ids, at)
        {
            evidence.push(format!(
                "{} also blocked on {}, which other vantages reach",
                names(&failing),
                self.endpoints(&others)
            ));
            let why = format!(
                "{states}: the egress firewall of {} (its own or its network's): blocked on other endpoints too that the others reach",
                names(&failing)
            );
            return (Verdict::VantageEgress, why, evidence);
        }
        if let Some((r, f, net)) = self.shared_network(&reaching, &failing) {
            let why = format!(
                "{states}: different answers from the same network ({} and {} are both in {net}), so load balancing or anycast: different servers answer",
                self.vantages[r], self.vantages[f]
            );
            return (Verdict::LoadBalancing, why, evidence);
        }
        if blocked {
            let why = format!(
                "{states}: a rule restricted by source (a security group or firewall rule with a source list) admits {} but not {}",
                names(&reaching),
                names(&failing)
            );
            if egress_rule {
                evidence.push(format!(
                    "{} blocked on no other endpoint that others reach: not its own egress firewall",
                    names(&failing)
                ));
            }
            return (Verdict::SourceRestricted, why, evidence);
        }
        let why = format!(
            "{states}: different answers from different places: load balancing, anycast or DNS sending them to different servers, or a rule that rejects some sources"
        );
        (Verdict::Mixed, why, evidence)
    }

    /// `a:1/tcp, a:2/tcp, a:3/tcp and 5 more`.
    fn endpoints(&self, others: &Others) -> String {
        let named: Vec<String> = others
            .first
            .iter()
            .map(|&e| self.table[e].0.endpoint())
            .collect();
        let mut text = named.join(", ");
        if others.count > named.len() {
            let _ = write!(text, " and {} more", others.count - named.len());
        }
        text
    }

    /// A reaching and a failing vantage in one network, and the network.
    fn shared_network(
        &self,
        reaching: &[&(usize, &Seen, Class)],
        failing: &[&(usize, &Seen, Class)],
    ) -> Option<(usize, usize, IpNet)> {
        for r in reaching {
            for f in failing {
                let shared = self.networks[r.0]
                    .iter()
                    .find(|n| self.networks[f.0].contains(n));
                if let Some(net) = shared {
                    return Some((r.0, f.0, *net));
                }
            }
        }
        None
    }

    /// `open from a, b; filtered from c` (states in the order first seen).
    fn states(&self, present: &[(usize, &Seen, Class)]) -> String {
        let mut groups: Vec<(&'static str, Vec<usize>)> = Vec::new();
        for (v, seen, _) in present {
            let word = seen.state.as_str();
            match groups.iter_mut().find(|(w, _)| *w == word) {
                Some((_, list)) => list.push(*v),
                None => groups.push((word, vec![*v])),
            }
        }
        let mut out = String::new();
        for (i, (word, list)) in groups.iter().enumerate() {
            let sep = if i == 0 { "" } else { "; " };
            let _ = write!(out, "{sep}{word} from {}", self.names(list.iter().copied()));
        }
        out
    }

    fn names(&self, list: impl Iterator<Item = usize>) -> String {
        list.map(|v| self.vantages[v].as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
#[path = "judge_tests.rs"]
mod tests;
