//! Exact exposition text of the probe metrics, in both formats.

use super::*;
use crate::diagnose::Hint;

fn hint(cause: Cause, confidence: Confidence) -> Hint {
    Hint {
        cause,
        confidence,
        evidence: Vec::new(),
        fix: Vec::new(),
    }
}

fn open() -> ProbeMetrics {
    let mut r = ProbeResult::sample("127.0.0.1", 22, State::Open, Reason::SynAck);
    r.attempts = 2;
    r.received = 2;
    r.rtt = Some(RttStats {
        min: 0.08,
        avg: 0.1,
        max: 0.12,
        stddev: 0.02,
    });
    let diagnosis = Diagnosis {
        cause: Cause::Ok,
        hints: vec![hint(Cause::Ok, Confidence::High)],
    };
    let mut m = ProbeMetrics::new(&r, &diagnosis, "open".to_owned(), true);
    m.duration = Some(0.0125);
    m.samples = Some(vec![0.000_08, 0.000_12]);
    m
}

fn filtered() -> ProbeMetrics {
    let mut r = ProbeResult::sample("2001:db8::1", 443, State::Filtered, Reason::NoResponse);
    r.attempts = 4;
    let diagnosis = Diagnosis {
        cause: Cause::SecurityGroup,
        hints: vec![
            hint(Cause::SecurityGroup, Confidence::Medium),
            hint(Cause::HostFirewall, Confidence::Medium),
        ],
    };
    ProbeMetrics::new(&r, &diagnosis, "open".to_owned(), false)
}

/// A textfile record: labels name the endpoint.
fn labelled(mut m: ProbeMetrics, target: &str) -> ProbeMetrics {
    m.labels = vec![
        ("target".to_owned(), target.to_owned()),
        ("protocol".to_owned(), "tcp".to_owned()),
    ];
    m.duration = None;
    m
}

#[test]
fn an_open_port_in_the_text_format() {
    let text = render(vec![open()], TextFormat::Prometheus).unwrap();
    assert_eq!(text, OPEN_TEXT);
}

#[test]
fn a_filtered_port_in_openmetrics() {
    let text = render(vec![filtered()], TextFormat::OpenMetrics).unwrap();
    assert_eq!(text, FILTERED_OPENMETRICS);
}

#[test]
fn records_share_each_family_and_keep_their_labels() {
    let text = render(
        vec![
            labelled(open(), "127.0.0.1:22"),
            labelled(filtered(), "[2001:db8::1]:443"),
        ],
        TextFormat::Prometheus,
    )
    .unwrap();
    assert_eq!(text.matches("# TYPE ipdiag_port_state gauge").count(), 1);
    let states: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("ipdiag_port_state{") && l.ends_with(" 1.0"))
        .collect();
    assert_eq!(
        states,
        [
            r#"ipdiag_port_state{target="127.0.0.1:22",protocol="tcp",state="open"} 1.0"#,
            r#"ipdiag_port_state{target="[2001:db8::1]:443",protocol="tcp",state="filtered"} 1.0"#,
        ]
    );
    // No duration for a textfile record: it was not timed on its own.
    assert!(!text.contains("probe_duration_seconds"));
}

