//! `probe` and `check --format prometheus`: a textfile for `node_exporter`'s collector with
//! the exporter's metric names, a record per endpoint labelled by it, that `promtool check
//! metrics` accepts; other commands and modes refuse the format in one line.

use super::deploy::check_metrics;
use super::probe::closed_tcp;
use super::run;
use std::net::TcpListener;

/// `target=...,address=...,port=...,protocol="tcp"` of a loopback port.
fn labels(port: u16) -> String {
    format!("target=\"127.0.0.1:{port}\",address=\"127.0.0.1\",port=\"{port}\",protocol=\"tcp\"")
}

fn assert_lines(text: &str, lines: &[String]) {
    for line in lines {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
}

/// The metric families in the order written, each once.
fn families(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect()
}

fn promtool_accepts(text: &str) {
    if let Some((ok, out)) = check_metrics(text) {
        assert!(
            ok && out.is_empty(),
            "promtool check metrics: {out}\n{text}"
        );
    }
}

#[test]
fn probe_writes_an_open_and_a_closed_port_as_metrics() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = closed_tcp();
    let (a, b) = (format!("127.0.0.1:{open}"), format!("127.0.0.1:{closed}"));
    let (code, text, stderr) = run(&["probe", &a, &b, "--format", "prometheus"]);
    assert_eq!(code, 1, "the closed port is not as expected: {stderr}");
    assert_eq!(
        families(&text),
        [
            "probe_success",
            "probe_ip_protocol",
            "ipdiag_port_state",
            "ipdiag_reason",
            "ipdiag_cause",
            "ipdiag_loss_ratio",
            "ipdiag_rtt_seconds",
            "ipdiag_attempt_rtt_seconds",
            "ipdiag_expectation_holds",
        ]
    );
    let (o, c) = (labels(open), labels(closed));
    assert_lines(
        &text,
        &[
            format!("probe_success{{{o}}} 1.0"),
            format!("probe_success{{{c}}} 0.0"),
            format!("probe_ip_protocol{{{o}}} 4.0"),
            format!("ipdiag_port_state{{{o},state=\"open\"}} 1.0"),
            format!("ipdiag_port_state{{{o},state=\"closed\"}} 0.0"),
            format!("ipdiag_port_state{{{c},state=\"closed\"}} 1.0"),
            format!("ipdiag_reason{{{o},reason=\"syn-ack\"}} 1.0"),
            format!("ipdiag_reason{{{c},reason=\"conn-refused\"}} 1.0"),
            format!("ipdiag_cause{{{o},cause=\"ok\",confidence=\"high\"}} 1.0"),
            format!("ipdiag_cause{{{c},cause=\"not_listening\",confidence=\"medium\"}} 1.0"),
            format!("ipdiag_loss_ratio{{{o}}} 0.0"),
            format!("ipdiag_attempt_rtt_seconds_count{{{o}}} 1"),
            format!("ipdiag_attempt_rtt_seconds_count{{{c}}} 1"),
            format!("ipdiag_expectation_holds{{{o},expect=\"open\"}} 1.0"),
            format!("ipdiag_expectation_holds{{{c},expect=\"open\"}} 0.0"),
        ],
    );
    // Five state series and one reason per record; no duration (nothing timed a scrape).
    assert_eq!(text.matches("ipdiag_port_state{").count(), 10, "{text}");
    assert_eq!(text.matches("ipdiag_reason{").count(), 2, "{text}");
    assert!(!text.contains("probe_duration_seconds"), "{text}");
    promtool_accepts(&text);

    // --expect is probe_success's expectation: both as expected, exit 0.
    let (code, text, _) = run(&[
        "probe",
        &a,
        &b,
        "--format",
        "prometheus",
        "--expect",
        "open,closed",
    ]);
    assert_eq!(code, 0);
    assert_lines(
        &text,
        &[
            format!("probe_success{{{c}}} 1.0"),
            format!("ipdiag_expectation_holds{{{c},expect=\"closed,open\"}} 1.0"),
        ],
    );
    drop(listener);
}

#[test]
fn check_writes_its_rows_with_vantage_and_check_labels() {
    let closed = closed_tcp();
    let dir = std::env::temp_dir().join(format!("ipdiag-textfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("checks.toml");
    std::fs::write(
        &file,
        format!(
            "[[check]]\nname = \"redis \\\"main\\\"\"\ntarget = \"127.0.0.1:{closed}\"\nexpect = \"closed\"\n"
        ),
    )
    .unwrap();
    let (code, text, stderr) = run(&[
        "check",
        file.to_str().unwrap(),
        "--format",
        "prometheus",
        "--vantage",
        "lab",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 0, "{stderr}");
    let l = format!(
        "vantage=\"lab\",check=\"redis \\\"main\\\"\",{}",
        labels(closed)
    );
    assert_lines(
        &text,
        &[
            format!("probe_success{{{l}}} 1.0"),
            format!("ipdiag_port_state{{{l},state=\"closed\"}} 1.0"),
            format!("ipdiag_reason{{{l},reason=\"conn-refused\"}} 1.0"),
            format!("ipdiag_cause{{{l},cause=\"not_listening\",confidence=\"medium\"}} 1.0"),
            format!("ipdiag_expectation_holds{{{l},expect=\"closed\"}} 1.0"),
        ],
    );
    assert_eq!(text.matches("probe_success{").count(), 1, "{text}");
    // A check keeps no per-attempt samples across rounds: no histogram, not an empty one.
    assert!(!text.contains("ipdiag_attempt_rtt_seconds"), "{text}");
    promtool_accepts(&text);
}

#[test]
fn the_format_is_refused_where_it_has_no_meaning() {
    for (args, line) in [
        (
            &["classify", "10.0.0.1", "--format", "prometheus"][..],
            "ipdiag: error: classify writes a table, JSON, JSON lines or CSV, not Prometheus metrics\n",
        ),
        (
            &["merge", "a.json", "--format", "prometheus"],
            "ipdiag: error: merge writes a table, JSON or JSON lines (and --junit FILE), not Prometheus metrics\n",
        ),
        (
            &[
                "probe",
                "127.0.0.1:9",
                "--loss-split",
                "--format",
                "prometheus",
            ],
            "ipdiag: error: --loss-split writes a table or JSON, not Prometheus metrics\n",
        ),
        (
            &[
                "probe",
                "127.0.0.1:9",
                "--udp",
                "--idle-test",
                "--format",
                "prometheus",
            ],
            "ipdiag: error: --idle-test writes a table or JSON (--json, --jsonl): leave out --format prometheus\n",
        ),
        // Written whole at the end, so bounded: refused before any packet.
        (
            &[
                "probe",
                "127.0.0.1",
                "-p",
                "1-5000",
                "--format",
                "prometheus",
            ],
            "ipdiag: error: --format prometheus writes at most 4096 endpoints (a textfile for node_exporter, written at the end); this run plans 5000: probe fewer, or use --format jsonl\n",
        ),
    ] {
        let (code, out, err) = run(args);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (2, "", line),
            "{args:?}"
        );
    }
}

#[test]
fn promtool_accepts_the_exact_textfile_of_the_unit_tests() {
    // An open, a closed, a filtered port and a name that did not resolve, as
    // `output::prometheus`'s tests render them.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/prometheus/textfile.prom"
    ))
    .unwrap();
    assert_eq!(text.matches("probe_success{").count(), 4);
    promtool_accepts(&text);
}
