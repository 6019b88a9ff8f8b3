//! The human view of `ipdiag check`: one row per checked port, then each failure in one
//! line with its likely cause, then the summary.

use super::check_report::{CheckView, failure_line, summary_line};
use super::probe_table::state_color;
use super::probe_text::{endpoint_text, reason_text, rtt_text};
use super::style::Style;
use crate::model::{Endpoint, Protocol};
use comfy_table::Color;
use std::fmt::Write as _;
use std::net::IpAddr;

/// Renders the checks; `elapsed` and `rounds` describe the run.
pub fn render(views: &[CheckView<'_>], rounds: u32, elapsed_ms: f64, style: Style) -> String {
    let mut table = style.table();
    table.set_header(["CHECK", "TARGET", "EXPECTED", "GOT", "RTT", "VERDICT"]);
    for view in views {
        if view.outcome.rows.is_empty() {
            table.add_row(vec![
                style.cell(&view.check.name, None),
                style.cell(&view.check.target.text, None),
                style.cell(view.check.expect.as_str(), None),
                style.cell("-", None),
                style.cell("-", None),
                style.cell("not run", Some(Color::Magenta)),
            ]);
        }
        for (i, (row, _)) in view.rows().enumerate() {
            let r = &row.result;
            let (verdict, color) = if row.verdict.holds {
                ("pass", Color::Green)
            } else {
                ("FAIL", Color::Red)
            };
            table.add_row(vec![
                style.cell(if i == 0 { view.check.name.as_str() } else { "" }, None),
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
    }
    let mut out = style.render(&table);
    out.push('\n');
    let failures: Vec<String> = views
        .iter()
        .flat_map(|v| {
            v.rows()
                .filter(|(row, _)| !row.verdict.holds)
                .map(|(row, d)| format!("{}: {}", v.check.name, failure_line(row, d)))
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
