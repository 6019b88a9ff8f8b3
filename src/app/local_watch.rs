//! `ipdiag local --port P [--udp] --watch D`: for D (or until Ctrl-C), what happened to
//! the packets for the port — a packet socket counts arrivals per source and the port's
//! replies, the firewall's counters and the host's listen counters are read before and
//! after — then the listener, its accept queue and the verdict (`local::watch::judge`).
//!
//! A recipe: the readers are `local::*`, the judging `local::watch::judge`, the text
//! `output::local_watch`. The one stderr line `ipdiag: watching tcp/P for D` says the
//! capture is armed (`doctor --on-server` waits for it); the record goes to stdout at the end.

use super::Context;
use super::local::interface_records;
use super::local_firewall::FirewallSide;
use super::local_receive;
use super::local_trace::Watch;
use crate::cli::local::LocalArgs;
use crate::error::{EXIT_FAILURE, EXIT_OK, Result};
use crate::local::backlog::accept_queues;
use crate::local::firewall::{self, Access, FirewallVerdict, Stop, Tools, grown};
use crate::local::overflow::Sample;
use crate::local::snmp::{ListenCounters, listen_counters};
use crate::local::sockets::{SocketEntry, listening, owners};
use crate::local::watch::capture::Capture as Capturing;
use crate::local::watch::judge::{Evidence, judge};
use crate::local::watch::packets::Tally;
use crate::local::watch::report::{
    AcceptQueue, Capture, FirewallAction, FirewallWatch, Listener, RuleHit, SCHEMA_VERSION,
    UdpSocket, WatchReport,
};
use crate::model::Transport;
use crate::output::Format;
use crate::output::local_receive::ReceiveRecord;
use crate::output::local_report::InterfaceRecord;
use crate::output::local_watch;
use std::time::{Duration, Instant};

/// The readings taken before the watch.
struct Before {
    capture: Option<Capturing>,
    counters: Option<Vec<firewall::Counted>>,
    listen: Option<ListenCounters>,
    receive: Option<Sample>,
}

/// What the watch ended with.
struct Watched {
    /// How long it lasted.
    span: Duration,
    /// Ctrl-C (or SIGTERM) ended it.
    interrupted: bool,
}

/// Runs the watch.
pub fn run(args: &LocalArgs, port: u16, watch: Duration, ctx: &mut Context<'_>) -> Result<u8> {
    let protocol = [Transport::Tcp, Transport::Udp][usize::from(args.udp)];
    let asked = |s: &SocketEntry| s.local.port() == port && s.protocol == protocol;
    let mut notes = Vec::new();
    let mut signals = Watch::new()?;
    let interfaces = interface_records();
    let tools = Tools::system();
    let before = arm(protocol, port, &interfaces, &tools, &mut notes);
    let asked_for = args.watch.as_deref().unwrap_or_default();
    let watched = pause(
        &mut signals,
        protocol,
        port,
        (watch, asked_for),
        ctx,
        &mut notes,
    )?;
    let captured = before.capture.map(Capturing::stop);
    let counters_after = firewall::snapshot(&tools);
    let listen_after = listen_counters();

    let sockets: Vec<SocketEntry> = listening().into_iter().filter(asked).collect();
    let side = FirewallSide::read(&interfaces);
    let receive = before.receive.map(|b| {
        // The rate over the asked duration, unless Ctrl-C cut it short.
        let span = if watched.interrupted {
            watched.span
        } else {
            watch
        };
        local_receive::look(port, &sockets, Some((b, span)))
    });
    let (base, found, _) = side.port_verdict(
        protocol,
        port,
        &sockets,
        receive.as_ref().map(|r| &r.verdict),
        &mut notes,
    );
    let hits = hits(
        before.counters.as_deref(),
        counters_after.as_deref(),
        &side.packet(protocol, port),
        &mut notes,
    );
    let accept_queue = (protocol == Transport::Tcp)
        .then(|| sockets.first())
        .flatten()
        .map(|s| accept_queue(s, before.listen, listen_after));
    let udp_socket = captured
        .as_ref()
        .filter(|_| protocol == Transport::Udp && !sockets.is_empty())
        .map(|t| udp_socket(t, &sockets, found.as_ref()));
    let capture = capture_kind(
        captured.is_some(),
        counters_after.is_some() || listen_after.is_some(),
    );
    let tally = captured.unwrap_or_default();
    let arrivals = tally.arrivals();
    let verdict = judge(&Evidence {
        port: format!("{port}/{}", protocol.as_str()),
        watched: asked_for.to_owned(),
        base: &base,
        capture,
        arrived: tally.arrived(),
        syns: tally.syns(),
        sources: arrivals.iter().map(|a| a.source).collect(),
        destinations: tally.to().keys().copied().collect(),
        hits: &hits,
        accept_queue: accept_queue.as_ref(),
        udp: udp_socket.as_ref(),
    });
    let receive_record = receive.map(|r| r.record);
    let report = WatchReport {
        schema_version: SCHEMA_VERSION,
        ipdiag_version: env!("CARGO_PKG_VERSION").to_owned(),
        port,
        protocol: protocol.as_str().to_owned(),
        watch_seconds: (watched.span.as_secs_f64() * 10.0).round() / 10.0,
        capture,
        arrivals,
        firewall: firewall_watch(found.as_ref(), hits),
        listener: listener(sockets.first()),
        udp_socket,
        accept_queue,
        verdict,
        notes,
        receive: receive_record
            .as_ref()
            .and_then(|r| serde_json::to_value(r).ok()),
    };
    render(&report, receive_record.as_ref(), ctx)?;
    Ok(if report.verdict.cause == "ok" {
        EXIT_OK
    } else {
        EXIT_FAILURE
    })
}

