//! `ipdiag local --port P --watch D` as text: what arrived, what the firewall counted,
//! the socket, its queue, and the verdict. Renders the record; judges nothing.

use crate::local::watch::report::{Capture, FirewallAction, WatchReport};
use std::fmt::Write as _;

/// The report as lines.
pub fn text(r: &WatchReport) -> String {
    let mut out = String::new();
    let how = match r.capture {
        Capture::PacketSocket => "a packet socket",
        Capture::Counters => "counters only",
        Capture::None => "nothing could be counted",
    };
    let _ = writeln!(
        out,
        "Watched {}/{} for {:.1}s ({how})",
        r.port, r.protocol, r.watch_seconds
    );
    if r.capture == Capture::PacketSocket {
        if r.arrivals.is_empty() {
            let _ = writeln!(out, "Arrived:   nothing");
        }
        for a in &r.arrivals {
            let to: Vec<String> = a.destinations.iter().map(ToString::to_string).collect();
            let syns = if r.protocol == "tcp" {
                format!(" ({} SYN)", a.syns)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "Arrived:   {} packets{syns} from {} to {}",
                a.packets,
                a.source,
                to.join(", ")
            );
        }
    }
    let verdict = match r.firewall.verdict {
        FirewallAction::Accept => "lets it in",
        FirewallAction::Drop => "drops it",
        FirewallAction::Reject => "rejects it",
        FirewallAction::MayApply => "lets it in unless this rule applies",
        FirewallAction::Unknown => "could not be read",
    };
    let rule = r
        .firewall
        .rule
        .as_ref()
        .map_or_else(String::new, |rule| format!(": {rule}"));
    let _ = writeln!(out, "Firewall:  {verdict}{rule}");
    for h in &r.firewall.hits {
        let _ = writeln!(out, "Counted:   {} packets by {}", h.packets, h.rule);
    }
    match &r.listener {
        Some(l) => {
            let owner = match (&l.process, l.pid) {
                (Some(p), Some(pid)) => format!(" {p} ({pid})"),
                _ => String::new(),
            };
            let _ = writeln!(out, "Socket:    {}{owner}", l.bound);
        }
        None => {
            let _ = writeln!(out, "Socket:    none bound to {}/{}", r.port, r.protocol);
        }
    }
    if let Some(q) = &r.accept_queue {
        let _ = writeln!(
            out,
            "Queue:     {} waiting for accept() of a backlog of {}; ListenOverflows +{}, ListenDrops +{}",
            q.queued, q.backlog, q.overflows, q.drops
        );
    }
    if let Some(u) = &r.udp_socket {
        let from: Vec<String> = u.reply_sources.iter().map(ToString::to_string).collect();
        let from = if from.is_empty() {
            String::new()
        } else {
            format!(" (from {})", from.join(", "))
        };
        let _ = writeln!(
            out,
            "Datagrams: {} in, {} out{from}",
            u.datagrams_in, u.datagrams_out
        );
    }
    let _ = writeln!(out, "\nVerdict: {}: {}", r.verdict.cause, r.verdict.detail);
    for n in &r.notes {
        let _ = writeln!(out, "Note: {n}");
    }
    out
}
