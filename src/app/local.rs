//! `ipdiag local`: interfaces, listeners and firewall of this host, and a verdict per port
//! (for a UDP port also its receive side: `local_receive.rs`).

use super::Context;
use super::local_firewall::FirewallSide;
use super::local_receive::{self, ReceiveSide};
use super::local_trace::{Tracing, pause};
use crate::classify::classify;
use crate::cli::local::LocalArgs;
use crate::error::{EXIT_FAILURE, EXIT_OK, Result};
use crate::local::interfaces;
use crate::local::sockets::{SocketEntry, listening, owners};
use crate::local::verdict::Reach;
use crate::model::{Scope, Transport};
use crate::output::Format;
use crate::output::local_report::{self, InterfaceRecord, ListenerRecord, LocalReport, PortRecord};
use crate::plan::duration::parse_duration;
use std::collections::HashMap;

/// Runs `ipdiag local`.
pub fn run(args: &LocalArgs, ctx: &mut Context<'_>) -> Result<u8> {
    let watch = args
        .watch
        .as_deref()
        .map(|d| parse_duration("--watch", d))
        .transpose()?;
    crate::sys::linux_only("ipdiag local")?;
    say_what_runs(args, ctx)?;
    if let (Some(port), Some(d), false) = (args.port, watch, args.trace_firewall) {
        return super::local_watch::run(args, port, d, ctx);
    }
    let interfaces = interface_records();
    // Behind NAT means a network interface with private addresses only; a host with
    // nothing but loopback (and link-local) is not on a network at all.
    let networked = interfaces
        .iter()
        .any(|i| i.scope != Scope::Loopback.as_str() && i.scope != Scope::LinkLocal.as_str());
    let nat = networked && !interfaces.iter().any(|i| i.scope == Scope::Public.as_str());
    let protocol = if args.udp {
        Transport::Udp
    } else {
        Transport::Tcp
    };
    let asked = |s: &SocketEntry| {
        args.port
            .is_none_or(|p| s.local.port() == p && s.protocol == protocol)
    };
    // The port's UDP receive side; with --watch its counters are read once more, first.
    let udp_port = args.port.filter(|_| protocol == Transport::Udp);
    let mut tracing = Tracing::begin(args.trace_firewall, protocol, args.port)?;
    let before = udp_port.zip(watch).map(|(_, d)| {
        let first: Vec<_> = listening().into_iter().filter(asked).collect();
        let first = local_receive::sample(&first);
        pause(tracing.as_mut(), d);
        (first, d)
    });
    if let (None, Some(d), Some(t)) = (udp_port, watch, tracing.as_mut()) {
        t.pause(d);
    }
    let owners = owners();
    let mut notes = Vec::new();
    let trace = tracing.map(|t| t.end(&mut notes));
    let all = listening();
    if let Some(port) = args.port.filter(|_| protocol == Transport::Tcp) {
        notes.extend(udp_instead(port, &all));
    }
    let sockets: Vec<_> = all.into_iter().filter(asked).collect();
    let receive = udp_port.map(|port| local_receive::look(port, &sockets, before));
    let hidden = sockets
        .iter()
        .filter(|s| !owners.contains_key(&s.inode))
        .count();
    if hidden > 0 && !crate::sys::is_superuser() {
        notes.push(format!(
            "the owners of {hidden} sockets are not visible without root"
        ));
    }
    let firewall_side = FirewallSide::read(&interfaces);
    let mut listeners = listener_records(&sockets, &owners, receive.as_ref());
    firewall_side.annotate(&mut listeners);
    let (port, firewall) = match args.port {
        None => (None, None),
        Some(port) => {
            let (v, _, record) = firewall_side.port_verdict(
                protocol,
                port,
                &sockets,
                receive.as_ref().map(|r| &r.verdict),
                &mut notes,
            );
            (
                Some(PortRecord::new(port, protocol.as_str(), &v)),
                Some(record),
            )
        }
    };
    let ok = port.as_ref().is_none_or(|p| p.cause == "ok");
    let report = LocalReport {
        interfaces,
        nat,
        listening: listeners,
        port,
        firewall,
        receive: receive.map(|r| r.record),
        trace,
        notes,
    };
    match ctx.format {
        Format::Json | Format::Jsonl => {
            serde_json::to_writer(&mut *ctx.out, &report).map_err(std::io::Error::from)?;
            writeln!(ctx.out)?;
        }
        Format::Table | Format::Csv | Format::Prometheus => {
            write!(ctx.out, "{}", local_report::text(&report))?;
        }
    }
    Ok(if ok { EXIT_OK } else { EXIT_FAILURE })
}

/// This host's interface addresses, with their scope.
pub(super) fn interface_records() -> Vec<InterfaceRecord> {
    interfaces::list()
        .into_iter()
        .map(|(name, net)| InterfaceRecord {
            name,
            address: net.addr().to_string(),
            prefix: net.prefix_len(),
            scope: classify(net.addr()).scope.as_str(),
        })
        .collect()
}

/// The sockets as the report lists them, with their owners and, for the asked UDP port,
/// its buffer and the drops while watched.
fn listener_records(
    sockets: &[SocketEntry],
    owners: &HashMap<u64, (u32, String)>,
    receive: Option<&ReceiveSide>,
) -> Vec<ListenerRecord> {
    sockets
        .iter()
        .map(|s| {
            let owner = owners.get(&s.inode);
            ListenerRecord {
                protocol: s.protocol.as_str(),
                address: s.local.ip().to_string(),
                port: s.local.port(),
                pid: owner.map(|o| o.0),
                process: owner.map(|o| o.1.clone()),
                reach: Reach::of(s.local).as_str(),
                drops: s.drops,
                rx_queue: s.rx_queue,
                rcvbuf_bytes: receive.and_then(|r| r.rcvbuf(s.inode)),
                drops_delta: receive.and_then(|r| r.drops_delta(s)),
                firewall: None,
            }
        })
        .collect()
}

/// `local --port P` asks about TCP; when nothing listens there but a UDP socket is bound to
/// P, the user most likely meant that one (a UDP server is not "listening" in TCP's sense).
fn udp_instead(port: u16, sockets: &[SocketEntry]) -> Option<String> {
    let tcp = |s: &&SocketEntry| s.protocol == Transport::Tcp && s.local.port() == port;
    let udp = |s: &&SocketEntry| s.protocol == Transport::Udp && s.local.port() == port;
    (!sockets.iter().any(|s| tcp(&s)) && sockets.iter().any(|s| udp(&s))).then(|| {
        format!(
            "nothing listens on {port}/tcp, but a UDP socket is bound to {port}: \
             ipdiag local --port {port} --udp shows it, with its receive queue and drops"
        )
    })
}

/// `-v`: what this run reads or does, on stderr.
fn say_what_runs(args: &LocalArgs, ctx: &mut Context<'_>) -> Result<()> {
    if ctx.verbose > 0 {
        writeln!(
            ctx.err,
            "ipdiag: reading interfaces (getifaddrs), sockets (/proc/net/tcp, tcp6, udp, udp6; owners from /proc/PID/fd), firewall rules (/usr/sbin/nft -j list ruleset, iptables-save, ip6tables-save){}",
            if args.udp && args.port.is_some() {
                ", the receive side (sock_diag, /proc/net/snmp)"
            } else {
                ""
            }
        )?;
    }
    Ok(())
}
