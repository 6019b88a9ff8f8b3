//! `ipdiag check --junit FILE`: a JUnit XML report, which CI systems (GitHub, GitLab,
//! Jenkins) show as a test run: one test case per check, a failure with the check's
//! one-line message, and the evidence and fix of each failing port as its body.

use super::check_report::{CheckView, diagnosis_line};
use super::probe_text::{endpoint_text, reason_text};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::fmt::Write as _;
use std::time::Duration;

/// The report as XML. `file` names the suite (the check file as given); `vantage` (where the
/// run was) is the suite's `hostname` and a property, so reports from several places stay
/// apart in one CI view.
pub fn render(
    views: &[CheckView<'_>],
    file: &str,
    vantage: &str,
    elapsed: Duration,
) -> std::io::Result<String> {
    let mut suite = TestSuite::new(file);
    suite
        .set_time(elapsed)
        .add_property(("vantage", vantage))
        .extra
        .insert("hostname".into(), vantage.into());
    for view in views {
        let status = if view.outcome.holds() {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(view.failure_message())
                .set_type(failure_type(view))
                .set_description(details(view));
            status
        };
        let mut case = TestCase::new(view.check.name.as_str(), status);
        case.set_classname(file).set_system_out(rows_text(view));
        suite.add_test_case(case);
    }
    let mut report = Report::new("ipdiag check");
    report.set_time(elapsed).add_test_suite(suite);
    report
        .to_string()
        .map_err(|e| std::io::Error::other(format!("cannot write the JUnit report: {e}")))
}

/// The failure's type: the likely cause of the first failing port (`security_group`), or
/// `unexpected_state` / `budget` when the diagnosis has nothing to add.
fn failure_type(view: &CheckView<'_>) -> String {
    let first = view.rows().find(|(row, _)| !row.verdict.holds);
    match first {
        Some((_, Some(d))) if d.cause != crate::diagnose::Cause::Ok => d.cause.to_string(),
        Some((row, _))
            if row
                .verdict
                .why
                .as_deref()
                .is_some_and(|w| w.contains("budget")) =>
        {
            "budget".to_owned()
        }
        _ => "unexpected_state".to_owned(),
    }
}

/// Each failing port: what was expected, what was seen, the evidence and the fix.
fn details(view: &CheckView<'_>) -> String {
    let mut out = String::new();
    for (row, diagnosis) in view.rows().filter(|(row, _)| !row.verdict.holds) {
        let _ = writeln!(
            out,
            "{}: {}",
            endpoint_text(&row.result.endpoint),
            row.verdict.why.as_deref().unwrap_or("failed")
        );
        if let Some(line) = diagnosis_line(diagnosis) {
            let _ = writeln!(out, "likely {line}");
        }
        if let Some(top) = diagnosis.and_then(|d| d.hints.first()) {
            for e in &top.evidence {
                let _ = writeln!(out, "  evidence: {e}");
            }
            for f in &top.fix {
                let _ = writeln!(out, "  fix: {f}");
            }
        }
    }
    out
}

/// Every port of the check, one line each.
fn rows_text(view: &CheckView<'_>) -> String {
    let mut out = format!(
        "target {} expect {}\n",
        view.check.target.text, view.check.expect
    );
    for (row, _) in view.rows() {
        let r = &row.result;
        let _ = writeln!(
            out,
            "{} {} ({}) {}",
            endpoint_text(&r.endpoint),
            r.state,
            reason_text(r),
            if row.verdict.holds { "pass" } else { "FAIL" }
        );
    }
    out
}
