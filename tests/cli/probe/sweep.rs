//! Sweeps of the ephemeral range, where a loopback connect from source port P to port P
//! connects to itself (TCP simultaneous open) and a naive scanner reports phantom open
//! ports. On this machine's loopback, and in a fresh network namespace (root only) whose
//! ephemeral range is narrowed to 40000-40009 so that probes meet themselves and each other.

use super::{LISTENERS, lines, probe, state};
use serde_json::Value;
use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::sync::PoisonError;

/// TCP ports in LISTEN state on this machine (any address), from `/proc/net/tcp{,6}`.
fn listening_tcp_ports() -> HashSet<u16> {
    let mut ports = HashSet::new();
    for path in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let port = fields.get(1).and_then(|local| local.rsplit_once(':'));
            if let (Some((_, port)), Some(&"0A")) = (port, fields.get(3)) {
                ports.extend(u16::from_str_radix(port, 16).ok());
            }
        }
    }
    ports
}

/// With no listener there, every port of 40000-40100 is closed; a port some other program
/// listens on may be open, nothing else.
#[test]
fn a_sweep_of_the_ephemeral_range_reports_no_phantom_open_port() {
    let _alone = LISTENERS.write().unwrap_or_else(PoisonError::into_inner);
    let (code, stdout, _) = probe(&["127.0.0.1", "-p", "40000-40100", "--format", "jsonl"]);
    let real = listening_tcp_ports();
    let records = lines(&stdout);
    let mut ports: Vec<u64> = records
        .iter()
        .map(|r| r["port"].as_u64().unwrap())
        .collect();
    ports.sort_unstable();
    assert_eq!(ports, (40000..=40100).collect::<Vec<u64>>());
    let listened = |r: &Value| {
        let port = r["port"].as_u64().and_then(|p| u16::try_from(p).ok());
        state(r) == ("open", "syn-ack") && port.is_some_and(|p| real.contains(&p))
    };
    let unexpected: Vec<&Value> = records
        .iter()
        .filter(|r| state(r) != ("closed", "conn-refused") && !listened(r))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
    if real.iter().all(|p| !(40000..=40100).contains(p)) {
        assert_eq!(code, 1);
        let (_, table, _) = probe(&["127.0.0.1", "-p", "40000-40100", "--no-hints"]);
        assert_eq!(
            table,
            "127.0.0.1: not shown: 101 closed tcp ports (conn-refused)\n101 ports: 101 closed\n"
        );
    }
}

