//! `ipdiag exporter` over HTTP on loopback: the states of an open, a closed and a silent
//! UDP port as metrics, one-line 400s, content negotiation, the allow-list, the scrape
//! timeout, the exporter's own metrics and page, and its refusal to be an open prober.

use super::http::{Exporter, get, value};
use super::probe::closed_tcp;
use super::run;
use std::net::{TcpListener, UdpSocket};

fn start(args: &[&str]) -> Exporter {
    Exporter::start(env!("CARGO_BIN_EXE_ipdiag"), None, args)
}

fn probe(e: &Exporter, query: &str) -> super::http::Response {
    get(&e.address, &format!("/probe?{query}"), &[])
}

/// The label value of the `family{label="...}` series that is 1.
fn the_one(body: &str, family_and_label: &str) -> String {
    let prefix = format!("{family_and_label}=\"");
    body.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str())?.strip_suffix("\"} 1.0"))
        .unwrap_or_else(|| panic!("no {family_and_label} in\n{body}"))
        .to_owned()
}

/// The state whose series is 1, with the reason.
fn state_and_reason(body: &str) -> (String, String) {
    (
        the_one(body, "ipdiag_port_state{state"),
        the_one(body, "ipdiag_reason{reason"),
    )
}

#[test]
fn open_closed_and_silent_ports_as_metrics() {
    let e = start(&[]);
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let open_port = open.local_addr().unwrap().port();
    let r = probe(&e, &format!("target=127.0.0.1:{open_port}&module=tcp"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(state_and_reason(&r.body), ("open".into(), "syn-ack".into()));
    assert_eq!(value(&r.body, "probe_success").as_deref(), Some("1.0"));
    assert_eq!(value(&r.body, "probe_ip_protocol").as_deref(), Some("4.0"));
    assert_eq!(
        value(&r.body, "ipdiag_cause{cause=\"ok\",confidence=\"high\"}").as_deref(),
        Some("1.0")
    );
    assert_eq!(
        value(&r.body, "ipdiag_attempt_rtt_seconds_count").as_deref(),
        Some("1")
    );

    let closed = closed_tcp();
    let r = probe(&e, &format!("target=127.0.0.1:{closed}&module=tcp"));
    assert_eq!(
        state_and_reason(&r.body),
        ("closed".into(), "conn-refused".into())
    );
    assert_eq!(value(&r.body, "probe_success").as_deref(), Some("0.0"));
    assert!(
        r.body
            .contains("ipdiag_cause{cause=\"not_listening\",confidence=\"medium\"} 1.0"),
        "{}",
        r.body
    );
    // "This port must stay closed": the same port passes tcp_closed.
    let r = probe(&e, &format!("target=127.0.0.1:{closed}&module=tcp_closed"));
    assert_eq!(value(&r.body, "probe_success").as_deref(), Some("1.0"));
    assert_eq!(
        value(&r.body, "ipdiag_expectation_holds{expect=\"closed\"}").as_deref(),
        Some("1.0")
    );

    // A UDP socket that never answers: silence is open|filtered, which proves nothing.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp_port = silent.local_addr().unwrap().port();
    let r = get(
        &e.address,
        &format!("/probe?target=127.0.0.1:{udp_port}&module=udp"),
        &[("X-Prometheus-Scrape-Timeout-Seconds", "1.5")],
    );
    assert_eq!(
        state_and_reason(&r.body),
        ("open|filtered".into(), "no-response".into())
    );
    assert_eq!(value(&r.body, "probe_success").as_deref(), Some("0.0"));
    assert_eq!(value(&r.body, "ipdiag_loss_ratio").as_deref(), Some("1.0"));
    assert_eq!(
        value(&r.body, "ipdiag_rtt_seconds{stat=\"avg\"}").as_deref(),
        Some("NaN")
    );
    // The scrape timeout bounds the probe: 1.5 s leaves 1 s, where the module's own
    // waits (1 s, 3 retries) would take 4 s. The bound checked is far from both.
    let took: f64 = value(&r.body, "probe_duration_seconds")
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(took < 3.0, "took {took} s");
    drop(open);
}

#[test]
fn bad_requests_are_400_with_one_line() {
    let e = start(&[]);
    for (query, line) in [
        (
            "module=tcp",
            "no target: ask /probe?target=HOST:PORT&module=NAME",
        ),
        (
            "target=127.0.0.1",
            "bad target '127.0.0.1': give one port, as HOST:PORT",
        ),
        (
            "target=127.0.0.1:99999",
            "invalid port '99999': 99999 is out of range (0-65535)",
        ),
        (
            "target=127.0.0.1:0",
            "invalid port '0': nothing listens on port 0 (binding it asks the OS for any free port), so it has no state to wait for or check",
        ),
        (
            "target=127.0.0.1:22&module=http_2xx",
            "unknown module 'http_2xx': expected one of tcp, udp, tcp_closed, doctor",
        ),
        (
            "target=127.0.0.1:22&target=127.0.0.1:23",
            "target given twice: give it once",
        ),
        (
            "target=10.0.0.0/30:22",
            "bad target '10.0.0.0/30:22': a network; give one host",
        ),
    ] {
        let r = probe(&e, query);
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert_eq!(r.body, format!("{line}\n"), "{query}");
    }
    let r = get(
        &e.address,
        "/probe?target=127.0.0.1:22",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "soon")],
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        "bad X-Prometheus-Scrape-Timeout-Seconds 'soon': expected seconds above 0\n"
    );
    let r = get(&e.address, "/nothing", &[]);
    assert_eq!(r.status, 404);
    assert_eq!(r.body.lines().count(), 1);
}

