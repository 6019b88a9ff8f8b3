//! `ipdiag local`'s firewall side: the rules read once, the verdict on the asked port (per
//! family the binds take) and, for the listing, whether each listener is let in.
//!
//! A recipe over `local::firewall` (the reading and the pure evaluation); must not judge
//! beyond handing the verdicts to `local::verdict` and the report.

use crate::local::firewall::{
    self, Access, FirewallVerdict, FirewallView, IpFamily, Packet, Tools, evaluate,
};
use crate::local::overflow::ReceiveVerdict;
use crate::local::sockets::SocketEntry;
use crate::local::verdict::{
    PortVerdict, Reach, allowed_text, firewall_text, published_verdict, verdict,
};
use crate::model::Transport;
use crate::output::local_report::{
    FirewallRecord, InterfaceRecord, ListenerFirewall, ListenerRecord,
};
use std::net::{IpAddr, SocketAddr};

/// The firewall as read for this run, and the addresses a packet from another machine is
/// sent to (this host's own, loopback aside).
pub struct FirewallSide {
    view: FirewallView,
    mine: Vec<IpAddr>,
}

impl FirewallSide {
    /// Reads the rules (read-only, the tools from the system's directories).
    pub fn read(interfaces: &[InterfaceRecord]) -> Self {
        Self {
            view: firewall::read(&Tools::system()),
            mine: interfaces
                .iter()
                .filter_map(|i| i.address.parse::<IpAddr>().ok())
                .filter(|a| !a.is_loopback())
                .collect(),
        }
    }

    /// Each listener's `firewall` field.
    pub fn annotate(&self, listeners: &mut [ListenerRecord]) {
        if let FirewallView::Read(reading) = &self.view {
            for l in listeners {
                l.firewall = listener_firewall(&reading.ruleset, l, &self.mine);
            }
        }
    }

    /// A new connection to the port from another machine (IPv4), for the counters.
    pub fn packet(&self, protocol: Transport, port: u16) -> Packet {
        Packet {
            destinations: self.mine.clone(),
            ..Packet::new(IpFamily::V4, protocol, port)
        }
    }

    /// `local`'s verdict on the asked port (`local --port` and `local --watch` alike): from
    /// the binds of `sockets`, the firewall's verdict and (UDP) the receive side's, then a
    /// port published by DNAT; with the firewall's verdict and its JSON record.
    pub fn port_verdict(
        &self,
        protocol: Transport,
        port: u16,
        sockets: &[SocketEntry],
        receive: Option<&ReceiveVerdict>,
        notes: &mut Vec<String>,
    ) -> (PortVerdict, Option<FirewallVerdict>, FirewallRecord) {
        let binds: Vec<_> = sockets.iter().map(|s| s.local).collect();
        let (found, record) = self.port(protocol, port, &binds, notes);
        let base = verdict(port, protocol.as_str(), &binds, found.as_ref(), receive);
        let v = self.publication(protocol, port, found.as_ref(), base);
        (v, found, record)
    }

    /// `base` unless the port is published by DNAT (`local::verdict::published_verdict`).
    fn publication(
        &self,
        protocol: Transport,
        port: u16,
        found: Option<&FirewallVerdict>,
        base: PortVerdict,
    ) -> PortVerdict {
        let FirewallView::Read(reading) = &self.view else {
            return base;
        };
        let published = firewall::published(&reading.dnats, &self.packet(protocol, port));
        published_verdict(port, protocol.as_str(), &published, found, base)
    }

    /// The verdict on a new connection to the port, and its JSON record.
    fn port(
        &self,
        protocol: Transport,
        port: u16,
        binds: &[SocketAddr],
        notes: &mut Vec<String>,
    ) -> (Option<FirewallVerdict>, FirewallRecord) {
        let asked = self.packet(protocol, port);
        firewall_record(&self.view, &asked, binds, notes)
    }
}

/// The families a new connection to these binds may use: `0.0.0.0` and addresses IPv4,
/// `::` both (dual-stack by default), IPv6 addresses IPv6. IPv4 when nothing listens.
fn families(binds: &[SocketAddr]) -> Vec<IpFamily> {
    let v4 = binds.is_empty() || binds.iter().any(|b| b.is_ipv4() || b.ip().is_unspecified());
    let v6 = binds.iter().any(SocketAddr::is_ipv6);
    [(v4, IpFamily::V4), (v6, IpFamily::V6)]
        .into_iter()
        .filter_map(|(yes, f)| yes.then_some(f))
        .collect()
}

/// The firewall's verdict on a new connection to the port (the first family the binds
/// take; another family's differing verdict becomes a note), and the JSON record.
fn firewall_record(
    view: &FirewallView,
    asked: &Packet,
    binds: &[SocketAddr],
    notes: &mut Vec<String>,
) -> (Option<FirewallVerdict>, FirewallRecord) {
    let reading = match view {
        FirewallView::Read(reading) => reading,
        FirewallView::Unavailable(why) => {
            let record = FirewallRecord {
                available: false,
                hits: Vec::new(),
                error: Some(why.clone()),
                read_from: Vec::new(),
                verdict: None,
            };
            return (None, record);
        }
    };
    let mut verdicts = families(binds).into_iter().map(|family| {
        let packet = Packet {
            family,
            ..asked.clone()
        };
        (family, evaluate(&reading.ruleset, &packet))
    });
    let (_, first) = verdicts
        .next()
        .unwrap_or_else(|| (asked.family, evaluate(&reading.ruleset, asked)));
    for (family, other) in verdicts.filter(|(_, v)| v.access != first.access) {
        let name = if family == IpFamily::V6 {
            "IPv6"
        } else {
            "IPv4"
        };
        let what = match other.access {
            Access::Open => "lets it in".to_owned(),
            _ => firewall_text(&other),
        };
        notes.push(format!("over {name} {what}"));
    }
    for m in first.may_apply.iter().skip(1) {
        notes.push(format!(
            "this rule may also apply, which would {} the packet: {} (ipdiag cannot evaluate {})",
            m.would,
            m.rule.text(),
            m.unknown
        ));
    }
    let hits = first
        .rule
        .iter()
        .filter(|_| first.access != Access::Open)
        .map(|r| format!("{}: {}", r.backend, r.text()))
        .collect();
    let record = FirewallRecord {
        available: true,
        hits,
        error: None,
        read_from: reading.read_from.clone(),
        verdict: Some(first.clone()),
    };
    (Some(first), record)
}

/// Whether the firewall lets a listener's port in, for the listing without `--port`;
/// `None` for loopback binds (other machines never reach them).
fn listener_firewall(
    ruleset: &firewall::Ruleset,
    l: &ListenerRecord,
    mine: &[IpAddr],
) -> Option<ListenerFirewall> {
    if l.reach == Reach::ThisMachine.as_str() {
        return None;
    }
    let protocol = Transport::parse(l.protocol)?;
    let family = if l.address.contains(':') {
        IpFamily::V6
    } else {
        IpFamily::V4
    };
    let packet = Packet {
        destinations: mine.to_vec(),
        ..Packet::new(family, protocol, l.port)
    };
    let v = evaluate(ruleset, &packet);
    let detail = match v.access {
        Access::Open => None,
        Access::Restricted => Some(format!("allowed only {}", allowed_text(&v.allowed))),
        Access::Blocked => v.rule.as_ref().map(firewall::RuleRef::text),
    };
    Some(ListenerFirewall {
        access: v.access,
        detail,
        may_apply: v.may_apply.iter().map(|m| m.rule.text()).collect(),
    })
}
