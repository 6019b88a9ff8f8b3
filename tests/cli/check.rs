//! `ipdiag check FILE` on loopback: verdicts, exit codes, the JSON and JUnit reports, GitHub
//! annotations, `--wait`, and exact errors for bad files. Listeners are made here on
//! ephemeral ports of 127.0.0.1; a "closed" port is one just bound and released.

use super::probe::{UdpEcho, closed_tcp, closed_udp, listening, tcp_listener};
use super::{ipdiag, run};
use quick_junit::{NonSuccessKind, Report, TestCaseStatus};
use serde_json::Value;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

/// A check file in a fresh temporary directory (removed when dropped).
struct CheckFile {
    dir: PathBuf,
    path: PathBuf,
}

impl CheckFile {
    fn new(name: &str, text: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ipdiag-check-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ipdiag.toml");
        std::fs::write(&path, text).unwrap();
        Self { dir, path }
    }

    fn path(&self) -> &str {
        self.path.to_str().unwrap()
    }

    fn junit(&self) -> PathBuf {
        self.dir.join("report.xml")
    }
}

impl Drop for CheckFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The mixed file of the issue: open, closed, expected-closed, UDP closed, UDP open, and
/// two latency budgets (one that holds, one no answer can meet).
fn mixed(open: u16, closed: u16, udp_closed: u16, udp_open: u16) -> String {
    format!(
        r#"[defaults]
timeout = "500ms"

[[check]]
name = "web is up"
target = "127.0.0.1:{open}"
expect = "open"
max_rtt_ms = 60000

[[check]]
name = "api is up"
target = "127.0.0.1:{closed}"
expect = "reachable"

[[check]]
name = "old port is gone"
target = "127.0.0.1:{closed}"
expect = "closed"

[[check]]
name = "syslog over udp"
target = "127.0.0.1:{udp_closed}"
protocol = "udp"
expect = "open|filtered"

[[check]]
name = "echo over udp"
target = "127.0.0.1:{udp_open}"
protocol = "udp"
expect = "open"

[[check]]
name = "web is fast"
target = "127.0.0.1:{open}"
max_rtt_ms = 0.000001
"#
    )
}

