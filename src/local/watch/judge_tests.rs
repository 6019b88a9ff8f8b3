use super::*;

fn base(cause: Cause, detail: &str) -> PortVerdict {
    PortVerdict {
        cause,
        detail: detail.into(),
    }
}

fn evidence(base: &PortVerdict, arrived: u64) -> Evidence<'_> {
    Evidence {
        port: "8000/tcp".into(),
        watched: "30s".into(),
        base,
        capture: Capture::PacketSocket,
        arrived,
        syns: arrived,
        sources: if arrived > 0 {
            vec!["198.51.100.2".parse().unwrap()]
        } else {
            Vec::new()
        },
        destinations: ["172.16.0.10".parse().unwrap()].into_iter().collect(),
        hits: &[],
        accept_queue: None,
        udp: None,
    }
}

#[test]
fn nothing_arrived_is_before_this_machine() {
    let ok = base(
        Cause::Ok,
        "8000/tcp listens on 0.0.0.0; no firewall rule here stops it",
    );
    let v = judge(&evidence(&ok, 0));
    assert_eq!(v.cause, "security_group");
    assert_eq!(
        v.detail,
        "nothing for 8000/tcp arrived at this machine in the 30s watched: the packets stop before it (security group, edge, path), or none were sent"
    );
    // Without a packet socket, no arrivals is no evidence.
    let mut e = evidence(&ok, 0);
    e.capture = Capture::Counters;
    assert_eq!(judge(&e).cause, "ok");
}

#[test]
fn the_firewall_rule_that_counted_them() {
    let fw = base(
        Cause::HostFirewall,
        "8000/tcp listens on 0.0.0.0, but this host's firewall drops it: inet filter input: tcp dport 8000 counter drop",
    );
    let hits = [(
        "inet filter input: tcp dport 8000 counter drop".to_owned(),
        3,
    )];
    let mut e = evidence(&fw, 3);
    e.hits = &hits;
    let v = judge(&e);
    assert_eq!(v.cause, "host_firewall");
    assert_eq!(
        v.detail,
        "3 packets from 198.51.100.2 arrived; 8000/tcp listens on 0.0.0.0, but this host's firewall drops it: inet filter input: tcp dport 8000 counter drop; 3 counted by inet filter input: tcp dport 8000 counter drop"
    );
}

#[test]
fn overflows_while_syns_arrive() {
    let ok = base(Cause::Ok, "8000/tcp listens on 0.0.0.0");
    let q = AcceptQueue {
        backlog: 1,
        queued: 2,
        overflows: 6,
        drops: 6,
    };
    let mut e = evidence(&ok, 9);
    e.accept_queue = Some(&q);
    let v = judge(&e);
    assert_eq!(v.cause, "accept_queue_overflow");
    assert!(v.detail.contains("overflowed 6 times"), "{}", v.detail);
    // Overflows without a SYN for this port seen: another listener's.
    e.syns = 0;
    assert_eq!(judge(&e).cause, "ok");
}

#[test]
fn udp_received_never_answered_or_answered_from_elsewhere() {
    let ok = base(Cause::Ok, "8000/udp listens on 0.0.0.0");
    let silent = UdpSocket {
        datagrams_in: 4,
        datagrams_out: 0,
        reply_sources: Vec::new(),
    };
    let mut e = evidence(&ok, 4);
    e.udp = Some(&silent);
    assert_eq!(judge(&e).cause, "server_not_replying");
    let other = UdpSocket {
        datagrams_in: 4,
        datagrams_out: 4,
        reply_sources: vec!["172.16.0.10".parse().unwrap()],
    };
    e.destinations = ["203.0.113.20".parse().unwrap()].into_iter().collect();
    e.udp = Some(&other);
    let v = judge(&e);
    assert_eq!(v.cause, "reply_from_other_address");
    assert!(
        v.detail
            .contains("answered from 172.16.0.10 although the datagrams were sent to 203.0.113.20"),
        "{}",
        v.detail
    );
    e.destinations = ["172.16.0.10".parse().unwrap()].into_iter().collect();
    assert_eq!(judge(&e).cause, "ok");
}
