//! `probe --udp --responder --idle-test`: how long the path keeps a UDP flow idle (a NAT's
//! mapping, conntrack's entry, a security group's connection tracking). The client asks the
//! responder to answer after growing delays; while it waits it sends nothing, so the reply
//! is the first packet of the flow after that much silence, and a path that forgot the
//! flow drops it (or un-translates it, which the connected socket drops). A lost delayed
//! reply is told from loss by an immediate request that is answered, and by a second try.
//!
//! Pure: the schedule and the judgement. `app/idle_test.rs` does the sending.

use serde::Serialize;
use std::time::Duration;

/// The longest silence tried without `--idle-max`: RFC 4787 (REQ-5) asks a NAT to keep a
/// UDP mapping at least two minutes; cloud defaults are shorter (30 s for UDP in AWS
/// security groups and GCP Cloud NAT; Linux conntrack 30 s, 120 s once both ways talked).
pub const DEFAULT_MAX: Duration = Duration::from_secs(120);

/// The silences tried, in order: 1 s, doubling, and `max` last (each below `max`, which the
/// wire's limit bounds). Zero or sub-second maxima try `max` alone.
pub fn schedule(max: Duration) -> Vec<Duration> {
    let mut delays = Vec::new();
    let mut delay = Duration::from_secs(1);
    while delay < max {
        delays.push(delay);
        delay *= 2;
    }
    delays.push(max);
    delays
}

/// What one delayed request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The delayed reply came: the path kept the flow that long.
    Answered,
    /// The reply came before the delay it asked for: the responder ignores delays (an
    /// ipdiag older than this test); nothing was measured.
    Early,
    /// Lost twice, while an immediate request between them was answered: the path forgot
    /// the flow.
    Forgotten,
    /// Lost, and the immediate request too: the path (or the responder) went away; the
    /// silence proves nothing.
    PathLost,
}

/// One silence tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Step {
    /// How long the flow was idle before the reply was due.
    #[serde(rename = "idle_s", serialize_with = "seconds")]
    pub idle: Duration,
    /// What came back.
    pub outcome: Outcome,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// What the steps show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every silence up to `kept` was kept: no timeout below the longest tried.
    KeptAll {
        /// The longest silence tried.
        kept: Duration,
    },
    /// The path keeps a flow idle at least `kept` (zero: not even the first silence) and
    /// forgets it by `forgotten`.
    Forgets {
        /// The longest silence kept.
        kept: Duration,
        /// The shortest silence forgotten.
        forgotten: Duration,
    },
    /// The responder answered before the delay: it is older than this test.
    OldResponder,
    /// The path stopped answering at all after `kept`: nothing can be said beyond it.
    Inconclusive {
        /// The longest silence kept before.
        kept: Duration,
    },
}

/// Judges the steps, in the order they ran (the runner stops at the first that is not
/// answered).
pub fn judge(steps: &[Step]) -> Verdict {
    let kept = steps
        .iter()
        .take_while(|s| s.outcome == Outcome::Answered)
        .map(|s| s.idle)
        .max()
        .unwrap_or(Duration::ZERO);
    match steps.iter().find(|s| s.outcome != Outcome::Answered) {
        None => Verdict::KeptAll { kept },
        Some(s) => match s.outcome {
            Outcome::Forgotten => Verdict::Forgets {
                kept,
                forgotten: s.idle,
            },
            Outcome::Early => Verdict::OldResponder,
            Outcome::PathLost | Outcome::Answered => Verdict::Inconclusive { kept },
        },
    }
}

/// Whether a reply that came `waited` after a request asking `delay` honoured the delay:
/// a responder that ignores it answers within the RTT, far below a second's delay.
pub fn honoured(delay: Duration, waited: Duration) -> bool {
    waited + Duration::from_millis(50) >= delay
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn step(idle: u64, outcome: Outcome) -> Step {
        Step {
            idle: S(idle),
            outcome,
        }
    }

    #[test]
    fn the_schedule_doubles_from_one_second_up_to_the_maximum() {
        assert_eq!(
            schedule(DEFAULT_MAX),
            [1, 2, 4, 8, 16, 32, 64, 120].map(S).to_vec()
        );
        assert_eq!(schedule(S(4)), [S(1), S(2), S(4)]);
        assert_eq!(schedule(S(5)), [S(1), S(2), S(4), S(5)]);
        assert_eq!(
            schedule(Duration::from_millis(300)),
            [Duration::from_millis(300)]
        );
    }

    #[test]
    fn verdicts() {
        use Outcome::{Answered, Early, Forgotten, PathLost};
        let all = [step(1, Answered), step(2, Answered)];
        assert_eq!(judge(&all), Verdict::KeptAll { kept: S(2) });
        let forgets = [step(1, Answered), step(2, Answered), step(4, Forgotten)];
        assert_eq!(
            judge(&forgets),
            Verdict::Forgets {
                kept: S(2),
                forgotten: S(4)
            }
        );
        assert_eq!(
            judge(&[step(1, Forgotten)]),
            Verdict::Forgets {
                kept: Duration::ZERO,
                forgotten: S(1)
            }
        );
        assert_eq!(judge(&[step(1, Early)]), Verdict::OldResponder);
        assert_eq!(
            judge(&[step(1, Answered), step(2, PathLost)]),
            Verdict::Inconclusive { kept: S(1) }
        );
    }

    #[test]
    fn a_reply_within_the_rtt_did_not_honour_a_delay() {
        assert!(honoured(S(1), Duration::from_millis(1003)));
        assert!(honoured(S(1), Duration::from_millis(960)), "timer slack");
        assert!(!honoured(S(1), Duration::from_millis(2)));
    }
}
