//! `ipdiag local`: the server's view as text or JSON.

use super::local_receive::{self, ReceiveRecord};
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
    /// Rules that drop or reject the port (`tool: rule → verdict`).
    pub hits: Vec<String>,
    /// Why they could not be read.
    pub error: Option<String>,
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
        let _ = writeln!(
            out,
            "  {:<3} {:<28} {:<20} {reach}{drops}",
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
        match (&f.error, f.hits.is_empty()) {
            (Some(why), _) => {
                let _ = writeln!(out, "Firewall: not readable: {why}");
            }
            (None, true) => out.push_str("Firewall: no rule drops or rejects it\n"),
            (None, false) => {
                for hit in &f.hits {
                    let _ = writeln!(out, "Firewall: {hit}");
                }
            }
        }
    }
    if let Some(receive) = &r.receive {
        local_receive::text(receive, &mut out);
    }
    for note in &r.notes {
        let _ = writeln!(out, "Note: {note}");
    }
    out
}
