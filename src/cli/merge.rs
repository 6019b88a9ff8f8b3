//! `ipdiag merge`: arguments.

use clap::Args;
use std::path::PathBuf;

/// Examples, shown under `ipdiag merge --help`.
pub const EXAMPLES: &str = "\
Examples:
  ipdiag check ipdiag.toml --json --vantage office > office.json   (on each place)
  ipdiag merge office.json eu-west.json us-east.json               the matrix and a verdict per endpoint
  ipdiag merge *.json --junit merged.xml                           also a JUnit report

Each file is the JSON (or JSON lines) of `ipdiag check` or `ipdiag probe`; its vantage is the
name it carries (`--vantage`), else the file's name without its extension. Verdicts:
reachable, not_listening, server_side (filtered from every vantage: security group or host
firewall), source_restricted (a rule with a source list), vantage_egress (the failing
vantages are blocked on other endpoints too: their own egress firewall), ipv6 (only the
vantages that probed over IPv6 fail: the AAAA record or the listener's IPv6 bind),
load_balancing (different answers from one network), silent (UDP silence everywhere),
error, mixed.
Exit status: 0 when every endpoint holds from every vantage (check reports: every check;
probe reports: open everywhere), 1 otherwise, 2 for a file that is not an ipdiag report.";

/// Merge the reports of check or probe from several vantage points into one verdict each
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The JSON reports (`check --json`, `probe --json`, or their JSON lines)
    #[arg(value_name = "REPORT", required = true)]
    pub files: Vec<PathBuf>,
    /// Also write a JUnit XML report to FILE
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}
