//! `ipdiag local`: the server's view as text or JSON.

use super::local_receive::{self, ReceiveRecord};
use crate::local::firewall::trace::TracedPacket;
use crate::local::firewall::{Access, FirewallVerdict};
use crate::local::verdict::{PortVerdict, Reach};
use serde::Serialize;
use std::fmt::Write as _;

/// Everything `local` found.
#[derive(Debug, Serialize)]
pub struct LocalReport {
    /// Interface addresses.
    pub interfaces: Vec<InterfaceRecord>,
    /// No interface has a public address: this host is behind NAT (as a cloud VM is).
    pub nat: bool,
    /// Listening TCP and bound UDP sockets (only the port's, with `--port`).
    pub listening: Vec<ListenerRecord>,
    /// With `--port`: the verdict.
    pub port: Option<PortRecord>,
    /// With `--port`: what the firewall does to it.
    pub firewall: Option<FirewallRecord>,
    /// With `--port` and `--udp`: its receive queue, buffer and drops.
    pub receive: Option<ReceiveRecord>,
    /// With `--trace-firewall`: each new connection that arrived, and the rule that
    /// decided it, as the kernel traced it.
    pub trace: Option<Vec<TracedPacket>>,
    /// What could not be seen (other users' processes without root, say).
    pub notes: Vec<String>,
}

/// One interface address.
#[derive(Debug, Serialize)]
pub struct InterfaceRecord {
    /// Interface name.
    pub name: String,
    /// The address.
    pub address: String,
    /// Its prefix length.
    pub prefix: u8,
    /// Its scope (`public`, `private`, `loopback`, …).
    pub scope: &'static str,
}

/// One listening socket.
#[derive(Debug, Serialize)]
pub struct ListenerRecord {
    /// `tcp` or `udp`.
    pub protocol: &'static str,
    /// Bind address.
    pub address: String,
    /// Port.
    pub port: u16,
    /// Owning process id, when visible.
    pub pid: Option<u32>,
    /// Owning process name, when visible.
    pub process: Option<String>,
    /// `everywhere`, `this_machine`, `one_address`.
    pub reach: &'static str,
    /// UDP: datagrams dropped for a full receive buffer.
    pub drops: Option<u64>,
    /// Bytes waiting in the receive queue.
    pub rx_queue: u64,
    /// With `--port` and `--udp`: the receive buffer (`SO_RCVBUF` as granted), when known.
    pub rcvbuf_bytes: Option<u64>,
    /// With `--watch`: datagrams dropped while watched.
    pub drops_delta: Option<u64>,
    /// Whether the firewall lets a new connection to it in (not for loopback binds, nor
    /// when the rules cannot be read).
    pub firewall: Option<ListenerFirewall>,
}

/// The firewall's answer for one listener.
#[derive(Debug, Serialize)]
pub struct ListenerFirewall {
    /// `open` (from anywhere), `restricted` (from some sources or interfaces), `blocked`.
    pub access: Access,
    /// `allowed only from 192.0.2.0/24`, or the rule that blocks it.
    pub detail: Option<String>,
    /// Rules ipdiag could not evaluate that would change the answer if they apply.
    pub may_apply: Vec<String>,
}

/// The verdict on the asked port.
#[derive(Debug, Serialize)]
pub struct PortRecord {
    /// The port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub protocol: &'static str,
    /// `ok`, `not_listening`, `loopback_bind`, `host_firewall`, `receive_buffer_overflow`.
    pub cause: &'static str,
    /// What was seen and what to do.
    pub detail: String,
}

impl PortRecord {
    /// From a verdict.
    pub fn new(port: u16, protocol: &'static str, v: &PortVerdict) -> Self {
        Self {
            port,
            protocol,
            cause: v.cause.as_str(),
            detail: v.detail.clone(),
        }
    }
}

/// The firewall's rules on the asked port.
#[derive(Debug, Serialize)]
pub struct FirewallRecord {
    /// Whether the rules could be read.
    pub available: bool,
    /// The rule that stops the port, when it is not let in from everywhere
    /// (`nftables: inet filter input: policy drop`).
    pub hits: Vec<String>,
    /// Why they could not be read.
    pub error: Option<String>,
    /// What was read (`nft -j list ruleset`, `iptables-save (legacy)`).
    pub read_from: Vec<String>,
    /// The evaluation: open, restricted or blocked, the deciding rule, its owner and fix,
    /// where it is let in from, and the rules that may apply.
    pub verdict: Option<FirewallVerdict>,
}

