//! From walks to a verdict: which sources and interfaces a port is let in from, the rule
//! that stops the rest, and the rules that may change that (`evaluate`).
//!
//! Pure. When the packet's source is not given, the address space is cut at every network
//! the rules name (the pieces between those edges are treated alike by every rule), one
//! address per piece is walked, and the pieces let in are written back as networks. The
//! interface likewise: each name the rules use, and one that none of them names.

use super::eval::{Fate, Holds, Packet, RuleId, Walked, holds, interface_is, walk};
use super::model::{Action, Backend, IpFamily, Match, Ruleset};
use super::owner::{Owner, fix, owner};
use ipnet::IpNet;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How far a port is let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// From anywhere, on any interface.
    Open,
    /// From some sources or interfaces only (`allowed` says which).
    Restricted,
    /// Not at all.
    Blocked,
}

/// What becomes of the packets not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// Dropped silently: the client waits and times out.
    Drop,
    /// Refused: the client fails at once.
    Reject,
}

/// A rule, where it lives, as the tool prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    /// `nftables`, `iptables`, `ip6tables`.
    pub backend: &'static str,
    /// `inet filter`, `filter` (iptables' table).
    pub table: String,
    /// The chain.
    pub chain: String,
    /// The rule's text, or `policy drop`.
    pub rule: String,
    /// Its comment.
    pub comment: Option<String>,
}

impl RuleRef {
    /// `inet filter input: tcp dport 22 drop` / `-A INPUT -p tcp --dport 22 -j DROP`.
    pub fn text(&self) -> String {
        if self.backend == "nftables" || self.rule.starts_with("policy ") {
            format!("{} {}: {}", self.table, self.chain, self.rule)
        } else {
            self.rule.clone()
        }
    }
}

/// A rule ipdiag could not evaluate that would change the verdict if it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MayApply {
    /// The rule.
    pub rule: RuleRef,
    /// What ipdiag could not evaluate in it.
    pub unknown: String,
    /// What the packet's fate would then be: `accept`, `drop` or `reject`.
    pub would: &'static str,
}

/// Where the port is let in from, when not from everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allowance {
    /// Source networks; empty: any source.
    pub sources: Vec<String>,
    /// The input interface; `None`: any. `other interfaces` is every one the rules do not
    /// name.
    pub interface: Option<String>,
}

/// The firewall's verdict on a packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirewallVerdict {
    /// Open, restricted or blocked.
    pub access: Access,
    /// For the packets not let in: dropped or refused.
    pub stop: Option<Stop>,
    /// The rule (or policy) that stops them.
    pub rule: Option<RuleRef>,
    /// The tool that owns that rule, when it can be told.
    pub owner: Option<Owner>,
    /// The fix in that tool's words.
    pub fix: Option<String>,
    /// `restricted`: where it is let in from.
    pub allowed: Vec<Allowance>,
    /// Rules ipdiag could not evaluate that would change the verdict if they apply.
    pub may_apply: Vec<MayApply>,
}

/// A sentinel interface name: one that no rule names (Linux names never hold a NUL).
const OTHER: &str = "\0other";

/// More pieces than this and the source is left unknown: its rules then "may apply".
const MAX_SOURCES: usize = 512;

/// The same for interface names (with the sources, at most 512 × 33 walks a packet).
const MAX_INTERFACES: usize = 32;

/// Evaluates the packet against the ruleset.
pub fn evaluate(set: &Ruleset, packet: &Packet) -> FirewallVerdict {
    let sources = pieces(set, packet);
    let interfaces = interfaces(set, packet);
    let mut results = Vec::new();
    let mut may_apply: Vec<MayApply> = Vec::new();
    for interface in &interfaces {
        for piece in sources.iter().filter(|p| !never_remote(**p)) {
            let mut p = packet.clone();
            p.interface.clone_from(interface);
            if let Some((start, _)) = piece {
                p.source = Some(*start);
            }
            let main = walk(set, &p, None);
            for (id, unknown) in dedup(&main.unknowns) {
                let other = walk(set, &p, Some(id));
                if (other.fate == Fate::Accepted) != (main.fate == Fate::Accepted)
                    && !may_apply.iter().any(|m| m.rule == rule_ref(set, id))
                {
                    may_apply.push(MayApply {
                        rule: rule_ref(set, id),
                        unknown,
                        would: fate_word(other.fate),
                    });
                }
            }
            results.push((interface.clone(), *piece, main));
        }
    }
    let mut verdict = summarise(set, packet.family, &results);
    verdict.may_apply = may_apply;
    if verdict.access != Access::Open {
        verdict.fix = verdict
            .owner
            .as_ref()
            .map(|o| fix(o, verdict.rule.as_ref(), packet.protocol, packet.port));
    }
    verdict
}

fn fate_word(fate: Fate) -> &'static str {
    match fate {
        Fate::Accepted => "accept",
        Fate::Dropped => "drop",
        Fate::Rejected => "reject",
    }
}

fn dedup(unknowns: &[(RuleId, String)]) -> Vec<(RuleId, String)> {
    let mut out: Vec<(RuleId, String)> = Vec::new();
    for (id, what) in unknowns {
        if !out.iter().any(|(i, _)| i == id) {
            out.push((*id, what.clone()));
        }
    }
    out
}

