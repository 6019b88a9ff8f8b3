//! `ipdiag doctor --json`: the asked port's probe record (same fields as `probe`, with
//! `cause` and `hints`), plus the control probes, the ICMP echo and the cloud choice.

use super::doctor_text::Asked;
use super::probe_json::{ProbeRecord, RttRecord};
use super::trace_text::{HopRecord, VerdictRecord};
use crate::diagnose::Diagnosis;
use crate::local::watch::report::WatchReport;
use serde::Serialize;

/// One asked endpoint.
#[derive(Debug, Serialize)]
pub struct DoctorRecord<'a> {
    /// The asked port, as `probe` reports it.
    #[serde(flatten)]
    pub result: ProbeRecord<'a>,
    /// The control probes of the same address (TCP 22, 80, 443, 3389).
    pub control: Vec<ProbeRecord<'a>>,
    /// ICMP echo to the address.
    pub ping: Option<PingRecord>,
    /// How the cloud's fix texts were chosen.
    pub cloud: &'a str,
    /// The trace to the port (`--trace`): its hops and verdict; `null` when not traced.
    pub trace: Option<TraceRecord>,
    /// The server's report (`--on-server`), as it sent it; `null` without.
    pub server: Option<&'a WatchReport>,
}

/// `doctor --trace`: the path.
#[derive(Debug, Serialize)]
pub struct TraceRecord {
    /// Every hop tried.
    pub hops: Vec<HopRecord>,
    /// Where the path ends.
    pub verdict: VerdictRecord,
}

/// ICMP echo.
#[derive(Debug, Serialize)]
pub struct PingRecord {
    /// Whether this machine could send ICMP echo at all.
    pub available: bool,
    /// `ping` (unprivileged ping socket) or `raw`; `null` when not available.
    pub method: Option<&'static str>,
    /// Requests sent.
    pub sent: u32,
    /// Replies.
    pub received: u32,
    /// RTT of the replies, `null` when none.
    pub rtt_ms: Option<RttRecord>,
    /// Why ICMP was not available.
    pub error: Option<String>,
}

/// The record of one asked endpoint; `control_diagnoses[i]` belongs to `asked.control[i]`.
pub fn record<'a>(
    asked: &'a Asked<'a>,
    control_diagnoses: &'a [Diagnosis],
    cloud: &'a str,
) -> DoctorRecord<'a> {
    DoctorRecord {
        result: ProbeRecord::new(asked.result, asked.diagnosis),
        control: asked
            .control
            .iter()
            .zip(control_diagnoses)
            .map(|(c, d)| ProbeRecord::new(c, d))
            .collect(),
        ping: asked.ping.map(|p| match p {
            Ok(p) => PingRecord {
                available: true,
                method: Some(p.method),
                sent: p.sent,
                received: p.received,
                rtt_ms: p.rtt.stats().as_ref().map(RttRecord::from),
                error: None,
            },
            Err(why) => PingRecord {
                available: false,
                method: None,
                sent: 0,
                received: 0,
                rtt_ms: None,
                error: Some(why.clone()),
            },
        }),
        cloud,
        trace: asked.trace.map(|(hops, summaries, verdict)| TraceRecord {
            hops: hops
                .iter()
                .zip(summaries)
                .map(|(h, s)| HopRecord::new(h, s))
                .collect(),
            verdict: VerdictRecord::from(verdict),
        }),
        server: asked.server,
    }
}