/// How arrivals were counted: a packet socket, else whatever counters could be read.
const fn capture_kind(packet_socket: bool, counters: bool) -> Capture {
    match (packet_socket, counters) {
        (true, _) => Capture::PacketSocket,
        (false, true) => Capture::Counters,
        (false, false) => Capture::None,
    }
}

/// Says the capture is armed (the one stderr line), and waits for the duration or a signal.
fn pause(
    signals: &mut Watch,
    protocol: Transport,
    port: u16,
    (watch, asked_for): (Duration, &str),
    ctx: &mut Context<'_>,
    notes: &mut Vec<String>,
) -> Result<Watched> {
    writeln!(
        ctx.err,
        "ipdiag: watching {}/{port} for {asked_for}",
        protocol.as_str()
    )?;
    ctx.err.flush()?;
    let started = Instant::now();
    signals.pause(watch);
    let watched = Watched {
        span: started.elapsed(),
        interrupted: signals.interrupted,
    };
    if watched.interrupted {
        notes.push(format!(
            "interrupted: watched {:.1}s of {asked_for}",
            watched.span.as_secs_f64()
        ));
    }
    Ok(watched)
}

/// The rules for the port whose counters rose; a note when they could not be read.
fn hits(
    before: Option<&[firewall::Counted]>,
    after: Option<&[firewall::Counted]>,
    packet: &firewall::Packet,
    notes: &mut Vec<String>,
) -> Vec<(String, u64)> {
    if let (Some(b), Some(a)) = (before, after) {
        grown(b, a, packet)
    } else {
        notes.push(
            "the firewall's counters could not be read (nft / iptables-save -c need root)".into(),
        );
        Vec::new()
    }
}

/// Everything read before the watch: the packet socket opened (or why not), the firewall's
/// and the host's counters, the UDP receive side.
fn arm(
    protocol: Transport,
    port: u16,
    interfaces: &[InterfaceRecord],
    tools: &Tools,
    notes: &mut Vec<String>,
) -> Before {
    let mine = interfaces
        .iter()
        .filter_map(|i| i.address.parse().ok())
        .collect();
    let capture = match Capturing::start(protocol, port, mine) {
        Ok(c) => Some(c),
        Err(e) => {
            notes.push(format!(
                "no packet socket ({e}; it needs CAP_NET_RAW): arrivals per source are not known, only the firewall's and the host's counters"
            ));
            None
        }
    };
    let receive = (protocol == Transport::Udp).then(|| {
        let sockets: Vec<SocketEntry> = listening()
            .into_iter()
            .filter(|s| s.local.port() == port && s.protocol == protocol)
            .collect();
        local_receive::sample(&sockets)
    });
    Before {
        capture,
        counters: firewall::snapshot(tools),
        listen: listen_counters(),
        receive,
    }
}