type Piece = Option<(IpAddr, IpAddr)>;

/// A piece no packet from another machine comes from: loopback, "this network",
/// multicast and reserved sources are martians the kernel drops before any rule (so
/// `ip saddr 127.0.0.0/8 accept` lets nobody in).
fn never_remote(piece: Piece) -> bool {
    let martian = |a: IpAddr| match a {
        IpAddr::V4(a) => a.is_loopback() || a.octets()[0] == 0 || a.octets()[0] >= 224,
        IpAddr::V6(a) => a.is_loopback() || a.is_unspecified() || a.is_multicast(),
    };
    let Some((first, last)) = piece else {
        return false;
    };
    // Pieces are cut at the rules' edges; one inside a martian block starts and ends there.
    let block = |a: IpAddr| match a {
        IpAddr::V4(a) => match a.octets()[0] {
            0 => 0,
            127 => 127,
            224.. => 224,
            _ => 1,
        },
        IpAddr::V6(a) if a.is_multicast() => 2,
        IpAddr::V6(_) => 3,
    };
    martian(first) && martian(last) && block(first) == block(last)
}

fn summarise(
    set: &Ruleset,
    family: IpFamily,
    results: &[(Option<String>, Piece, Walked)],
) -> FirewallVerdict {
    let accepted = results
        .iter()
        .filter(|r| r.2.fate == Fate::Accepted)
        .count();
    // The stopping rule that stops the most pieces is the one to name.
    let mut stops: Vec<(&Walked, usize)> = Vec::new();
    for (_, _, w) in results.iter().filter(|r| r.2.fate != Fate::Accepted) {
        match stops.iter_mut().find(|(s, _)| s.by == w.by) {
            Some(s) => s.1 += 1,
            None => stops.push((w, 1)),
        }
    }
    // On a tie, the first found (reversed: `max_by_key` keeps the last of equals).
    let top = stops.iter().rev().max_by_key(|(_, n)| *n).map(|(w, _)| *w);
    let access = if accepted == results.len() {
        Access::Open
    } else if accepted == 0 {
        Access::Blocked
    } else {
        Access::Restricted
    };
    let rule = top.and_then(|w| w.by).map(|id| rule_ref(set, id));
    let owner = top.map(|w| owner(set, w));
    FirewallVerdict {
        access,
        stop: top.map(|w| {
            if w.fate == Fate::Rejected {
                Stop::Reject
            } else {
                Stop::Drop
            }
        }),
        fix: None,
        owner,
        rule,
        allowed: if access == Access::Restricted {
            allowances(family, results)
        } else {
            Vec::new()
        },
        may_apply: Vec::new(),
    }
}

/// The accepted pieces, per interface, merged into networks.
fn allowances(family: IpFamily, results: &[(Option<String>, Piece, Walked)]) -> Vec<Allowance> {
    let mut interfaces: Vec<&Option<String>> = Vec::new();
    for (i, _, _) in results {
        if !interfaces.contains(&i) {
            interfaces.push(i);
        }
    }
    let per: Vec<(Option<String>, Vec<String>, bool)> = interfaces
        .iter()
        .map(|interface| {
            let mine: Vec<_> = results.iter().filter(|r| &&r.0 == interface).collect();
            let all = mine.iter().all(|r| r.2.fate == Fate::Accepted);
            let ranges: Vec<(IpAddr, IpAddr)> = mine
                .iter()
                .filter(|r| r.2.fate == Fate::Accepted)
                .filter_map(|r| r.1)
                .collect();
            let name = interface.as_ref().map(|n| {
                if n == OTHER {
                    "other interfaces".to_owned()
                } else {
                    n.clone()
                }
            });
            (
                name,
                if all {
                    Vec::new()
                } else {
                    networks(family, &ranges)
                },
                all || !ranges.is_empty(),
            )
        })
        .collect();
    let same = per.windows(2).all(|w| w[0].1 == w[1].1 && w[0].2 == w[1].2);
    if same {
        let sources = per.first().map(|p| p.1.clone()).unwrap_or_default();
        return vec![Allowance {
            sources,
            interface: None,
        }];
    }
    per.into_iter()
        .filter(|(_, _, any)| *any)
        .map(|(interface, sources, _)| Allowance { sources, interface })
        .collect()
}

/// The ruleset's rule at `id` as a reference.
pub fn rule_ref(set: &Ruleset, (chain, rule): RuleId) -> RuleRef {
    let c = &set.chains[chain];
    let table = match c.backend {
        Backend::Nftables => format!("{} {}", c.family.as_str(), c.table),
        Backend::Iptables | Backend::Ip6tables => c.table.clone(),
    };
    let (text, comment) = match rule.and_then(|r| c.rules.get(r)) {
        Some(r) => (r.text.clone(), r.comment.clone()),
        None => ("policy drop".to_owned(), None),
    };
    RuleRef {
        backend: c.backend.as_str(),
        table,
        chain: c.name.clone(),
        rule: text,
        comment,
    }
}

