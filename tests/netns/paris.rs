//! One path per trace (Paris traceroute) through two equal-cost paths (`ecmp.rs`): every
//! probe of a trace carries the same flow (addresses, protocol, ports), so a router that
//! balances flows sends them all the same way and no hop mixes the two paths.

use crate::ecmp::{Ecmp, SERVER, VIA_A, VIA_B};
use crate::servers::Servers;
use serde_json::Value;

const PORT: u16 = 7890;
/// Traces per test: with 3 probes a hop from a new flow each, a trace mixes the two paths
/// at hop 2 with probability 3/4.
const RUNS: usize = 20;

/// The addresses that answered at each hop of a `--json` trace.
fn hop_addresses(record: &Value) -> Vec<Vec<String>> {
    record["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .map(|h| {
            h["addresses"]
                .as_array()
                .expect("addresses")
                .iter()
                .map(|a| a.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .collect()
}

/// Traces `RUNS` times by `protocol_flag`; returns (mixed traces, traces through a, through b).
fn count_paths(lab: &Ecmp, protocol_flag: &str) -> (usize, usize, usize) {
    let target = format!("{SERVER}:{PORT}");
    let (mut mixed, mut via_a, mut via_b) = (0, 0, 0);
    for _ in 0..RUNS {
        let (_, stdout, stderr) = lab.ipdiag(&[
            "trace",
            &target,
            protocol_flag,
            "--queries",
            "3",
            "-w",
            "300ms",
            "--max-silent",
            "1",
            "--json",
        ]);
        let record: Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
        let hops = hop_addresses(&record);
        assert_eq!(hops.len(), 4, "{record}");
        assert_eq!(record["verdict"]["kind"], "reached", "{record}");
        if hops.iter().any(|h| h.len() > 1) {
            mixed += 1;
        }
        match hops[1].first().map(String::as_str) {
            Some(VIA_A) => via_a += 1,
            Some(VIA_B) => via_b += 1,
            other => panic!("hop 2 is {other:?}: {record}"),
        }
    }
    eprintln!("{protocol_flag}: {mixed} mixed of {RUNS}, {via_a} through a, {via_b} through b");
    (mixed, via_a, via_b)
}

pub fn every_probe_of_a_tcp_trace_takes_the_same_path() {
    let Some(lab) = Ecmp::new("paris_tcp") else {
        return;
    };
    let mut servers = Servers::default();
    servers.tcp(&lab.server, &format!("0.0.0.0:{PORT}"));
    let (mixed, via_a, via_b) = count_paths(&lab, "--tcp");
    assert_eq!(mixed, 0, "traces that mixed the two paths");
    assert_eq!(via_a + via_b, RUNS);
    // The lab does balance: 20 flows all hashed one way would be 1 chance in 2^19.
    assert!(via_a > 0 && via_b > 0, "a: {via_a}, b: {via_b}");
}

pub fn every_probe_of_a_udp_trace_takes_the_same_path() {
    let Some(lab) = Ecmp::new("paris_udp") else {
        return;
    };
    let mut servers = Servers::default();
    servers.udp_echo(&lab.server, &format!("0.0.0.0:{PORT}"));
    let (mixed, via_a, via_b) = count_paths(&lab, "--udp");
    assert_eq!(mixed, 0, "traces that mixed the two paths");
    assert_eq!(via_a + via_b, RUNS);
    assert!(via_a > 0 && via_b > 0, "a: {via_a}, b: {via_b}");
}

/// `--multipath` finds both paths: hop 2 is a and b, each linked from r0 and to r9.
pub fn multipath_finds_both_equal_cost_paths() {
    let Some(lab) = Ecmp::new("paris_multipath") else {
        return;
    };
    let mut servers = Servers::default();
    servers.tcp(&lab.server, &format!("0.0.0.0:{PORT}"));
    let target = format!("{SERVER}:{PORT}");
    let (code, stdout, stderr) =
        lab.ipdiag(&["trace", &target, "--multipath", "-w", "300ms", "--json"]);
    assert_eq!(code, 0, "{stdout} {stderr}");
    let record: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let mut hops = hop_addresses(&record);
    hops[1].sort();
    assert_eq!(
        hops,
        [
            vec!["198.51.100.1"],
            vec![VIA_A, VIA_B],
            vec!["192.0.2.10"],
            vec![SERVER]
        ],
        "{record}"
    );
    let mut links: Vec<(String, String)> = record["links"]
        .as_array()
        .expect("links")
        .iter()
        .map(|l| {
            (
                l["from"].as_str().unwrap_or_default().to_owned(),
                l["to"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    links.sort();
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        links,
        [
            pair("192.0.2.10", SERVER),
            pair(VIA_A, "192.0.2.10"),
            pair(VIA_B, "192.0.2.10"),
            pair("198.51.100.1", VIA_A),
            pair("198.51.100.1", VIA_B),
        ],
        "{record}"
    );
    assert_eq!(record["confidence"], 0.999, "{record}");
}
