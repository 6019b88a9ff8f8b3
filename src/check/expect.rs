//! What a check expects, and whether a probe result meets it (state and budgets).
//!
//! Pure: no I/O. `error` (the probe could not be made: no such name, no route) never meets
//! any expectation, not even `unreachable`: nothing was proven, and a typo in a host name
//! must not pass a "this port must not be reachable" check.

use crate::model::{ProbeResult, Protocol, State};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The `expect` of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// A TCP handshake or a UDP reply.
    #[default]
    Open,
    /// The host answered that nothing listens (RST, ICMP port unreachable).
    Closed,
    /// Dropped or rejected on the way: the port is not reachable from here.
    Filtered,
    /// UDP silence, or anything but closed that is not an error: open, filtered or unknown.
    #[serde(rename = "open|filtered")]
    OpenOrFiltered,
    /// Same as `open`.
    Reachable,
    /// Anything but `open` (closed, filtered, silence), though never `error`.
    Unreachable,
    /// `ipdiag wait`'s "ready": open, and for a UDP port without a responder also silence
    /// (`open|filtered`, no-response); [`Expect::for_endpoint`] says which per port. Never
    /// `filtered`: an ICMP error from a router or firewall (port, host or network
    /// unreachable, administratively prohibited) proves the datagram was turned away, so it
    /// is never "ready". Not a word of the check file.
    #[serde(rename = "open or silence", skip_deserializing)]
    OpenOrSilent,
}

impl Expect {
    /// The word written in check files and printed in reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Filtered => "filtered",
            Self::OpenOrFiltered => "open|filtered",
            Self::Reachable => "reachable",
            Self::Unreachable => "unreachable",
            Self::OpenOrSilent => "open or silence",
        }
    }

    /// The expectation for one port of a check: `wait`'s "ready" is `open` for TCP and for
    /// UDP with a responder (whose silence is `filtered`), "open or silence" for other UDP.
    /// A target's ports may mix protocols (`db:5432,53/udp`), so this is decided per port.
    #[must_use]
    pub const fn for_endpoint(self, protocol: Protocol, responder: bool) -> Self {
        match (self, protocol, responder) {
            (Self::OpenOrSilent, Protocol::Udp, false) => Self::OpenOrSilent,
            (Self::OpenOrSilent, _, _) => Self::Open,
            (other, _, _) => other,
        }
    }

    /// Whether a port in `state` meets this expectation.
    pub fn holds(self, state: State) -> bool {
        match (self, state) {
            (_, State::Error) => false,
            (Self::Open | Self::Reachable, s) => s == State::Open,
            (Self::Closed, s) => s == State::Closed,
            (Self::Filtered, s) => s == State::Filtered,
            (Self::OpenOrFiltered, s) => s != State::Closed,
            (Self::Unreachable, s) => s != State::Open,
            (Self::OpenOrSilent, s) => matches!(s, State::Open | State::OpenFiltered),
        }
    }
}

impl Expect {
    /// Why a loss or RTT budget means nothing for a check expecting this; `None` for `open`
    /// and `reachable`, the expectations that a service answers (each answer has an RTT,
    /// each silence is loss). Elsewhere a budget would be skipped or always fail.
    pub const fn budget_refusal(self) -> Option<&'static str> {
        match self {
            Self::Open | Self::Reachable => None,
            Self::Closed => Some(
                "a refusal comes from the host's kernel or a firewall, not from a service, so it is no service's latency or loss",
            ),
            Self::Filtered => {
                Some("a filtered port answers nothing: it has no RTT and always 100% loss")
            }
            Self::OpenOrFiltered => Some(
                "a silent port passes it with no RTT and 100% loss; write expect = \"open\" for a service that must answer",
            ),
            Self::Unreachable => {
                Some("it passes closed and filtered ports, which no service answers")
            }
            Self::OpenOrSilent => Some("silence passes it, and silence has no RTT"),
        }
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Latency and loss budgets of a check.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Budget {
    /// The most loss allowed, in percent of attempts.
    pub max_loss_pct: Option<f64>,
    /// The highest average RTT allowed, in milliseconds.
    pub max_rtt_ms: Option<f64>,
}

/// Whether a result meets its check, and if not, why (one line).
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The check holds for this result.
    pub holds: bool,
    /// Why not: `expected open, got closed (conn-refused)`, `loss 20.0% > 5%`, ...
    pub why: Option<String>,
}