/// Every match of the rules that may hold for the packet (map entries included): a rule
/// whose protocol, port or state already rules the packet out cannot make its source or
/// interface matter, so a ruleset naming thousands of networks for other ports still
/// gives this port a short answer.
fn every_match<'a>(set: &'a Ruleset, packet: &'a Packet) -> impl Iterator<Item = &'a Match> {
    // Whether the matches other than source and interface leave the rule possible.
    let possible = |matches: &[Match]| {
        !matches.iter().any(|m| {
            !matches!(m, Match::Source { .. } | Match::InInterface { .. })
                && holds(m, packet) == Holds::No
        })
    };
    set.chains
        .iter()
        .flat_map(|c| &c.rules)
        .filter(move |r| possible(&r.matches))
        .flat_map(move |r| {
            let entries: &[(Vec<Match>, Action)] = match &r.action {
                Action::Map(entries) => entries,
                _ => &[],
            };
            let entries = entries.iter().filter(move |(m, _)| possible(m));
            r.matches.iter().chain(entries.flat_map(|(m, _)| m))
        })
}

/// The interfaces to walk: the packet's, or each named in the rules (but `lo`, where no
/// packet from another machine arrives) and one named by none.
fn interfaces(set: &Ruleset, packet: &Packet) -> Vec<Option<String>> {
    if packet.interface.is_some() {
        return vec![packet.interface.clone()];
    }
    let mut names: Vec<Option<String>> = Vec::new();
    for m in every_match(set, packet) {
        if let Match::InInterface { names: n, .. } = m {
            for name in n {
                let name = name.trim_end_matches(['*', '+']).to_owned();
                if !interface_is(&name, "lo") && !names.contains(&Some(name.clone())) {
                    names.push(Some(name));
                }
            }
        }
    }
    if names.len() > MAX_INTERFACES {
        return vec![None];
    }
    names.push(Some(OTHER.to_owned()));
    names
}

/// The pieces of the address space to walk, each as (first, last) address; `[None]` when
/// the packet's source is given or too many networks are named.
fn pieces(set: &Ruleset, packet: &Packet) -> Vec<Piece> {
    if packet.source.is_some() {
        return vec![None];
    }
    let v6 = packet.family == IpFamily::V6;
    let mut edges: Vec<u128> = vec![0];
    for m in every_match(set, packet) {
        if let Match::Source { nets, .. } = m {
            for net in nets.iter().filter(|n| matches!(n, IpNet::V6(_)) == v6) {
                let (lo, hi) = (number(net.network()), number(net.broadcast()));
                edges.push(lo);
                if hi < max(v6) {
                    edges.push(hi + 1);
                }
            }
        }
    }
    edges.sort_unstable();
    edges.dedup();
    if edges.len() > MAX_SOURCES {
        return vec![None];
    }
    edges
        .iter()
        .enumerate()
        .map(|(i, lo)| {
            let hi = edges.get(i + 1).map_or(max(v6), |next| next - 1);
            Some((address(*lo, v6), address(hi, v6)))
        })
        .collect()
}

const fn max(v6: bool) -> u128 {
    if v6 { u128::MAX } else { u32::MAX as u128 }
}

fn number(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn address(n: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(n))
    } else {
        IpAddr::V4(Ipv4Addr::from(u32::try_from(n).unwrap_or(u32::MAX)))
    }
}

/// The last address of the block of `2^size` addresses starting at `lo`.
fn last_of(lo: u128, size: u32) -> Option<u128> {
    if size >= 128 {
        (lo == 0).then_some(u128::MAX)
    } else {
        lo.checked_add((1u128 << size) - 1)
    }
}

/// The host bits of the largest aligned block that starts at `lo` and ends by `hi`.
fn block(lo: u128, hi: u128, bits: u32) -> u32 {
    let mut size = lo.trailing_zeros().min(bits);
    while size > 0 && last_of(lo, size).is_none_or(|last| last > hi) {
        size -= 1;
    }
    size
}

/// Address ranges as the fewest networks, adjacent ranges joined first.
fn networks(family: IpFamily, ranges: &[(IpAddr, IpAddr)]) -> Vec<String> {
    let v6 = family == IpFamily::V6;
    let bits = if v6 { 128 } else { 32 };
    let mut spans: Vec<(u128, u128)> = ranges
        .iter()
        .map(|(a, b)| (number(*a), number(*b)))
        .collect();
    spans.sort_unstable();
    let mut joined: Vec<(u128, u128)> = Vec::new();
    for (lo, hi) in spans {
        match joined.last_mut() {
            Some(last) if last.1.checked_add(1) == Some(lo) => last.1 = hi,
            _ => joined.push((lo, hi)),
        }
    }
    let mut out = Vec::new();
    for (mut lo, hi) in joined {
        loop {
            let size = block(lo, hi, bits);
            let prefix = u8::try_from(bits - size).unwrap_or(0);
            out.push(format!("{}/{prefix}", address(lo, v6)));
            let end = last_of(lo, size).unwrap_or(u128::MAX);
            if end >= hi {
                break;
            }
            lo = end + 1;
        }
    }
    out
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;
