//! The walk of one packet through a ruleset, as the kernel makes it: base chains on the way
//! in (prerouting, then input) in priority order, each rule in order, `jump` and `goto` into
//! other chains and back on `return` or at their end, a base chain's policy when nothing
//! decided. An accept ends one base chain only; a drop or reject anywhere is final.
//!
//! Pure: no I/O. A match ipdiag cannot evaluate is taken as not holding on the main walk and
//! remembered; `summary.rs` walks again assuming it holds, to tell whether it could change
//! the verdict ("may apply").

use super::model::{Action, Chain, Hook, IpFamily, Match, Policy, Ports, Ruleset};
use crate::model::Transport;
use ipnet::IpNet;
use serde::Serialize;
use std::net::IpAddr;

/// The packet in question: the first packet of a new connection (TCP) or flow (UDP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Packet {
    /// IPv4 or IPv6.
    pub family: IpFamily,
    /// The transport.
    pub protocol: Transport,
    /// The destination port.
    pub port: u16,
    /// The sender, when known; `None` asks "from where is it let in?".
    pub source: Option<IpAddr>,
    /// The interface it arrives on, when known; `None` asks "on which?". A packet from
    /// another machine never arrives on `lo`.
    pub interface: Option<String>,
    /// The addresses it may be sent to (this host's own); empty when not known. A rule on
    /// the destination holds when all of them match, and is unknown when only some do.
    pub destinations: Vec<IpAddr>,
}

impl Packet {
    /// A new connection to `port` from anywhere, on any interface.
    pub const fn new(family: IpFamily, protocol: Transport, port: u16) -> Self {
        Self {
            family,
            protocol,
            port,
            source: None,
            interface: None,
            destinations: Vec::new(),
        }
    }
}

/// The IANA protocol number of a transport.
pub const fn protocol_number(protocol: Transport) -> u8 {
    match protocol {
        Transport::Tcp => 6,
        Transport::Udp => 17,
        Transport::Dccp => 33,
        Transport::Sctp => 132,
    }
}

/// A rule's place: chain index and rule index, `None` for the chain's policy.
pub type RuleId = (usize, Option<usize>);

/// Whether a match holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holds {
    /// It does.
    Yes,
    /// It does not.
    No,
    /// ipdiag cannot tell: the text says what it could not evaluate.
    Unknown(String),
}

/// The end of one packet's walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Every base chain let it through.
    Accepted,
    /// Dropped.
    Dropped,
    /// Refused.
    Rejected,
}

/// One walk's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walked {
    /// What became of the packet.
    pub fate: Fate,
    /// The rule (or policy) that dropped or rejected it.
    pub by: Option<RuleId>,
    /// The chains that led to the deciding rule, the base chain first (for a policy: every
    /// chain entered from it), for naming the tool that owns them.
    pub path: Vec<usize>,
    /// Rules met whose matches or action ipdiag cannot evaluate, with what it could not.
    pub unknowns: Vec<(RuleId, String)>,
}

/// How a chain ended.
enum Flow {
    /// It returned, or ran out of rules.
    Fall,
    /// Accepted by this base chain.
    Accept,
    /// Dropped or refused.
    Stop(Fate, RuleId),
}

/// Deeper than this, a chain is not entered (the kernel refuses loops; nft allows 16 jumps).
const MAX_DEPTH: usize = 32;
/// Rules looked at in one walk at most. The kernel refuses loops, but a chain that jumps to
/// the same chains from several rules is walked once per jump: a ruleset text (a fuzzer's,
/// or a broken one) with such fan-out at every level would take 2^32 steps. Real rulesets
/// need a few thousand; past this the walk stops and says so ("may apply").
const MAX_STEPS: usize = 200_000;

