//! `ipdiag local --port P --udp`: the port's receive side (queue, buffer, drops, the host's
//! UDP counters, the overflow verdict) as JSON fields and as text.

use crate::local::snmp::{HostUdp, UdpCounters};
use serde::Serialize;
use std::fmt::Write as _;

/// The port's UDP receive side.
#[derive(Debug, Serialize)]
pub struct ReceiveRecord {
    /// The port.
    pub port: u16,
    /// How many UDP sockets are bound to it.
    pub sockets: usize,
    /// Bytes waiting in their receive queues.
    pub rx_queue_bytes: u64,
    /// The smallest of their receive buffers (`SO_RCVBUF` as granted), when the kernel told.
    pub rcvbuf_bytes: Option<u64>,
    /// Datagrams they dropped since they were opened.
    pub drops: u64,
    /// With `--watch`: datagrams they dropped while watched.
    pub drops_delta: Option<u64>,
    /// With `--watch`: how long, in milliseconds.
    pub watch_ms: Option<u64>,
    /// `net.core.rmem_default`: the buffer of a socket that sets none.
    pub rmem_default: Option<u64>,
    /// `net.core.rmem_max`: the ceiling for `SO_RCVBUF`.
    pub rmem_max: Option<u64>,
    /// The host's UDP counters (all sockets of this network namespace, since boot).
    pub udp_counters: HostUdpRecord,
    /// With `--watch`: how they rose while watched.
    pub udp_counters_delta: Option<HostUdpRecord>,
    /// `receive_buffer_overflow` or `ok`.
    pub cause: &'static str,
    /// How sure the overflow is (`high`: drops while watched); `null` with `ok`.
    pub confidence: Option<&'static str>,
    /// The observations.
    pub evidence: Vec<String>,
    /// What to do, one step a line (empty with `ok`).
    pub fix: Vec<String>,
}

/// The host's UDP counters per family (`null` where the kernel has no such file).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct HostUdpRecord {
    /// IPv4 (`/proc/net/snmp`).
    pub udp: Option<UdpCountersRecord>,
    /// IPv6 (`/proc/net/snmp6`).
    pub udp6: Option<UdpCountersRecord>,
}

/// One family's counters, under the kernel's names in snake case.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct UdpCountersRecord {
    /// `InDatagrams`.
    pub in_datagrams: u64,
    /// `NoPorts`.
    pub no_ports: u64,
    /// `InErrors`.
    pub in_errors: u64,
    /// `RcvbufErrors`.
    pub rcvbuf_errors: u64,
}

impl From<UdpCounters> for UdpCountersRecord {
    fn from(c: UdpCounters) -> Self {
        Self {
            in_datagrams: c.in_datagrams,
            no_ports: c.no_ports,
            in_errors: c.in_errors,
            rcvbuf_errors: c.rcvbuf_errors,
        }
    }
}

impl From<HostUdp> for HostUdpRecord {
    fn from(h: HostUdp) -> Self {
        Self {
            udp: h.udp.map(Into::into),
            udp6: h.udp6.map(Into::into),
        }
    }
}

/// Appends the record as text.
pub fn text(r: &ReceiveRecord, out: &mut String) {
    let plural = if r.sockets == 1 { "" } else { "s" };
    let _ = writeln!(
        out,
        "\nReceive side of {}/udp ({} socket{plural}):",
        r.port, r.sockets
    );
    let buffer = r.rcvbuf_bytes.map_or_else(String::new, |b| {
        format!(" of a {b}-byte buffer (SO_RCVBUF)")
    });
    let _ = writeln!(out, "  queue      {} bytes{buffer}", r.rx_queue_bytes);
    let limits = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), |v| v.to_string());
    let _ = writeln!(
        out,
        "  host       net.core.rmem_default {}, net.core.rmem_max {}",
        limits(r.rmem_default),
        limits(r.rmem_max)
    );
    let watched = match (r.drops_delta, r.watch_ms) {
        (Some(d), Some(ms)) if ms % 1000 == 0 => format!(", +{d} in the {}s watched", ms / 1000),
        (Some(d), Some(ms)) => format!(", +{d} in the {ms}ms watched"),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "  drops      {} since the socket was opened{watched}",
        r.drops
    );
    let delta = r.udp_counters_delta;
    for (name, now, then) in [
        ("UDP", r.udp_counters.udp, delta.and_then(|d| d.udp)),
        ("UDP6", r.udp_counters.udp6, delta.and_then(|d| d.udp6)),
    ] {
        if let Some(now) = now {
            let _ = writeln!(out, "  host {name:<5} {}", counters(now, then));
        }
    }
    match r.confidence {
        Some(confidence) => {
            let _ = writeln!(out, "  {} ({confidence} confidence):", r.cause);
        }
        None if !r.evidence.is_empty() => out.push_str("  Seen:\n"),
        None => {}
    }
    for line in &r.evidence {
        let _ = writeln!(out, "    - {line}");
    }
    if !r.fix.is_empty() {
        out.push_str("  Fix:\n");
        for line in &r.fix {
            let _ = writeln!(out, "    - {line}");
        }
    }
}

/// `RcvbufErrors 1900 (+1500), InErrors …`.
fn counters(now: UdpCountersRecord, delta: Option<UdpCountersRecord>) -> String {
    let pick = |c: Option<UdpCountersRecord>, f: fn(UdpCountersRecord) -> u64| {
        c.map_or_else(String::new, |c| format!(" (+{})", f(c)))
    };
    let field = |name: &str, f: fn(UdpCountersRecord) -> u64| {
        format!("{name} {}{}", f(now), pick(delta, f))
    };
    [
        field("RcvbufErrors", |c| c.rcvbuf_errors),
        field("InErrors", |c| c.in_errors),
        field("InDatagrams", |c| c.in_datagrams),
        field("NoPorts", |c| c.no_ports),
    ]
    .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_watched_overflow() {
        let c = |rcvbuf_errors, in_datagrams| UdpCountersRecord {
            in_datagrams,
            no_ports: 0,
            in_errors: rcvbuf_errors,
            rcvbuf_errors,
        };
        let record = ReceiveRecord {
            port: 7901,
            sockets: 1,
            rx_queue_bytes: 2304,
            rcvbuf_bytes: Some(4608),
            drops: 1900,
            drops_delta: Some(1500),
            watch_ms: Some(1000),
            rmem_default: Some(212_992),
            rmem_max: None,
            udp_counters: HostUdpRecord {
                udp: Some(c(1900, 100)),
                udp6: None,
            },
            udp_counters_delta: Some(HostUdpRecord {
                udp: Some(c(1500, 80)),
                udp6: None,
            }),
            cause: "receive_buffer_overflow",
            confidence: Some("high"),
            evidence: vec!["1500 datagrams dropped".into()],
            fix: vec!["read faster".into()],
        };
        let mut out = String::new();
        text(&record, &mut out);
        insta::assert_snapshot!(out, @r"

        Receive side of 7901/udp (1 socket):
          queue      2304 bytes of a 4608-byte buffer (SO_RCVBUF)
          host       net.core.rmem_default 212992, net.core.rmem_max ?
          drops      1900 since the socket was opened, +1500 in the 1s watched
          host UDP   RcvbufErrors 1900 (+1500), InErrors 1900 (+1500), InDatagrams 100 (+80), NoPorts 0 (+0)
          receive_buffer_overflow (high confidence):
            - 1500 datagrams dropped
          Fix:
            - read faster
        ");
    }
}
