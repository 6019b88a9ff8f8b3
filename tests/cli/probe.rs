//! `ipdiag probe` (and `doctor`) on loopback: exact states, reasons, JSON fields, formats and
//! exit codes. Packets go to 127.0.0.1 and `::1` only, to listeners made here on ephemeral
//! ports; a "closed" port is one just bound and released. `--count` runs are in
//! `probe/count.rs`, bad input in `probe/errors.rs`, sweeps and self-connects in
//! `probe/sweep.rs`.

mod count;
mod errors;
mod limits;
mod plan;
mod reset;
mod sweep;

use super::run;
use serde_json::Value;
use std::net::{TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Tests that open listeners hold it shared; the ephemeral-range sweep holds it alone, so
/// a listener of this binary never shows up as an open port in the swept range.
static LISTENERS: RwLock<()> = RwLock::new(());

pub(crate) fn listening() -> RwLockReadGuard<'static, ()> {
    LISTENERS.read().unwrap_or_else(PoisonError::into_inner)
}

/// A TCP listener on 127.0.0.1 and its port.
pub(crate) fn tcp_listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// A TCP port that was free a moment ago (bound, noted, released). Bound without
/// listening: a listener, however brief, could show up open in another test's sweep.
pub(crate) fn closed_tcp() -> u16 {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    socket.local_addr().unwrap().as_socket().unwrap().port()
}

pub(crate) fn closed_udp() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap().port()
}

/// A UDP echo server: reflects every datagram; stops when dropped, or after 10 s at most.
pub(crate) struct UdpEcho {
    pub(crate) port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl UdpEcho {
    pub(crate) fn start() -> Self {
        Self::on(UdpSocket::bind("127.0.0.1:0").unwrap())
    }

    fn on(socket: UdpSocket) -> Self {
        let port = socket.local_addr().unwrap().port();
        let timeout = Some(Duration::from_millis(10));
        socket.set_read_timeout(timeout).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let end = Instant::now() + Duration::from_secs(10);
            let mut buf = [0u8; 2048];
            while !flag.load(Ordering::Relaxed) && Instant::now() < end {
                if let Ok((n, from)) = socket.recv_from(&mut buf) {
                    let _ = socket.send_to(&buf[..n], from);
                }
            }
        });
        let thread = Some(thread);
        Self { port, stop, thread }
    }
}