/// Runs ipdiag in a new network namespace (loopback up, ephemeral ports 40000-40009):
/// (exit code, stdout), or `None` (the test skips) without the privileges for it.
fn in_narrow_netns(args: &[&str]) -> Option<(i32, String)> {
    if super::super::skip_off_linux("network namespaces (unshare -n) are Linux's") {
        return None;
    }
    let setup = "ip link set lo up && echo '40000 40009' > /proc/sys/net/ipv4/ip_local_port_range";
    let usable = Command::new("unshare")
        .args(["-n", "sh", "-c", setup])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !usable {
        let required = std::env::var_os("IPDIAG_REQUIRE_NETNS").is_some_and(|v| v == "1");
        assert!(!required, "IPDIAG_REQUIRE_NETNS=1, but unshare -n failed");
        eprintln!("skipped: unshare -n and ip need root");
        return None;
    }
    let out = Command::new("unshare")
        .args(["-n", "sh", "-c", &format!("{setup} && exec \"$@\""), "sh"])
        .arg(env!("CARGO_BIN_EXE_ipdiag"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    Some((out.status.code().unwrap_or(-1), stdout))
}

/// The records that are not closed/conn-refused, as `PORT STATE (REASON) ERROR`.
fn not_closed(stdout: &str) -> Vec<String> {
    let text = |r: &Value| {
        format!(
            "{} {} ({}) {}",
            r["port"], r["state"], r["reason"], r["error"]
        )
    };
    let records = lines(stdout);
    let wrong = records
        .iter()
        .filter(|r| state(r) != ("closed", "conn-refused"));
    wrong.map(text).collect()
}

/// One port at a time, ipdiag's own sockets cannot meet each other, but a connect may pick
/// source port P for destination P (about 6 of these 300 do, counted with strace): every
/// port must still come back closed.
#[test]
fn self_connects_in_a_narrow_ephemeral_range_are_closed() {
    // Thirty runs: an endpoint named twice in one run is probed once.
    let args = [
        "probe",
        "-n",
        "--concurrency",
        "1",
        "--format",
        "jsonl",
        "127.0.0.1:40000-40009",
    ];
    let mut all = String::new();
    for _ in 0..30 {
        let Some((code, stdout)) = in_narrow_netns(&args) else {
            return;
        };
        assert_eq!(code, 1);
        all += &stdout;
    }
    assert_eq!(lines(&all).len(), 300);
    assert_eq!(not_closed(&all), Vec::<String>::new());
}

/// Concurrently, a probe from port P to port Q can meet a probe from Q to P: TCP
/// simultaneous open connects the two sockets to each other. Neither may be reported open
/// (nor as an error from the other's reset): the in-flight registry recognises our own
/// probe sockets as peers.
#[test]
fn probe_sockets_that_meet_each_other_are_not_open() {
    // --connect: 1000 ports would be a SYN scan when privileged; this is about connects.
    let mut args = vec!["probe", "-n", "--connect", "--format", "jsonl"];
    args.extend(std::iter::repeat_n("127.0.0.1:40000-40009", 100));
    for _ in 0..10 {
        let Some((_, stdout)) = in_narrow_netns(&args) else {
            return;
        };
        assert_eq!(not_closed(&stdout), Vec::<String>::new());
    }
}

/// TCP ports a connect to 127.0.0.1 reaches: listening on 127.0.0.1, 0.0.0.0 or `::`.
fn loopback_reachable_ports() -> HashSet<u16> {
    let mut ports = HashSet::new();
    for (path, any) in [
        ("/proc/net/tcp", &["0100007F", "00000000"][..]),
        ("/proc/net/tcp6", &["00000000000000000000000000000000"][..]),
    ] {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local = fields.get(1).and_then(|local| local.rsplit_once(':'));
            if let (Some((address, port)), Some(&"0A")) = (local, fields.get(3))
                && any.contains(&address)
            {
                ports.extend(u16::from_str_radix(port, 16).ok());
            }
        }
    }
    ports
}

/// The probe under pressure: every port of 127.0.0.1 with at most 256 open files (soft
/// and hard limit, so ipdiag cannot raise it): no EMFILE failure, no missed port, exactly
/// the listening ports open. Connect mode (which needs a descriptor per probe) and, when
/// privileged, raw mode.
#[test]
fn a_full_sweep_with_256_open_files_is_exact() {
    if super::super::skip_off_linux("sets the open-file limit with prlimit and reads /proc/net/tcp")
    {
        return;
    }
    let _alone = LISTENERS.write().unwrap_or_else(PoisonError::into_inner);
    let listeners: Vec<std::net::TcpListener> = (0..3)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let root = super::super::is_root();
    let modes: &[&str] = if root {
        &["--connect", "--raw"]
    } else {
        &["--connect"]
    };
    for mode in modes {
        let script = format!(
            "ulimit -n 256 && exec {} probe 127.0.0.1 -p 1-65535 {mode} --format csv",
            env!("CARGO_BIN_EXE_ipdiag")
        );
        let out = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let expected = loopback_reachable_ports();
        for l in &listeners {
            assert!(expected.contains(&l.local_addr().unwrap().port()));
        }
        let mut open = HashSet::new();
        let mut rows = 0;
        for row in stdout.lines().skip(1) {
            rows += 1;
            let fields: Vec<&str> = row.split(',').collect();
            let (port, state, reason) = (fields[3], fields[6], fields[7]);
            match (state, reason) {
                ("open", "syn-ack") => {
                    open.insert(port.parse::<u16>().unwrap());
                }
                ("closed", "conn-refused") => {}
                _ => panic!("{mode}: {row}"),
            }
        }
        assert_eq!(rows, 65535, "{mode}: every port has a row");
        assert_eq!(
            open, expected,
            "{mode}: exactly the listening ports are open"
        );
    }
}

/// A sweep's diagnosis advises only on the ports the user expects open (issue 17): the
/// range's closed ports get one summary line and no fix, the port named on its own its
/// evidence and fix; `--expect open` makes every port one the user expects open.
#[test]
fn a_sweep_advises_only_on_the_ports_expected_open() {
    let _alone = LISTENERS.write().unwrap_or_else(PoisonError::into_inner);
    if listening_tcp_ports()
        .iter()
        .any(|p| (40020..=40030).contains(p))
    {
        eprintln!("skipping: something on this machine listens in 40020-40030");
        return;
    }
    let (code, stdout, _) = probe(&["127.0.0.1", "-p", "40020-40023,40030"]);
    assert_eq!(code, 1, "{stdout}");
    let diagnosis = stdout.split("Diagnosis:\n").nth(1).unwrap_or_default();
    let lines: Vec<&str> = diagnosis.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "  127.0.0.1 4 tcp ports (40020-40023) closed (conn-refused), most likely not_listening (medium)",
            "    summary only: not named as expected open (ports not meant to be open look like this); name a port (HOST:PORT, -p PORT) or add --expect open for its evidence and fix",
            "  127.0.0.1 40030/tcp closed: not_listening (medium): the host answered, but nothing listens on this port",
        ],
        "{stdout}"
    );
    assert_eq!(diagnosis.matches("fix").count(), 2, "{stdout}");
    assert!(
        diagnosis.contains(
            "\n    fix:\n      On the server, see what listens: ipdiag local --port 40030 "
        ),
        "{stdout}"
    );
    let (_, stdout, _) = probe(&["127.0.0.1", "-p", "40020-40023", "--expect", "open"]);
    assert!(
        stdout.contains("\n  127.0.0.1 4 tcp ports (40020-40023) closed: not_listening (medium): the host answered, but nothing listens on this port\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n    fix (shown for port 40020):\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("summary only"), "{stdout}");
}
