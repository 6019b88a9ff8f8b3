//! tcping-style lines, one per attempt, for `--count N` and `--count 0` runs.
//!
//! Renders an attempt already judged (state and reason decided by the caller, `app/`):
//! nothing here reads evidence.

use super::probe_text::{endpoint_text, late_text};
use crate::model::{Endpoint, ProbeResult, Protocol, Reason, State};
use std::fmt::Write as _;
use std::net::IpAddr;

/// One attempt, as decided before it is shown.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptView<'a> {
    /// What was probed.
    pub endpoint: &'a Endpoint,
    /// Which attempt (0-based).
    pub seq: u32,
    /// Which send of it (0 = first, then retries).
    pub try_no: u32,
    /// Milliseconds from the send to the answer (the wait, for a silence).
    pub ms: f64,
    /// What it came to.
    pub outcome: AttemptOutcome<'a>,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptOutcome<'a> {
    /// The endpoint has no address.
    NoAddress,
    /// Nothing came back within the wait.
    Silence,
    /// This host could not send: the system's message.
    Local(&'a str),
    /// An answer, judged.
    Answered {
        /// The state it proves.
        state: State,
        /// The evidence.
        reason: Reason,
        /// Who sent the ICMP error, when not the target itself.
        icmp_from: Option<IpAddr>,
        /// UDP: the reply's size.
        reply_bytes: Option<usize>,
        /// Connect mode: it came only after a SYN retransmission (counted as lost).
        after_retransmission: bool,
    },
}

/// `203.0.113.10:7890/tcp seq=3 open (syn-ack) time=0.412 ms`, or `... no answer within 200 ms`.
pub fn attempt_line(view: &AttemptView<'_>) -> String {
    let target = endpoint_text(view.endpoint);
    let retry = if view.try_no > 0 {
        format!(" retry {}", view.try_no)
    } else {
        String::new()
    };
    let (seq, ms) = (view.seq + 1, view.ms);
    match &view.outcome {
        AttemptOutcome::NoAddress => format!("{target} seq={seq}{retry} no address"),
        AttemptOutcome::Silence => format!("{target} seq={seq}{retry} no answer within {ms:.0} ms"),
        AttemptOutcome::Local(message) => format!("{target} seq={seq}{retry} error: {message}"),
        AttemptOutcome::Answered {
            state,
            reason,
            icmp_from,
            reply_bytes,
            after_retransmission,
        } => {
            let mut detail = reason.as_str().to_owned();
            if let Some(from) = icmp_from {
                let _ = write!(detail, " from {from}");
            }
            if let (Protocol::Udp, Some(bytes)) = (view.endpoint.protocol, reply_bytes) {
                let _ = write!(detail, ", {bytes} bytes");
            }
            let late = if *after_retransmission {
                " (after a SYN retransmission: counted as lost)"
            } else {
                ""
            };
            format!("{target} seq={seq}{retry} {state} ({detail}) time={ms:.3} ms{late}")
        }
    }
}

/// The closing statistics, like ping's.
pub fn summary_lines(result: &ProbeResult) -> [String; 2] {
    let rtt = result.rtt.map_or_else(
        || "no answers".to_owned(),
        |r| {
            format!(
                "rtt min/avg/max/stddev = {:.3}/{:.3}/{:.3}/{:.3} ms",
                r.min, r.avg, r.max, r.stddev
            )
        },
    );
    [
        format!("--- {} ---", endpoint_text(&result.endpoint)),
        format!(
            "{} probes, {} answered{}, {:.1}% loss; {}; {} ({})",
            result.attempts,
            result.received,
            late_text(result),
            result.loss_pct(),
            rtt,
            result.state,
            result.reason
        ),
    ]
}
