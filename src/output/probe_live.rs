//! tcping-style lines, one per attempt, for `--count N` and `--count 0` runs.

use super::probe_text::endpoint_text;
use crate::model::{Endpoint, ProbeResult, Protocol};
use crate::probe::attempt::Answer;
use crate::probe::reason::{Observation, judge};
use std::fmt::Write as _;

/// `203.0.113.10:7890/tcp seq=3 open (syn-ack) time=0.412 ms`, or `... no answer within 200 ms`.
pub fn attempt_line(endpoint: &Endpoint, seq: u32, try_no: u32, answer: &Answer) -> String {
    let target = endpoint_text(endpoint);
    let retry = if try_no > 0 {
        format!(" retry {try_no}")
    } else {
        String::new()
    };
    let ms = answer.rtt.as_secs_f64() * 1000.0;
    let Some(address) = endpoint.address else {
        return format!("{target} seq={}{retry} no address", seq + 1);
    };
    match &answer.observation {
        Observation::Silence => format!(
            "{target} seq={}{retry} no answer within {ms:.0} ms",
            seq + 1
        ),
        Observation::Local(message) => format!("{target} seq={}{retry} error: {message}", seq + 1),
        observation => {
            let (state, reason) = judge(endpoint.protocol, address, observation);
            let mut detail = reason.as_str().to_owned();
            if let Observation::Icmp(report) = observation
                && let Some(from) = report
                    .from
                    .filter(|f| f.to_canonical() != address.to_canonical())
            {
                let _ = write!(detail, " from {from}");
            }
            if let (Protocol::Udp, Some(bytes)) = (endpoint.protocol, answer.reply_bytes) {
                let _ = write!(detail, ", {bytes} bytes");
            }
            let late = if answer.late {
                " (after a SYN retransmission: counted as lost)"
            } else {
                ""
            };
            format!(
                "{target} seq={}{retry} {state} ({detail}) time={ms:.3} ms{late}",
                seq + 1
            )
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
            "{} probes, {} answered, {:.1}% loss; {}; {} ({})",
            result.attempts,
            result.received,
            result.loss_pct(),
            rtt,
            result.state,
            result.reason
        ),
    ]
}
