//! What every report of `ipdiag check` shows (table, JSON, JUnit, CI annotations): a check,
//! its judged rows and their diagnoses, and the one-line texts they share.

use super::probe_text::endpoint_text;
use crate::check::{Check, Outcome, Row};
use crate::diagnose::{Cause, Diagnosis};

/// One check with what it found.
pub struct CheckView<'a> {
    /// The check as written in the file.
    pub check: &'a Check,
    /// Its judged rows.
    pub outcome: &'a Outcome,
    /// Parallel to `outcome.rows`: the diagnosis of each row's result.
    pub diagnoses: Vec<Diagnosis>,
}

impl CheckView<'_> {
    /// The rows with their diagnoses.
    pub fn rows(&self) -> impl Iterator<Item = (&Row, Option<&Diagnosis>)> {
        self.outcome
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| (row, self.diagnoses.get(i)))
    }

    /// The failing rows' one-line messages, joined: `127.0.0.1:5432/tcp: expected open,
    /// got closed (conn-refused); likely not_listening: ...`, and the endpoints the run did
    /// not reach.
    pub fn failure_message(&self) -> String {
        if self.outcome.rows.is_empty() {
            return "not probed (the run stopped before its turn)".to_owned();
        }
        let mut lines: Vec<String> = self
            .rows()
            .filter(|(row, _)| !row.verdict.holds)
            .map(|(row, diagnosis)| failure_line(row, diagnosis))
            .collect();
        if let Some(line) = unprobed_line(self.outcome.unprobed) {
            lines.push(line);
        }
        lines.join(" | ")
    }
}

/// `203.0.113.10:7893/tcp: expected open, got filtered (no-response); likely security_group
/// (high): the cloud security group has no inbound rule for this port`.
pub fn failure_line(row: &Row, diagnosis: Option<&Diagnosis>) -> String {
    let mut line = format!(
        "{}: {}",
        endpoint_text(&row.result.endpoint),
        row.verdict.why.as_deref().unwrap_or("failed")
    );
    if let Some(cause) = diagnosis_line(diagnosis) {
        line.push_str("; likely ");
        line.push_str(&cause);
    }
    line
}

/// `2 more endpoints not probed (the run stopped before their turn)`; `None` for none.
pub fn unprobed_line(unprobed: usize) -> Option<String> {
    match unprobed {
        0 => None,
        1 => Some("1 more endpoint not probed (the run stopped before its turn)".to_owned()),
        n => Some(format!(
            "{n} more endpoints not probed (the run stopped before their turn)"
        )),
    }
}

/// The diagnosis in one line, when it says more than "reachable".
pub fn diagnosis_line(diagnosis: Option<&Diagnosis>) -> Option<String> {
    let top = diagnosis?.hints.first()?;
    (top.cause != Cause::Ok).then(|| {
        format!(
            "{} ({}): {}",
            top.cause,
            top.confidence.as_str(),
            top.cause.summary()
        )
    })
}

/// `3 of 4 checks hold, 1 fails`; `0 of 1 check holds, 1 fails` (the verb agrees with a
/// count of one, or with the one check).
pub fn summary_line(views: &[CheckView<'_>]) -> String {
    let total = views.len();
    let held = views.iter().filter(|v| v.outcome.holds()).count();
    let failed = total - held;
    let noun = if total == 1 { "check" } else { "checks" };
    let verb = if held == 1 || total == 1 {
        "holds"
    } else {
        "hold"
    };
    match failed {
        0 if total == 1 => "the check holds".to_owned(),
        0 => format!("all {total} {noun} hold"),
        1 => format!("{held} of {total} {noun} {verb}, 1 fails"),
        n => format!("{held} of {total} {noun} {verb}, {n} fail"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Check, Verdict, parse_check_file};
    use crate::model::{ProbeResult, Reason, State};

    fn summary(held: usize, total: usize) -> String {
        let text = "[[check]]\ntarget = \"127.0.0.1:1\"\nname = \"N\"\n";
        let text: String = (0..total)
            .map(|i| text.replace('N', &i.to_string()))
            .collect();
        let checks: Vec<Check> = parse_check_file(&text).unwrap().checks;
        let pass = Outcome {
            rows: vec![Row {
                result: ProbeResult::sample("127.0.0.1", 1, State::Open, Reason::SynAck),
                verdict: Verdict {
                    holds: true,
                    why: None,
                },
            }],
            unprobed: 0,
        };
        let fail = Outcome::default();
        let views: Vec<CheckView<'_>> = checks
            .iter()
            .enumerate()
            .map(|(i, check)| CheckView {
                check,
                outcome: if i < held { &pass } else { &fail },
                diagnoses: Vec::new(),
            })
            .collect();
        summary_line(&views)
    }

    #[test]
    fn the_summary_agrees_in_number() {
        assert_eq!(summary(0, 1), "0 of 1 check holds, 1 fails");
        assert_eq!(summary(1, 1), "the check holds");
        assert_eq!(summary(1, 2), "1 of 2 checks holds, 1 fails");
        assert_eq!(summary(0, 2), "0 of 2 checks hold, 2 fail");
        assert_eq!(summary(2, 3), "2 of 3 checks hold, 1 fails");
        assert_eq!(summary(3, 3), "all 3 checks hold");
    }
}