/// The socket and its owner.
fn listener(socket: Option<&SocketEntry>) -> Option<Listener> {
    let s = socket?;
    let owners = owners();
    let owner = owners.get(&s.inode);
    Some(Listener {
        bound: s.local,
        process: owner.map(|o| o.1.clone()),
        pid: owner.map(|o| o.0),
    })
}

/// The listener's queue now and the host's listen counters' rise.
fn accept_queue(
    s: &SocketEntry,
    before: Option<ListenCounters>,
    after: Option<ListenCounters>,
) -> AcceptQueue {
    let q = accept_queues().get(&s.inode).copied();
    let rise = after
        .zip(before)
        .map(|(a, b)| a.since(&b))
        .unwrap_or_default();
    AcceptQueue {
        backlog: q.map_or(0, |q| q.backlog),
        queued: q.map_or(0, |q| q.queued),
        overflows: rise.overflows,
        drops: rise.drops,
    }
}

/// The record on stdout, as JSON or text (with the UDP receive side's own text).
fn render(
    report: &WatchReport,
    receive: Option<&ReceiveRecord>,
    ctx: &mut Context<'_>,
) -> Result<()> {
    match ctx.format {
        Format::Json | Format::Jsonl => {
            serde_json::to_writer(&mut *ctx.out, report).map_err(std::io::Error::from)?;
            writeln!(ctx.out)?;
        }
        Format::Table | Format::Csv | Format::Prometheus => {
            write!(ctx.out, "{}", local_watch::text(report))?;
            if let Some(r) = receive {
                let mut text = String::new();
                crate::output::local_receive::text(r, &mut text);
                write!(ctx.out, "{text}")?;
            }
        }
    }
    Ok(())
}

/// What went in and out of the UDP socket: the datagrams that arrived for an address it
/// is bound to (none when the firewall stops them all), and what left the port.
fn udp_socket(t: &Tally, sockets: &[SocketEntry], fw: Option<&FirewallVerdict>) -> UdpSocket {
    let blocked = fw.is_some_and(|f| f.access == Access::Blocked);
    let bound = |ip: &std::net::IpAddr| {
        sockets
            .iter()
            .any(|s| s.local.ip().is_unspecified() || s.local.ip() == *ip)
    };
    let datagrams_in = if blocked {
        0
    } else {
        t.to()
            .iter()
            .filter(|(ip, _)| bound(ip))
            .map(|(_, n)| n)
            .sum()
    };
    UdpSocket {
        datagrams_in,
        datagrams_out: t.sent(),
        reply_sources: t.reply_sources.iter().copied().collect(),
    }
}

/// The evaluator's verdict and the rules that counted.
fn firewall_watch(found: Option<&FirewallVerdict>, hits: Vec<(String, u64)>) -> FirewallWatch {
    let hits = hits
        .into_iter()
        .map(|(rule, packets)| RuleHit { rule, packets })
        .collect();
    let Some(f) = found else {
        return FirewallWatch {
            verdict: FirewallAction::Unknown,
            rule: None,
            hits,
        };
    };
    let (verdict, rule) = match (f.access, f.may_apply.first()) {
        (Access::Open, Some(m)) => (FirewallAction::MayApply, Some(m.rule.text())),
        (Access::Open, None) => (FirewallAction::Accept, None),
        _ => (
            if f.stop == Some(Stop::Reject) {
                FirewallAction::Reject
            } else {
                FirewallAction::Drop
            },
            f.rule.as_ref().map(firewall::RuleRef::text),
        ),
    };
    FirewallWatch {
        verdict,
        rule,
        hits,
    }
}
