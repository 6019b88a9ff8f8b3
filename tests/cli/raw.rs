//! Raw mode on loopback: `--raw` SYN-scans with the same states and reasons as connect mode
//! (IPv4 and IPv6), a large sweep picks it by itself when privileged (`--connect` keeps
//! ordinary sockets), and without the privilege `--raw` is exit 3 while a large sweep says
//! once what raw mode would add. The privileged tests need root, as CI has; elsewhere they
//! print why and pass.

use super::probe::{closed_tcp, listening, tcp_listener};
use super::run;
use serde_json::Value;

/// Root (or `CAP_NET_RAW`): may this test open raw sockets? Prints why not.
pub(super) fn privileged(test: &str) -> bool {
    let root = nix::unistd::geteuid().is_root();
    if !root {
        assert!(
            std::env::var("IPDIAG_REQUIRE_NETNS").as_deref() != Ok("1"),
            "{test}: IPDIAG_REQUIRE_NETNS=1 but not root"
        );
        eprintln!("skipping {test}: raw mode needs root");
    }
    root
}

fn records(args: &[&str]) -> (i32, Vec<Value>) {
    let mut all = args.to_vec();
    all.push("--json");
    let (code, stdout, stderr) = run(&all);
    let records: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    (code, records.as_array().cloned().unwrap_or_default())
}

/// A record's method, state and reason.
pub(super) fn fields(r: &Value) -> (String, String, String) {
    let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
    (s("method"), s("state"), s("reason"))
}

#[test]
fn raw_mode_reports_open_and_closed_like_connect_mode() {
    if !privileged("raw_mode_reports_open_and_closed_like_connect_mode") {
        return;
    }
    let _guard = listening();
    let (_listener, open) = tcp_listener();
    let closed = closed_tcp();
    let targets = [format!("127.0.0.1:{open}"), format!("127.0.0.1:{closed}")];
    let (code, raw) = records(&["probe", &targets[0], &targets[1], "--raw"]);
    assert_eq!(code, 1, "one port is closed");
    let want = |method: &str| {
        vec![
            (method.to_owned(), "open".to_owned(), "syn-ack".to_owned()),
            (
                method.to_owned(),
                "closed".to_owned(),
                "conn-refused".to_owned(),
            ),
        ]
    };
    assert_eq!(raw.iter().map(fields).collect::<Vec<_>>(), want("syn"));
    assert_eq!(raw[0]["attempts"], 1);
    assert_eq!(raw[0]["received"], 1);
    assert!(raw[0]["rtt_ms"]["avg"].as_f64().is_some(), "{:?}", raw[0]);
    let (_, connect) = records(&["probe", &targets[0], &targets[1]]);
    assert_eq!(
        connect.iter().map(fields).collect::<Vec<_>>(),
        want("connect")
    );
    for (r, c) in raw.iter().zip(&connect) {
        assert_eq!(r["cause"], c["cause"], "same diagnosis: {r} {c}");
    }
}

#[test]
fn raw_mode_speaks_ipv6() {
    if !privileged("raw_mode_speaks_ipv6") {
        return;
    }
    let Ok(listener) = std::net::TcpListener::bind("[::1]:0") else {
        eprintln!("skipping raw_mode_speaks_ipv6: no IPv6 loopback here");
        return;
    };
    let open = listener.local_addr().unwrap().port();
    let closed = std::net::TcpListener::bind("[::1]:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let targets = [format!("[::1]:{open}"), format!("[::1]:{closed}")];
    let (_, raw) = records(&["probe", &targets[0], &targets[1], "--raw"]);
    let got: Vec<_> = raw.iter().map(fields).collect();
    assert_eq!(got[0], ("syn".into(), "open".into(), "syn-ack".into()));
    assert_eq!(
        got[1],
        ("syn".into(), "closed".into(), "conn-refused".into())
    );
}

#[test]
fn a_large_sweep_is_a_syn_scan_when_privileged_unless_connect_is_asked() {
    if !privileged("a_large_sweep_is_a_syn_scan_when_privileged_unless_connect_is_asked") {
        return;
    }
    let methods = |extra: &[&str]| {
        let mut args = vec!["probe", "127.0.0.1", "-p", "1-1000", "--format", "csv"];
        args.extend_from_slice(extra);
        let (_, stdout, stderr) = run(&args);
        assert_eq!(stderr, "", "no note when privileged");
        let mut methods: Vec<String> = stdout
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(5).unwrap_or_default().to_owned())
            .collect();
        assert_eq!(methods.len(), 1000);
        methods.dedup();
        methods
    };
    assert_eq!(methods(&[]), ["syn"]);
    assert_eq!(methods(&["--connect"]), ["connect"]);
    let (_, stdout, _) = run(&["probe", "127.0.0.1", "-p", "1-999", "--format", "csv"]);
    assert!(
        stdout.lines().skip(1).all(|l| l.contains(",connect,")),
        "999 ports: connect"
    );
}

/// Runs ipdiag as user `nobody` (no raw sockets), through `setpriv`.
fn unprivileged(args: &[&str]) -> Option<(i32, String, String)> {
    as_nobody(false, args)
}

/// Runs ipdiag as user `nobody` (uid and gid 65534, no other groups) through `setpriv`;
/// with `net_raw` holding `CAP_NET_RAW` and no other capability (inheritable and ambient,
/// so it survives the exec of a binary without file capabilities). Killed after 20 s, so
/// a hang fails (exit -1) instead of blocking the suite. `None` without `setpriv`.
pub(super) fn as_nobody(net_raw: bool, args: &[&str]) -> Option<(i32, String, String)> {
    let mut cmd = assert_cmd::Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
    if net_raw {
        cmd.args(["--inh-caps=-all,+net_raw", "--ambient-caps=-all,+net_raw"]);
    }
    let out = cmd
        .arg(env!("CARGO_BIN_EXE_ipdiag"))
        .args(args)
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .ok()?;
    Some((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[test]
fn without_the_privilege_raw_is_exit_3_and_a_sweep_says_what_raw_would_add() {
    if !privileged("without_the_privilege_raw_is_exit_3_and_a_sweep_says_what_raw_would_add") {
        return;
    }
    let target = format!("127.0.0.1:{}", closed_tcp());
    let Some((code, stdout, stderr)) = unprivileged(&["probe", &target, "--raw"]) else {
        eprintln!("skipping: setpriv is not installed");
        return;
    };
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (
            3,
            "",
            "ipdiag: error: --raw needs root or CAP_NET_RAW to send crafted SYN packets (without --raw, probe uses ordinary sockets)\n"
        )
    );
    let (_, stdout, stderr) =
        unprivileged(&["probe", "127.0.0.1", "-p", "1-1000", "--format", "csv"]).unwrap();
    assert_eq!(
        stderr,
        "ipdiag: note: with root or CAP_NET_RAW this sweep would run as a SYN scan (half-open, faster); probing with ordinary connects\n"
    );
    assert!(stdout.lines().skip(1).all(|l| l.contains(",connect,")));
}

#[test]
fn raw_takes_one_attempt_per_port() {
    let (code, stdout, stderr) = run(&["probe", "127.0.0.1:1", "--raw", "-c", "3"]);
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (
            2,
            "",
            "ipdiag: error: --raw sends one SYN per port (retried as loss requires); -c/--count is for connect mode\n"
        )
    );
    let (code, _, stderr) = run(&["probe", "127.0.0.1:1", "--raw", "--connect"]);
    assert_eq!(code, 2, "{stderr}");
}