/// The JUnit report read back: asserts the test count and the suite's name, returns the
/// failures as (name, type, message).
fn junit_failures(xml: &str, tests: usize, suite_name: &str) -> Vec<(String, String, String)> {
    let parsed = Report::deserialize_from_str(xml).unwrap();
    assert_eq!(parsed.tests, tests);
    let suite = &parsed.test_suites[0];
    assert_eq!(suite.name.as_str(), suite_name);
    let failures: Vec<_> = suite
        .test_cases
        .iter()
        .filter_map(|case| match &case.status {
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Failure,
                message,
                ty,
                ..
            } => Some((
                case.name.as_str().to_owned(),
                ty.as_ref()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                message
                    .as_ref()
                    .map(|m| m.as_str().to_owned())
                    .unwrap_or_default(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(parsed.failures, failures.len());
    failures
}

fn by_name<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report}"))
}

#[test]
fn a_mixed_file_gives_each_verdict_the_exit_code_json_and_junit() {
    if super::skip_under_wine("a closed UDP check needs the port unreachable wine never reports") {
        return;
    }
    let _guard = listening();
    let (listener, open) = tcp_listener();
    let echo = UdpEcho::start();
    let (closed, udp_closed) = (closed_tcp(), closed_udp());
    let file = CheckFile::new("mixed", &mixed(open, closed, udp_closed, echo.port));
    let junit = file.junit();
    // A longer report from an earlier run: the new one replaces it whole (no tail left).
    std::fs::write(&junit, "<old/>".repeat(10_000)).unwrap();
    let (code, stdout, stderr) = run(&[
        "check",
        file.path(),
        "--json",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (
            &report["ok"],
            &report["total"],
            &report["passed"],
            &report["failed"]
        ),
        (
            &Value::from(false),
            &Value::from(6),
            &Value::from(3),
            &Value::from(3)
        ),
        "{report}"
    );
    let verdict = |name| {
        let c = by_name(&report, name);
        (
            c["holds"].as_bool().unwrap(),
            c["results"][0]["state"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(verdict("web is up"), (true, "open".into()));
    assert_eq!(verdict("api is up"), (false, "closed".into()));
    assert_eq!(verdict("old port is gone"), (true, "closed".into()));
    assert_eq!(verdict("syslog over udp"), (false, "closed".into()));
    assert_eq!(verdict("echo over udp"), (true, "open".into()));
    assert_eq!(verdict("web is fast"), (false, "open".into()));
    let api = by_name(&report, "api is up");
    assert_eq!(api["line"], 10);
    assert_eq!(api["expect"], "reachable");
    assert_eq!(
        api["message"],
        format!(
            "127.0.0.1:{closed}/tcp: expected reachable, got closed (conn-refused); likely not_listening (medium): the host answered, but nothing listens on this port"
        )
    );
    assert_eq!(api["results"][0]["cause"], "not_listening");
    assert_eq!(
        api["results"][0]["why"],
        "expected reachable, got closed (conn-refused)"
    );
    let udp = by_name(&report, "syslog over udp");
    assert_eq!(udp["results"][0]["reason"], "port-unreach");
    let fast = by_name(&report, "web is fast");
    let why = fast["results"][0]["why"].as_str().unwrap();
    assert!(
        why.starts_with("rtt avg ") && why.ends_with(" > budget 0.000001 ms"),
        "{why}"
    );

    // The JUnit report, read back: six cases, the three failures with their messages.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let failures = junit_failures(&xml, 6, file.path());
    let names: Vec<&str> = failures.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names, ["api is up", "syslog over udp", "web is fast"]);
    assert_eq!(failures[0].1, "not_listening");
    assert_eq!(failures[0].2, api["message"].as_str().unwrap());
    assert_eq!(failures[1].1, "not_listening");
    assert!(
        failures[1].2.starts_with(&format!(
            "127.0.0.1:{udp_closed}/udp: expected open|filtered, got closed (port-unreach)"
        )),
        "{}",
        failures[1].2
    );
    assert_eq!(failures[2].1, "budget");
    drop(listener);
}

#[test]
fn the_table_lists_each_check_and_explains_failures_in_one_line() {
    let _guard = listening();
    let (listener, open) = tcp_listener();
    let closed = closed_tcp();
    let text = format!(
        "[[check]]\nname = \"web\"\ntarget = \"127.0.0.1:{open}\"\n\n[[check]]\nname = \"api\"\ntarget = \"127.0.0.1:{closed}\"\n"
    );
    let file = CheckFile::new("table", &text);
    let (code, stdout, stderr) = run(&[
        "check",
        file.path(),
        "--color",
        "never",
        "--vantage",
        "ci-eu",
    ]);
    assert_eq!(code, 1, "{stderr}");
    let lines: Vec<&str> = stdout.lines().skip(1).collect();
    assert!(stdout.starts_with("vantage ci-eu\n"), "{stdout}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["CHECK", "TARGET", "EXPECTED", "GOT", "RTT", "VERDICT"]
    );
    let web: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        (web[0], web[1], web[2], web[3], web[4]),
        (
            "web",
            format!("127.0.0.1:{open}/tcp").as_str(),
            "open",
            "open",
            "(syn-ack)"
        )
    );
    assert_eq!(web.last(), Some(&"pass"));
    let api: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!((api[3], api[4]), ("closed", "(conn-refused)"));
    assert_eq!(api.last(), Some(&"FAIL"));
    assert!(
        stdout.contains(&format!(
            "\nFailures:\n  api: 127.0.0.1:{closed}/tcp: expected open, got closed (conn-refused); likely not_listening (medium): the host answered, but nothing listens on this port\n"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n1 of 2 checks holds, 1 fails ("),
        "{stdout}"
    );
    drop(listener);
}

#[test]
fn all_holding_is_exit_0_and_quiet_prints_nothing() {
    let closed = closed_tcp();
    let file = CheckFile::new(
        "quiet",
        &format!("[[check]]\ntarget = \"127.0.0.1:{closed}\"\nexpect = \"unreachable\"\n"),
    );
    let (code, stdout, stderr) = run(&["check", file.path(), "-q"]);
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (0, "", ""));
    let (code, stdout, _) = run(&["check", file.path()]);
    assert_eq!(code, 0);
    assert!(stdout.contains("\nthe check holds ("), "{stdout}");
}

#[test]
fn github_actions_get_an_annotation_on_the_failing_line() {
    let closed = closed_tcp();
    let file = CheckFile::new(
        "github",
        &format!("# db\n[[check]]\nname = \"db, primary\"\ntarget = \"127.0.0.1:{closed}\"\n"),
    );
    let out = ipdiag()
        .args(["check", file.path(), "-q"])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let path = file.path().replace(':', "%3A");
    assert_eq!(
        stderr,
        format!(
            "::error file={path},line=2,title=ipdiag check%3A db%2C primary::127.0.0.1:{closed}/tcp: expected open, got closed (conn-refused); likely not_listening (medium): the host answered, but nothing listens on this port\n"
        )
    );
    // Not on GitHub: no annotation.
    let (_, _, stderr) = run(&["check", file.path(), "-q"]);
    assert_eq!(stderr, "");
}

#[test]
fn on_github_a_bad_file_is_annotated_at_its_place_too() {
    let file = CheckFile::new(
        "github-bad",
        "[[check]]\ntarget = \"127.0.0.1:22\"\nexpect = \"up\"\n",
    );
    let out = ipdiag()
        .args(["check", file.path()])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    assert_eq!(
        (out.status.code(), out.stdout.as_slice()),
        (Some(2), &b""[..])
    );
    let message = "unknown variant `up`, expected one of `open`, `closed`, `filtered`, `open|filtered`, `reachable`, `unreachable`";
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "::error file={},line=3,col=10,title=ipdiag check%3A bad check file::{message}\nipdiag: error: {}:3:10: {message}\n",
            file.path().replace(':', "%3A").replace(',', "%2C"),
            file.path()
        )
    );
}

#[test]
fn wait_retries_until_a_late_listener_is_up() {
    let _guard = listening();
    let port = closed_tcp();
    let file = CheckFile::new(
        "wait-late",
        &format!("[[check]]\nname = \"late\"\ntarget = \"127.0.0.1:{port}\"\n"),
    );
    let late = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(800));
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        std::thread::sleep(Duration::from_secs(5));
        drop(listener);
    });
    let (code, stdout, stderr) = run(&["check", file.path(), "--wait", "4s", "--json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert!(report["rounds"].as_u64().unwrap() > 1, "{report}");
    assert_eq!(report["checks"][0]["results"][0]["state"], "open");
    late.join().unwrap();
}

#[test]
fn wait_gives_up_when_time_runs_out() {
    let closed = closed_tcp();
    let file = CheckFile::new(
        "wait-out",
        &format!("[[check]]\ntarget = \"127.0.0.1:{closed}\"\n"),
    );
    let (code, stdout, _) = run(&["check", file.path(), "--wait", "600ms", "--json"]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert!(report["rounds"].as_u64().unwrap() > 1, "{report}");
    assert!(report["elapsed_ms"].as_f64().unwrap() >= 600.0, "{report}");
}

#[test]
fn wait_ends_at_its_limit_even_in_the_middle_of_a_probe() {
    // A silent UDP port with a responder promised: one probe is 2 s and 3 retries; the
    // 500 ms --wait cuts it, and the report says what was seen and that time ran out.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let file = CheckFile::new(
        "wait-cut",
        &format!(
            "[[check]]\nname = \"silent\"\ntarget = \"127.0.0.1:{port}\"\nprotocol = \"udp\"\nresponder = true\ntimeout = \"2s\"\n"
        ),
    );
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = run(&["check", file.path(), "--wait", "500ms", "--json"]);
    let elapsed = started.elapsed();
    assert_eq!(code, 1, "{stderr}");
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (report["rounds"].as_u64(), report["interrupted"].as_bool()),
        (Some(1), Some(false))
    );
    let check = by_name(&report, "silent");
    assert_eq!(check["results"][0]["state"], "filtered");
    assert_eq!(
        check["results"][0]["why"],
        "expected open, got filtered (no-response); the time ran out while waiting for an answer"
    );
    drop(silent);
}

#[test]
fn a_junit_path_that_cannot_be_written_fails_before_any_packet() {
    if super::skip_off_linux("compares Linux's own error texts (strerror)") {
        return;
    }
    let _guard = listening();
    let (listener, port) = tcp_listener();
    listener.set_nonblocking(true).unwrap();
    let file = CheckFile::new(
        "junit-refused",
        &format!("[[check]]\ntarget = \"127.0.0.1:{port}\"\n"),
    );
    let missing = file.dir.join("no-such-dir").join("report.xml");
    let dir = file.dir.to_str().unwrap();
    let cases = [
        (
            missing.to_str().unwrap(),
            format!(
                "cannot create a file beside {}: No such file or directory (os error 2)",
                missing.display()
            ),
        ),
        (
            dir,
            format!("cannot write {dir}: Is a directory (os error 21)"),
        ),
    ];
    for (path, message) in cases {
        let (code, stdout, stderr) = run(&["check", file.path(), "--junit", path]);
        assert_eq!(
            (code, stdout.as_str(), stderr.as_str()),
            (3, "", format!("ipdiag: error: {message}\n").as_str())
        );
    }
    // Nothing was probed: the listener never saw a connection.
    assert_eq!(
        listener.accept().map(|_| ()).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
}

/// `check F --junit F` (by any spelling or link) is refused before anything is written,
/// and a symbolic link at the report's path is replaced, never followed onto its target.
#[cfg(unix)]
#[test]
fn the_junit_report_never_overwrites_the_check_file_nor_follows_a_link() {
    let _guard = listening();
    let (_listener, port) = tcp_listener();
    let text = format!("[[check]]\ntarget = \"127.0.0.1:{port}\"\n");
    let file = CheckFile::new("junit-same", &text);
    let link = file.dir.join("link.xml");
    std::os::unix::fs::symlink(&file.path, &link).unwrap();
    let dotted = file.dir.join(".").join("ipdiag.toml");
    for report in [
        file.path(),
        dotted.to_str().unwrap(),
        link.to_str().unwrap(),
    ] {
        let (code, stdout, stderr) = run(&["check", file.path(), "--junit", report]);
        assert_eq!(
            (code, stdout.as_str(), stderr.as_str()),
            (
                2,
                "",
                format!("ipdiag: error: --junit {report} is the check file itself: give the report another path\n").as_str()
            )
        );
        assert_eq!(std::fs::read_to_string(&file.path).unwrap(), text);
    }
    let victim = file.dir.join("victim.txt");
    std::fs::write(&victim, "keep").unwrap();
    let report = file.junit();
    std::os::unix::fs::symlink(&victim, &report).unwrap();
    let (code, _, stderr) = run(&["check", file.path(), "--junit", report.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    assert!(
        std::fs::read_to_string(&report)
            .unwrap()
            .contains("<testsuites")
    );
    let entries = std::fs::read_dir(&file.dir).unwrap().count();
    assert_eq!(
        entries, 4,
        "the check file, the link, the victim, the report: no temporary left"
    );
}

#[test]
fn a_bad_file_is_exit_2_with_its_line_and_column() {
    if super::skip_off_linux("compares Linux's own error texts (strerror)") {
        return;
    }
    let cases = [
        (
            "[[check]]\ntarget = \"127.0.0.1:22\"\nexpct = \"closed\"\n",
            "3:1: unknown field `expct`, expected one of `name`, `target`, `ports`, `protocol`, `expect`, `timeout`, `retries`, `count`, `interval`, `max_loss_pct`, `max_rtt_ms`, `responder`",
        ),
        (
            "[[check]]\ntarget = \"127.0.0.1:22\"\nexpect = \"up\"\n",
            "3:10: unknown variant `up`, expected one of `open`, `closed`, `filtered`, `open|filtered`, `reachable`, `unreachable`",
        ),
        (
            "[defaults]\ntimeout = \"soon\"\n[[check]]\ntarget = \"127.0.0.1:22\"\n",
            "2:11: invalid duration 'soon': expected a duration such as 250ms, 1s or 1.5s",
        ),
        (
            "[[check]]\ntarget = \"255.255.255.255:9\"\n",
            "2:10: invalid target '255.255.255.255:9': a broadcast address reaches many hosts: refused (probe --allow-broadcast does it anyway)",
        ),
        ("[[check]\n", "1:9: unclosed array table, expected `]`"),
    ];
    for (i, (text, message)) in cases.into_iter().enumerate() {
        let file = CheckFile::new(&format!("bad{i}"), text);
        let (code, stdout, stderr) = run(&["check", file.path()]);
        assert_eq!(
            (code, stdout.as_str(), stderr.as_str()),
            (
                2,
                "",
                format!("ipdiag: error: {}:{message}\n", file.path()).as_str()
            ),
        );
    }
    let (code, _, stderr) = run(&["check", "/nonexistent/ipdiag.toml"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "ipdiag: error: cannot read /nonexistent/ipdiag.toml: No such file or directory (os error 2)\n"
    );
    let file = CheckFile::new("csv", "[[check]]\ntarget = \"127.0.0.1:22\"\n");
    let (code, _, stderr) = run(&["check", file.path(), "--format", "csv"]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            2,
            "ipdiag: error: check writes a table, JSON, JSON lines or Prometheus metrics (and --junit FILE), not CSV\n"
        )
    );
    let (code, _, stderr) = run(&["check", file.path(), "--wait", "soon"]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            2,
            "ipdiag: error: invalid --wait 'soon': expected a duration such as 250ms, 1s or 1.5s\n"
        )
    );
}

/// A device as the report (`/dev/full`, `/dev/null`) is written in place, never renamed
/// over: as root a rename would replace the device node with a regular file. Writing to
/// `/dev/full` fails after the checks ran, naming the path and what failed (exit 3).
#[cfg(unix)]
#[test]
fn a_device_as_the_report_is_written_in_place() {
    use std::os::unix::fs::FileTypeExt as _;
    let file = CheckFile::new(
        "junit-device",
        &format!(
            "[[check]]\ntarget = \"127.0.0.1:{}\"\nexpect = \"closed\"\n",
            closed_tcp()
        ),
    );
    let (code, _, stderr) = run(&["check", file.path(), "--junit", "/dev/full"]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            3,
            "ipdiag: error: cannot write /dev/full: No space left on device (os error 28)\n"
        )
    );
    let (code, _, stderr) = run(&["check", file.path(), "--junit", "/dev/null"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    for device in ["/dev/full", "/dev/null"] {
        let kind = std::fs::symlink_metadata(device).unwrap().file_type();
        assert!(kind.is_char_device(), "{device} is still a device");
    }
}