#[test]
fn label_values_are_escaped() {
    let text = render(
        vec![labelled(open(), "we\"ird\\name:1")],
        TextFormat::Prometheus,
    )
    .unwrap();
    assert!(
        text.contains(r#"probe_success{target="we\"ird\\name:1",protocol="tcp"} 1.0"#),
        "{text}"
    );
}

#[test]
fn an_unresolved_name_has_every_series() {
    let mut r = ProbeResult::sample("127.0.0.1", 80, State::Error, Reason::DnsError);
    r.endpoint.address = None;
    r.attempts = 0;
    r.received = 0;
    let diagnosis = Diagnosis {
        cause: Cause::Dns,
        hints: vec![hint(Cause::Dns, Confidence::High)],
    };
    let m = ProbeMetrics::new(&r, &diagnosis, "open".to_owned(), false);
    let text = render(vec![m], TextFormat::Prometheus).unwrap();
    for line in [
        "probe_success 0.0",
        "probe_ip_protocol 0.0",
        r#"ipdiag_port_state{state="error"} 1.0"#,
        r#"ipdiag_reason{reason="dns-error"} 1.0"#,
        r#"ipdiag_cause{cause="dns",confidence="high"} 1.0"#,
        "ipdiag_loss_ratio NaN",
        "ipdiag_attempt_rtt_seconds_count 0",
        r#"ipdiag_expectation_holds{expect="open"} 0.0"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
}

const OPEN_TEXT: &str = "\
# HELP probe_success 1 when the module's expectation holds (blackbox_exporter's name)\n\
# TYPE probe_success gauge\n\
probe_success 1.0\n\
# HELP probe_duration_seconds How long the probe took\n\
# TYPE probe_duration_seconds gauge\n\
probe_duration_seconds 0.0125\n\
# HELP probe_ip_protocol The probed address's IP version (0: the target had no address)\n\
# TYPE probe_ip_protocol gauge\n\
probe_ip_protocol 4.0\n\
# HELP ipdiag_port_state The port's state in nmap's words: 1 for the one observed, 0 for the others\n\
# TYPE ipdiag_port_state gauge\n\
ipdiag_port_state{state=\"open\"} 1.0\n\
ipdiag_port_state{state=\"closed\"} 0.0\n\
ipdiag_port_state{state=\"filtered\"} 0.0\n\
ipdiag_port_state{state=\"open|filtered\"} 0.0\n\
ipdiag_port_state{state=\"error\"} 0.0\n\
# HELP ipdiag_reason The evidence behind the state (nmap's --reason words)\n\
# TYPE ipdiag_reason gauge\n\
ipdiag_reason{reason=\"syn-ack\"} 1.0\n\
# HELP ipdiag_cause The causes the diagnosis ranks: 1 for the diagnosis, 0 for the alternatives\n\
# TYPE ipdiag_cause gauge\n\
ipdiag_cause{cause=\"ok\",confidence=\"high\"} 1.0\n\
# HELP ipdiag_loss_ratio Unanswered attempts over attempts (NaN when nothing could be sent)\n\
# TYPE ipdiag_loss_ratio gauge\n\
ipdiag_loss_ratio 0.0\n\
# HELP ipdiag_rtt_seconds Round-trip time over the answered attempts (NaN when nothing answered)\n\
# TYPE ipdiag_rtt_seconds gauge\n\
ipdiag_rtt_seconds{stat=\"min\"} 0.00008\n\
ipdiag_rtt_seconds{stat=\"avg\"} 0.0001\n\
ipdiag_rtt_seconds{stat=\"max\"} 0.00012\n\
# HELP ipdiag_attempt_rtt_seconds Round-trip times of the answered attempts\n\
# TYPE ipdiag_attempt_rtt_seconds histogram\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.0001\"} 1\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.0005\"} 2\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.001\"} 2\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.0025\"} 2\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.005\"} 2\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.01\"} 2\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.025\"} 2\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.05\"} 2\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.1\"} 2\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.25\"} 2\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.5\"} 2\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"1\"} 2\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"+Inf\"} 2\n\
ipdiag_attempt_rtt_seconds_sum 0.0002\n\
ipdiag_attempt_rtt_seconds_count 2\n\
# HELP ipdiag_expectation_holds 1 when the state meets the module's expectation (the expect label)\n\
# TYPE ipdiag_expectation_holds gauge\n\
ipdiag_expectation_holds{expect=\"open\"} 1.0\n";

const FILTERED_OPENMETRICS: &str = "\
# HELP probe_success 1 when the module's expectation holds (blackbox_exporter's name)\n\
# TYPE probe_success gauge\n\
probe_success 0.0\n\
# HELP probe_ip_protocol The probed address's IP version (0: the target had no address)\n\
# TYPE probe_ip_protocol gauge\n\
probe_ip_protocol 6.0\n\
# HELP ipdiag_port_state The port's state in nmap's words: 1 for the one observed, 0 for the others\n\
# TYPE ipdiag_port_state gauge\n\
ipdiag_port_state{state=\"open\"} 0.0\n\
ipdiag_port_state{state=\"closed\"} 0.0\n\
ipdiag_port_state{state=\"filtered\"} 1.0\n\
ipdiag_port_state{state=\"open|filtered\"} 0.0\n\
ipdiag_port_state{state=\"error\"} 0.0\n\
# HELP ipdiag_reason The evidence behind the state (nmap's --reason words)\n\
# TYPE ipdiag_reason gauge\n\
ipdiag_reason{reason=\"no-response\"} 1.0\n\
# HELP ipdiag_cause The causes the diagnosis ranks: 1 for the diagnosis, 0 for the alternatives\n\
# TYPE ipdiag_cause gauge\n\
ipdiag_cause{cause=\"security_group\",confidence=\"medium\"} 1.0\n\
ipdiag_cause{cause=\"host_firewall\",confidence=\"medium\"} 0.0\n\
# HELP ipdiag_loss_ratio Unanswered attempts over attempts (NaN when nothing could be sent)\n\
# TYPE ipdiag_loss_ratio gauge\n\
ipdiag_loss_ratio 1.0\n\
# HELP ipdiag_rtt_seconds Round-trip time over the answered attempts (NaN when nothing answered)\n\
# TYPE ipdiag_rtt_seconds gauge\n\
ipdiag_rtt_seconds{stat=\"min\"} NaN\n\
ipdiag_rtt_seconds{stat=\"avg\"} NaN\n\
ipdiag_rtt_seconds{stat=\"max\"} NaN\n\
# HELP ipdiag_attempt_rtt_seconds Round-trip times of the answered attempts\n\
# TYPE ipdiag_attempt_rtt_seconds histogram\n\
ipdiag_attempt_rtt_seconds_sum 0.0\n\
ipdiag_attempt_rtt_seconds_count 0\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.0001\"} 0\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.0005\"} 0\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.001\"} 0\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.0025\"} 0\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.005\"} 0\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.01\"} 0\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.025\"} 0\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.05\"} 0\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.1\"} 0\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.25\"} 0\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"0.5\"} 0\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"1.0\"} 0\n\
ipdiag_attempt_rtt_seconds_bucket{le=\"+Inf\"} 0\n\
# HELP ipdiag_expectation_holds 1 when the state meets the module's expectation (the expect label)\n\
# TYPE ipdiag_expectation_holds gauge\n\
ipdiag_expectation_holds{expect=\"open\"} 0.0\n\
# EOF\n";
