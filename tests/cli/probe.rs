//! `ipdiag probe` and `ipdiag doctor` on loopback: states, reasons, JSON fields, exit codes,
//! formats, and the exact error line for bad input. Listeners are made here (127.0.0.1,
//! ephemeral ports); a "closed" port is one just bound and released.

use super::run;
use serde_json::Value;
use std::net::{TcpListener, UdpSocket};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A port that was free a moment ago (bound, noted, released).
fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A UDP echo server on 127.0.0.1 that lives at most `life`.
fn udp_echo(life: Duration) -> (u16, JoinHandle<()>) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    socket
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let handle = std::thread::spawn(move || {
        let end = Instant::now() + life;
        let mut buf = [0u8; 2048];
        while Instant::now() < end {
            if let Ok((n, from)) = socket.recv_from(&mut buf) {
                let _ = socket.send_to(&buf[..n], from);
            }
        }
    });
    (port, handle)
}

/// Runs `ipdiag probe ARGS --json` and returns (exit code, records).
fn probe_json(args: &[&str]) -> (i32, Vec<Value>) {
    let mut all = vec!["probe", "-n", "-w", "500ms"];
    all.extend_from_slice(args);
    all.push("--json");
    let (code, stdout, stderr) = run(&all);
    let records: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    (code, records.as_array().unwrap().clone())
}

