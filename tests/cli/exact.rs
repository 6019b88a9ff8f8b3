//! Every result exactly once (issue 15): full 1-65535 loopback sweeps in connect mode,
//! `--raw`, `--both`, three hosts at once and on `::1`, five runs per mode with the formats
//! in turn (table, JSON, JSON lines, CSV), each counted record by record; Ctrl-C in the
//! middle of a sweep in every format, connect and raw, ends with every finished result
//! once, the number not probed, and exit 130; output to `/dev/full` fails in every format.
//!
//! The sweeps run one after another (they share loopback and the machine's cores). The
//! test counts records, never states: other programs' listeners come and go.

use super::ipdiag;
use serde_json::Value;
use std::collections::HashSet;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FORMATS: [&str; 5] = ["table", "json", "jsonl", "csv", "jsonl"];

/// A probed endpoint: address, port, protocol.
type Key = (String, u64, String);

/// The endpoints of a run's output, one per record, in `format`; for the table, its
/// totals line's counts. Panics on a record without its fields.
fn keys_of(format: &str, stdout: &str) -> Result<Vec<Key>, usize> {
    let key = |r: &Value| {
        (
            r["address"].as_str().unwrap_or_default().to_owned(),
            r["port"].as_u64().unwrap_or_default(),
            r["protocol"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let is_record = |r: &Value| r.get("target").is_some();
    match format {
        "json" => {
            let all: Value = serde_json::from_str(stdout).expect("a JSON array");
            Ok(all
                .as_array()
                .expect("an array")
                .iter()
                .filter(|r| is_record(r))
                .map(key)
                .collect())
        }
        "jsonl" => Ok(stdout
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
            .filter(is_record)
            .map(|r| key(&r))
            .collect()),
        "csv" => Ok(stdout
            .lines()
            .skip(1)
            .map(|row| {
                let f: Vec<&str> = row.split(',').collect();
                (
                    f[2].to_owned(),
                    f[3].parse().expect("a port"),
                    f[4].to_owned(),
                )
            })
            .collect()),
        _ => Err(table_total(stdout)),
    }
}

/// The table's totals line, `65535 ports: 3 open, 65532 closed`: its total, checked
/// against the sum of its counts.
fn table_total(stdout: &str) -> usize {
    let line = stdout
        .lines()
        .find(|l| l.contains(" ports: ") && !l.contains("not shown"))
        .unwrap_or_else(|| panic!("no totals line: {stdout}"));
    let (total, counts) = line.split_once(" ports: ").expect("a totals line");
    let total: usize = total.parse().expect("a count");
    let sum: usize = counts
        .split(", ")
        .map(|c| {
            c.split(' ')
                .next()
                .unwrap_or_default()
                .parse::<usize>()
                .expect("a count")
        })
        .sum();
    assert_eq!(sum, total, "{line}");
    total
}

/// The planned endpoints: every port of each address, for each protocol.
fn plan(addresses: &[&str], protocols: &[&str]) -> HashSet<Key> {
    let mut all = HashSet::new();
    for a in addresses {
        for p in protocols {
            all.extend((1..=65535).map(|port| ((*a).to_owned(), port, (*p).to_owned())));
        }
    }
    all
}

/// Checks a run printed each planned endpoint exactly once.
fn exactly_once(what: &str, format: &str, stdout: &str, planned: &HashSet<Key>) {
    match keys_of(format, stdout) {
        Ok(keys) => {
            let unique: HashSet<Key> = keys.iter().cloned().collect();
            assert_eq!(keys.len(), planned.len(), "{what} {format}: records");
            assert_eq!(unique.len(), keys.len(), "{what} {format}: no record twice");
            assert!(unique == *planned, "{what} {format}: the planned endpoints");
        }
        Err(total) => assert_eq!(total, planned.len(), "{what} table: totals"),
    }
}

#[test]
fn a_full_sweep_prints_each_endpoint_exactly_once_in_every_mode_and_format() {
    let root = nix::unistd::geteuid().is_root();
    let started = Instant::now();
    let one = ["127.0.0.1"];
    let three = ["127.0.0.1", "127.0.0.2", "127.0.0.3"];
    let mut modes: Vec<(&str, Vec<&str>, HashSet<Key>)> = vec![
        (
            "connect",
            vec!["127.0.0.1", "--connect"],
            plan(&one, &["tcp"]),
        ),
        (
            "both",
            vec!["127.0.0.1", "--both"],
            plan(&one, &["tcp", "udp"]),
        ),
        ("three hosts", three.to_vec(), plan(&three, &["tcp"])),
        ("::1", vec!["::1"], plan(&["::1"], &["tcp"])),
    ];
    if root {
        modes.insert(1, ("raw", vec!["127.0.0.1", "--raw"], plan(&one, &["tcp"])));
    } else {
        eprintln!("--raw left out: it needs root");
    }
    let mut runs = 0;
    for (what, args, planned) in &modes {
        let mode_started = Instant::now();
        for format in FORMATS {
            let mut all = vec!["probe", "-n", "-p", "1-65535", "--format", format];
            all.extend(args);
            let out = ipdiag().args(&all).output().expect("ipdiag runs");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{what} {format}: {stderr}"
            );
            exactly_once(what, format, &stdout, planned);
            runs += 1;
        }
        eprintln!(
            "{what}: 5 sweeps of {} endpoints in {:.0} s",
            planned.len(),
            mode_started.elapsed().as_secs_f64()
        );
    }
    eprintln!(
        "{runs} full sweeps, every endpoint once, in {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

/// Whether `pid` has a SIGINT handler installed (`SigCgt` in `/proc/PID/status`): before
/// that, SIGINT would kill it rather than interrupt the run.
fn catches_sigint(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (nix::libc::SIGINT - 1)) != 0)
}

/// Starts a sweep, waits (bounded) until it catches SIGINT and has been probing a moment,
/// sends SIGINT; returns (exit code, stdout, stderr).
fn interrupted(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child: Child = Command::new(env!("CARGO_BIN_EXE_ipdiag"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ipdiag starts");
    let pid = child.id();
    let bound = Instant::now() + Duration::from_secs(60);
    while !catches_sigint(pid) && Instant::now() < bound {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(catches_sigint(pid), "ipdiag never set up Ctrl-C");
    // Some results finish first (the run is paced to last far longer than this).
    std::thread::sleep(Duration::from_millis(1500));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("a pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT sent");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            pipe.read_to_string(&mut text).expect("a pipe read");
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    // Bounded: a run that ignored Ctrl-C would otherwise hang the test.
    let bound = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("a child") {
            break status;
        }
        if Instant::now() > bound {
            let _ = child.kill();
            panic!("{args:?}: still running a minute after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = |t: std::thread::JoinHandle<String>| t.join().expect("a reader");
    (status.code(), text(stdout), text(stderr))
}

/// `ipdiag: interrupted: N of T endpoints not probed` on stderr: N.
fn not_probed(stderr: &str, total: usize) -> usize {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("ipdiag: interrupted: "))
        .unwrap_or_else(|| panic!("no interrupted line: {stderr}"));
    let rest = line.trim_start_matches("ipdiag: interrupted: ");
    assert!(
        rest.ends_with(&format!(" of {total} endpoints not probed")),
        "{line}"
    );
    rest.split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count")
}

#[test]
fn ctrl_c_in_a_sweep_keeps_every_finished_result_once_and_says_what_was_not_probed() {
    let mut modes = vec!["--connect"];
    if super::raw::privileged("ctrl_c_in_a_sweep (raw)") {
        modes.push("--raw");
    }
    let total = 65535;
    for mode in modes {
        for format in ["table", "json", "jsonl", "csv"] {
            // Paced to about 13 s, so Ctrl-C comes in the middle.
            let args = [
                "probe",
                "-n",
                "127.0.0.1",
                "-p",
                "1-65535",
                mode,
                "--rate",
                "5000",
                "--format",
                format,
            ];
            let (code, stdout, stderr) = interrupted(&args);
            assert_eq!(code, Some(130), "{mode} {format}: {stderr}");
            let missing = not_probed(&stderr, total);
            assert!(missing > 0, "{mode} {format}: {stderr}");
            let probed = total - missing;
            match keys_of(format, &stdout) {
                Ok(keys) => {
                    let unique: HashSet<Key> = keys.iter().cloned().collect();
                    assert_eq!(keys.len(), probed, "{mode} {format}: records");
                    assert_eq!(unique.len(), probed, "{mode} {format}: each once");
                }
                Err(shown) => {
                    assert_eq!(shown, probed, "{mode} table: totals");
                    let line = format!("interrupted: {missing} of {total} endpoints not probed");
                    assert!(stdout.contains(&line), "{mode} table: {stdout}");
                }
            }
            if format.starts_with("json") {
                let summary = format!(
                    "{{\"interrupted\":true,\"probed\":{probed},\"not_probed\":{missing}}}"
                );
                assert!(stdout.contains(&summary), "{mode} {format}: no {summary}");
            }
        }
    }
}

/// Issue 18 item 9: at `--rate 1` the admitted probes wait for their pacing slots (connect
/// mode) or the sending thread for its next SYN (raw), and Ctrl-C ends them there.
#[test]
fn ctrl_c_ends_a_run_at_rate_1() {
    let mut modes = vec!["--connect"];
    if super::raw::privileged("ctrl_c_ends_a_run_at_rate_1 (raw)") {
        modes.push("--raw");
    }
    for mode in modes {
        let args = [
            "probe",
            "-n",
            "127.0.0.1",
            "-p",
            "1-100",
            mode,
            "--rate",
            "1",
            "--format",
            "jsonl",
        ];
        let (code, stdout, stderr) = interrupted(&args);
        assert_eq!(code, Some(130), "{mode}: {stderr}");
        let missing = not_probed(&stderr, 100);
        let records = keys_of("jsonl", &stdout).expect("JSON lines");
        assert_eq!(records.len() + missing, 100, "{mode}: {stdout}");
    }
}

#[test]
fn output_to_a_full_disk_fails_with_one_line_in_every_format() {
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full");
    let Ok(_) = full() else {
        eprintln!("skipping: no /dev/full here");
        return;
    };
    for format in ["table", "json", "jsonl", "csv"] {
        let out = Command::new(env!("CARGO_BIN_EXE_ipdiag"))
            .args(["probe", "-n", "127.0.0.1", "-p", "1-3000", "--connect"])
            .args(["--format", format])
            .stdout(full().expect("/dev/full"))
            .output()
            .expect("ipdiag runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{format}: {stderr}");
        assert_eq!(
            stderr, "ipdiag: error: cannot write output: No space left on device (os error 28)\n",
            "{format}"
        );
    }
}
