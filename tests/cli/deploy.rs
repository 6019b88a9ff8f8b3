//! The monitoring files of `deploy/prometheus/` as Prometheus reads them: `promtool check
//! rules`, `promtool test rules` (the alerts on synthetic series) and `promtool check
//! config`; and every metric the rules name is one `ipdiag exporter` emits, for an open
//! and a closed port on loopback. promtool is Debian's `prometheus` package: without it
//! the test says so and passes, except in CI (`IPDIAG_REQUIRE_NETNS=1`), where .ci/run
//! installs it and a missing tool fails.

use super::http::{Exporter, get};
use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

/// `promtool ARGS` in deploy/prometheus/; `None` when promtool is not installed.
fn promtool(args: &[&str]) -> Option<(bool, String)> {
    run_promtool(args, None)
}

/// `promtool check metrics` on `text` (its linter: names, units, types, syntax);
/// `None` when promtool is not installed.
pub(super) fn check_metrics(text: &str) -> Option<(bool, String)> {
    run_promtool(&["check", "metrics"], Some(text))
}

/// Runs `promtool ARGS` in deploy/prometheus/ with `stdin` written to it (or nothing),
/// and returns whether it succeeded with its output and errors; `None` when promtool is
/// not installed (a failure in CI, `IPDIAG_REQUIRE_NETNS=1`, where .ci/run installs it).
fn run_promtool(args: &[&str], stdin: Option<&str>) -> Option<(bool, String)> {
    use std::io::Write;
    use std::process::Stdio;
    let child = Command::new("promtool")
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/prometheus"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        assert!(
            std::env::var("IPDIAG_REQUIRE_NETNS").as_deref() != Ok("1"),
            "promtool is missing (apt-get install prometheus); CI requires it"
        );
        eprintln!("skipped: promtool is not installed (apt-get install prometheus)");
        return None;
    };
    // Dropping stdin closes it: promtool reads to its end.
    let mut input = child.stdin.take().expect("promtool's stdin");
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .expect("promtool reads its input");
    drop(input);
    let out = child.wait_with_output().expect("promtool ends");
    Some((
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ))
}

#[test]
fn promtool_accepts_the_rules_their_tests_and_the_scrape_config() {
    let Some((ok, text)) = promtool(&["check", "rules", "ipdiag-rules.yml"]) else {
        return;
    };
    assert!(ok && text.contains("SUCCESS: 3 rules found"), "{text}");
    let (ok, text) = promtool(&["test", "rules", "ipdiag-rules.test.yml"]).unwrap_or_default();
    assert!(ok && text.contains("SUCCESS"), "{text}");
    let (ok, text) = promtool(&["check", "config", "prometheus.yml"]).unwrap_or_default();
    assert!(
        ok && text.contains("is valid prometheus config file syntax"),
        "{text}"
    );
}

/// The metric names an expression file uses: words starting `probe_` or `ipdiag_`.
fn names_in(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("probe_") || w.starts_with("ipdiag_"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_rules_read_only_series_the_exporter_emits() {
    let rules = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/prometheus/ipdiag-rules.yml"),
    )
    .unwrap();
    let used = names_in(
        &rules
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let want: BTreeSet<String> = [
        "ipdiag_cause",
        "ipdiag_expectation_holds",
        "ipdiag_port_state",
        "probe_success",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(used, want);
    let exporter = Exporter::start(env!("CARGO_BIN_EXE_ipdiag"), None, &[]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for port in [open, closed] {
        let response = get(
            &exporter.address,
            &format!("/probe?target=127.0.0.1:{port}&module=tcp"),
            &[],
        );
        assert_eq!(response.status, 200, "{}", response.body);
        let emitted: BTreeSet<String> = response
            .body
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split(['{', ' ']).next())
            .map(str::to_owned)
            .collect();
        let missing: Vec<&String> = want.difference(&emitted).collect();
        assert!(
            missing.is_empty(),
            "port {port}: {missing:?} not in\n{}",
            response.body
        );
    }
    drop(listener);
}
