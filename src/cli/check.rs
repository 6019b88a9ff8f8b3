//! `ipdiag check`: arguments.

use super::probe::AdviceArgs;
use clap::Args;
use std::path::PathBuf;

/// Examples and the file format, shown under `ipdiag check --help`.
pub const EXAMPLES: &str = "\
Examples:
  ipdiag check ipdiag.toml                     run every check once
  ipdiag check ipdiag.toml --wait 60s          retry failing checks until all hold (or 60 s pass)
  ipdiag check ipdiag.toml --junit report.xml  also write a JUnit report for the CI system
  ipdiag check ipdiag.toml --json              one JSON object: summary and every check
  ipdiag check ipdiag.toml --json --vantage eu-west > eu-west.json
                                               then `ipdiag merge *.json`: one verdict per endpoint

The file (TOML; unknown keys are errors):
  [defaults]                  # optional: timeout, retries, count, interval, protocol, expect
  timeout = \"1s\"

  [[check]]
  name = \"web\"                   # unique; defaults to the target
  target = \"203.0.113.10:443\"    # HOST:PORT, [IPV6]:PORT, or HOST with ports = [80, 443]
  expect = \"open\"                # open, closed, filtered, open|filtered, reachable, unreachable
  max_rtt_ms = 150               # optional budgets (open/reachable only): max_rtt_ms, max_loss_pct

  [[check]]
  name = \"redis is not exposed\"
  target = \"203.0.113.10:6379\"
  expect = \"filtered\"            # dropped on the way: proves a firewall, not just a dead port

`protocol = \"udp\"` probes UDP: silence is open|filtered unless `responder = true` (ipdiag serve
on the target). An `error` (name does not resolve, no route) fails every expectation.
Exit status: 0 when every check holds, 1 when any fails, 2 for a bad file (FILE:LINE:COLUMN).
On GitHub Actions (GITHUB_ACTIONS=true) each failure is also an ::error annotation.";

/// Run the reachability checks of a file.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The check file (TOML)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Retry failing checks until all hold or this time has passed (backing off between rounds)
    #[arg(long, value_name = "DURATION")]
    pub wait: Option<String>,
    /// Also write a JUnit XML report to FILE
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Ports probed at once at most (all checks together)
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub concurrency: usize,
    /// The responder's token (`ipdiag serve --token`), for checks with `responder = true`
    #[arg(long, value_name = "SECRET")]
    pub token: Option<String>,
    /// Where this run is (a name for `ipdiag merge`), stamped on every report; default: this
    /// machine's host name (no DNS lookup)
    #[arg(long, value_name = "NAME")]
    pub vantage: Option<String>,
    /// Fix texts and the rule's source.
    #[command(flatten)]
    pub advice: AdviceArgs,
}
