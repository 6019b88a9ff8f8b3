//! The verdict rules, each from synthetic reports: the splits of the namespace lab
//! (tests/netns/vantage.rs) and their edges.

use super::*;
use crate::merge::report::EndpointKey;

fn seen(port: u16, address: &str, state: State, reason: &str) -> Seen {
    Seen {
        key: EndpointKey {
            name: format!("p{port}"),
            host: "svc".into(),
            port,
            protocol: "tcp".into(),
        },
        state,
        reason: reason.into(),
        address: address.parse().ok(),
        expect: None,
        holds: None,
        observed_source: None,
    }
}

fn open(port: u16) -> Seen {
    seen(port, "203.0.113.10", State::Open, "syn-ack")
}
fn closed(port: u16) -> Seen {
    seen(port, "203.0.113.10", State::Closed, "conn-refused")
}
fn filtered(port: u16) -> Seen {
    seen(port, "203.0.113.10", State::Filtered, "no-response")
}

fn vantage(name: &str, source: &str, seen: Vec<Seen>) -> (String, Report) {
    (
        name.into(),
        Report {
            vantage: Some(name.into()),
            schema_version: Some(1),
            sources: source.parse().into_iter().collect(),
            seen,
        },
    )
}

fn verdicts(merged: &Merged) -> Vec<(u16, &'static str)> {
    merged
        .endpoints
        .iter()
        .map(|e| (e.key.port, e.verdict.as_str()))
        .collect()
}

/// The lab's three vantages: a and b share 198.51.100.0/24; c is elsewhere and probes
/// the name over IPv6.
fn lab() -> Merged {
    let v6 = |state, reason| seen(7006, "2001:db8:ff::10", state, reason);
    let egress = |port| seen(port, "203.0.113.10", State::Error, "local-error");
    let reports = [
        vantage(
            "a",
            "198.51.100.2",
            vec![
                open(7000),
                filtered(7001),
                open(7002),
                open(7003),
                open(7004),
                open(7005),
                open(7006),
            ],
        ),
        vantage(
            "b",
            "198.51.100.3",
            vec![
                open(7000),
                filtered(7001),
                open(7002),
                egress(7003),
                filtered(7004),
                closed(7005),
                open(7006),
            ],
        ),
        vantage(
            "c",
            "192.0.2.2",
            vec![
                open(7000),
                filtered(7001),
                filtered(7002),
                open(7003),
                open(7004),
                open(7005),
                v6(State::Closed, "conn-refused"),
            ],
        ),
    ];
    merge(&reports)
}

#[test]
fn the_lab_splits() {
    let merged = lab();
    assert_eq!(
        verdicts(&merged),
        [
            (7000, "reachable"),
            (7001, "server_side"),
            (7002, "source_restricted"),
            (7003, "vantage_egress"),
            (7004, "vantage_egress"),
            (7005, "load_balancing"),
            (7006, "ipv6"),
        ]
    );
    assert_eq!(
        merged.counts(),
        [
            (Verdict::VantageEgress, 2),
            (Verdict::Ipv6, 1),
            (Verdict::LoadBalancing, 1),
            (Verdict::Reachable, 1),
            (Verdict::ServerSide, 1),
            (Verdict::SourceRestricted, 1),
        ]
    );
    // probe reports: only "open everywhere" holds.
    assert!(merged.endpoints[0].holds);
    assert!(!merged.endpoints[1].holds);
    assert!(!merged.holds());
}

#[test]
fn the_lab_splits_in_words() {
    let merged = lab();
    let why: Vec<&str> = merged.endpoints.iter().map(|e| e.why.as_str()).collect();
    assert_eq!(why[0], "open from every vantage (3)");
    assert_eq!(
        why[1],
        "filtered from every vantage (3): the server side drops it, its security group or its host firewall"
    );
    assert_eq!(
        why[2],
        "open from a, b; filtered from c: a rule restricted by source (a security group or firewall rule with a source list) admits a, b but not c"
    );
    assert_eq!(
        merged.endpoints[2].evidence,
        ["c blocked on no other endpoint that others reach: not its own egress firewall"]
    );
    assert_eq!(
        why[3],
        "open from a, c; error from b: the egress firewall of b (its own or its network's): blocked on other endpoints too that the others reach"
    );
    assert_eq!(
        merged.endpoints[3].evidence,
        ["b also blocked on svc:7004/tcp, which other vantages reach"]
    );
    assert_eq!(
        merged.endpoints[4].evidence,
        ["b also blocked on svc:7003/tcp, which other vantages reach"]
    );
    assert_eq!(
        why[5],
        "open from a, c; closed from b: different answers from the same network (a and b are both in 198.51.100.0/24), so load balancing or anycast: different servers answer"
    );
    assert_eq!(
        why[6],
        "open from a, b; closed from c: only the vantages that probed over IPv6 fail (c), so the AAAA record or the listener's IPv6 bind"
    );
}

#[test]
fn check_reports_hold_by_their_checks() {
    let mut a = filtered(22);
    a.holds = Some(true);
    a.expect = Some("filtered".into());
    let mut b = a.clone();
    b.state = State::Open;
    b.holds = Some(false);
    let merged = merge(&[vantage("a", "", vec![a.clone()]), vantage("b", "", vec![a])]);
    assert_eq!(merged.endpoints[0].verdict, Verdict::ServerSide);
    assert!(
        merged.holds(),
        "filtered everywhere is what the checks asked"
    );
    assert_eq!(merged.endpoints[0].expect.as_deref(), Some("filtered"));
    let merged = merge(&[
        vantage("a", "", vec![filtered(22)]),
        vantage("b", "", vec![b]),
    ]);
    assert!(!merged.holds(), "one vantage's check fails");
}

