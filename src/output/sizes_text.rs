//! `ipdiag probe --sizes / --size-sweep`: a line per size (arrived, with the bytes the
//! server got, or lost), the path MTU, the largest size that arrived, the diagnosis; and
//! the JSON record.

use crate::diagnose::{Cause, Hint};
use crate::probe::size_search::overhead;
use crate::probe::sizes::{PathMtu, SizeOutcome};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::SocketAddr;

/// Everything a size probe found.
pub struct SizesReport<'a> {
    /// The target.
    pub target: SocketAddr,
    /// The path MTU.
    pub path: PathMtu,
    /// Every size tried, by size.
    pub sizes: &'a [SizeOutcome],
    /// The diagnosis (empty: every size arrived whole).
    pub hints: &'a [Hint],
}

impl SizesReport<'_> {
    /// Payload bytes one packet carries on this path.
    pub fn per_packet(&self) -> usize {
        usize::try_from(self.path.mtu)
            .unwrap_or(usize::MAX)
            .saturating_sub(overhead(self.target.is_ipv6()))
    }

    /// The largest size that arrived.
    pub fn largest(&self) -> Option<usize> {
        self.sizes
            .iter()
            .filter(|s| s.arrived)
            .map(|s| s.size)
            .max()
    }
}

/// The text report.
pub fn render(r: &SizesReport<'_>) -> String {
    let mut out = String::new();
    let from = r.path.from.map_or_else(
        || "as this host's routing knows it".to_owned(),
        |f| format!("ICMP from {f}"),
    );
    let _ = writeln!(
        out,
        "UDP datagram sizes to {}: path MTU {} ({from}), at most {} bytes of payload per packet",
        r.target,
        r.path.mtu,
        r.per_packet()
    );
    let _ = writeln!(out, "{:>7}  {:<44}  RTT", "SIZE", "RESULT");
    for s in r.sizes {
        let rtt = s.rtt.map_or_else(
            || "-".to_owned(),
            |d| format!("{:.3} ms", d.as_secs_f64() * 1000.0),
        );
        let _ = writeln!(out, "{:>7}  {:<44}  {rtt}", s.size, result_text(r, s));
    }
    match r.largest() {
        Some(n) => {
            let _ = writeln!(out, "largest datagram that arrived: {n} bytes");
        }
        None => out.push_str("no size arrived: nothing answers at all (try ipdiag doctor)\n"),
    }
    if !r.hints.is_empty() {
        out.push_str("\nDiagnosis:\n");
        for h in r.hints {
            let _ = writeln!(
                out,
                "  {} ({}): {}",
                h.cause,
                h.confidence.as_str(),
                h.cause.summary()
            );
            let _ = writeln!(out, "    evidence: {}", h.evidence.join("; "));
            out.push_str("    fix:\n");
            for line in &h.fix {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    out
}

/// `arrived, server got 1372 bytes` / `lost (4 tries, sent as IP fragments)`.
fn result_text(r: &SizesReport<'_>, s: &SizeOutcome) -> String {
    let fragments = if s.size > r.per_packet() {
        ", sent as IP fragments"
    } else {
        ""
    };
    if s.arrived {
        let probe = if s.mtu_probe { " (MTU probe)" } else { "" };
        return match s.received {
            Some(n) if n < s.size => format!("arrived, server got only {n} bytes{probe}"),
            Some(n) => format!("arrived, server got {n} bytes{probe}"),
            None => format!("arrived{probe}"),
        };
    }
    let noun = if s.tries == 1 { "try" } else { "tries" };
    match (&s.error, s.too_big_mtu) {
        (Some(e), _) => format!("lost: {e}"),
        (None, Some(mtu)) => format!("lost ({} {noun}; too big for a {mtu}-byte link)", s.tries),
        (None, None) => format!("lost ({} {noun}{fragments})", s.tries),
    }
}

/// `probe --sizes --json`.
#[derive(Debug, Serialize)]
pub struct SizesRecord<'a> {
    /// `ADDRESS:PORT`.
    pub target: String,
    /// The path MTU: `{mtu, from}`.
    pub path_mtu: PathMtuRecord,
    /// Payload bytes one packet carries.
    pub max_payload_per_packet: usize,
    /// Every size tried.
    pub sizes: Vec<SizeRecord>,
    /// The largest size that arrived; `null` when none did.
    pub largest_arrived: Option<usize>,
    /// The most likely cause: `ok`, `fragmentation` or `truncation`; `null` when no size
    /// arrived (nothing answered: sizes cannot tell why, `ipdiag doctor` can).
    pub cause: Option<Cause>,
    /// Every finding.
    pub hints: &'a [Hint],
}

/// The path MTU.
#[derive(Debug, Serialize)]
pub struct PathMtuRecord {
    /// Bytes per packet.
    pub mtu: u32,
    /// The router that reported it; `null`: this host's route.
    pub from: Option<String>,
}

/// One size.
#[derive(Debug, Serialize)]
pub struct SizeRecord {
    /// Payload bytes.
    pub size: usize,
    /// An answer came back.
    pub arrived: bool,
    /// Datagrams sent.
    pub tries: u32,
    /// Bytes the server got.
    pub received: Option<usize>,
    /// Round trip of the answer.
    pub rtt_ms: Option<f64>,
    /// Sent as IP fragments (larger than one packet carries).
    pub fragmented: bool,
    /// A router's "too big" MTU.
    pub too_big_mtu: Option<u32>,
    /// What else stopped it.
    pub error: Option<String>,
    /// The path-MTU probe's own datagram, answered (listed as evidence).
    pub mtu_probe: bool,
}

/// The JSON record.
pub fn record<'a>(r: &SizesReport<'a>) -> SizesRecord<'a> {
    SizesRecord {
        target: r.target.to_string(),
        path_mtu: PathMtuRecord {
            mtu: r.path.mtu,
            from: r.path.from.map(|f| f.to_string()),
        },
        max_payload_per_packet: r.per_packet(),
        sizes: r
            .sizes
            .iter()
            .map(|s| SizeRecord {
                size: s.size,
                arrived: s.arrived,
                tries: s.tries,
                received: s.received,
                rtt_ms: s
                    .rtt
                    .map(|d| (d.as_secs_f64() * 1_000_000.0).round() / 1000.0),
                fragmented: s.size > r.per_packet(),
                too_big_mtu: s.too_big_mtu,
                error: s.error.clone(),
                mtu_probe: s.mtu_probe,
            })
            .collect(),
        largest_arrived: r.largest(),
        cause: match r.hints.first() {
            Some(h) => Some(h.cause),
            None => r.largest().map(|_| Cause::Ok),
        },
        hints: r.hints,
    }
}
