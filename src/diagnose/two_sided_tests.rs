//! The merge with server reports as `ipdiag local --watch --format json` writes them
//! (fixtures in tests/fixtures/server/), for each case of the simulated cloud.

use super::*;
use crate::classify::classify;
use crate::diagnose::rules::{Facts, PortSeen, findings};
use crate::model::{Endpoint, Reason, RttStats};

macro_rules! fixture {
    ($name:literal) => {
        WatchReport::parse(include_str!(concat!(
            "../../tests/fixtures/server/",
            $name,
            ".json"
        )))
        .expect("a valid fixture")
    };
}

const PUBLIC: &str = "203.0.113.10";

fn result(port: u16, protocol: Protocol, state: State, reason: Reason) -> ProbeResult {
    let address: IpAddr = PUBLIC.parse().unwrap();
    let answered = matches!(state, State::Open | State::Closed);
    ProbeResult {
        endpoint: Endpoint {
            target: format!("{address}:{port}"),
            host: address.to_string(),
            address: Some(address),
            port,
            protocol,
            scope_id: 0,
        },
        state,
        reason,
        icmp_from: None,
        attempts: 3,
        received: if answered { 3 } else { 0 },
        late: 0,
        rtt: answered.then_some(RttStats {
            min: 1.0,
            avg: 1.0,
            max: 1.0,
            stddev: 0.0,
        }),
        error: None,
        payload: None,
        responder: false,
        observed_source: None,
        method: crate::model::Method::Connect,
        fault: None,
        reset_after_accept: false,
    }
}

/// The client's findings with SSH answering on the host (the lab's control port).
fn client(r: &ProbeResult) -> Vec<Finding> {
    let info = classify(PUBLIC.parse().unwrap());
    let ssh = PortSeen {
        port: 22,
        protocol: Protocol::Tcp,
        state: State::Open,
        reason: Reason::SynAck,
        rtt_avg_ms: Some(1.0),
    };
    let others = [ssh];
    let facts = Facts {
        target: Some(&info),
        others: &others,
        ..Facts::default()
    };
    findings(r, &facts)
}

fn merged(r: &ProbeResult, server: &WatchReport, side: ClientSide) -> Vec<Finding> {
    merge(r, client(r), server, side)
}

fn top(findings: &[Finding]) -> (Cause, Confidence) {
    (findings[0].cause, findings[0].confidence)
}

fn evidence(findings: &[Finding]) -> String {
    findings[0].evidence.join(" | ")
}

#[test]
fn nothing_arrived_is_the_security_group_for_sure() {
    let r = result(7893, Protocol::Tcp, State::Filtered, Reason::NoResponse);
    let before = client(&r);
    assert_eq!(before[0].confidence, Confidence::Medium, "{before:?}");
    let out = merged(&r, &fixture!("nothing_arrived"), ClientSide::default());
    assert_eq!(
        top(&out),
        (Cause::SecurityGroup, Confidence::High),
        "{out:?}"
    );
    assert!(
        evidence(&out).contains("no packet to 7893/tcp reached its network card (a packet socket, before any firewall) in 6 s from anyone"),
        "{out:?}"
    );
    assert!(
        out[1..].iter().all(|f| f.confidence == Confidence::Low),
        "{out:?}"
    );
}

#[test]
fn a_rule_that_drops_is_the_host_firewall_and_named() {
    let r = result(8000, Protocol::Tcp, State::Filtered, Reason::NoResponse);
    let out = merged(&r, &fixture!("host_firewall"), ClientSide::default());
    assert_eq!(
        top(&out),
        (Cause::HostFirewall, Confidence::High),
        "{out:?}"
    );
    let text = evidence(&out);
    assert!(
        text.contains("rule `table inet filter chain input: tcp dport 8000 drop`"),
        "{text}"
    );
    assert!(text.contains("3 from 198.51.100.2"), "{text}");
    assert!(text.contains("its counter rose by 3"), "{text}");
    // Packets arrived: the security group let them in, so it is no longer listed.
    assert!(
        out.iter().all(|f| f.cause != Cause::SecurityGroup),
        "{out:?}"
    );
}

#[test]
fn udp_in_without_out_is_a_server_not_replying() {
    let r = result(7895, Protocol::Udp, State::OpenFiltered, Reason::NoResponse);
    let out = merged(&r, &fixture!("server_not_replying"), ClientSide::default());
    assert_eq!(
        top(&out),
        (Cause::ServerNotReplying, Confidence::High),
        "{out:?}"
    );
    assert!(
        evidence(&out).contains("received 3 datagrams and sent none"),
        "{out:?}"
    );
    assert!(out.iter().all(|f| f.cause != Cause::SecurityGroup));
}

