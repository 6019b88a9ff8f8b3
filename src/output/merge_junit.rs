//! `ipdiag merge --junit FILE`: one test case per endpoint, failing when it does not hold
//! from every vantage; the failure's type is the verdict, its message the verdict's
//! sentence, its body what each vantage saw and the evidence.

use super::merge_table::label;
use crate::merge::{Judged, Merged};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::fmt::Write as _;

/// The report as XML.
pub fn render(merged: &Merged) -> std::io::Result<String> {
    let mut suite = TestSuite::new("ipdiag merge");
    suite.add_property(("vantages", merged.vantages.join(", ").as_str()));
    for e in &merged.endpoints {
        let status = if e.holds {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(e.why.as_str())
                .set_type(e.verdict.as_str())
                .set_description(details(e, &merged.vantages));
            status
        };
        let mut case = TestCase::new(label(e), status);
        case.set_classname("ipdiag merge")
            .set_system_out(seen_text(e, &merged.vantages));
        suite.add_test_case(case);
    }
    let mut report = Report::new("ipdiag merge");
    report.add_test_suite(suite);
    report
        .to_string()
        .map_err(|e| std::io::Error::other(format!("cannot write the JUnit report: {e}")))
}

fn details(e: &Judged, vantages: &[String]) -> String {
    let mut out = seen_text(e, vantages);
    for line in &e.evidence {
        let _ = writeln!(out, "evidence: {line}");
    }
    out
}

/// `a: open (syn-ack) 203.0.113.10`, a line per vantage that probed it.
fn seen_text(e: &Judged, vantages: &[String]) -> String {
    let mut out = String::new();
    for (v, cell) in vantages.iter().zip(&e.cells) {
        if let Some(s) = cell {
            let address = s.address.map(|a| format!(" {a}")).unwrap_or_default();
            let _ = writeln!(out, "{v}: {} ({}){address}", s.state, s.reason);
        }
    }
    out
}
