//! The human view of `ipdiag merge`: the vantage × endpoint matrix with each endpoint's
//! verdict, then the verdicts in words with their evidence, then the counts.

use super::probe_table::state_color;
use super::style::Style;
use crate::error::escaped;
use crate::merge::{Judged, Merged};
use comfy_table::Color;
use std::fmt::Write as _;

/// Renders the merge.
pub fn render(merged: &Merged, style: Style) -> String {
    let named = merged.endpoints.iter().any(|e| !e.key.name.is_empty());
    let mut header: Vec<String> = Vec::new();
    if named {
        header.push("CHECK".into());
    }
    header.push("ENDPOINT".into());
    header.extend(merged.vantages.iter().map(|v| escaped(v)));
    header.push("VERDICT".into());
    let mut table = style.table();
    table.set_header(header);
    for e in &merged.endpoints {
        let mut row = Vec::new();
        if named {
            row.push(style.cell(escaped(&e.key.name), None));
        }
        row.push(style.cell(escaped(&e.key.endpoint()), None));
        for cell in &e.cells {
            row.push(match cell {
                Some(s) => style.cell(s.state.as_str(), Some(state_color(s.state))),
                None => style.cell("-", None),
            });
        }
        let color = if e.holds { Color::Green } else { Color::Red };
        row.push(style.cell(e.verdict.as_str(), Some(color)));
        table.add_row(row);
    }
    let mut out = style.render(&table);
    out.push_str("\n\n");
    for e in &merged.endpoints {
        let _ = writeln!(out, "{}: {}", label(e), escaped(&e.why));
        for line in &e.evidence {
            let _ = writeln!(out, "  evidence: {}", escaped(line));
        }
    }
    let counts: Vec<String> = merged
        .counts()
        .iter()
        .map(|(v, n)| format!("{n} {}", v.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "\n{} ({})",
        style.bold(&summary(merged)),
        counts.join(", ")
    );
    out
}

/// `1 of 7 endpoints hold from all 3 vantages`; `1 of 1 endpoint holds from the one
/// vantage` (the words agree with a count of one).
fn summary(merged: &Merged) -> String {
    let total = merged.endpoints.len();
    let held = merged.endpoints.iter().filter(|e| e.holds).count();
    let noun = if total == 1 { "endpoint" } else { "endpoints" };
    let verb = if held == 1 || total == 1 {
        "holds"
    } else {
        "hold"
    };
    let from = match merged.vantages.len() {
        1 => "the one vantage".to_owned(),
        n => format!("all {n} vantages"),
    };
    format!("{held} of {total} {noun} {verb} from {from}")
}

/// `web (203.0.113.10:443/tcp)`, or the endpoint alone.
pub fn label(e: &Judged) -> String {
    let endpoint = escaped(&e.key.endpoint());
    if e.key.name.is_empty() {
        endpoint
    } else {
        format!("{} ({endpoint})", escaped(&e.key.name))
    }
}
