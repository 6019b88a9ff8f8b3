//! `check --vantage` and `ipdiag merge` on loopback: the vantage stamped on every report,
//! reports from two "places" (two runs here) merged into verdicts, and one exact error line
//! per bad report (exit 2). The verdict rules themselves are unit-tested in
//! `src/merge/judge_tests.rs` and in the namespace lab (tests/netns/vantage.rs).

use super::probe::{closed_tcp, listening, tcp_listener};
use super::run;
use quick_junit::Report;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A temporary directory, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ipdiag-merge-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `check FILE --json` at `vantage` and writes its report to DIR/NAME.json.
fn check_at(dir: &Dir, checks: &str, vantage: &str) -> (i32, String) {
    let (code, stdout, stderr) = run(&["check", checks, "--json", "--vantage", vantage]);
    assert!(code == 0 || code == 1, "{stderr}");
    (code, dir.file(&format!("{vantage}.json"), &stdout))
}

fn checks(dir: &Dir, open: u16, closed: u16) -> String {
    dir.file(
        "ipdiag.toml",
        &format!(
            "[[check]]\nname = \"web\"\ntarget = \"127.0.0.1:{open}\"\n\n[[check]]\nname = \"old\"\ntarget = \"127.0.0.1:{closed}\"\nexpect = \"closed\"\n"
        ),
    )
}

#[test]
fn check_stamps_its_vantage_on_every_report() {
    let _guard = listening();
    let (listener, open) = tcp_listener();
    let dir = Dir::new("stamp");
    let file = checks(&dir, open, closed_tcp());
    let junit = dir.path("r.xml");
    let (code, stdout, stderr) = run(&[
        "check",
        &file,
        "--json",
        "--vantage",
        "ci-eu",
        "--junit",
        &junit,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["vantage"], "ci-eu");
    assert_eq!(report["sources"], serde_json::json!(["127.0.0.1"]));
    let stamped: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["vantage"])
        .collect();
    assert_eq!(stamped, [&Value::from("ci-eu"), &Value::from("ci-eu")]);
    let xml = std::fs::read_to_string(&junit).unwrap();
    let parsed = Report::deserialize_from_str(&xml).unwrap();
    let suite = &parsed.test_suites[0];
    assert_eq!(suite.properties.len(), 1);
    assert_eq!(suite.properties[0].name.as_str(), "vantage");
    assert_eq!(suite.properties[0].value.as_str(), "ci-eu");
    assert!(xml.contains("hostname=\"ci-eu\""), "{xml}");
    // JSON lines: each check's line carries it.
    let (_, lines, _) = run(&["check", &file, "--jsonl", "--vantage", "ci-eu"]);
    assert_eq!(lines.lines().count(), 2);
    for line in lines.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["vantage"], "ci-eu", "{line}");
    }
    let (code, _, stderr) = run(&["check", &file, "--vantage", ""]);
    assert_eq!(
        (code, stderr.as_str()),
        (2, "ipdiag: error: invalid --vantage '': empty\n")
    );
    drop(listener);
}

