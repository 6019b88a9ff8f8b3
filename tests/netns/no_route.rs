//! Every run ends: with no route to the target (a namespace with only `lo` up), UDP and TCP
//! probes, `doctor`, `check` and `wait` end within their timeout with `no_route` and the
//! errno named, and Ctrl-C ends them at once. A UDP probe there once looped for ever
//! (the failed `connect()` was taken for "busy, try again") and ignored SIGINT.

use crate::alone::{Lone, interrupt};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::Duration;

/// A public address (documentation range) nothing routes to here.
const NOWHERE: &str = "203.0.113.53";

fn one_record(stdout: &str) -> Value {
    let all: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(all.as_array().map(Vec::len), Some(1), "{stdout}");
    all[0].clone()
}

pub fn udp_and_tcp_probes_without_a_route_are_no_route() {
    let Some(lone) = Lone::new("no_route_probes") else {
        return;
    };
    for protocol in ["--udp", "--tcp"] {
        let target = format!("{NOWHERE}:53");
        let (code, stdout, stderr) = lone.ipdiag(&["probe", "-n", &target, protocol, "--json"]);
        assert_eq!(code, 1, "{stdout}{stderr}");
        let r = one_record(&stdout);
        assert_eq!(
            (
                r["state"].as_str(),
                r["reason"].as_str(),
                r["cause"].as_str(),
                r["attempts"].as_u64(),
                r["loss_pct"].as_f64(),
                r["rtt_ms"].is_null()
            ),
            (
                Some("error"),
                Some("local-error"),
                Some("no_route"),
                Some(0),
                Some(0.0),
                true
            ),
            "{r}"
        );
        assert_eq!(
            r["error"].as_str(),
            Some(
                "no route from this machine to 203.0.113.53 (ENETUNREACH: Network is unreachable)"
            )
        );
    }
}

pub fn doctor_check_and_wait_without_a_route_end_with_no_route() {
    let Some(lone) = Lone::new("no_route_commands") else {
        return;
    };
    let target = format!("{NOWHERE}:53");
    let (code, stdout, _) = lone.ipdiag(&["doctor", "-n", &target, "--udp", "-w", "500ms"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("Verdict: no_route (high confidence)") && stdout.contains("ENETUNREACH"),
        "{stdout}"
    );
    let dir = std::env::temp_dir().join(format!("ipdiag-netns-noroute-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let file = dir.join("ipdiag.toml");
    std::fs::write(
        &file,
        format!("[[check]]\nname = \"dns\"\ntarget = \"{target}/udp\"\nexpect = \"reachable\"\n"),
    )
    .expect("the check file is written");
    let (code, stdout, stderr) =
        lone.ipdiag(&["check", file.to_str().expect("UTF-8 path"), "--json"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("\"no_route\"") && stdout.contains("ENETUNREACH"),
        "{stdout}"
    );
    let udp = format!("{target}/udp");
    let (code, _, stderr) = lone.ipdiag(&["wait", &udp, "--timeout", "1s"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.starts_with("ipdiag: timed out after ")
            && stderr.contains(
                "got error (local-error): no route from this machine to 203.0.113.53 (ENETUNREACH"
            ),
        "{stderr}"
    );
}

pub fn ctrl_c_ends_runs_without_a_route() {
    let Some(lone) = Lone::new("no_route_ctrl_c") else {
        return;
    };
    let target = format!("{NOWHERE}:53");
    // `--count 0` runs until Ctrl-C: wait for its first attempt line, then interrupt.
    for protocol in ["--udp", "--tcp"] {
        let mut child = lone.spawn(&["probe", "-n", &target, protocol, "-c", "0", "-i", "100ms"]);
        let first = first_line(&mut child);
        assert!(
            first
                .as_deref()
                .is_some_and(|l| l.contains("seq=1 error: no route")),
            "{first:?}"
        );
        assert!(
            interrupt(&mut child).is_some(),
            "probe {protocol} ignored SIGINT"
        );
    }
    // Commands that print nothing until the end: interrupted while they wait.
    let udp = format!("{target}/udp");
    let dir = std::env::temp_dir().join(format!("ipdiag-netns-noroute-c-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let file = dir.join("ipdiag.toml");
    std::fs::write(&file, format!("[[check]]\ntarget = \"{udp}\"\n")).expect("written");
    let file = file.to_str().expect("UTF-8 path");
    for args in [
        vec!["wait", udp.as_str(), "--timeout", "60s"],
        vec!["doctor", "-n", target.as_str(), "--udp", "-c", "100"],
        // Tries again until 60 s have passed: only Ctrl-C ends it this soon.
        vec!["check", file, "--wait", "60s"],
    ] {
        let mut child = lone.spawn(&args);
        std::thread::sleep(Duration::from_millis(300));
        let code = interrupt(&mut child);
        assert!(code.is_some(), "{args:?} ignored SIGINT");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The child's first line of output, waited for 5 s at most (a run that hangs prints none).
fn first_line(child: &mut std::process::Child) -> Option<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(BufReader::new(stdout).lines().next().and_then(Result::ok));
    });
    rx.recv_timeout(Duration::from_secs(5)).ok().flatten()
}

/// A name whose lookup hangs (the namespace's only DNS server takes queries and never
/// answers; glibc would wait 5 s a try) does not stretch `wait --timeout 1s`: the run ends
/// with the resolver's timeout as the reason, well before a lookup could have finished.
pub fn a_hanging_lookup_ends_at_the_deadline() {
    let Some(lone) = Lone::new("no_route_dns_deadline") else {
        return;
    };
    lone.hosts("127.0.0.1 localhost\n");
    lone.etc(
        "resolv.conf",
        "nameserver 127.0.0.1\noptions timeout:5 attempts:2\n",
    );
    let mut servers = crate::servers::Servers::default();
    servers.udp_silent(&lone.ns, "127.0.0.1:53");
    let mut child = lone.spawn(&["wait", "hangs.example:80", "--timeout", "1s"]);
    let mut code = None;
    // Polled for 4 s at most; the lookup alone would take 10 s.
    for _ in 0..400 {
        if let Ok(Some(status)) = child.try_wait() {
            code = status.code();
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    if code.is_none() {
        let _ = child.kill();
    }
    let out = child.wait_with_output().expect("the run's output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code, Some(1), "still running after 4 s: {stderr}");
    assert!(
        stderr.contains("got error (dns-error): cannot resolve 'hangs.example': no answer from the resolver within"),
        "{stderr}"
    );
}
