//! `probe --idle-test`'s output: a header, a line per silence as it ends, the verdict in
//! words (with the `nat_idle_timeout` finding and its fix when the path forgets), and the
//! JSON record. Renders what `probe::idle` judged; judges nothing.

use crate::diagnose::{Cause, Finding};
use crate::probe::idle::{Outcome, Step, Verdict};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

/// `IDLE TEST 203.0.113.10:7895 udp through the ipdiag responder: …`.
pub fn header(target: &str, address: SocketAddr, max: Duration, wait: Duration) -> String {
    let named = super::load_text::named(target, address);
    format!(
        "IDLE TEST {address}{named} udp through the ipdiag responder: replies after silences growing up to {}, each awaited {} ms more",
        seconds(max),
        wait.as_millis()
    )
}

/// `  16 s idle: answered`.
pub fn step_line(step: &Step) -> String {
    let what = match step.outcome {
        Outcome::Answered => "answered",
        Outcome::Early => {
            "answered at once, not after the silence asked: the responder is older than this test"
        }
        Outcome::Forgotten => {
            "lost twice, while an immediate request between them was answered: the path forgot the flow"
        }
        Outcome::PathLost => {
            "lost, and an immediate request too: the path or the responder is gone"
        }
    };
    format!("{:>7} idle: {what}", seconds(step.idle))
}

/// The verdict, then the finding and its fix when there is one.
pub fn verdict_text(verdict: Verdict, finding: Option<&Finding>, fixes: &[String]) -> String {
    let mut out = String::new();
    let _ = match verdict {
        Verdict::KeptAll { kept } => writeln!(
            out,
            "the path keeps a UDP flow idle for {} at least: no timeout up to the longest silence tried",
            seconds(kept)
        ),
        Verdict::Forgets { kept, forgotten } => writeln!(
            out,
            "the path keeps a UDP flow idle for {} but not {}: a reply that comes later than that after the client's last datagram is dropped (a NAT or connection-tracking timeout); an application must send more often",
            if kept.is_zero() {
                "less than the first silence".to_owned()
            } else {
                seconds(kept)
            },
            seconds(forgotten)
        ),
        Verdict::OldResponder => writeln!(
            out,
            "nothing measured: the responder answers at once (an ipdiag older than --idle-test); update ipdiag on the server"
        ),
        Verdict::Inconclusive { kept } => writeln!(
            out,
            "inconclusive after {}: replies stopped altogether, so a silence's loss proves nothing",
            seconds(kept)
        ),
    };
    if let Some(f) = finding {
        let _ = writeln!(
            out,
            "cause: {} ({} confidence): {}",
            f.cause,
            f.confidence.as_str(),
            f.evidence.join("; ")
        );
        for line in fixes {
            let _ = writeln!(out, "  fix: {line}");
        }
    }
    out
}

/// `16 s`, `1.5 s`.
fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// The JSON record of a run.
#[derive(Debug, Serialize)]
pub struct IdleRecord<'a> {
    /// The target as given.
    pub target: &'a str,
    /// The address measured.
    pub address: String,
    /// Its port.
    pub port: u16,
    /// The longest silence asked for, seconds.
    pub idle_max_s: f64,
    /// Each silence tried, in order.
    pub steps: &'a [Step],
    /// The longest silence kept, seconds.
    pub kept_s: f64,
    /// The shortest silence forgotten, seconds; `null` when none was.
    pub forgotten_s: Option<f64>,
    /// `kept_all`, `forgets`, `old_responder` or `inconclusive`.
    pub verdict: &'static str,
    /// `nat_idle_timeout` when the path forgets, else `null`.
    pub cause: Option<Cause>,
    /// What shows it.
    pub evidence: Vec<String>,
}

impl<'a> IdleRecord<'a> {
    /// The record of `steps` judged `verdict`.
    pub fn new(
        target: &'a str,
        address: SocketAddr,
        max: Duration,
        steps: &'a [Step],
        verdict: Verdict,
        finding: Option<Finding>,
    ) -> Self {
        let (word, kept, forgotten) = match verdict {
            Verdict::KeptAll { kept } => ("kept_all", kept, None),
            Verdict::Forgets { kept, forgotten } => ("forgets", kept, Some(forgotten)),
            Verdict::OldResponder => ("old_responder", Duration::ZERO, None),
            Verdict::Inconclusive { kept } => ("inconclusive", kept, None),
        };
        Self {
            target,
            address: address.ip().to_string(),
            port: address.port(),
            idle_max_s: max.as_secs_f64(),
            steps,
            kept_s: kept.as_secs_f64(),
            forgotten_s: forgotten.map(|d| d.as_secs_f64()),
            verdict: word,
            cause: finding.as_ref().map(|f| f.cause),
            evidence: finding.map(|f| f.evidence).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::Confidence;

    #[test]
    fn lines_and_verdicts() {
        let step = Step {
            idle: Duration::from_secs(16),
            outcome: Outcome::Answered,
        };
        assert_eq!(step_line(&step), "   16 s idle: answered");
        let finding = Finding {
            cause: Cause::NatIdleTimeout,
            confidence: Confidence::High,
            evidence: vec!["seen".into()],
        };
        let text = verdict_text(
            Verdict::Forgets {
                kept: Duration::from_secs(2),
                forgotten: Duration::from_secs(4),
            },
            Some(&finding),
            &["send more often".into()],
        );
        assert_eq!(
            text,
            "the path keeps a UDP flow idle for 2 s but not 4 s: a reply that comes later than that after the client's last datagram is dropped (a NAT or connection-tracking timeout); an application must send more often\n\
             cause: nat_idle_timeout (high confidence): seen\n  fix: send more often\n"
        );
    }
}