impl Verdict {
    const fn pass() -> Self {
        Self {
            holds: true,
            why: None,
        }
    }

    fn fail(why: String) -> Self {
        Self {
            holds: false,
            why: Some(why),
        }
    }
}

/// Judges one result: the state first, then the budgets (which apply to answers only:
/// a filtered port has no RTT to measure).
pub fn judge(expect: Expect, budget: Budget, result: &ProbeResult) -> Verdict {
    if !expect.holds(result.state) {
        let mut why = format!(
            "expected {expect}, got {} ({})",
            result.state, result.reason
        );
        if let Some(error) = &result.error {
            why.push_str(": ");
            why.push_str(error);
        }
        return Verdict::fail(why);
    }
    let loss = result.loss_pct();
    if let Some(max) = budget.max_loss_pct
        && loss > max
    {
        return Verdict::fail(format!(
            "loss {loss:.1}% ({} of {} attempts unanswered) > budget {max}%",
            result.attempts.saturating_sub(result.received),
            result.attempts
        ));
    }
    if let (Some(max), Some(rtt)) = (budget.max_rtt_ms, result.rtt)
        && rtt.avg > max
    {
        return Verdict::fail(format!(
            "rtt avg {:.2} ms (max {:.2} ms) > budget {max} ms",
            rtt.avg, rtt.max
        ));
    }
    Verdict::pass()
}

/// How reachable a state is, for a name with several addresses: a client connecting by
/// name gets the most reachable one (it tries them in turn), so that one is judged.
pub const fn reachability(state: State) -> u8 {
    match state {
        State::Open => 4,
        State::OpenFiltered => 3,
        State::Closed => 2,
        State::Filtered => 1,
        State::Error => 0,
    }
}

