//! Black-box tests of the `ipdiag` binary: exit codes, exact error lines, every format.
//!
//! One integration binary (faster to link than one per file); a module per command.
//! Nothing here touches the network: host names are `localhost` only.

mod bad_inputs;
mod check;
mod classify;
mod errors;
mod escaping;
mod exact;
mod formats;
mod global_flags;
mod help;
mod local;
mod meta;
mod ping;
mod port;
mod probe;
mod progress;
mod pty;
mod raw;
mod readme;
mod serve_pressure;
mod serve_slowloris;
mod sizes;
mod tokens;
mod trace;
mod truths;
mod wait;

use assert_cmd::Command;

/// The binary under test, with colour, CI annotations and the user's environment out of
/// the way.
fn ipdiag() -> Command {
    let mut cmd = Command::cargo_bin("ipdiag").expect("the ipdiag binary is built for tests");
    cmd.env_remove("NO_COLOR")
        .env_remove("GITHUB_ACTIONS")
        .env("COLUMNS", "200");
    cmd
}

/// Runs ipdiag and returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = ipdiag().args(args).output().expect("ipdiag runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs ipdiag with `--format json` and parses stdout.
fn json(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    let (code, stdout, stderr) = run(&all);
    assert_eq!(code, 0, "stderr: {stderr}");
    serde_json::from_str(&stdout).expect("stdout is JSON")
}
