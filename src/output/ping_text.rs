//! `ipdiag ping`'s output: a line per echo request as it is answered (ping's familiar
//! shape), the summary, and the JSON record.

use super::probe_json::RttRecord;
use crate::model::RttStats;
use crate::probe::icmp::{Echo, PingOutcome};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;

/// `PING 203.0.113.10 (web): 4 echo requests, 1 s apart`.
pub fn header(host: &str, address: IpAddr, count: u32, interval: Duration) -> String {
    let named = if host == address.to_string() {
        String::new()
    } else {
        format!(" ({host})")
    };
    let noun = if count == 1 { "request" } else { "requests" };
    let ms = interval.as_millis();
    let apart = if ms < 1000 || !ms.is_multiple_of(100) {
        format!("{ms} ms")
    } else {
        format!("{} s", interval.as_secs_f64())
    };
    format!("PING {address}{named}: {count} echo {noun}, {apart} apart")
}

/// `reply from 203.0.113.10: seq=0 time=50.412 ms` or `no reply: seq=1`.
pub fn echo_line(address: IpAddr, echo: Echo) -> String {
    match echo.rtt {
        Some(rtt) => format!(
            "reply from {address}: seq={} time={:.3} ms",
            echo.seq,
            rtt.as_secs_f64() * 1000.0
        ),
        None => format!("no reply: seq={}", echo.seq),
    }
}

/// The loss line and, when anything came back, the RTT line.
pub fn summary(address: IpAddr, outcome: &PingOutcome, rtt: Option<&RttStats>) -> String {
    let method = method_words(outcome.method);
    let mut out = format!(
        "--- {address}: {} sent, {} received, {:.1}% loss ({method})\n",
        outcome.sent,
        outcome.received,
        loss_pct(outcome)
    );
    if let Some(r) = rtt {
        let _ = writeln!(
            out,
            "rtt min/avg/max/stddev = {:.3}/{:.3}/{:.3}/{:.3} ms",
            r.min, r.avg, r.max, r.stddev
        );
    }
    out
}

/// How the echo requests went, in words: `raw socket`, `ping socket`, or Windows'
/// `IcmpSendEcho2` (method `iphlpapi`).
pub fn method_words(method: &str) -> &'static str {
    match method {
        "raw" => "raw socket",
        "iphlpapi" => "IcmpSendEcho2",
        _ => "ping socket",
    }
}

/// Percent of requests without a reply.
pub fn loss_pct(outcome: &PingOutcome) -> f64 {
    if outcome.sent == 0 {
        return 0.0;
    }
    100.0 * f64::from(outcome.sent - outcome.received.min(outcome.sent)) / f64::from(outcome.sent)
}

/// `ipdiag ping --json`.
#[derive(Debug, Serialize)]
pub struct PingRecord<'a> {
    /// The host as given.
    pub host: &'a str,
    /// The address pinged.
    pub address: String,
    /// `ping` (unprivileged ping socket), `raw`, or `iphlpapi` (Windows' `IcmpSendEcho2`).
    pub method: &'static str,
    /// Echo requests sent.
    pub sent: u32,
    /// Replies.
    pub received: u32,
    /// Percent without a reply.
    pub loss_pct: f64,
    /// RTT over the replies; `null` when none came.
    pub rtt_ms: Option<RttRecord>,
    /// Every request: `{seq, rtt_ms}` (`rtt_ms` `null`: no reply).
    pub replies: Vec<EchoRecord>,
}

/// One echo request.
#[derive(Debug, Serialize)]
pub struct EchoRecord {
    /// Its sequence number.
    pub seq: u16,
    /// Its reply's RTT in milliseconds.
    pub rtt_ms: Option<f64>,
}

impl From<Echo> for EchoRecord {
    fn from(e: Echo) -> Self {
        Self {
            seq: e.seq,
            rtt_ms: e
                .rtt
                .map(|d| (d.as_secs_f64() * 1_000_000.0).round() / 1000.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let a: IpAddr = "203.0.113.10".parse().unwrap();
        assert_eq!(
            header("web", a, 4, Duration::from_secs(1)),
            "PING 203.0.113.10 (web): 4 echo requests, 1 s apart"
        );
        assert_eq!(
            header("203.0.113.10", a, 1, Duration::from_millis(250)),
            "PING 203.0.113.10: 1 echo request, 250 ms apart"
        );
        let echo = Echo {
            seq: 3,
            rtt: Some(Duration::from_micros(50_412)),
        };
        assert_eq!(
            echo_line(a, echo),
            "reply from 203.0.113.10: seq=3 time=50.412 ms"
        );
        assert_eq!(echo_line(a, Echo { seq: 4, rtt: None }), "no reply: seq=4");
        let outcome = PingOutcome {
            sent: 4,
            received: 3,
            rtt: crate::probe::stats::RunningRtt::default(),
            method: "ping",
        };
        assert_eq!(
            summary(a, &outcome, None),
            "--- 203.0.113.10: 4 sent, 3 received, 25.0% loss (ping socket)\n"
        );
    }
}
