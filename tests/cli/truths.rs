//! Small truths (issue 21): `serve` counts "1 reply", `wait` tells each target's own ready
//! time. Loopback only; every server is the test's own.

use super::probe::{closed_tcp, closed_udp, listening, tcp_listener};
use super::run;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

#[test]
fn serve_counts_one_reply_in_the_singular() {
    // An address of its own: other tests sweep every UDP port of 127.0.0.1 (to 127.0.0.3)
    // at the same time, and one of their datagrams reaching serve made "2 datagrams".
    let address = "127.0.0.61";
    let port = closed_udp().to_string();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_ipdiag"))
        .args(["serve", "--udp", &port, "--bind", address, "--for", "2s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    // Probing starts once serve says it listens: before that, a loaded machine's probes
    // all meet a closed port (and another test's probes to the same free port number can
    // reach serve instead of ours).
    let mut lines = BufReader::new(server.stdout.take().expect("serve's stdout"));
    let mut first = String::new();
    lines.read_line(&mut first).expect("serve's first line");
    assert!(first.starts_with("listening on "), "{first}");
    let target = format!("{address}:{port}");
    let mut answered = false;
    for _ in 0..20 {
        let (_, stdout, _) = run(&["probe", &target, "--udp", "--json", "-w", "200ms"]);
        if stdout.contains("\"reason\":\"udp-response\"") {
            answered = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut rest = String::new();
    lines.read_to_string(&mut rest).expect("serve's output");
    server.wait().expect("serve stops by itself");
    let stdout = first + &rest;
    assert!(answered, "no reply from serve: {stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("stopped: 1 datagram (")
            && last.contains(" out in 1 reply), 0 TCP connections"),
        "{stdout}"
    );
}

/// `ipdiag: 127.0.0.1:P/tcp is open after 0.01 s` → (P, 0.01).
fn ready_times(stderr: &str) -> Vec<(u16, f64)> {
    stderr
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("ipdiag: 127.0.0.1:")?;
            let (port, rest) = rest.split_once("/tcp is open after ")?;
            Some((port.parse().ok()?, rest.strip_suffix(" s")?.parse().ok()?))
        })
        .collect()
}

#[test]
fn wait_tells_each_target_its_own_ready_time() {
    let _guard = listening();
    let (_now, ready) = tcp_listener();
    let later = closed_tcp();
    let opener = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        let listener = TcpListener::bind(("127.0.0.1", later)).unwrap();
        std::thread::sleep(Duration::from_secs(5));
        drop(listener);
    });
    let (code, _, stderr) = run(&[
        "wait",
        &format!("127.0.0.1:{ready}"),
        &format!("127.0.0.1:{later}"),
        "--timeout",
        "4s",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let times = ready_times(&stderr);
    assert_eq!(times.len(), 2, "{stderr}");
    assert_eq!((times[0].0, times[1].0), (ready, later), "{stderr}");
    // The first held in the first round; the second only once its listener appeared.
    assert!(times[0].1 < times[1].1, "{stderr}");
    assert!(times[1].1 >= 0.7, "{stderr}");
    opener.join().unwrap();
}

#[test]
fn a_sweep_exits_as_expected_with_expect_and_help_says_why() {
    let _guard = listening();
    let (_open, open) = tcp_listener();
    // Ports that were free a moment ago beside the open one: a sweep that is mostly closed.
    let mut ports: BTreeSet<u16> = (0..5).map(|_| closed_tcp()).collect();
    ports.insert(open);
    let list = ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let sweep = |expect: Option<&str>| {
        let mut args = vec!["probe", "127.0.0.1", "-p", &list, "--json"];
        args.extend(expect.map(|e| ["--expect", e]).into_iter().flatten());
        let (code, stdout, stderr) = run(&args);
        let records: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
        let states: BTreeSet<String> = records
            .as_array()
            .expect("an array")
            .iter()
            .filter_map(|r| r["state"].as_str().map(str::to_owned))
            .collect();
        (code, states)
    };
    let both: BTreeSet<String> = ["closed", "open"].map(str::to_owned).into();
    assert_eq!(
        sweep(None),
        (1, both.clone()),
        "open only is expected by default"
    );
    assert_eq!(sweep(Some("open,closed")), (0, both.clone()));
    assert_eq!(sweep(Some("any")), (0, both.clone()));
    assert_eq!(sweep(Some("open,filtered")).0, 1);
    let (_, help, _) = run(&["probe", "--help"]);
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("So a sweep where most ports are closed exits 1 (nmap exits 0 after any completed scan): --expect open,closed, or --expect any"),
        "{help}"
    );
}

/// The first colour code on the line that contains `marker`.
fn colour_of<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let line = text.lines().find(|l| l.contains(marker))?;
    let start = line.find("\x1b[")?;
    let end = start + line[start..].find('m')?;
    Some(&line[start..=end])
}

#[test]
fn doctors_verdict_is_coloured_like_the_state_column() {
    let _guard = listening();
    let (_listener, open) = tcp_listener();
    for port in [open, closed_tcp()] {
        let target = format!("127.0.0.1:{port}");
        let (_, probe, _) = run(&["probe", &target, "--color", "always", "--no-hints"]);
        let (_, doctor, stderr) = run(&["doctor", &target, "--color", "always"]);
        let state = colour_of(&probe, &format!("{port}/tcp")).unwrap_or_else(|| panic!("{probe}"));
        let verdict = doctor
            .lines()
            .find(|l| l.contains("Verdict: "))
            .unwrap_or_else(|| panic!("{doctor} {stderr}"));
        assert!(
            verdict.starts_with(&format!("{state}Verdict: ")),
            "{verdict:?} vs {state:?}"
        );
        assert!(verdict.ends_with("\x1b[39m"), "{verdict:?}");
        let (_, plain, _) = run(&["doctor", &target, "--color", "never"]);
        assert!(!plain.contains('\x1b'), "{plain}");
    }
}