impl Drop for UdpEcho {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `ipdiag probe -n -w 500ms ARGS`: (exit code, stdout, stderr).
fn probe(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["probe", "-n", "-w", "500ms"];
    all.extend_from_slice(args);
    run(&all)
}

/// `ipdiag probe ... ARGS --json`: (exit code, the records).
fn records(args: &[&str]) -> (i32, Vec<Value>) {
    let mut all = args.to_vec();
    all.push("--json");
    let (code, stdout, stderr) = probe(&all);
    let value: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    (code, value.as_array().unwrap().clone())
}

/// One JSON object a line.
fn lines(stdout: &str) -> Vec<Value> {
    let parse = |l: &str| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
    stdout.lines().map(parse).collect()
}

fn state(r: &Value) -> (&str, &str) {
    (r["state"].as_str().unwrap(), r["reason"].as_str().unwrap())
}

fn sorted_keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

/// A record's fields (DESIGN.md, README "JSON fields", `src/output/probe_json.rs`), sorted.
const FIELDS: [&str; 20] = [
    "address",
    "attempts",
    "cause",
    "error",
    "hints",
    "host",
    "icmp_from",
    "late",
    "loss_pct",
    "method",
    "observed_source",
    "payload",
    "port",
    "protocol",
    "reason",
    "received",
    "responder",
    "rtt_ms",
    "state",
    "target",
];

/// Every field of a record but `rtt_ms` and `hints`, in one line to compare exactly:
/// `TARGET HOST ADDRESS PORT/PROTOCOL METHOD STATE (REASON) icmp_from=… received=R/A
/// loss=… payload=… error=… responder=… observed_source=… cause=…`.
fn brief(r: &Value) -> String {
    assert_eq!(sorted_keys(r), FIELDS, "DESIGN.md's fields and no others");
    let f = |k: &str| match &r[k] {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    format!(
        "{} {} {} {}/{} {} {} ({}) icmp_from={} received={}/{} loss={} payload={} error={} \
         responder={} observed_source={} cause={}",
        f("target"),
        f("host"),
        f("address"),
        f("port"),
        f("protocol"),
        f("method"),
        f("state"),
        f("reason"),
        f("icmp_from"),
        f("received"),
        f("attempts"),
        f("loss_pct"),
        f("payload"),
        f("error"),
        f("responder"),
        f("observed_source"),
        f("cause"),
    )
}

/// `rtt_ms` is `{min, avg, max, stddev}`, ordered as the names say.
fn assert_rtt(r: &Value) {
    assert_eq!(sorted_keys(&r["rtt_ms"]), ["avg", "max", "min", "stddev"]);
    let [min, avg, max, sd] = ["min", "avg", "max", "stddev"].map(|k| r["rtt_ms"][k].as_f64());
    let ordered = min.zip(avg).zip(max).zip(sd);
    assert!(
        ordered.is_some_and(|(((min, avg), max), sd)| 0.0 <= min
            && min <= avg
            && avg <= max
            && sd >= 0.0),
        "{r}"
    );
}

#[test]
fn tcp_open_has_every_field() {
    let _guard = listening();
    let (_listener, port) = tcp_listener();
    let (code, recs) = records(&[&format!("127.0.0.1:{port}")]);
    assert_eq!(code, 0);
    let r = &recs[0];
    assert_eq!(
        brief(r),
        format!(
            "127.0.0.1:{port} 127.0.0.1 127.0.0.1 {port}/tcp connect open (syn-ack) icmp_from=null \
             received=1/1 loss=0.0 payload=null error=null responder=false observed_source=null cause=ok"
        )
    );
    assert_rtt(r);
    let hints = r["hints"].as_array().unwrap();
    let first = (hints[0]["cause"].as_str(), hints[0]["confidence"].as_str());
    assert_eq!(first, (Some("ok"), Some("high")));
    for hint in hints {
        assert_eq!(
            sorted_keys(hint),
            ["cause", "confidence", "evidence", "fix"]
        );
        assert!(
            hint["evidence"].is_array() && hint["fix"].is_array(),
            "{hint}"
        );
    }
}

#[test]
fn tcp_closed_is_conn_refused() {
    let port = closed_tcp();
    let (code, recs) = records(&[&format!("127.0.0.1:{port}")]);
    assert_eq!(code, 1);
    // The RST is the answer: nothing was lost.
    assert_eq!(
        brief(&recs[0]),
        format!(
            "127.0.0.1:{port} 127.0.0.1 127.0.0.1 {port}/tcp connect closed (conn-refused) icmp_from=null \
             received=1/1 loss=0.0 payload=null error=null responder=false observed_source=null \
             cause=not_listening"
        )
    );
    assert_rtt(&recs[0]);
    assert_eq!(recs[0]["hints"][0]["cause"], "not_listening");
}

#[test]
fn exit_code_is_0_only_when_every_port_is_as_expected() {
    let _guard = listening();
    let (_a, a) = tcp_listener();
    let (_b, b) = tcp_listener();
    let [a, b, c] = [a, b, closed_tcp()].map(|p| format!("127.0.0.1:{p}"));
    assert_eq!(probe(&[&a, &b]).0, 0);
    assert_eq!(probe(&[&a, &c]).0, 1);
    assert_eq!(probe(&[&c]).0, 1);
    assert_eq!(probe(&[&c, "--expect", "closed"]).0, 0);
    assert_eq!(probe(&[&a, "--expect", "closed"]).0, 1);
    assert_eq!(probe(&[&a, &c, "--expect", "closed"]).0, 1);
}

#[test]
fn udp_echo_is_open_and_a_closed_port_is_unreachable_from_the_target() {
    if super::skip_off_linux(
        "expects the ICMP sender the error queue gives (Linux); under wine no UDP port unreachable arrives at all",
    ) {
        return;
    }
    let echo = UdpEcho::start();
    let open = echo.port;
    let (code, recs) = records(&["--udp", &format!("127.0.0.1:{open}")]);
    assert_eq!(code, 0);
    assert_eq!(
        brief(&recs[0]),
        format!(
            "127.0.0.1:{open} 127.0.0.1 127.0.0.1 {open}/udp connect open (udp-response) icmp_from=null \
             received=1/1 loss=0.0 payload=ipdiag error=null responder=false observed_source=null cause=ok"
        )
    );
    assert_rtt(&recs[0]);
    let closed = closed_udp();
    let (code, recs) = records(&["-u", &format!("127.0.0.1:{closed}")]);
    assert_eq!(code, 1);
    assert_eq!(
        brief(&recs[0]),
        format!(
            "127.0.0.1:{closed} 127.0.0.1 127.0.0.1 {closed}/udp connect closed (port-unreach) \
             icmp_from=127.0.0.1 received=1/1 loss=0.0 payload=ipdiag error=null responder=false \
             observed_source=null cause=not_listening"
        )
    );
}

#[test]
fn udp_payloads_empty_hex_and_text() {
    if super::skip_off_linux(
        "expects the ICMP sender the error queue gives (Linux); under wine no UDP port unreachable arrives at all",
    ) {
        return;
    }
    let echo = UdpEcho::start();
    let target = format!("127.0.0.1:{}", echo.port);
    for (payload, name, bytes) in [
        ("", "empty", 0),
        ("0x01020304", "custom", 4),
        ("0XaB", "custom", 1),
        ("hello", "custom", 5),
    ] {
        let (code, recs) = records(&["--udp", &target, "--payload", payload]);
        assert_eq!(code, 0, "{payload:?}");
        let got = (state(&recs[0]), recs[0]["payload"].as_str());
        assert_eq!(got, (("open", "udp-response"), Some(name)), "{payload:?}");
        let (_, stdout, _) = probe(&["-u", &target, "--payload", payload, "-c", "2", "-i", "10ms"]);
        let reflected = format!("{target}/udp seq=2 open (udp-response, {bytes} bytes) time=");
        assert!(stdout.contains(&reflected), "{payload:?}: {stdout}");
    }
}

#[test]
fn both_gives_tcp_then_udp() {
    let _guard = listening();
    // One port with a TCP listener and a UDP echo (a few tries to find one free for both).
    let (listener, echo) = (0..20)
        .find_map(|_| {
            let (listener, port) = tcp_listener();
            let udp = UdpSocket::bind(("127.0.0.1", port)).ok()?;
            Some((listener, UdpEcho::on(udp)))
        })
        .unwrap();
    let (code, recs) = records(&["--both", &format!("127.0.0.1:{}", echo.port)]);
    drop(listener);
    assert_eq!(code, 0);
    let got: Vec<(&str, (&str, &str))> = recs
        .iter()
        .map(|r| (r["protocol"].as_str().unwrap(), state(r)))
        .collect();
    assert_eq!(
        got,
        [
            ("tcp", ("open", "syn-ack")),
            ("udp", ("open", "udp-response"))
        ]
    );
}

/// `PORT/PROTOCOL STATE`.
fn port_state(r: &Value) -> String {
    let protocol = r["protocol"].as_str().unwrap();
    format!("{}/{protocol} {}", r["port"], state(r).0)
}

/// `PORT/PROTOCOL STATE` of each record, in order.
fn ports(records: &[Value]) -> Vec<String> {
    records.iter().map(port_state).collect()
}

#[test]
fn port_lists_ranges_and_several_targets() {
    if super::skip_off_linux(
        "expects the ICMP sender the error queue gives (Linux); under wine no UDP port unreachable arrives at all",
    ) {
        return;
    }
    let _guard = listening();
    let (_listener, o) = tcp_listener();
    let c = closed_tcp();
    let (code, r) = records(&["127.0.0.1", "-p", &format!("{o},{c}")]);
    assert_eq!(code, 1);
    assert_eq!(
        ports(&r),
        [format!("{o}/tcp open"), format!("{c}/tcp closed")]
    );
    assert!(
        r.iter()
            .all(|r| r["target"] == "127.0.0.1" && r["host"] == "127.0.0.1")
    );
    let cases: [(&[&str], [String; 2]); 4] = [
        // Ports written on the target, a range, -p given twice, a /udp suffix.
        (
            &[&format!("127.0.0.1:{c},{o}")],
            [format!("{c}/tcp closed"), format!("{o}/tcp open")],
        ),
        (
            &[&format!("127.0.0.1:{o}-{o},{c}")],
            [format!("{o}/tcp open"), format!("{c}/tcp closed")],
        ),
        (
            &["127.0.0.1", "-p", &c.to_string(), "-p", &format!("{o}-{o}")],
            [format!("{c}/tcp closed"), format!("{o}/tcp open")],
        ),
        (
            &["127.0.0.1", "-p", &format!("{o}/tcp,{c}/udp")],
            [format!("{o}/tcp open"), format!("{c}/udp closed")],
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(ports(&records(args).1), expected, "{args:?}");
    }
    // Several targets come back in the order given; one named twice is probed once.
    let targets = [c, o, c].map(|p| format!("127.0.0.1:{p}"));
    let (_, r) = records(&[&targets[0], &targets[1], &targets[2]]);
    let got: Vec<&str> = r.iter().map(|r| r["target"].as_str().unwrap()).collect();
    assert_eq!(got, targets[..2]);
}

/// A file in the temporary directory, unique to this test run.
fn temp_file(what: &str, text: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!("ipdiag-{what}-{}-{nanos}.txt", std::process::id());
    let path = std::env::temp_dir().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn file_targets_skip_comments_and_blank_lines() {
    let _guard = listening();
    let (_listener, open) = tcp_listener();
    let closed = closed_tcp();
    let text = format!("# loopback\n\n   \n  127.0.0.1:{open}  \n\t# indented\n127.0.0.1\n");
    let file = temp_file("targets", &text);
    let (code, r) = records(&["--file", &file, "-p", &closed.to_string()]);
    std::fs::remove_file(&file).unwrap();
    assert_eq!(code, 1);
    let got: Vec<String> = r
        .iter()
        .map(|r| format!("{} {}", r["target"].as_str().unwrap(), port_state(r)))
        .collect();
    assert_eq!(
        got,
        [
            format!("127.0.0.1:{open} {open}/tcp open"),
            format!("127.0.0.1 {closed}/tcp closed")
        ]
    );
}

#[test]
fn ipv6_loopback_in_brackets() {
    if super::skip_off_linux(
        "expects the ICMP sender the error queue gives (Linux); under wine no UDP port unreachable arrives at all",
    ) {
        return;
    }
    let Ok(listener) = TcpListener::bind("[::1]:0") else {
        eprintln!("skipped: ::1 is not available here");
        return;
    };
    let port = listener.local_addr().unwrap().port();
    let target = format!("[::1]:{port}");
    let (code, recs) = records(&[&target]);
    assert_eq!(code, 0);
    let r = &recs[0];
    assert!(brief(r).starts_with(&format!(
        "{target} ::1 ::1 {port}/tcp connect open (syn-ack) "
    )));
    drop(listener);
    let (code, recs) = records(&[&target, "--both"]);
    assert_eq!(code, 1);
    assert_eq!(state(&recs[0]), ("closed", "conn-refused"));
    assert_eq!(state(&recs[1]), ("closed", "port-unreach"));
    assert_eq!(recs[1]["icmp_from"], "::1");
}

#[test]
fn json_jsonl_and_csv() {
    if super::skip_off_linux(
        "expects the ICMP sender the error queue gives (Linux); under wine no UDP port unreachable arrives at all",
    ) {
        return;
    }
    let closed = closed_tcp();
    let target = format!("127.0.0.1:{closed}");
    let (code, stdout, _) = probe(&[&target, "--format", "json"]);
    assert_eq!(code, 1);
    let array: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(array.as_array().map(Vec::len), Some(1));
    assert_eq!(state(&array[0]), ("closed", "conn-refused"));
    let list = format!("{closed},{closed}/udp");
    for format in [&["--format", "jsonl"][..], &["--jsonl"]] {
        let mut args = vec!["127.0.0.1", "-p", &list];
        args.extend_from_slice(format);
        let (code, stdout, _) = probe(&args);
        assert_eq!(code, 1);
        // One object a line, as the ports finish (not necessarily in plan order).
        let mut got: Vec<String> = lines(&stdout).iter().map(brief).collect();
        got.sort();
        let same = "received=1/1 loss=0.0";
        let tail = "error=null responder=false observed_source=null cause=not_listening";
        assert_eq!(
            got,
            [
                format!(
                    "127.0.0.1 127.0.0.1 127.0.0.1 {closed}/tcp connect closed (conn-refused) \
                     icmp_from=null {same} payload=null {tail}"
                ),
                format!(
                    "127.0.0.1 127.0.0.1 127.0.0.1 {closed}/udp connect closed (port-unreach) \
                     icmp_from=127.0.0.1 {same} payload=ipdiag {tail}"
                ),
            ]
        );
    }
    let (code, stdout, _) = probe(&[&target, "--format", "csv"]);
    assert_eq!(code, 1);
    let rows: Vec<&str> = stdout.lines().collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert_eq!(
        rows[0],
        "target,host,address,port,protocol,method,state,reason,icmp_from,attempts,received,loss_pct,\
         rtt_min_ms,rtt_avg_ms,rtt_max_ms,rtt_stddev_ms,payload,error,responder,observed_source,cause,late"
    );
    let fields: Vec<&str> = rows[1].split(',').collect();
    assert_eq!(fields.len(), 22, "{}", rows[1]);
    let head =
        format!("{target},127.0.0.1,127.0.0.1,{closed},tcp,connect,closed,conn-refused,,1,1,0");
    assert_eq!(fields[..12].join(","), head);
    assert!(
        fields[12..16].iter().all(|f| f.parse::<f64>().is_ok()),
        "{}",
        rows[1]
    );
    assert_eq!(fields[16..], ["", "", "false", "", "not_listening", "0"]);
}

#[test]
fn table_has_the_columns_and_a_totals_line() {
    let _guard = listening();
    let (_listener, open) = tcp_listener();
    let closed = closed_tcp();
    let [o, c] = [open, closed].map(|p| format!("127.0.0.1:{p}"));
    let (code, stdout, stderr) = probe(&[&o, &c]);
    assert_eq!((code, stderr.as_str()), (1, ""));
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        ["HOST", "PORT", "STATE", "REASON", "RTT", "LOSS", "SERVICE"]
    );
    let open_port = format!("{open}/tcp");
    assert_eq!(
        rows[1][..4],
        ["127.0.0.1", open_port.as_str(), "open", "syn-ack"]
    );
    assert_eq!(rows[1][5..7], ["ms", "0%"], "{stdout}");
    // The host is written once for its ports.
    let closed_port = format!("{closed}/tcp");
    assert_eq!(
        rows[2][..3],
        [closed_port.as_str(), "closed", "conn-refused"]
    );
    assert!(
        stdout.contains("\n2 ports: 1 open, 1 closed\n\nDiagnosis:\n"),
        "{stdout}"
    );
    let diagnosis = format!(
        "\n  127.0.0.1 {closed}/tcp closed: not_listening (medium): the host answered, but nothing \
         listens on this port\n"
    );
    assert!(stdout.contains(&diagnosis), "{stdout}");
    let (_, stdout, _) = probe(&[&c, "--no-hints"]);
    assert!(stdout.ends_with("\n1 port: 1 closed\n"), "{stdout}");
    // Nothing to diagnose when everything is open.
    let (_, stdout, _) = probe(&[&o]);
    assert_eq!(stdout.lines().last(), Some("1 port: 1 open"), "{stdout}");
    assert!(!stdout.contains("Diagnosis"), "{stdout}");
}

#[test]
fn doctor_on_a_closed_loopback_port() {
    let target = format!("127.0.0.1:{}", closed_tcp());
    let (code, stdout, _) = run(&["doctor", "-n", &target, "-i", "10ms", "--json"]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(state(&report), ("closed", "conn-refused"));
    let verdict = (report["attempts"].as_u64(), report["cause"].as_str());
    assert_eq!(verdict, (Some(3), Some("not_listening")));
    let control: Vec<u64> = report["control"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["port"].as_u64().unwrap())
        .collect();
    assert_eq!(control, [22, 80, 443, 3389, 61009, 62011]);
    assert!(report["ping"]["available"].is_boolean());
    let (_, stdout, _) = run(&["doctor", "-n", &target, "-i", "10ms", "--no-control"]);
    let head =
        format!("{target}/tcp: closed (conn-refused)\nVerdict: not_listening (medium confidence)");
    assert!(stdout.starts_with(&head), "{stdout}");
    let causes = "Causes, most likely first:\n  1. not_listening (medium)";
    assert!(stdout.contains(causes), "{stdout}");
}