#[test]
fn a_reply_from_another_address_seen_by_both_sides_is_proven() {
    let r = result(7895, Protocol::Udp, State::OpenFiltered, Reason::NoResponse);
    let side = ClientSide {
        stray_reply: Some("172.16.0.10:7895".parse().unwrap()),
    };
    let out = merged(&r, &fixture!("reply_from_other"), side);
    assert_eq!(
        top(&out),
        (Cause::ReplyFromOtherAddress, Confidence::High),
        "{out:?}"
    );
    let text = evidence(&out);
    assert!(
        text.contains("a reply came from 172.16.0.10:7895"),
        "{text}"
    );
    assert!(text.contains("answered 3 from 172.16.0.10"), "{text}");
    // The server's word alone (no stray reply seen here) is likely, not proven.
    let out = merged(&r, &fixture!("reply_from_other"), ClientSide::default());
    assert_eq!(
        top(&out),
        (Cause::ReplyFromOtherAddress, Confidence::Medium)
    );
}

#[test]
fn nothing_bound_is_not_listening_and_quotes_errno_99() {
    let r = result(7892, Protocol::Tcp, State::Closed, Reason::ConnRefused);
    let out = merged(&r, &fixture!("not_listening"), ClientSide::default());
    assert_eq!(
        top(&out),
        (Cause::NotListening, Confidence::High),
        "{out:?}"
    );
    assert!(
        evidence(&out).contains("[Errno 99] Cannot assign requested address"),
        "{out:?}"
    );
}

#[test]
fn a_listener_on_loopback_is_loopback_bind() {
    let r = result(7891, Protocol::Tcp, State::Closed, Reason::ConnRefused);
    let out = merged(&r, &fixture!("loopback_bind"), ClientSide::default());
    assert_eq!(
        top(&out),
        (Cause::LoopbackBind, Confidence::High),
        "{out:?}"
    );
    assert!(
        evidence(&out).contains("python3 (pid 9) on 127.0.0.1:7891 listens"),
        "{out:?}"
    );
    assert!(out.iter().all(|f| f.cause != Cause::NotListening));
}

#[test]
fn overflows_of_the_accept_queue_are_proven() {
    let r = result(7890, Protocol::Tcp, State::Filtered, Reason::NoResponse);
    let out = merged(&r, &fixture!("accept_queue"), ClientSide::default());
    assert_eq!(
        top(&out),
        (Cause::AcceptQueueOverflow, Confidence::High),
        "{out:?}"
    );
    assert!(
        evidence(&out).contains("overflowed 6 times and dropped 6 connections"),
        "{out:?}"
    );
}

#[test]
fn arrived_accepted_and_still_silent_is_the_way_back() {
    let r = result(7890, Protocol::Tcp, State::Filtered, Reason::NoResponse);
    let out = merged(&r, &fixture!("return_path"), ClientSide::default());
    assert_eq!(top(&out), (Cause::NoRoute, Confidence::High), "{out:?}");
    assert!(
        evidence(&out).contains("the replies are lost on the way back"),
        "{out:?}"
    );
}

#[test]
fn open_and_seen_by_the_server_is_ok_but_unseen_is_a_middlebox() {
    let r = result(7890, Protocol::Tcp, State::Open, Reason::SynAck);
    let out = merged(&r, &fixture!("return_path"), ClientSide::default());
    assert_eq!(top(&out), (Cause::Ok, Confidence::High), "{out:?}");
    let r = result(7893, Protocol::Tcp, State::Open, Reason::SynAck);
    let out = merged(&r, &fixture!("nothing_arrived"), ClientSide::default());
    assert_eq!(
        top(&out),
        (Cause::AnswersEveryPort, Confidence::High),
        "{out:?}"
    );
}

#[test]
fn without_a_capture_the_client_verdict_stays_with_the_servers_view_added() {
    let r = result(7893, Protocol::Tcp, State::Filtered, Reason::NoResponse);
    let before = client(&r);
    let out = merged(&r, &fixture!("no_capture"), ClientSide::default());
    assert_eq!(top(&out), top(&before), "{out:?}");
    assert!(out.iter().all(|f| f.confidence != Confidence::High));
    assert!(
        evidence(&out).contains("on the server: arrivals not seen"),
        "{out:?}"
    );
}