#[test]
fn one_endpoint_blocked_from_elsewhere_is_a_source_rule_whatever_else_passes() {
    // c reaches the other endpoint: its egress is not to blame.
    let merged = merge(&[
        vantage("a", "198.51.100.2", vec![open(1), open(2)]),
        vantage("c", "192.0.2.2", vec![filtered(1), open(2)]),
    ]);
    assert_eq!(
        verdicts(&merged),
        [(1, "source_restricted"), (2, "reachable")]
    );
}

#[test]
fn a_vantage_missing_an_endpoint_is_named() {
    let merged = merge(&[
        vantage("a", "", vec![open(1), open(2)]),
        vantage("b", "", vec![open(1)]),
    ]);
    assert_eq!(verdicts(&merged), [(1, "reachable"), (2, "reachable")]);
    assert_eq!(merged.endpoints[1].why, "open from every vantage (1)");
    assert_eq!(merged.endpoints[1].evidence, ["not probed from b"]);
    assert_eq!(merged.endpoints[1].cells[1], None);
}

#[test]
fn uniform_answers_name_their_place() {
    let silent = |p| seen(p, "203.0.113.10", State::OpenFiltered, "no-response");
    let dns = |p| seen(p, "", State::Error, "dns-error");
    let merged = merge(&[
        vantage("a", "", vec![closed(1), silent(2), dns(3)]),
        vantage("b", "", vec![closed(1), silent(2), dns(3)]),
    ]);
    assert_eq!(
        verdicts(&merged),
        [(1, "not_listening"), (2, "silent"), (3, "error")]
    );
}

#[test]
fn different_answers_from_different_networks_are_mixed() {
    let merged = merge(&[
        vantage("a", "198.51.100.2", vec![open(1), filtered(2)]),
        vantage(
            "b",
            "192.0.2.2",
            vec![closed(1), seen(2, "", State::Error, "dns-error")],
        ),
    ]);
    assert_eq!(verdicts(&merged), [(1, "mixed"), (2, "mixed")]);
    assert_eq!(
        merged.endpoints[0].why,
        "open from a; closed from b: different answers from different places: load balancing, anycast or DNS sending them to different servers, or a rule that rejects some sources"
    );
    assert_eq!(
        merged.endpoints[1].why,
        "filtered from a; error from b: no vantage reaches it"
    );
}

#[test]
fn a_responder_s_view_of_the_source_places_a_vantage_in_a_network() {
    let mut a = open(1);
    a.observed_source = Some("198.51.100.9".parse().unwrap());
    let mut b = filtered(1);
    b.observed_source = Some("198.51.100.200".parse().unwrap());
    let merged = merge(&[
        vantage("a", "10.0.0.2", vec![a]),
        vantage("b", "10.1.0.2", vec![b]),
    ]);
    assert_eq!(verdicts(&merged), [(1, "load_balancing")]);
}

/// A vantage behind an egress firewall that blocks a whole sweep: each endpoint's evidence
/// names three others and counts the rest (it listed all 3,999 others, a 318 MB report).
#[test]
fn a_blocked_sweep_names_a_few_other_endpoints_and_counts_the_rest() {
    let ports: Vec<u16> = (1..=4000).collect();
    let merged = merge(&[
        vantage(
            "a",
            "198.51.100.2",
            ports.iter().map(|&p| closed(p)).collect(),
        ),
        vantage(
            "b",
            "192.0.2.7",
            ports.iter().map(|&p| filtered(p)).collect(),
        ),
    ]);
    assert_eq!(merged.endpoints.len(), 4000);
    assert_eq!(merged.counts(), [(Verdict::VantageEgress, 4000)]);
    for (at, named) in [
        (0, "svc:2/tcp, svc:3/tcp, svc:4/tcp"),
        (2, "svc:1/tcp, svc:2/tcp, svc:4/tcp"),
        (3999, "svc:1/tcp, svc:2/tcp, svc:3/tcp"),
    ] {
        assert_eq!(
            merged.endpoints[at].evidence,
            [format!(
                "b also blocked on {named} and 3996 more, which other vantages reach"
            )]
        );
    }
}

/// Two failing vantages blocked on different other endpoints: the evidence counts the
/// endpoints where either is blocked, each once; without another for each, no egress.
#[test]
fn two_failing_vantages_count_the_union_of_their_other_endpoints() {
    let merged = merge(&[
        vantage(
            "a",
            "198.51.100.2",
            vec![open(1), open(2), open(3), open(4)],
        ),
        vantage(
            "b",
            "192.0.2.7",
            vec![filtered(1), filtered(2), open(3), filtered(4)],
        ),
        vantage(
            "c",
            "203.0.113.99",
            vec![filtered(1), open(2), filtered(3), open(4)],
        ),
    ]);
    assert_eq!(merged.endpoints.len(), 4);
    assert_eq!(merged.endpoints[0].verdict, Verdict::VantageEgress);
    assert_eq!(
        merged.endpoints[0].evidence,
        ["b, c also blocked on svc:2/tcp, svc:3/tcp, svc:4/tcp, which other vantages reach"]
    );
    assert_eq!(
        merged.endpoints[1].evidence,
        ["b also blocked on svc:1/tcp, svc:4/tcp, which other vantages reach"]
    );
}