#[test]
fn text_format_or_openmetrics_as_asked() {
    let e = start(&[]);
    let port = closed_tcp();
    let path = format!("/probe?target=127.0.0.1:{port}");
    let plain = get(&e.address, &path, &[]);
    assert_eq!(
        plain.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(!plain.body.contains("# EOF"));
    // What Prometheus sends.
    let accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let om = get(&e.address, &path, &[("Accept", accept)]);
    assert_eq!(
        om.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(om.body.ends_with("# EOF\n"), "{}", om.body);
    let own = get(&e.address, "/metrics", &[("Accept", accept)]);
    assert!(
        own.body.contains("# TYPE ipdiag_exporter_requests counter"),
        "{}",
        own.body
    );
    assert!(own.body.ends_with("# EOF\n"));
}

#[test]
fn the_allow_list_refuses_other_targets() {
    let e = start(&["--allow", "127.0.0.2/32"]);
    let listener = TcpListener::bind("127.0.0.2:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let r = probe(&e, &format!("target=127.0.0.1:{port}"));
    assert_eq!(r.status, 403);
    assert_eq!(r.body, "target 127.0.0.1 is outside --allow\n");
    // A name is checked by the addresses it resolves to.
    let r = probe(&e, &format!("target=localhost:{port}"));
    assert_eq!(r.status, 403);
    assert!(
        r.body
            .starts_with(&format!("target localhost:{port} resolves to ")),
        "{}",
        r.body
    );
    assert!(r.body.ends_with(", outside --allow\n"), "{}", r.body);
    let r = probe(&e, &format!("target=127.0.0.2:{port}"));
    assert_eq!(r.status, 200);
    assert_eq!(state_and_reason(&r.body).0, "open");
    let own = get(&e.address, "/metrics", &[]);
    assert_eq!(
        value(
            &own.body,
            "ipdiag_exporter_errors_total{kind=\"forbidden\"}"
        )
        .as_deref(),
        Some("2")
    );
    assert_eq!(
        value(
            &own.body,
            "ipdiag_exporter_probes_total{module=\"tcp\",result=\"success\"}"
        )
        .as_deref(),
        Some("1")
    );
    let page = get(&e.address, "/", &[]);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        page.body.contains("Targets allowed: 127.0.0.2/32"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(&format!(
            "<td>127.0.0.2:{port}</td><td>tcp</td><td>open</td>"
        )),
        "{}",
        page.body
    );
}

#[test]
fn modules_from_a_file() {
    let dir = std::env::temp_dir().join(format!("ipdiag-exporter-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("modules.toml");
    std::fs::write(
        &good,
        "[module.tcp_twice]\ncount = 2\ninterval = \"10ms\"\n",
    )
    .unwrap();
    let e = start(&["--config", good.to_str().unwrap()]);
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = open.local_addr().unwrap().port();
    let r = probe(&e, &format!("target=127.0.0.1:{port}&module=tcp_twice"));
    assert_eq!(
        value(&r.body, "ipdiag_attempt_rtt_seconds_count").as_deref(),
        Some("2"),
        "{}",
        r.body
    );
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[module.web]\nexpct = \"open\"\n").unwrap();
    let (code, _, stderr) = run(&["exporter", "--config", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with(&format!(
            "ipdiag: error: {}:2:1: unknown field `expct`",
            bad.display()
        )),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_open_prober_is_refused() {
    let (code, stdout, stderr) = run(&["exporter", "--listen", "0.0.0.0:0"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "ipdiag: error: --listen 0.0.0.0:0 is reachable from other machines, and an exporter probes whatever a request names: give --allow CIDR (the networks it may probe), or listen on 127.0.0.1\n"
    );
    let (code, _, stderr) = run(&["exporter", "--listen", "localhost"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "ipdiag: error: --listen 'localhost': expected ADDRESS:PORT, as 127.0.0.1:9799 or [::1]:9799\n"
    );
}

/// `--max-concurrent 18446744073709551615` once panicked at start (tokio's semaphore takes
/// at most 2^61 - 1 permits): it means no limit, and the exporter answers.
#[test]
fn any_max_concurrent_starts() {
    let e = start(&["--max-concurrent", "18446744073709551615"]);
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = open.local_addr().unwrap().port();
    let r = probe(&e, &format!("target=127.0.0.1:{port}&module=tcp"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(value(&r.body, "probe_success").as_deref(), Some("1.0"));
}

#[test]
fn vantage_labels_every_probe_series() {
    let e = start(&["--vantage", "eu \"west\""]);
    let closed = closed_tcp();
    let r = probe(&e, &format!("target=127.0.0.1:{closed}&module=tcp"));
    assert_eq!(r.status, 200, "{}", r.body);
    let series: Vec<&str> = r.body.lines().filter(|l| !l.starts_with('#')).collect();
    // probe_success, duration, ip protocol, 5 states, a reason, the causes ranked, loss,
    // 3 RTT figures, 13 buckets with sum and count, the expectation: each labelled.
    let causes = series
        .iter()
        .filter(|l| l.starts_with("ipdiag_cause{"))
        .count();
    assert!(causes >= 1, "{}", r.body);
    assert_eq!(series.len(), 29 + causes, "{}", r.body);
    for line in &series {
        assert!(
            line.contains("{vantage=\"eu \\\"west\\\"\""),
            "{line} without the vantage in\n{}",
            r.body
        );
    }
    assert!(
        series.contains(&"ipdiag_port_state{vantage=\"eu \\\"west\\\"\",state=\"closed\"} 1.0"),
        "{}",
        r.body
    );
    let (code, _, stderr) = run(&["exporter", "--vantage", " "]);
    assert_eq!(code, 2);
    assert_eq!(stderr, "ipdiag: error: invalid --vantage ' ': empty\n");
}