/// Walks `packet` through `set`; `assume` is a rule whose unknown match (or unknown
/// action: then it drops) is taken as holding.
pub fn walk(set: &Ruleset, packet: &Packet, assume: Option<RuleId>) -> Walked {
    let mut bases: Vec<(Hook, i32, usize)> = set
        .chains
        .iter()
        .enumerate()
        .filter(|(_, c)| c.family.covers(packet.family))
        .filter_map(|(i, c)| c.base.map(|b| (b.hook, b.priority, i)))
        .collect();
    bases.sort_unstable();
    let mut walker = Walker {
        set,
        packet,
        assume,
        path: Vec::new(),
        entered: Vec::new(),
        unknowns: Vec::new(),
        steps: 0,
    };
    for (_, _, base) in bases {
        walker.path.clear();
        walker.entered.clear();
        let flow = walker.chain(base, 0);
        let policy = set.chains[base].base.map(|b| b.policy);
        let stop = match flow {
            Flow::Fall if policy == Some(Policy::Drop) => Some((Fate::Dropped, (base, None))),
            Flow::Accept | Flow::Fall => None,
            Flow::Stop(fate, by) => Some((fate, by)),
        };
        if let Some((fate, by)) = stop {
            let path = if by.1.is_none() {
                walker.entered
            } else {
                walker.path
            };
            return Walked {
                fate,
                by: Some(by),
                path,
                unknowns: walker.unknowns,
            };
        }
    }
    Walked {
        fate: Fate::Accepted,
        by: None,
        path: Vec::new(),
        unknowns: walker.unknowns,
    }
}

struct Walker<'a> {
    set: &'a Ruleset,
    packet: &'a Packet,
    assume: Option<RuleId>,
    /// The chains being walked, as a call stack.
    path: Vec<usize>,
    /// Every chain entered since the base chain.
    entered: Vec<usize>,
    unknowns: Vec<(RuleId, String)>,
    /// Rules looked at so far ([`MAX_STEPS`]).
    steps: usize,
}

impl Walker<'_> {
    fn chain(&mut self, index: usize, depth: usize) -> Flow {
        let Some(chain) = self.set.chains.get(index) else {
            return Flow::Fall;
        };
        if depth > MAX_DEPTH {
            return Flow::Fall;
        }
        self.path.push(index);
        self.entered.push(index);
        let flow = self.rules(chain, index, depth);
        if matches!(flow, Flow::Fall) {
            self.path.pop();
        }
        flow
    }

    fn rules(&mut self, chain: &Chain, index: usize, depth: usize) -> Flow {
        for (r, rule) in chain.rules.iter().enumerate() {
            let id = (index, Some(r));
            self.steps += 1;
            if self.steps > MAX_STEPS {
                if self.steps == MAX_STEPS + 1 {
                    let what = format!("{MAX_STEPS} rules walked: the rest of the ruleset");
                    self.unknowns.push((id, what));
                }
                return Flow::Fall;
            }
            let action = match all(&rule.matches, self.packet) {
                Holds::No => continue,
                Holds::Yes => &rule.action,
                Holds::Unknown(what) => {
                    if matches!(rule.action, Action::Continue) {
                        continue;
                    }
                    self.unknowns.push((id, what));
                    if self.assume != Some(id) {
                        continue;
                    }
                    &rule.action
                }
            };
            let Some(action) = self.map(action, id) else {
                continue;
            };
            if let Some(flow) = self.act(chain, index, id, action, depth) {
                return flow;
            }
        }
        Flow::Fall
    }

    /// A verdict map's entry for the packet (the action itself when it is no map); `None`
    /// when no entry holds.
    fn map<'r>(&mut self, action: &'r Action, id: RuleId) -> Option<&'r Action> {
        let Action::Map(entries) = action else {
            return Some(action);
        };
        for (matches, action) in entries {
            match all(matches, self.packet) {
                Holds::Yes => return Some(action),
                Holds::No => {}
                Holds::Unknown(what) => {
                    self.unknowns.push((id, what));
                    if self.assume == Some(id) {
                        return Some(action);
                    }
                }
            }
        }
        None
    }

    /// Does an action; `None` carries on with the next rule.
    fn act(
        &mut self,
        chain: &Chain,
        index: usize,
        id: RuleId,
        action: &Action,
        depth: usize,
    ) -> Option<Flow> {
        match action {
            Action::Continue | Action::Map(_) => None,
            Action::Accept => Some(Flow::Accept),
            Action::Drop => Some(Flow::Stop(Fate::Dropped, id)),
            Action::Reject => Some(Flow::Stop(Fate::Rejected, id)),
            Action::Return => Some(Flow::Fall),
            Action::Jump(target) | Action::Goto(target) => {
                let Some(next) = self.set.find(index, target) else {
                    let what = format!(
                        "{} jumps to {target}, which is not in the ruleset",
                        chain.name
                    );
                    self.unknowns.push((id, what));
                    return None;
                };
                // A chain already being walked: a loop, which the kernel refuses to load.
                if self.path.contains(&next) {
                    let what = format!("{} jumps back to {target}: a loop", chain.name);
                    self.unknowns.push((id, what));
                    return None;
                }
                match self.chain(next, depth + 1) {
                    Flow::Fall if matches!(action, Action::Jump(_)) => None,
                    flow => Some(flow),
                }
            }
            Action::Unknown(what) => {
                self.unknowns.push((id, what.clone()));
                (self.assume == Some(id)).then_some(Flow::Stop(Fate::Dropped, id))
            }
        }
    }
}

