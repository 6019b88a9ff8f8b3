//! `probe --loss-split`'s output: a header, a row per send rate as it finishes (loss by
//! direction), notes that say what the numbers mean and what to do, and the JSON records.
//! The trend test (does loss grow with the rate?) is run by the caller; this renders it.

use crate::probe::load::LoadRun;
use crate::probe::load_split::{Directions, Split};
use crate::probe::load_trend::{MIN_TRAVELLED, Trend, Verdict};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

/// Below this share of the asked rate, the row says the client could not keep up.
const KEPT_UP: f64 = 0.95;

/// One finished rate: what was seen and what it splits into.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    /// The run.
    pub run: LoadRun,
    /// Its split.
    pub split: Split,
}

/// ` (myvm)` after an address that `target` named, nothing after an address given as such.
pub fn named(target: &str, address: SocketAddr) -> String {
    if target == address.to_string() {
        String::new()
    } else {
        format!(" ({target})")
    }
}

/// The first line and the column heads.
pub fn header(target: &str, address: SocketAddr, count: u32, wait: Duration) -> String {
    let named = named(target, address);
    format!(
        "LOSS SPLIT {address}{named} udp through the ipdiag responder: {count} requests per rate, replies awaited {} ms after the last\n\
         {:>8}  {:>7}  {:>10}  {:>8}  {:>7}  {:>16}  {:>16}",
        wait.as_millis(),
        "rate/s",
        "sent",
        "server got",
        "withheld",
        "replies",
        "client→server",
        "server→client",
    )
}

/// `     100     500        500        0     401      0 (0.0%)     99 (19.8%)`.
pub fn row(row: &Row) -> String {
    let Row { run, split } = row;
    let d = split.directions.as_ref();
    let unknown = || "?".to_owned();
    let server = d.map_or_else(unknown, |d| d.server_received.to_string());
    let withheld = d.map_or_else(unknown, |d| d.withheld.to_string());
    let out = d.map_or_else(unknown, |d| lost(d.to_server_lost, d.to_server_pct));
    let back = d.map_or_else(unknown, |d| lost(d.to_client_lost, d.to_client_pct));
    let mut line = format!(
        "{:>8}  {:>7}  {:>10}  {:>8}  {:>7}  {out:>16}  {back:>16}",
        rate_text(run.rate),
        run.counts.sent,
        server,
        withheld,
        run.counts.reply_datagrams(),
    );
    if run.achieved < run.rate * KEPT_UP {
        let _ = write!(line, "  (sent at {}/s)", rate_text(run.achieved));
    }
    line
}

fn lost(n: u32, pct: Option<f64>) -> String {
    match pct {
        Some(p) => format!("{n} ({p:.1}%)"),
        None => format!("{n} (-)"),
    }
}

/// A rate without needless decimals: `100`, `2.5`.
fn rate_text(rate: f64) -> String {
    if rate.fract() == 0.0 || rate >= 100.0 {
        format!("{rate:.0}")
    } else {
        format!("{rate:.1}")
    }
}

/// What the rows mean, a line each, and what to do; `trend`: whether loss grows with the
/// rate, as the caller tested it (`load_trend::trend_of`).
pub fn notes(rows: &[Row], port: u16, trend: Option<Trend>) -> String {
    let mut out = String::new();
    for r in rows {
        let rate = rate_text(r.run.rate);
        match r.split.directions {
            None => {
                let why = if r.split.count_lost {
                    "the server counted fewer requests than were answered: it lost this session's count (its session table dropped it, a flood of other sessions?), so the loss cannot be split; run again".to_owned()
                } else {
                    no_tally(&r.run, port)
                };
                let _ = writeln!(out, "at {rate}/s: {why}");
            }
            Some(d) => row_notes(&mut out, &rate, &r.run, &d),
        }
    }
    let known: Vec<&Directions> = rows
        .iter()
        .filter_map(|r| r.split.directions.as_ref())
        .collect();
    if !known.is_empty() {
        let out_lost = known.iter().any(|d| d.to_server_lost > 0);
        let back_lost = known.iter().any(|d| d.to_client_lost > 0);
        let verdict = match (out_lost, back_lost) {
            (false, false) => "No loss in either direction.",
            (true, false) => {
                "Loss is on the way to the server only: the server never saw those requests (client uplink, the path, or the server's host dropping them before the responder)."
            }
            (false, true) => {
                "Loss is on the way back only: the server received the requests and replied, and the replies were lost (the return path, a NAT or firewall on the way back, or this host's receive side)."
            }
            (true, true) => "Loss in both directions.",
        };
        let _ = writeln!(out, "{verdict}");
    }
    if let Some(line) = trend.and_then(trend_text) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// Why a row has no split.
fn no_tally(run: &LoadRun, port: u16) -> String {
    if run.refused {
        format!(
            "ICMP port unreachable: nothing listens on UDP {port} there; start `ipdiag serve --udp {port}` on the server"
        )
    } else if run.counts.answered == 0 {
        format!(
            "no reply at all: the responder is not running or UDP {port} is filtered (ipdiag probe HOST:{port} --udp --responder tells which)"
        )
    } else if !run.sessions_known {
        "the responder answered without counts: it predates --loss-split; update ipdiag on the server".into()
    } else {
        "the responder's tally did not come back (its rate limit, or loss): overall loss only; raise `ipdiag serve --rate` or give a longer -w".into()
    }
}

fn row_notes(out: &mut String, rate: &str, run: &LoadRun, d: &Directions) {
    if d.withheld > 0 {
        let pct = d.withheld_pct.unwrap_or(0.0);
        let _ = writeln!(
            out,
            "at {rate}/s: the responder withheld {} replies ({pct:.1}% of what it got) because of its rate limit: not network loss; raise `ipdiag serve --rate` (replies per second per source)",
            d.withheld
        );
    }
    if d.duplicated {
        let _ = writeln!(
            out,
            "at {rate}/s: more packets arrived than were sent: the path duplicates packets"
        );
    }
    if let Some(drops) = run.client_drops.filter(|n| *n > 0) {
        let _ = writeln!(
            out,
            "at {rate}/s: {drops} replies were dropped by this host's own receive buffer (counted as server→client): read faster, or raise SO_RCVBUF / net.core.rmem_max"
        );
    }
    if run.send_errors > 0 {
        let _ = writeln!(
            out,
            "at {rate}/s: {} sends failed on this host (not counted as sent)",
            run.send_errors
        );
    }
}

/// The trend's line: none when nothing was lost at either rate (the verdict line says so).
fn trend_text(t: Trend) -> Option<String> {
    let (low, high) = (t.low.pct().unwrap_or(0.0), t.high.pct().unwrap_or(0.0));
    let seen = format!(
        "{low:.1}% at {}/s, {high:.1}% at {}/s",
        rate_text(t.low.rate),
        rate_text(t.high.rate)
    );
    match t.verdict {
        Verdict::Grows => Some(format!(
            "Loss grows with the send rate ({seen}): a queue, a policer or a receive buffer overflows at the higher rate; send slower or in smaller bursts."
        )),
        Verdict::NoGrowth if t.low.lost > 0 || t.high.lost > 0 => Some(format!(
            "Loss does not grow with the send rate ({seen}: within chance)."
        )),
        Verdict::NoGrowth => None,
        Verdict::TooFew => Some(format!(
            "Too few datagrams to say whether loss grows with the send rate (fewer than {MIN_TRAVELLED} at a rate, withheld replies not counted): raise -c."
        )),
    }
}

/// `--json`: the whole run.
#[derive(Debug, Serialize)]
pub struct LoadRecord<'a> {
    /// The target as given.
    pub target: &'a str,
    /// The address measured.
    pub address: String,
    /// The port.
    pub port: u16,
    /// Counted requests per rate.
    pub count: u32,
    /// The wait for replies after the last send, in milliseconds.
    pub wait_ms: u64,
    /// A record per rate, in the order given.
    pub rates: Vec<RateRecord>,
    /// Whether loss at the highest rate is above the lowest rate's by more than chance
    /// (one-sided test at 0.5 %); `null` with one rate or too few datagrams.
    pub loss_grows_with_rate: Option<bool>,
}

