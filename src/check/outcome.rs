//! A check's probe results turned into judged rows: one row per port (and per address for
//! literal addresses and networks; a name's addresses are one row, judged by the most
//! reachable one, as a client connecting by name would get it).

use super::config::Check;
use super::expect::{Verdict, judge, most_reachable};
use crate::model::ProbeResult;
use crate::plan::target::HostSpec;

/// One judged port of a check.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The result the check is judged by.
    pub result: ProbeResult,
    /// Pass or fail, and why.
    pub verdict: Verdict,
}

/// What one check found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// The judged rows; empty when the run was stopped before the check was probed.
    pub rows: Vec<Row>,
    /// Endpoints of the check that the run stopped before probing (Ctrl-C, or the time ran
    /// out before their turn): a check probed in part proves nothing about the rest.
    pub unprobed: usize,
}

impl Outcome {
    /// The check holds: it was probed in full, and every row passed.
    pub fn holds(&self) -> bool {
        self.unprobed == 0 && !self.rows.is_empty() && self.rows.iter().all(|r| r.verdict.holds)
    }

    /// The first failing row.
    pub fn first_failure(&self) -> Option<&Row> {
        self.rows.iter().find(|r| !r.verdict.holds)
    }
}

/// Judges `results` (the check's endpoints' results, in plan order).
pub fn judge_check(check: &Check, results: &[ProbeResult]) -> Outcome {
    let by_name = matches!(check.target.host, HostSpec::Name(_));
    // A name's addresses share a row per port; any other target has a row per endpoint.
    let mut groups: Vec<Vec<&ProbeResult>> = Vec::new();
    for r in results {
        let key = (r.endpoint.port, r.endpoint.protocol);
        let same_port = |g: &&mut Vec<&ProbeResult>| {
            g.first()
                .is_some_and(|f| (f.endpoint.port, f.endpoint.protocol) == key)
        };
        match groups.iter_mut().find(|g| by_name && same_port(g)) {
            Some(group) => group.push(r),
            None => groups.push(vec![r]),
        }
    }
    let rows = groups
        .iter()
        .filter_map(|list| most_reachable(list))
        .map(|r| Row {
            result: r.clone(),
            verdict: judge(
                check
                    .expect
                    .for_endpoint(r.endpoint.protocol, check.responder),
                check.budget,
                r,
            ),
        })
        .collect();
    Outcome { rows, unprobed: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::parse_check_file;
    use crate::model::{Reason, State};

    fn result(host: &str, address: &str, port: u16, state: State) -> ProbeResult {
        let reason = match state {
            State::Open => Reason::SynAck,
            State::Closed => Reason::ConnRefused,
            _ => Reason::NoResponse,
        };
        let mut r = ProbeResult::sample(address, port, state, reason);
        r.endpoint.host = host.into();
        r.endpoint.target = format!("{host}:{port}");
        r
    }

    fn check(target: &str, expect: &str) -> Check {
        let text = format!("[[check]]\ntarget = \"{target}\"\nexpect = \"{expect}\"\n");
        parse_check_file(&text).unwrap().checks.remove(0)
    }

    #[test]
    fn a_name_is_one_row_per_port() {
        let c = check("localhost:80,81", "open");
        let results = [
            result("localhost", "::1", 80, State::Closed),
            result("localhost", "::1", 81, State::Closed),
            result("localhost", "127.0.0.1", 80, State::Open),
            result("localhost", "127.0.0.1", 81, State::Closed),
        ];
        let outcome = judge_check(&c, &results);
        let got: Vec<_> = outcome
            .rows
            .iter()
            .map(|r| (r.result.endpoint.port, r.result.state, r.verdict.holds))
            .collect();
        assert_eq!(got, [(80, State::Open, true), (81, State::Closed, false)]);
        assert!(!outcome.holds());
        assert_eq!(outcome.first_failure().unwrap().result.endpoint.port, 81);
    }

    #[test]
    fn a_network_is_a_row_per_address() {
        let c = check("10.0.0.0/30:22", "filtered");
        let results = [
            result("10.0.0.0/30", "10.0.0.1", 22, State::Filtered),
            result("10.0.0.0/30", "10.0.0.2", 22, State::Open),
        ];
        let outcome = judge_check(&c, &results);
        assert_eq!(outcome.rows.len(), 2);
        assert!(outcome.rows[0].verdict.holds);
        assert!(!outcome.rows[1].verdict.holds);
    }

    #[test]
    fn nothing_probed_does_not_hold() {
        let c = check("127.0.0.1:1", "closed");
        assert!(!judge_check(&c, &[]).holds());
        assert!(judge_check(&c, &[result("127.0.0.1", "127.0.0.1", 1, State::Closed)]).holds());
    }

    #[test]
    fn a_check_probed_in_part_does_not_hold() {
        let c = check("127.0.0.1:1,2", "closed");
        let mut outcome = judge_check(&c, &[result("127.0.0.1", "127.0.0.1", 1, State::Closed)]);
        assert!(outcome.holds());
        outcome.unprobed = 1;
        assert!(!outcome.holds());
        assert_eq!(outcome.first_failure(), None);
    }
}