/// Whether all of the matches hold: `No` wins over `Unknown`, which wins over `Yes`.
pub fn all(matches: &[Match], packet: &Packet) -> Holds {
    let mut result = Holds::Yes;
    for m in matches {
        match holds(m, packet) {
            Holds::No => return Holds::No,
            Holds::Unknown(what) if result == Holds::Yes => result = Holds::Unknown(what),
            _ => {}
        }
    }
    result
}

/// Whether one match holds.
pub fn holds(m: &Match, packet: &Packet) -> Holds {
    let (negated, inside) = match m {
        Match::Protocol { negated, numbers } => (
            *negated,
            Some(numbers.contains(&protocol_number(packet.protocol))),
        ),
        Match::DestinationPort { negated, ports } => (*negated, port_in(ports, packet.port)),
        Match::Source { negated, nets } => (*negated, packet.source.map(|a| contains(nets, a))),
        Match::Destination { negated, nets } => (*negated, destination_in(nets, packet)),
        Match::InInterface { negated, names } => (
            *negated,
            packet
                .interface
                .as_deref()
                .map(|i| names.iter().any(|n| interface_is(n, i))),
        ),
        Match::CtState { negated, states } => (*negated, Some(states.iter().any(|s| s == "new"))),
        Match::Family(family) => (false, Some(*family == packet.family)),
        Match::Known(yes) => (false, Some(*yes)),
        Match::Unknown(what) => return Holds::Unknown(what.clone()),
    };
    match inside {
        Some(inside) if inside != negated => Holds::Yes,
        Some(_) => Holds::No,
        None => Holds::Unknown(describe(m)),
    }
}

/// In the ports; `None` when only an unreadable element could hold it.
fn port_in(ports: &Ports, port: u16) -> Option<bool> {
    if ports
        .ranges
        .iter()
        .any(|(lo, hi)| (*lo..=*hi).contains(&port))
    {
        Some(true)
    } else if ports.unknown {
        None
    } else {
        Some(false)
    }
}

fn contains(nets: &[IpNet], address: IpAddr) -> bool {
    nets.iter().any(|n| n.contains(&address))
}

/// A packet from another machine goes to one of this host's unicast, non-loopback
/// addresses: rules on multicast, broadcast or loopback destinations (ufw's mDNS and DHCP,
/// kube-proxy's localnet guard) never hold for it, even when the address is not known.
fn destination_in(nets: &[IpNet], packet: &Packet) -> Option<bool> {
    let never = |n: &IpNet| match n {
        IpNet::V4(n) => {
            n.network().is_multicast() || n.network().is_broadcast() || n.network().is_loopback()
        }
        IpNet::V6(n) => n.network().is_multicast() || n.network().is_loopback(),
    };
    if nets.iter().all(never) {
        return Some(false);
    }
    let mine: Vec<&IpAddr> = packet
        .destinations
        .iter()
        .filter(|a| {
            matches!(
                (a, packet.family),
                (IpAddr::V4(_), IpFamily::V4) | (IpAddr::V6(_), IpFamily::V6)
            )
        })
        .collect();
    let inside = mine.iter().filter(|a| contains(nets, ***a)).count();
    match inside {
        _ if mine.is_empty() => None,
        0 => Some(false),
        n if n == mine.len() => Some(true),
        _ => None,
    }
}

/// `eth0` is `eth0`; `eth*` (nft) or `eth+` (iptables) any name starting `eth`.
pub fn interface_is(pattern: &str, name: &str) -> bool {
    match pattern
        .strip_suffix('*')
        .or_else(|| pattern.strip_suffix('+'))
    {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// A match whose operand is not known, in words.
fn describe(m: &Match) -> String {
    match m {
        Match::Source { .. } => "the source address".into(),
        Match::Destination { .. } => "the destination address".into(),
        Match::InInterface { .. } => "the input interface".into(),
        Match::DestinationPort { .. } => "a port given by name".into(),
        _ => "a condition".into(),
    }
}