#[test]
fn tcp_open_and_closed_with_every_field() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = free_tcp_port();
    let (code, records) =
        probe_json(&[&format!("127.0.0.1:{open}"), &format!("127.0.0.1:{closed}")]);
    assert_eq!(code, 1, "one port is closed");
    let mut fields: Vec<&str> = records[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    let mut expected = [
        "target",
        "host",
        "address",
        "port",
        "protocol",
        "method",
        "state",
        "reason",
        "icmp_from",
        "attempts",
        "received",
        "loss_pct",
        "rtt_ms",
        "payload",
        "error",
        "cause",
        "hints",
    ];
    expected.sort_unstable();
    assert_eq!(fields, expected);
    let r = &records[0];
    assert_eq!(
        (r["state"].as_str(), r["reason"].as_str()),
        (Some("open"), Some("syn-ack"))
    );
    assert_eq!(
        (r["attempts"].as_u64(), r["received"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(r["loss_pct"], 0.0);
    assert_eq!(r["method"], "connect");
    assert_eq!(r["cause"], "ok");
    assert!(r["rtt_ms"]["avg"].as_f64().unwrap() >= 0.0);
    let r = &records[1];
    assert_eq!(
        (r["state"].as_str(), r["reason"].as_str()),
        (Some("closed"), Some("conn-refused"))
    );
    assert_eq!(r["cause"], "not_listening");
    assert_eq!(r["hints"][0]["confidence"], "medium");
}

#[test]
fn exit_code_follows_expect() {
    let closed = free_tcp_port().to_string();
    let target = format!("127.0.0.1:{closed}");
    assert_eq!(run(&["probe", "-n", &target]).0, 1);
    assert_eq!(run(&["probe", "-n", &target, "--expect", "closed"]).0, 0);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    assert_eq!(run(&["probe", "-n", &open]).0, 0);
    assert_eq!(run(&["probe", "-n", &open, "--expect", "closed"]).0, 1);
}

#[test]
fn udp_echo_is_open_and_a_closed_port_is_closed_by_the_target() {
    let (echo, server) = udp_echo(Duration::from_secs(3));
    let closed = free_udp_port();
    let (code, records) = probe_json(&[
        "--udp",
        &format!("127.0.0.1:{echo}"),
        &format!("127.0.0.1:{closed}"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        (records[0]["state"].as_str(), records[0]["reason"].as_str()),
        (Some("open"), Some("udp-response"))
    );
    assert_eq!(records[0]["payload"], "ipdiag");
    assert_eq!(
        (records[1]["state"].as_str(), records[1]["reason"].as_str()),
        (Some("closed"), Some("port-unreach"))
    );
    assert_eq!(records[1]["icmp_from"], "127.0.0.1");
    for payload in ["", "0x01020304", "hello"] {
        let (_, records) =
            probe_json(&["--udp", &format!("127.0.0.1:{echo}"), "--payload", payload]);
        assert_eq!(records[0]["state"], "open", "payload {payload:?}");
    }
    server.join().unwrap();
}

#[test]
fn ports_lists_both_protocols_and_files() {
    let closed = free_tcp_port();
    let ports = format!(
        "{closed},{}-{}",
        closed.saturating_add(1),
        closed.saturating_add(2)
    );
    let (_, records) = probe_json(&["127.0.0.1", "-p", &ports]);
    assert_eq!(records.len(), 3);
    let (_, records) = probe_json(&["--both", &format!("127.0.0.1:{closed}")]);
    let protocols: Vec<&str> = records
        .iter()
        .map(|r| r["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(protocols, ["tcp", "udp"]);
    let file = std::env::temp_dir().join(format!("ipdiag-targets-{}.txt", std::process::id()));
    std::fs::write(
        &file,
        format!("# targets\n\n127.0.0.1:{closed}\n  127.0.0.1:{closed}  \n"),
    )
    .unwrap();
    let (_, records) = probe_json(&["-f", file.to_str().unwrap()]);
    std::fs::remove_file(&file).unwrap();
    assert_eq!(records.len(), 2);
}

#[test]
fn ipv6_loopback() {
    let Ok(listener) = TcpListener::bind("[::1]:0") else {
        eprintln!("skipped: no ::1 here");
        return;
    };
    let port = listener.local_addr().unwrap().port();
    let (code, records) = probe_json(&[&format!("[::1]:{port}")]);
    assert_eq!(code, 0);
    assert_eq!(records[0]["address"], "::1");
    assert_eq!(records[0]["state"], "open");
}

#[test]
fn jsonl_and_csv() {
    let closed = free_tcp_port();
    let ports = format!("{closed}-{}", closed.saturating_add(4));
    let (_, stdout, _) = run(&[
        "probe",
        "-n",
        "127.0.0.1",
        "-p",
        &ports,
        "--format",
        "jsonl",
    ]);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert!(lines.iter().all(|l| l["cause"].is_string()));
    let (_, stdout, _) = run(&[
        "probe",
        "-n",
        &format!("127.0.0.1:{closed}"),
        "--format",
        "csv",
    ]);
    let mut rows = stdout.lines();
    assert_eq!(
        rows.next(),
        Some(
            "target,host,address,port,protocol,method,state,reason,icmp_from,attempts,received,loss_pct,\
             rtt_min_ms,rtt_avg_ms,rtt_max_ms,rtt_stddev_ms,payload,error,cause"
        )
    );
    assert!(rows.next().unwrap().ends_with(",not_listening"));
}

#[test]
fn count_prints_live_lines_and_statistics() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (code, stdout, _) = run(&["probe", "-n", &target, "-c", "3", "-i", "50ms"]);
    assert_eq!(code, 0);
    for seq in 1..=3 {
        assert!(
            stdout.contains(&format!("{target}/tcp seq={seq} open (syn-ack) time=")),
            "{stdout}"
        );
    }
    assert!(
        stdout.contains(&format!(
            "--- {target}/tcp ---\n3 probes, 3 answered, 0.0% loss; rtt min/avg/max/stddev = "
        )),
        "{stdout}"
    );
    let (_, records) = probe_json(&[&target, "-c", "3", "-i", "50ms"]);
    assert_eq!(
        (
            records[0]["attempts"].as_u64(),
            records[0]["received"].as_u64()
        ),
        (Some(3), Some(3))
    );
}

/// From ephemeral port P to port P on loopback, TCP connects to itself; with no listeners
/// in the ephemeral range, every port must come back closed, never open.
#[test]
fn a_sweep_of_the_ephemeral_range_finds_no_phantom_open_ports() {
    let (_, stdout, _) = run(&[
        "probe",
        "-n",
        "127.0.0.1",
        "-p",
        "40000-40999",
        "--format",
        "jsonl",
    ]);
    let states: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(states.len(), 1000);
    let open: Vec<&Value> = states.iter().filter(|r| r["state"] == "open").collect();
    // A real listener someone else runs there would show up here; none is expected.
    assert!(open.is_empty(), "{open:?}");
}

#[test]
fn table_has_the_columns_totals_and_diagnosis() {
    let closed = free_tcp_port();
    let (_, stdout, _) = run(&["probe", "-n", &format!("127.0.0.1:{closed}")]);
    assert!(stdout.starts_with("HOST       PORT"), "{stdout}");
    assert!(stdout.contains("STATE   REASON"), "{stdout}");
    assert!(stdout.contains("1 port: 1 closed\n"), "{stdout}");
    assert!(stdout.contains("\nDiagnosis:\n"), "{stdout}");
    assert!(
        stdout.contains(
            ": not_listening (medium): the host answered, but nothing listens on this port"
        ),
        "{stdout}"
    );
    let (_, stdout, _) = run(&["probe", "-n", &format!("127.0.0.1:{closed}"), "--no-hints"]);
    assert!(!stdout.contains("Diagnosis"), "{stdout}");
}

#[test]
fn bad_input_is_one_line_naming_the_token() {
    let file = std::env::temp_dir().join(format!("ipdiag-bad-{}.txt", std::process::id()));
    std::fs::write(&file, "127.0.0.1:80\n# fine\n\nbad:port:x\n").unwrap();
    let path = file.to_str().unwrap().to_owned();
    let cases: &[(&[&str], String)] = &[
        (&["probe", "127.0.0.1:99999"], "invalid port '99999': 99999 is out of range (0-65535)".into()),
        (&["probe", "127.0.0.1"], "invalid target '127.0.0.1': no port: write HOST:PORT or give -p PORTS".into()),
        (
            &["probe", "::1:80"],
            "invalid target '::1:80': no port (an IPv6 address with a port is written [ADDRESS]:PORT; or give -p PORTS)".into(),
        ),
        (&["probe", "127.0.0.1:80", "--timeout", "0"], "invalid --timeout '0': expected a duration such as 250ms, 1s or 1.5s".into()),
        (&["probe", "127.0.0.1:80", "--timeout", "abc"], "invalid --timeout 'abc': expected a duration such as 250ms, 1s or 1.5s".into()),
        (&["probe", "127.0.0.1:80", "--rate", "0"], "invalid --rate '0': must be greater than zero".into()),
        (&["probe", "127.0.0.1:80", "--concurrency", "0"], "invalid --concurrency '0': must be greater than zero".into()),
        (&["probe", "127.0.0.1:80", "--udp", "--payload", "0xabc"], "invalid payload '0xabc': hex needs two digits per byte".into()),
        (&["probe", "-n", "localhost:80"], "invalid target 'localhost:80': a host name, and --numeric forbids resolving names".into()),
        (
            &["probe", "255.255.255.255:9"],
            "invalid target '255.255.255.255:9': a broadcast address; probing it sends to many hosts (--allow-broadcast to do it anyway)".into(),
        ),
        (
            &["probe", "127.0.0.1:80", "--source", "example.com"],
            "invalid --source 'example.com': expected an address or network (198.51.100.7, 198.51.100.0/24), not a name".into(),
        ),
        (&["probe", "-f", &path], format!("{path}:4: invalid IPv6 address 'bad:port:x': not a valid IPv6 address")),
        (&["doctor", "127.0.0.1"], "invalid target '127.0.0.1': no port: write HOST:PORT".into()),
        (
            &["doctor", "127.0.0.1:1-5"],
            "invalid target '127.0.0.1:1-5': doctor diagnoses one port at a time: write HOST:PORT (probe takes lists and ranges)".into(),
        ),
    ];
    for (args, message) in cases {
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, 2, "{args:?}");
        assert_eq!(stdout, "", "{args:?}");
        assert_eq!(stderr, format!("ipdiag: error: {message}\n"), "{args:?}");
    }
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn doctor_on_a_closed_loopback_port() {
    let closed = free_tcp_port();
    let target = format!("127.0.0.1:{closed}");
    let (code, stdout, _) = run(&["doctor", "-n", &target, "-i", "10ms", "--json"]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["state"], "closed");
    assert_eq!(report["attempts"], 3);
    assert_eq!(report["cause"], "not_listening");
    let control: Vec<u64> = report["control"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["port"].as_u64().unwrap())
        .collect();
    assert_eq!(control, [22, 80, 443, 3389]);
    assert!(report["ping"]["available"].is_boolean());
    let (_, stdout, _) = run(&["doctor", "-n", &target, "-i", "10ms", "--no-control"]);
    assert!(
        stdout.starts_with(&format!(
            "{target}/tcp: closed (conn-refused)\nVerdict: not_listening (medium confidence)"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("Causes, most likely first:\n  1. not_listening (medium)"),
        "{stdout}"
    );
}