/// The firewall lines under the port's verdict.
fn firewall_text(f: &FirewallRecord, out: &mut String) {
    if let Some(why) = &f.error {
        let _ = writeln!(out, "Firewall: not readable: {why}");
        return;
    }
    let Some(v) = &f.verdict else {
        return;
    };
    match (v.access, &v.rule) {
        (Access::Open, _) | (_, None) => out.push_str("Firewall: no rule drops or rejects it\n"),
        (Access::Restricted, Some(rule)) => {
            let allowed = crate::local::verdict::allowed_text(&v.allowed);
            let _ = writeln!(
                out,
                "Firewall: allowed only {allowed}; the rest stopped by {}",
                rule.text()
            );
        }
        (Access::Blocked, Some(rule)) => {
            let _ = writeln!(
                out,
                "Firewall: stopped by {} ({})",
                rule.text(),
                rule.backend
            );
        }
    }
    let managed = |tool: &str| !matches!(tool, "nftables" | "iptables" | "ip6tables");
    let owner = v
        .owner
        .as_ref()
        .filter(|o| v.access != Access::Open && managed(o.tool));
    if let Some(owner) = owner {
        let zone = owner
            .zone
            .as_ref()
            .map_or_else(String::new, |z| format!(", zone {z}"));
        let _ = writeln!(out, "Firewall: owned by {}{zone}", owner.tool);
    }
    if let Some(fix) = &v.fix {
        let _ = writeln!(out, "Firewall: fix: {fix}");
    }
    for m in &v.may_apply {
        let _ = writeln!(
            out,
            "Firewall: may apply (would {}): {} (ipdiag cannot evaluate {})",
            m.would,
            m.rule.text(),
            m.unknown
        );
    }
    if !f.read_from.is_empty() {
        let _ = writeln!(out, "Firewall: read from {}", f.read_from.join(", "));
    }
}

/// The report as text.
pub fn text(r: &LocalReport) -> String {
    let mut out = String::from("Interfaces:\n");
    if r.interfaces.is_empty() {
        out.push_str("  (none)\n");
    }
    let cidr = |i: &InterfaceRecord| format!("{}/{}", i.address, i.prefix);
    let name_width = r.interfaces.iter().map(|i| i.name.len()).max().unwrap_or(0);
    let cidr_width = r
        .interfaces
        .iter()
        .map(|i| cidr(i).len())
        .max()
        .unwrap_or(0);
    for i in &r.interfaces {
        let _ = writeln!(
            out,
            "  {:<name_width$}  {:<cidr_width$}  {}",
            i.name,
            cidr(i),
            i.scope
        );
    }
    if r.nat {
        out.push_str("  No public address on any interface: this host is behind NAT (a cloud VM's public IP lives on the provider's edge). Servers must bind 0.0.0.0 or the private IP.\n");
    }
    out.push_str("\nListening:\n");
    if r.listening.is_empty() {
        out.push_str("  (nothing)\n");
    }
    for l in &r.listening {
        let process = match (&l.process, l.pid) {
            (Some(name), Some(pid)) => format!("{name} ({pid})"),
            _ => "?".to_owned(),
        };
        let drops = l
            .drops
            .filter(|d| *d > 0)
            .map_or_else(String::new, |d| format!(", {d} drops"));
        let reach = match l.reach {
            "everywhere" => Reach::Everywhere.text(),
            "this_machine" => Reach::ThisMachine.text(),
            _ => Reach::OneAddress.text(),
        };
        let firewall = l.firewall.as_ref().map_or_else(String::new, |f| {
            let access = match f.access {
                Access::Open => "open",
                Access::Restricted => "restricted",
                Access::Blocked => "blocked",
            };
            let detail = f
                .detail
                .as_ref()
                .map_or_else(String::new, |d| format!(" ({d})"));
            let may = if f.may_apply.is_empty() {
                ""
            } else {
                ", a rule may apply"
            };
            format!(", firewall: {access}{detail}{may}")
        });
        let _ = writeln!(
            out,
            "  {:<3} {:<28} {:<20} {reach}{drops}{firewall}",
            l.protocol,
            format!("{}:{}", l.address, l.port),
            process
        );
    }
    if let Some(p) = &r.port {
        let _ = writeln!(
            out,
            "\nPort {}/{}: {}: {}",
            p.port, p.protocol, p.cause, p.detail
        );
    }
    if let Some(f) = &r.firewall {
        firewall_text(f, &mut out);
    }
    if let Some(receive) = &r.receive {
        local_receive::text(receive, &mut out);
    }
    for p in r.trace.iter().flatten() {
        let _ = writeln!(
            out,
            "Traced: {} {} by {} {}: {}",
            p.source, p.fate, p.table, p.chain, p.rule
        );
    }
    for note in &r.notes {
        let _ = writeln!(out, "Note: {note}");
    }
    out
}
