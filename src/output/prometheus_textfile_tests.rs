//! `--format prometheus` (a textfile for `node_exporter`): an open, a closed, a filtered
//! port and a name that did not resolve, each record labelled by its endpoint, compared
//! whole with `tests/fixtures/prometheus/textfile.prom` (which `promtool check metrics`
//! reads in the CLI tests).

use super::*;
use crate::diagnose::Hint;
use crate::model::Protocol;

fn diagnosis(causes: &[(Cause, Confidence)]) -> Diagnosis {
    Diagnosis {
        cause: causes[0].0,
        hints: causes
            .iter()
            .map(|&(cause, confidence)| Hint {
                cause,
                confidence,
                evidence: Vec::new(),
                fix: Vec::new(),
            })
            .collect(),
    }
}

/// A record as `probe --format prometheus` makes it: the endpoint's labels, `--expect`'s
/// words (`open` by default), no duration.
fn record(r: &ProbeResult, causes: &[(Cause, Confidence)], samples: &[f64]) -> ProbeMetrics {
    let holds = r.state == State::Open;
    let mut m = ProbeMetrics::new(r, &diagnosis(causes), "open".to_owned(), holds);
    m.labels = endpoint_labels(r);
    m.samples = Some(samples.to_vec());
    m
}

fn records() -> Vec<ProbeMetrics> {
    let mut open = ProbeResult::sample("127.0.0.1", 22, State::Open, Reason::SynAck);
    (open.attempts, open.received) = (2, 2);
    open.rtt = Some(RttStats {
        min: 0.08,
        avg: 0.1,
        max: 0.12,
        stddev: 0.02,
    });
    let mut closed = ProbeResult::sample("127.0.0.1", 23, State::Closed, Reason::ConnRefused);
    closed.rtt = Some(RttStats {
        min: 0.05,
        avg: 0.05,
        max: 0.05,
        stddev: 0.0,
    });
    let mut filtered = ProbeResult::sample("2001:db8::1", 443, State::Filtered, Reason::NoResponse);
    filtered.attempts = 4;
    let mut unresolved = ProbeResult::sample("127.0.0.1", 53, State::Error, Reason::DnsError);
    unresolved.endpoint.target = "nosuch.invalid:53".to_owned();
    unresolved.endpoint.host = "nosuch.invalid".to_owned();
    unresolved.endpoint.address = None;
    unresolved.endpoint.protocol = Protocol::Udp;
    (unresolved.attempts, unresolved.received) = (0, 0);
    vec![
        record(
            &open,
            &[(Cause::Ok, Confidence::High)],
            &[0.000_08, 0.000_12],
        ),
        record(
            &closed,
            &[(Cause::NotListening, Confidence::Medium)],
            &[0.000_05],
        ),
        record(
            &filtered,
            &[
                (Cause::SecurityGroup, Confidence::Medium),
                (Cause::HostFirewall, Confidence::Medium),
            ],
            &[],
        ),
        record(&unresolved, &[(Cause::Dns, Confidence::High)], &[]),
    ]
}

#[test]
fn open_closed_filtered_and_unresolved_as_a_textfile() {
    let mut out = Vec::new();
    write_text(&mut out, records()).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text,
        include_str!("../../tests/fixtures/prometheus/textfile.prom")
    );
}

#[test]
fn a_record_without_samples_has_no_histogram() {
    let mut records = records();
    for r in &mut records {
        r.samples = None;
    }
    let text = render(records, TextFormat::Prometheus).unwrap();
    assert!(!text.contains("ipdiag_attempt_rtt_seconds"), "{text}");
    assert_eq!(text.matches("# TYPE").count(), 8, "{text}");
}

#[test]
fn endpoint_labels_name_the_endpoint_as_json_does() {
    let r = ProbeResult::sample("2001:db8::1", 443, State::Filtered, Reason::NoResponse);
    let labels = endpoint_labels(&r);
    let labels: Vec<(&str, &str)> = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("target", "[2001:db8::1]:443"),
            ("address", "2001:db8::1"),
            ("port", "443"),
            ("protocol", "tcp"),
        ]
    );
}