/// The result a check is judged by among the addresses of one port: the most reachable
/// (the first of equals, in resolver order).
pub fn most_reachable<'a>(results: &[&'a ProbeResult]) -> Option<&'a ProbeResult> {
    let mut best: Option<&ProbeResult> = None;
    for &r in results {
        if best.is_none_or(|b| reachability(r.state) > reachability(b.state)) {
            best = Some(r);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Reason, RttStats};
    use test_case::test_case;

    fn result(state: State, reason: Reason) -> ProbeResult {
        ProbeResult::sample("127.0.0.1", 1, state, reason)
    }

    #[test_case(Expect::Open, State::Open, true)]
    #[test_case(Expect::Open, State::OpenFiltered, false)]
    #[test_case(Expect::Reachable, State::Open, true)]
    #[test_case(Expect::Reachable, State::Closed, false)]
    #[test_case(Expect::Closed, State::Closed, true)]
    #[test_case(Expect::Closed, State::Filtered, false)]
    #[test_case(Expect::Filtered, State::Filtered, true)]
    #[test_case(Expect::Filtered, State::Closed, false)]
    #[test_case(Expect::Filtered, State::OpenFiltered, false)]
    #[test_case(Expect::OpenOrFiltered, State::OpenFiltered, true)]
    #[test_case(Expect::OpenOrFiltered, State::Open, true)]
    #[test_case(Expect::OpenOrFiltered, State::Filtered, true)]
    #[test_case(Expect::OpenOrFiltered, State::Closed, false)]
    #[test_case(Expect::Unreachable, State::Closed, true)]
    #[test_case(Expect::Unreachable, State::Filtered, true)]
    #[test_case(Expect::Unreachable, State::OpenFiltered, true)]
    #[test_case(Expect::Unreachable, State::Open, false)]
    #[test_case(Expect::Unreachable, State::Error, false)]
    #[test_case(Expect::OpenOrFiltered, State::Error, false)]
    #[test_case(Expect::OpenOrSilent, State::Open, true)]
    #[test_case(Expect::OpenOrSilent, State::OpenFiltered, true)]
    #[test_case(Expect::OpenOrSilent, State::Filtered, false; "an ICMP error is never ready")]
    #[test_case(Expect::OpenOrSilent, State::Closed, false)]
    #[test_case(Expect::OpenOrSilent, State::Error, false)]
    fn states(expect: Expect, state: State, holds: bool) {
        assert_eq!(expect.holds(state), holds);
    }

    #[test_case(Protocol::Udp, false, Expect::OpenOrSilent)]
    #[test_case(Protocol::Udp, true, Expect::Open; "a responder must reply")]
    #[test_case(Protocol::Tcp, false, Expect::Open; "TCP silence is filtered, never ready")]
    fn ready_per_port(protocol: Protocol, responder: bool, expect: Expect) {
        assert_eq!(
            Expect::OpenOrSilent.for_endpoint(protocol, responder),
            expect
        );
        assert_eq!(
            Expect::Closed.for_endpoint(protocol, responder),
            Expect::Closed
        );
    }

    #[test]
    fn state_mismatch_says_what_was_expected_and_seen() {
        let v = judge(
            Expect::Open,
            Budget::default(),
            &result(State::Closed, Reason::ConnRefused),
        );
        assert!(!v.holds);
        assert_eq!(
            v.why.as_deref(),
            Some("expected open, got closed (conn-refused)")
        );
        let mut failed = result(State::Error, Reason::DnsError);
        failed.error = Some("no such host".into());
        let v = judge(Expect::Unreachable, Budget::default(), &failed);
        assert_eq!(
            v.why.as_deref(),
            Some("expected unreachable, got error (dns-error): no such host")
        );
    }

    #[test]
    fn budgets_apply_to_answers() {
        let mut r = result(State::Open, Reason::SynAck);
        r.attempts = 10;
        r.received = 8;
        r.rtt = Some(RttStats {
            min: 1.0,
            avg: 12.5,
            max: 30.0,
            stddev: 3.0,
        });
        let loss = Budget {
            max_loss_pct: Some(10.0),
            max_rtt_ms: None,
        };
        assert_eq!(
            judge(Expect::Open, loss, &r).why.as_deref(),
            Some("loss 20.0% (2 of 10 attempts unanswered) > budget 10%")
        );
        let rtt = Budget {
            max_loss_pct: Some(20.0),
            max_rtt_ms: Some(10.0),
        };
        assert_eq!(
            judge(Expect::Open, rtt, &r).why.as_deref(),
            Some("rtt avg 12.50 ms (max 30.00 ms) > budget 10 ms")
        );
        let fine = Budget {
            max_loss_pct: Some(20.0),
            max_rtt_ms: Some(12.5),
        };
        assert!(judge(Expect::Open, fine, &r).holds);
        // A filtered port has no RTT: the RTT budget does not fail it.
        let silent = result(State::Filtered, Reason::NoResponse);
        let v = judge(
            Expect::Filtered,
            Budget {
                max_loss_pct: None,
                max_rtt_ms: Some(1.0),
            },
            &silent,
        );
        assert!(v.holds);
    }

    #[test]
    fn a_name_is_judged_by_its_most_reachable_address() {
        let closed = result(State::Closed, Reason::ConnRefused);
        let open = result(State::Open, Reason::SynAck);
        let error = result(State::Error, Reason::LocalError);
        assert_eq!(
            most_reachable(&[&closed, &open, &error]).map(|r| r.state),
            Some(State::Open)
        );
        assert_eq!(
            most_reachable(&[&error, &closed]).map(|r| r.state),
            Some(State::Closed)
        );
        assert_eq!(most_reachable(&[]), None);
    }
}
