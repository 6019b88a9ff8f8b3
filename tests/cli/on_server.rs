//! `doctor --on-server CMD`: the transport, with fake servers (`sh -c` scripts that print
//! what `ipdiag local --watch --format json` would, or fail as a server without ipdiag
//! does); the namespace suite runs the real server side. Probes go to loopback only.

use super::probe::closed_tcp as closed_port;

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/server/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// `doctor 127.0.0.1:PORT --on-server "sh -c 'SCRIPT' server"`, one quick attempt.
fn doctor(port: u16, script: &str, extra: &[&str]) -> (i32, String, String) {
    let target = format!("127.0.0.1:{port}");
    let command = format!("sh -c '{script}' server");
    let mut args = vec![
        "doctor",
        &target,
        "--no-control",
        "-c",
        "1",
        "-w",
        "300ms",
        "--on-server",
        &command,
    ];
    args.extend_from_slice(extra);
    super::run(&args)
}

/// `doctor` with `--server-port 8000` and `script` as the server: exit 1 and the verdict
/// `host_firewall (high confidence)`; its stdout.
fn host_firewall_verdict(port: u16, script: &str) -> String {
    let (code, stdout, stderr) = doctor(port, script, &["--server-port", "8000"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.contains("Verdict: host_firewall (high confidence)"),
        "{stdout}"
    );
    stdout
}

#[test]
fn the_servers_report_decides_the_verdict() {
    let port = closed_port();
    // The script checks the arguments appended to the command, then reports as a server
    // whose firewall drops the port would.
    let script = format!(
        "[ \"$*\" = \"local --port 8000 --watch 3s --format json\" ] || {{ echo \"bad arguments: $*\" >&2; exit 9; }}; echo \"ipdiag: watching tcp/8000 for 3s\" >&2; cat {}",
        fixture("host_firewall")
    );
    let stdout = host_firewall_verdict(port, &script);
    assert!(
        stdout.contains("  server   watched 8000/tcp for 6 s (ipdiag 0.1.0): arrivals 3 from 198.51.100.2 (capture: packet_socket)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("rule `table inet filter chain input: tcp dport 8000 drop`"),
        "{stdout}"
    );
    let (code, stdout, stderr) = doctor(port, &script, &["--server-port", "8000", "--json"]);
    assert_eq!(code, 1, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["cause"], "host_firewall", "{report}");
    assert_eq!(report["hints"][0]["confidence"], "high", "{report}");
    assert_eq!(report["server"]["schema_version"], 1, "{report}");
    assert_eq!(report["server"]["firewall"]["verdict"], "drop", "{report}");
}

#[test]
fn a_server_without_ipdiag_is_one_line_with_the_install_step() {
    let port = closed_port();
    let (code, stdout, stderr) =
        doctor(port, "echo \"sh: 1: ipdiag: not found\" >&2; exit 127", &[]);
    assert_eq!((code, stdout.as_str()), (3, ""), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("ipdiag: error: --on-server: ipdiag is not installed on the server (it said: sh: 1: ipdiag: not found): install it there"),
        "{stderr}"
    );
}

#[test]
fn an_older_or_newer_server_says_which_to_upgrade() {
    let port = closed_port();
    let (code, _, stderr) = doctor(
        port,
        "echo \"ipdiag: error: unrecognized subcommand local\" >&2; exit 2",
        &[],
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr
            .starts_with("ipdiag: error: --on-server: the server's ipdiag is older than this one"),
        "{stderr}"
    );
    // An ipdiag that watches but prints a report without schema_version.
    let (code, _, stderr) = doctor(
        port,
        "echo \"{\\\"port\\\": 1, \\\"listening\\\": []}\"",
        &[],
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("older than this one (its output has no schema_version)"),
        "{stderr}"
    );
    let (code, _, stderr) = doctor(
        port,
        "echo \"ipdiag: watching tcp/1 for 3s\" >&2; echo \"{\\\"schema_version\\\": 9}\"",
        &[],
    );
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "ipdiag: error: --on-server: the server's report has schema_version 9, newer than this ipdiag reads (1): upgrade ipdiag on this machine"
    );
}

#[test]
fn a_command_that_cannot_run_is_named() {
    let port = closed_port().to_string();
    let target = format!("127.0.0.1:{port}");
    let (code, _, stderr) = super::run(&[
        "doctor",
        &target,
        "--on-server",
        "ipdiag-no-such-command vm ipdiag",
    ]);
    assert_eq!(code, 3);
    assert_eq!(
        stderr.trim_end(),
        "ipdiag: error: --on-server: cannot run `ipdiag-no-such-command`: not found (is it installed and on PATH?)"
    );
    let (code, _, stderr) = super::run(&["doctor", &target, "--on-server", "ssh 'vm ipdiag"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim_end(),
        "ipdiag: error: invalid --on-server command 'ssh 'vm ipdiag': unbalanced quotes or a trailing backslash"
    );
    let (code, _, stderr) = super::run(&["doctor", &target, "--server-port", "80"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn a_server_that_prints_without_end_is_read_within_bounds() {
    let port = closed_port();
    // 3 MB where a report is under 1 KiB: refused in one line, not held.
    let (code, stdout, stderr) = doctor(
        port,
        "echo \"ipdiag: watching tcp/1 for 3s\" >&2; yes x | head -c 3000000",
        &[],
    );
    assert_eq!((code, stdout.as_str()), (3, ""), "{stderr}");
    assert_eq!(
        stderr,
        "ipdiag: error: --on-server: the server printed 3000000 bytes, more than the 1024 KiB a watch report can take: is the command `ipdiag local --watch` on the server?\n"
    );
    // 200,000 stderr lines while the client probes: the command is never blocked on its
    // stderr, and its report after them still decides the verdict.
    let script = format!(
        "echo \"ipdiag: watching tcp/8000 for 3s\" >&2; yes noise | head -n 200000 >&2; cat {}",
        fixture("host_firewall")
    );
    host_firewall_verdict(port, &script);
}
