//! `probe --udp --idle-test` through the simulated cloud's edge, whose NAT (conntrack)
//! forgets a UDP flow after 3 s of silence (`nf_conntrack_udp_timeout` in the edge's own
//! namespace): replies after 1 s and 2 s come back, the one after 4 s is lost twice while
//! an immediate request is answered, so the path keeps a flow at least 2 s but not 4 s:
//! `nat_idle_timeout`, exit 1. With the default timeouts (30 s) the same run keeps all.

use crate::bed::{Bed, PUBLIC, Setup, ports, run};
use serde_json::Value;

/// The idle test of the responder's port, as JSON; its exit code.
fn idle_test(bed: &Bed) -> (i32, Value) {
    let target = format!("{PUBLIC}:{}", ports::UDP_ECHO);
    let (code, stdout, stderr) = bed.ipdiag(&[
        "probe",
        "-n",
        &target,
        "--udp",
        "--idle-test",
        "--idle-max",
        "4s",
        "-w",
        "500ms",
        "--json",
    ]);
    let record = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    (code, record)
}

/// The outcome of each step, as `(idle_s, outcome)`.
fn steps(record: &Value) -> Vec<(f64, String)> {
    record["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["idle_s"].as_f64().unwrap_or(-1.0),
                s["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

pub fn a_nat_that_forgets_a_udp_flow_after_3_s_is_found_between_2_and_4_s() {
    let Some(bed) = Bed::new("idle_nat_forgets", Setup::default()) else {
        return;
    };
    run(&[
        "ip",
        "netns",
        "exec",
        &bed.edge,
        "sysctl",
        "-qw",
        "net.netfilter.nf_conntrack_udp_timeout=3",
        "net.netfilter.nf_conntrack_udp_timeout_stream=3",
    ]);
    let server = bed.serve(&["--udp", &ports::UDP_ECHO.to_string()]);
    let (code, record) = idle_test(&bed);
    assert_eq!(code, 1, "{record}");
    assert_eq!(
        steps(&record),
        [
            (1.0, "answered".to_owned()),
            (2.0, "answered".to_owned()),
            (4.0, "forgotten".to_owned())
        ]
    );
    assert_eq!(
        (
            record["verdict"].as_str(),
            record["kept_s"].as_f64(),
            record["forgotten_s"].as_f64(),
            record["cause"].as_str()
        ),
        (
            Some("forgets"),
            Some(2.0),
            Some(4.0),
            Some("nat_idle_timeout")
        ),
        "{record}"
    );
    // The responder sent every delayed reply: the edge lost the late ones.
    let log = server.stop();
    assert_eq!(log.matches("in 4.0 s, as asked").count(), 2, "{log}");
}

pub fn a_path_that_keeps_the_flow_keeps_all_silences() {
    let Some(bed) = Bed::new("idle_nat_keeps", Setup::default()) else {
        return;
    };
    let server = bed.serve(&["--udp", &ports::UDP_ECHO.to_string()]);
    let (code, record) = idle_test(&bed);
    assert_eq!(code, 0, "{record}");
    assert_eq!(steps(&record).len(), 3, "{record}");
    assert_eq!(
        (record["verdict"].as_str(), record["kept_s"].as_f64()),
        (Some("kept_all"), Some(4.0)),
        "{record}"
    );
    assert!(record["cause"].is_null(), "{record}");
    drop(server);
}
