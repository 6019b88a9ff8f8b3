//! A real Prometheus (Debian's `prometheus`) scrapes `ipdiag exporter` with
//! `blackbox_exporter`'s multi-target relabelling, both on 127.0.0.1 in the client
//! namespace, every second; after two scrapes of each target its query API gives the
//! states, reasons and causes of an open, a closed and a silent UDP port on that loopback,
//! and of the bed's port that the security group drops (filtered, diagnosed by the
//! `doctor` module), every probe series labelled with the exporter's `--vantage`, and the
//! alert rules loaded and evaluated. The configuration is `deploy/prometheus/prometheus.yml`
//! as README's "Monitoring with Prometheus" shows it, with its rules file beside it.

use crate::bed::{Bed, PUBLIC, Setup, ports};
use crate::servers::{Servers, enter};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../cli/http.rs"]
#[allow(
    dead_code,
    reason = "the CLI tests' HTTP helpers, of which this test uses a few"
)]
mod http;

/// Prometheus' own port inside the client namespace (nothing else listens there).
const PROMETHEUS: &str = "127.0.0.1:9090";
/// How long the two scrapes may take at most (Prometheus starts in about a second).
const WAIT: Duration = Duration::from_secs(25);

/// A process killed and reaped when dropped, with its scratch directory removed.
struct Running(Child, std::path::PathBuf);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

/// README's configuration (`deploy/prometheus/prometheus.yml`) with this test's targets,
/// one list per job in the file's order, and intervals of a second.
fn config(jobs: &[&[String]]) -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/prometheus/prometheus.yml"
    );
    let text = std::fs::read_to_string(path).expect("the example configuration");
    let mut lists = jobs.iter();
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        out.push(match line.trim() {
            "scrape_interval: 15s" => "  scrape_interval: 1s".to_owned(),
            l if l.starts_with("scrape_timeout: 10s") => "  scrape_timeout: 1s".to_owned(),
            "evaluation_interval: 15s" => "  evaluation_interval: 1s".to_owned(),
            l if l.starts_with("- targets:") => {
                let list = lists.next().expect("a target list per job");
                let quoted: Vec<String> = list.iter().map(|t| format!("'{t}'")).collect();
                format!("      - targets: [{}]", quoted.join(", "))
            }
            _ => line.to_owned(),
        });
    }
    assert!(lists.next().is_none(), "one job per list");
    out.join("\n")
}

/// `%XX` for everything but letters, digits and `-_.~` (a query in a URL).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The result vector of an instant query, run from a thread inside `ns`.
fn query(ns: &str, promql: &str) -> Vec<Value> {
    let ns = ns.to_owned();
    let path = format!("/api/v1/query?query={}", encode(promql));
    std::thread::spawn(move || {
        enter(&ns);
        // Not listening yet while Prometheus starts: no result.
        let Ok(r) = http::try_get(PROMETHEUS, &path, &[]) else {
            return Vec::new();
        };
        let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
        body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    })
    .join()
    .expect("the query thread ends")
}

/// Per `job/instance`, the given labels of each series of the query's result.
fn by_instance(result: &[Value], labels: &[&str]) -> BTreeMap<String, Vec<String>> {
    result
        .iter()
        .map(|s| {
            let m = &s["metric"];
            let instance = format!(
                "{}/{}",
                m["job"].as_str().unwrap_or_default(),
                m["instance"].as_str().unwrap_or_default()
            );
            let values = labels
                .iter()
                .map(|l| m[*l].as_str().unwrap_or_default().to_owned())
                .collect();
            (instance, values)
        })
        .collect()
}

/// The alert and recording rules Prometheus loaded, by name, with their health.
fn rules(ns: &str) -> BTreeMap<String, String> {
    let ns = ns.to_owned();
    std::thread::spawn(move || {
        enter(&ns);
        let Ok(r) = http::try_get(PROMETHEUS, "/api/v1/rules", &[]) else {
            return BTreeMap::new();
        };
        // Go sends a long answer in chunks (HTTP/1.1 chunked transfer coding).
        let body: Value = serde_json::from_str(&r.body)
            .or_else(|_| serde_json::from_str(&unchunked(&r.body)))
            .unwrap_or(Value::Null);
        let groups = body["data"]["groups"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        groups
            .iter()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .map(|r| {
                let name = r["name"].as_str().unwrap_or_default().to_owned();
                (name, r["health"].as_str().unwrap_or_default().to_owned())
            })
            .collect()
    })
    .join()
    .expect("the rules thread ends")
}

/// The body of a chunked answer: each chunk is its size in hex, CRLF, the bytes, CRLF.
fn unchunked(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16);
        let Some((chunk, next)) = size
            .ok()
            .filter(|&n| n > 0)
            .and_then(|n| Some((after.get(..n)?, after.get(n..)?)))
        else {
            break;
        };
        out.push_str(chunk);
        rest = next.strip_prefix("\r\n").unwrap_or(next);
    }
    out
}

