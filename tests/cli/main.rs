//! Black-box tests of the `ipdiag` binary: exit codes, exact error lines, every format.
//!
//! One integration binary (faster to link than one per file); a module per command.
//! Nothing here touches the network: host names are `localhost` only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step fails the test"
)]

mod bad_inputs;
mod check;
mod classify;
mod errors;
mod escaping;
mod formats;
mod global_flags;
mod help;
mod merge;
mod meta;
#[cfg(unix)]
mod on_server;
mod port;
mod probe;
mod wait;
// Linux-only features (the error queue, raw sockets, /proc, netlink), or ping/trace not yet
// ported: elsewhere `elsewhere.rs` checks that each is refused in one line with exit 3.
#[cfg(not(target_os = "linux"))]
mod elsewhere;
#[cfg(target_os = "linux")]
mod local;
// ping: Linux's sockets, Windows' IcmpSendEcho2.
#[cfg(any(target_os = "linux", windows))]
mod ping;
#[cfg(target_os = "linux")]
mod raw;
// The exporter over HTTP (`http.rs`: its process and a GET): not yet run under wine.
#[cfg(unix)]
mod deploy;
#[cfg(unix)]
mod exporter;
#[cfg(unix)]
mod http;
#[cfg(unix)]
mod serve_pressure;
#[cfg(target_os = "linux")]
mod sizes;
#[cfg(unix)]
mod textfile;
// trace: Linux's error queue, Windows' TCP_ICMP_ERROR_INFO and IcmpSendEcho2.
#[cfg(any(target_os = "linux", windows))]
mod trace;
// Linux only for now, each for its reason: `exact` sweeps all 65,535 ports five times per
// mode (minutes under wine, and raw mode is Linux's); `progress`, `pty` and `readme` drive
// a pseudo-terminal through util-linux `script` or compare Linux's ephemeral range and
// privileged-port rule; `serve_slowloris` and `tokens` set limits with `sh -c 'ulimit'`
// and send from 127.0.0.x sources; `truths` checks serve's and wait's exact lines, not yet
// run under wine.
#[cfg(target_os = "linux")]
mod exact;
#[cfg(target_os = "linux")]
mod progress;
#[cfg(target_os = "linux")]
mod pty;
#[cfg(target_os = "linux")]
mod readme;
#[cfg(target_os = "linux")]
mod serve_slowloris;
#[cfg(target_os = "linux")]
mod tokens;
#[cfg(target_os = "linux")]
mod truths;

use assert_cmd::Command;

/// True (after printing why) off Linux, for a test that needs what only Linux gives here:
/// the error queue's ICMP sender, Linux's error texts, Unix tools.
fn skip_off_linux(why: &str) -> bool {
    let off = !cfg!(target_os = "linux");
    if off {
        eprintln!("skipped on this system: {why}");
    }
    off
}

/// True (after printing why) under wine (`scripts/wine/run.sh`), for a test that needs
/// Windows' own network stack or process timing, which wine's Linux-hosted one lacks.
fn skip_under_wine(why: &str) -> bool {
    let wine = std::env::var_os("IPDIAG_UNDER_WINE").is_some();
    if wine {
        eprintln!("skipped under wine: {why}");
    }
    wine
}

/// Whether the tests run as root (raw mode, ICMP without a ping socket).
fn is_root() -> bool {
    #[cfg(unix)]
    return nix::unistd::geteuid().is_root();
    #[cfg(not(unix))]
    false
}

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
    // Under wine, starting a process now and then fails inside wine itself (CreateProcess:
    // ERROR_INTERNAL_ERROR, 1359) before ipdiag runs: try again, a few times at most.
    let mut tries = 0;
    let out = loop {
        match ipdiag().args(args).output() {
            Err(e) if tries < 3 && std::env::var_os("IPDIAG_UNDER_WINE").is_some() => {
                eprintln!("ipdiag did not start under wine ({e}): once more");
                tries += 1;
            }
            started => break started.expect("ipdiag runs"),
        }
    };
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