#[test]
fn without_vantage_the_host_name_is_the_vantage() {
    let closed = closed_tcp();
    let dir = Dir::new("hostname");
    let file = dir.file(
        "ipdiag.toml",
        &format!("[[check]]\ntarget = \"127.0.0.1:{closed}\"\nexpect = \"closed\"\n"),
    );
    let (code, stdout, stderr) = run(&["check", &file, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let vantage = report["vantage"].as_str().unwrap();
    assert!(!vantage.is_empty());
    if cfg!(target_os = "linux") {
        let kernel = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(vantage, kernel.trim());
    }
}

#[test]
fn two_places_merge_into_one_verdict_per_endpoint() {
    let _guard = listening();
    let (listener, open) = tcp_listener();
    let closed = closed_tcp();
    let dir = Dir::new("two");
    let file = checks(&dir, open, closed);
    let (_, a) = check_at(&dir, &file, "office");
    let (_, b) = check_at(&dir, &file, "cloud");
    drop(listener);
    let (code, stdout, stderr) = run(&["merge", &a, &b, "--color", "never"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().map(str::trim_end).collect();
    let words = |i: usize| lines[i].split_whitespace().collect::<Vec<_>>();
    assert_eq!(
        words(0),
        ["CHECK", "ENDPOINT", "office", "cloud", "VERDICT"]
    );
    let web = format!("127.0.0.1:{open}/tcp");
    let old = format!("127.0.0.1:{closed}/tcp");
    assert_eq!(words(1), ["web", &web, "open", "open", "reachable"]);
    assert_eq!(words(2), ["old", &old, "closed", "closed", "not_listening"]);
    assert_eq!(
        lines[4..],
        [
            format!("web ({web}): open from every vantage (2)").as_str(),
            format!("old ({old}): closed from every vantage (2): the host answers, nothing listens on the port").as_str(),
            "",
            "2 of 2 endpoints hold from all 2 vantages (1 not_listening, 1 reachable)",
        ]
    );
    // JSON: the counts and each vantage's view.
    let (code, stdout, _) = run(&["merge", &a, &b, "--json"]);
    assert_eq!(code, 0);
    let merged: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(merged["vantages"], serde_json::json!(["office", "cloud"]));
    assert_eq!(
        merged["verdicts"],
        serde_json::json!([{"verdict": "not_listening", "count": 1}, {"verdict": "reachable", "count": 1}])
    );
    let seen = &merged["endpoints"][0]["seen"];
    assert_eq!(seen.as_array().unwrap().len(), 2);
    assert_eq!(seen[1]["vantage"], "cloud");
    assert_eq!(seen[1]["state"], "open");
    assert_eq!(seen[1]["holds"], true);
}

#[test]
fn a_probe_report_is_named_by_its_file_and_a_failing_endpoint_fails_the_merge() {
    let _guard = listening();
    let closed = closed_tcp();
    let dir = Dir::new("probe");
    let target = format!("127.0.0.1:{closed}");
    let (_, stdout, _) = run(&["probe", &target, "--json"]);
    let a = dir.file("laptop.json", &stdout);
    let b = dir.file("runner.json", &stdout);
    let junit = dir.path("merged.xml");
    let (code, stdout, stderr) = run(&["merge", &a, &b, "--jsonl", "--junit", &junit]);
    assert_eq!(code, 1, "closed is not reachable: {stderr}");
    let line: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(line["verdict"], "not_listening");
    assert_eq!(line["name"], Value::Null);
    let vantages: Vec<&Value> = line["seen"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["vantage"])
        .collect();
    assert_eq!(vantages, [&Value::from("laptop"), &Value::from("runner")]);
    let parsed = Report::deserialize_from_str(&std::fs::read_to_string(&junit).unwrap()).unwrap();
    assert_eq!((parsed.tests, parsed.failures), (1, 1));
}

#[test]
fn bad_reports_are_one_line_naming_the_file() {
    let dir = Dir::new("bad");
    let report = r#"{"schema_version": 1, "vantage": "a", "checks": [{"name": "n", "results": [{"host": "h", "address": null, "port": 1, "protocol": "tcp", "state": "open", "reason": "syn-ack"}]}]}"#;
    let a = dir.file("a.json", report);
    let newer = dir.file(
        "b.json",
        &report
            .replace("\"schema_version\": 1", "\"schema_version\": 2")
            .replace("\"a\"", "\"b\""),
    );
    let same = dir.file("c.json", report);
    let junk = dir.file("notes.json", "hello");
    let other = dir.file("rules.json", r#"{"nftables": []}"#);
    let missing = dir.path("missing.json");
    let error = |args: &[&str]| {
        let (code, stdout, stderr) = run(args);
        assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        stderr
    };
    assert_eq!(
        error(&["merge", &a, &newer]),
        format!(
            "ipdiag: error: {newer}: schema_version 2, but {a} has 1: merge reports of one ipdiag version\n"
        )
    );
    assert_eq!(
        error(&["merge", &newer]),
        format!(
            "ipdiag: error: {newer}: schema_version 2 is newer than this ipdiag reads (1): merge with the ipdiag that wrote it\n"
        )
    );
    assert_eq!(
        error(&["merge", &a, &same]),
        format!(
            "ipdiag: error: {same}: its vantage a is another report's too: give each place its own (check --vantage NAME)\n"
        )
    );
    assert_eq!(
        error(&["merge", &a, &junk]),
        format!("ipdiag: error: {junk}: not JSON: expected value at line 1 column 1\n")
    );
    assert_eq!(
        error(&["merge", &other]),
        format!(
            "ipdiag: error: {other}: not an ipdiag report (expected the JSON of `ipdiag check --json` or `ipdiag probe --json`): an object without `checks`, `results` or `state`\n"
        )
    );
    let unreadable = error(&["merge", &a, &missing]);
    assert!(
        unreadable.starts_with(&format!("ipdiag: error: cannot read {missing}: ")),
        "{unreadable}"
    );
    assert!(Path::new(&a).exists());
    assert_eq!(
        error(&["merge", &a, "--junit", &a]),
        format!("ipdiag: error: --junit {a} is one of the reports ({a}): give it another path\n")
    );
}