/// Waits (bounded) until Prometheus has scraped each of `targets` targets twice.
fn wait_for_two_scrapes(ns: &str, targets: usize, yaml: &str) {
    let started = Instant::now();
    loop {
        let scrapes = query(ns, "count_over_time(up[1m])");
        let counts: Vec<u64> = scrapes
            .iter()
            .filter_map(|s| s["value"][1].as_str()?.parse().ok())
            .collect();
        if counts.len() == targets && counts.iter().all(|&n| n >= 2) {
            return;
        }
        assert!(
            started.elapsed() < WAIT,
            "two scrapes of {targets} targets not seen in {WAIT:?}: {counts:?}\n{yaml}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Every probe series carries the exporter's `--vantage`, and the rules file loads and
/// evaluates in the real Prometheus.
fn vantage_and_rules(ns: &str) {
    // Every probe series carries the exporter's --vantage; its own health has none.
    let vantages = by_instance(&query(ns, "probe_success"), &["vantage"]);
    assert_eq!(vantages.len(), 5, "{vantages:?}");
    assert!(vantages.values().all(|v| v == &["lab"]), "{vantages:?}");
    // The rules file loads and evaluates in a real Prometheus (a second apart: polled).
    let started = Instant::now();
    let mut loaded = rules(ns);
    while !loaded.values().all(|h| h == "ok") && started.elapsed() < WAIT {
        std::thread::sleep(Duration::from_millis(250));
        loaded = rules(ns);
    }
    let names: Vec<&str> = loaded.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "IpdiagCauseChanged",
            "IpdiagExpectationFails",
            "IpdiagPortExpectedOpenIsFiltered"
        ],
        "{loaded:?}"
    );
    assert!(loaded.values().all(|h| h == "ok"), "{loaded:?}");
}

/// Prometheus in `ns` with `yaml` and the rules file beside it, in a scratch directory.
fn start_prometheus(ns: &str, yaml: &str) -> Running {
    let dir = std::env::temp_dir().join(format!("ipdiag-prometheus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    std::fs::write(dir.join("prometheus.yml"), yaml).expect("the config is written");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/deploy/prometheus/ipdiag-rules.yml"
        ),
        dir.join("ipdiag-rules.yml"),
    )
    .expect("the rules are copied");
    let child = Command::new("ip")
        .args(["netns", "exec", ns, "prometheus"])
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={PROMETHEUS}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts");
    Running(child, dir)
}

pub fn prometheus_scrapes_states_reasons_and_causes() {
    let Some(bed) = Bed::new("prometheus", Setup::default()) else {
        return;
    };
    let mut servers = Servers::default();
    servers
        .tcp(&bed.client, "127.0.0.1:7890")
        .udp_silent(&bed.client, "127.0.0.1:7895")
        .tcp(&bed.server, "0.0.0.0:22")
        .tcp(&bed.server, "0.0.0.0:7893");
    // The example's exporter address: free in the namespace.
    let exporter = http::Exporter::start(
        env!("CARGO_BIN_EXE_ipdiag"),
        Some(&bed.client),
        &["--listen", "127.0.0.1:9799", "--vantage", "lab"],
    );
    let (open, closed, silent) = ("127.0.0.1:7890", "127.0.0.1:7892", "127.0.0.1:7895");
    let filtered = format!("{PUBLIC}:{}", ports::TCP_SG_DROP);
    let yaml = config(&[
        &[open.to_owned(), closed.to_owned()],
        &[silent.to_owned()],
        &[closed.to_owned()],
        std::slice::from_ref(&filtered),
        &["127.0.0.1:9799".to_owned()],
    ]);
    let _prometheus = start_prometheus(&bed.client, &yaml);

    wait_for_two_scrapes(&bed.client, 6, &yaml);

    let up = by_instance(&query(&bed.client, "up == 1"), &["job"]);
    assert_eq!(up.len(), 6, "every scrape answered 200: {up:?}");
    vantage_and_rules(&bed.client);
    let states = by_instance(&query(&bed.client, "ipdiag_port_state == 1"), &["state"]);
    let reasons = by_instance(&query(&bed.client, "ipdiag_reason"), &["reason"]);
    let causes = by_instance(
        &query(&bed.client, "ipdiag_cause == 1"),
        &["cause", "confidence"],
    );
    let success = by_instance(&query(&bed.client, "probe_success == 1"), &["job"]);
    let tcp = |t: &str| format!("ipdiag_tcp/{t}");
    let expected = [
        (tcp(open), "open", "syn-ack", ["ok", "high"]),
        (
            tcp(closed),
            "closed",
            "conn-refused",
            ["not_listening", "medium"],
        ),
        (
            format!("ipdiag_tcp_closed/{closed}"),
            "closed",
            "conn-refused",
            ["not_listening", "medium"],
        ),
        // Silence on this machine's own loopback: the address itself is the finding.
        (
            format!("ipdiag_udp/{silent}"),
            "open|filtered",
            "no-response",
            ["special_address", "medium"],
        ),
        (
            format!("ipdiag_doctor/{filtered}"),
            "filtered",
            "no-response",
            ["security_group", "medium"],
        ),
    ];
    for (instance, state, reason, cause) in &expected {
        assert_eq!(states[instance], [*state], "{instance}: {states:?}");
        assert_eq!(reasons[instance], [*reason], "{instance}: {reasons:?}");
        assert_eq!(&causes[instance], cause, "{instance}: {causes:?}");
    }
    assert_eq!(states.len(), 5, "{states:?}");
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert_eq!(causes.len(), 5, "{causes:?}");
    // The open port and the port that must stay closed meet their modules' expectations.
    let holding: Vec<&String> = success.keys().collect();
    assert_eq!(
        holding,
        [&tcp(open), &format!("ipdiag_tcp_closed/{closed}")],
        "{success:?}"
    );
    drop(exporter);
}
