//! The human view of `ipdiag check`: one row per checked port, then each failure in one
//! line with its likely cause, then the summary.

use super::check_report::{CheckView, failure_line, summary_line};
use super::probe_table::state_color;
use super::probe_text::{endpoint_text, reason_text, rtt_text};
use super::style::Style;
use crate::error::escaped;
use crate::model::{Endpoint, Protocol};
use comfy_table::Color;
use std::fmt::Write as _;
use std::net::IpAddr;

/// Renders the checks, under a line naming the vantage; `elapsed` and `rounds` describe
/// the run.
pub fn render(
    views: &[CheckView<'_>],
    vantage: &str,
    rounds: u32,
    elapsed_ms: f64,
    style: Style,
) -> String {
    let mut table = style.table();
    table.set_header(["CHECK", "TARGET", "EXPECTED", "GOT", "RTT", "VERDICT"]);
    for view in views {
        // What the run did not reach: the whole check, or the endpoints after its rows.
        let not_run = match (view.outcome.rows.is_empty(), view.outcome.unprobed) {
            (true, _) => Some((escaped(&view.check.name), escaped(&view.check.target.text))),
            (false, 0) => None,
            (false, n) => Some((String::new(), format!("{n} more"))),
        };
        for (i, (row, _)) in view.rows().enumerate() {
            let r = &row.result;
            let (verdict, color) = if row.verdict.holds {
                ("pass", Color::Green)
            } else {
                ("FAIL", Color::Red)
            };
            table.add_row(vec![
                style.cell(
                    if i == 0 {
                        escaped(&view.check.name)
                    } else {
                        String::new()
                    },
                    None,
                ),
                style.cell(endpoint_text(&r.endpoint), None),
                style.cell(view.check.expect.as_str(), None),
                style.cell(
                    format!("{} ({})", r.state, reason_text(r)),
                    Some(state_color(r.state)),
                ),
                style.cell(rtt_text(r), None),
                style.cell(verdict, Some(color)),
            ]);
        }
        if let Some((name, target)) = not_run {
            table.add_row(vec![
                style.cell(name, None),
                style.cell(target, None),
                style.cell(view.check.expect.as_str(), None),
                style.cell("-", None),
                style.cell("-", None),
                style.cell("not run", Some(Color::Magenta)),
            ]);
        }
    }
    let mut out = format!("vantage {}\n", escaped(vantage));
    out.push_str(&style.render(&table));
    out.push('\n');
    let failures: Vec<String> = views
        .iter()
        .flat_map(|v| {
            v.rows()
                .filter(|(row, _)| !row.verdict.holds)
                .map(|(row, d)| format!("{}: {}", escaped(&v.check.name), failure_line(row, d)))
                .collect::<Vec<_>>()
        })
        .collect();
    if !failures.is_empty() {
        out.push_str("\nFailures:\n");
        for line in &failures {
            let _ = writeln!(out, "  {line}");
        }
        if let Some(e) = first_failure(views) {
            let udp = if e.protocol == Protocol::Udp {
                " --udp"
            } else {
                ""
            };
            let host = match e.address {
                Some(IpAddr::V6(a)) => format!("[{a}]"),
                Some(a) => a.to_string(),
                None => e.host.clone(),
            };
            let _ = writeln!(
                out,
                "  ipdiag doctor {host}:{}{udp} shows the evidence and the exact fix",
                e.port
            );
        }
    }
    let tries = if rounds > 1 {
        format!(" after {rounds} rounds")
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "\n{} ({:.2} s{tries})",
        style.bold(&summary_line(views)),
        elapsed_ms / 1000.0
    );
    out
}

/// The endpoint of the first failing row, for the `doctor` suggestion.
fn first_failure<'a>(views: &'a [CheckView<'_>]) -> Option<&'a Endpoint> {
    views
        .iter()
        .find_map(|v| v.outcome.first_failure())
        .map(|row| &row.result.endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{judge_check, parse_check_file};
    use crate::model::{ProbeResult, Reason, State};

    #[test]
    fn a_check_the_run_reached_in_part_fails_with_what_is_left() {
        let file = parse_check_file(
            "[[check]]\nname = \"db\"\ntarget = \"127.0.0.1:1-3\"\nexpect = \"closed\"\n",
        )
        .unwrap();
        let seen = ProbeResult::sample("127.0.0.1", 1, State::Closed, Reason::ConnRefused);
        let mut outcome = judge_check(&file.checks[0], &[seen]);
        outcome.unprobed = 2;
        let views = [CheckView {
            check: &file.checks[0],
            outcome: &outcome,
            diagnoses: Vec::new(),
        }];
        let text = render(&views, "ci-eu", 1, 500.0, Style::default());
        let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
        assert_eq!(
            lines,
            [
                "vantage ci-eu",
                "CHECK  TARGET           EXPECTED  GOT                    RTT  VERDICT",
                "db     127.0.0.1:1/tcp  closed    closed (conn-refused)  -    pass",
                "       2 more           closed    -                      -    not run",
                "",
                "0 of 1 check holds, 1 fails (0.50 s)",
            ]
        );
        assert_eq!(
            views[0].failure_message(),
            "2 more endpoints not probed (the run stopped before their turn)"
        );
    }
}
