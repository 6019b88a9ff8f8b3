//! The JSON schema of `ipdiag check` (README.md "Use in CI"): one object with the summary
//! and every check; each check's `results` are `probe`'s records with `holds` and `why`.

use super::check_report::CheckView;
use super::probe_json::ProbeRecord;
use serde::Serialize;

/// The version of the report's shape: `ipdiag merge` refuses to mix reports of different
/// versions. Raised when a field changes meaning or goes away (adding one does not).
pub const SCHEMA_VERSION: u32 = 1;

/// The whole run.
#[derive(Debug, Serialize)]
pub struct CheckRunRecord<'a> {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Where the run was (`--vantage`, else the host name).
    pub vantage: &'a str,
    /// This machine's source addresses towards the checked addresses (from the routing
    /// table, no packet): how `ipdiag merge` tells vantages in one network.
    pub sources: Vec<String>,
    /// The check file as given.
    pub file: &'a str,
    /// Every check holds.
    pub ok: bool,
    /// Checks in the file.
    pub total: usize,
    /// Checks that hold.
    pub passed: usize,
    /// Checks that fail.
    pub failed: usize,
    /// Rounds run (more than one with `--wait`).
    pub rounds: u32,
    /// Milliseconds from the first probe to the last answer.
    pub elapsed_ms: f64,
    /// Ctrl-C stopped the run.
    pub interrupted: bool,
    /// The checks, in file order.
    pub checks: Vec<CheckRecord<'a>>,
}

/// One check.
#[derive(Debug, Serialize)]
pub struct CheckRecord<'a> {
    /// Where the run was (every record carries it: JSON lines too).
    pub vantage: &'a str,
    /// Its name.
    pub name: &'a str,
    /// The line of its `[[check]]` in the file.
    pub line: usize,
    /// The target as written (ports merged in).
    pub target: &'a str,
    /// `tcp` or `udp`.
    pub protocol: &'static str,
    /// The expected state.
    pub expect: &'static str,
    /// The check holds.
    pub holds: bool,
    /// Why not, one line per failing port joined with ` | `; `null` when it holds.
    pub message: Option<String>,
    /// One per checked port.
    pub results: Vec<ResultRecord<'a>>,
}

/// One checked port: the probe record and its verdict.
#[derive(Debug, Serialize)]
pub struct ResultRecord<'a> {
    /// The probe's record (as `ipdiag probe --json`).
    #[serde(flatten)]
    pub probe: ProbeRecord<'a>,
    /// This port meets the check.
    pub holds: bool,
    /// Why not.
    pub why: Option<&'a str>,
}

/// The record of one check, run at `vantage`.
pub fn check_record<'a>(view: &'a CheckView<'a>, vantage: &'a str) -> CheckRecord<'a> {
    let holds = view.outcome.holds();
    CheckRecord {
        vantage,
        name: &view.check.name,
        line: view.check.line,
        target: &view.check.target.text,
        protocol: view.check.protocol.as_str(),
        expect: view.check.expect.as_str(),
        holds,
        message: (!holds).then(|| view.failure_message()),
        results: view
            .outcome
            .rows
            .iter()
            .zip(&view.diagnoses)
            .map(|(row, diagnosis)| ResultRecord {
                probe: ProbeRecord::new(&row.result, diagnosis),
                holds: row.verdict.holds,
                why: row.verdict.why.as_deref(),
            })
            .collect(),
    }
}
