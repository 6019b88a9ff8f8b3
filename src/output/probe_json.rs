//! The JSON schema of `ipdiag probe` (README.md "JSON fields"): one object per probed
//! (address, port, protocol). Durations are milliseconds; absent facts are `null`.

use crate::diagnose::{Diagnosis, Hint};
use crate::model::{ProbeResult, RttStats};
use serde::Serialize;

/// One probed endpoint.
#[derive(Debug, Serialize)]
pub struct ProbeRecord<'a> {
    /// The target as written.
    pub target: &'a str,
    /// Its host part.
    pub host: &'a str,
    /// The address probed (`null` when the name did not resolve).
    pub address: Option<String>,
    /// The port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub protocol: &'static str,
    /// `connect` (ordinary sockets).
    pub method: &'static str,
    /// nmap's state.
    pub state: &'static str,
    /// The evidence.
    pub reason: &'static str,
    /// Who sent the ICMP error, if one decided the state.
    pub icmp_from: Option<String>,
    /// Probes sent, retries included.
    pub attempts: u32,
    /// Probes answered (late ones included).
    pub received: u32,
    /// Of those, answers that came after their timeout: a slow path, not loss.
    pub late: u32,
    /// Percent of attempts without an answer.
    pub loss_pct: f64,
    /// RTT over the answers; `null` when nothing came back.
    pub rtt_ms: Option<RttRecord>,
    /// UDP: the payload sent.
    pub payload: Option<&'static str>,
    /// For `error`: the system's message.
    pub error: Option<&'a str>,
    /// An ipdiag responder answered (`ipdiag serve`).
    pub responder: bool,
    /// This client as the responder saw it (`ADDRESS:PORT`, after any NAT).
    pub observed_source: Option<String>,
    /// The most likely cause (DESIGN.md's words).
    pub cause: &'static str,
    /// Every likely cause, ranked: `{cause, confidence, evidence, fix}`.
    pub hints: &'a [Hint],
}

/// The closing object of a run that Ctrl-C ended before every endpoint was probed: the
/// JSON array's last element, the last JSON line. Its fields tell it from a probe record
/// (it has no `target`).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Interrupted {
    /// Always true: the run was interrupted.
    pub interrupted: bool,
    /// Endpoints with a record above.
    pub probed: usize,
    /// Endpoints of the plan never probed.
    pub not_probed: usize,
}

/// RTT in milliseconds, rounded to the microsecond.
#[derive(Debug, Serialize)]
pub struct RttRecord {
    /// Fastest.
    pub min: f64,
    /// Mean.
    pub avg: f64,
    /// Slowest.
    pub max: f64,
    /// Standard deviation.
    pub stddev: f64,
}

fn micro(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

impl From<&RttStats> for RttRecord {
    fn from(r: &RttStats) -> Self {
        Self {
            min: micro(r.min),
            avg: micro(r.avg),
            max: micro(r.max),
            stddev: micro(r.stddev),
        }
    }
}

impl<'a> ProbeRecord<'a> {
    /// The record of a result and its diagnosis.
    pub fn new(r: &'a ProbeResult, diagnosis: &'a Diagnosis) -> Self {
        let e = &r.endpoint;
        Self {
            target: &e.target,
            host: &e.host,
            address: e.address.map(|a| a.to_string()),
            port: e.port,
            protocol: e.protocol.as_str(),
            method: r.method.as_str(),
            state: r.state.as_str(),
            reason: r.reason.as_str(),
            icmp_from: r.icmp_from.map(|a| a.to_string()),
            attempts: r.attempts,
            received: r.received,
            late: r.late,
            loss_pct: (r.loss_pct() * 10.0).round() / 10.0,
            rtt_ms: r.rtt.as_ref().map(RttRecord::from),
            payload: r.payload,
            error: r.error.as_deref(),
            responder: r.responder,
            observed_source: r.observed_source.map(|a| a.to_string()),
            cause: diagnosis.cause.as_str(),
            hints: &diagnosis.hints,
        }
    }
}