/// One rate (`--jsonl`: one line each, with the target's fields).
#[derive(Debug, Clone, Serialize)]
pub struct RateRecord {
    /// Requests per second asked for.
    pub rate: f64,
    /// Requests per second achieved.
    pub achieved_rate: f64,
    /// Counted requests sent.
    pub sent: u32,
    /// Sends that failed on this host.
    pub send_errors: u32,
    /// Requests that got a reply.
    pub replies: u32,
    /// Replies beyond the first for a request.
    pub duplicates: u32,
    /// Requests without a reply, percent of those sent.
    pub loss_pct: Option<f64>,
    /// Whether the responder's tally came back (the fields below are `null` without it).
    pub tally: bool,
    /// Requests the server received.
    pub server_received: Option<u32>,
    /// Replies it withheld (its rate limit).
    pub withheld: Option<u32>,
    /// The same, percent of what it received.
    pub withheld_pct: Option<f64>,
    /// Requests lost client → server.
    pub to_server_lost: Option<u32>,
    /// The same, percent of those sent.
    pub to_server_loss_pct: Option<f64>,
    /// Replies lost server → client.
    pub to_client_lost: Option<u32>,
    /// The same, percent of the replies the server sent.
    pub to_client_loss_pct: Option<f64>,
    /// More arrived than was sent: the path duplicates packets.
    pub duplicated: Option<bool>,
    /// Datagrams this host's receive buffer dropped during the run.
    pub client_drops: Option<u64>,
    /// ICMP port unreachable came back: nothing listens there.
    pub refused: bool,
}

fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

impl From<&Row> for RateRecord {
    fn from(r: &Row) -> Self {
        let (run, d) = (&r.run, r.split.directions);
        Self {
            rate: r.run.rate,
            achieved_rate: round(run.achieved),
            sent: run.counts.sent,
            send_errors: run.send_errors,
            replies: run.counts.answered,
            duplicates: run.counts.duplicates,
            loss_pct: r.split.loss_pct.map(round),
            tally: d.is_some(),
            server_received: d.map(|d| d.server_received),
            withheld: d.map(|d| d.withheld),
            withheld_pct: d.and_then(|d| d.withheld_pct).map(round),
            to_server_lost: d.map(|d| d.to_server_lost),
            to_server_loss_pct: d.and_then(|d| d.to_server_pct).map(round),
            to_client_lost: d.map(|d| d.to_client_lost),
            to_client_loss_pct: d.and_then(|d| d.to_client_pct).map(round),
            duplicated: d.map(|d| d.duplicated),
            client_drops: run.client_drops,
            refused: run.refused,
        }
    }
}

/// `--jsonl`: one rate with the target's fields.
#[derive(Debug, Serialize)]
pub struct RateLine<'a> {
    /// The target as given.
    pub target: &'a str,
    /// The address measured.
    pub address: String,
    /// The port.
    pub port: u16,
    /// The rate's record.
    #[serde(flatten)]
    pub record: RateRecord,
}

#[cfg(test)]
#[path = "load_text_tests.rs"]
mod tests;
