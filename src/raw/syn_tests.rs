//! The SYN scan's reply handling, with synthetic replies (no sockets).

use super::*;

#[test]
fn replies_are_read_by_the_socket_they_came_on() {
    let us: SocketAddr = "198.51.100.2:40000".parse().unwrap();
    let target: SocketAddr = "203.0.113.10:7890".parse().unwrap();
    let mut segment = syn(target, us, 1).unwrap().to_vec();
    segment[13] = 0x12; // SYN | ACK
    segment[8..12].copy_from_slice(&1001u32.to_be_bytes());
    let mut packet = vec![
        0x45, 0, 0, 44, 0, 0, 0, 0, 64, 6, 0, 0, 203, 0, 113, 10, 198, 51, 100, 2,
    ];
    packet.extend_from_slice(&segment);
    let reply = parse(&packet, None, false, true).unwrap();
    assert_eq!(
        (reply.target, reply.seq, reply.said),
        (target, 1000, Said::SynAck)
    );
    assert_eq!(
        parse(&packet, None, false, false),
        None,
        "not on the ICMP socket"
    );
    let v6: IpAddr = "2001:db8::10".parse().unwrap();
    let reply = parse(&segment, Some(v6), true, true).unwrap();
    assert_eq!(reply.target, SocketAddr::new(v6, 7890));
    assert_eq!(parse(&segment, None, true, true), None, "no sender");
}

const PORTS: [u16; 3] = [40000, 40001, 40002];

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// TCP port `port` of 203.0.113.10, the scans' target here.
fn endpoint(port: u16) -> Endpoint {
    Endpoint {
        target: format!("203.0.113.10:{port}"),
        host: "203.0.113.10".into(),
        address: Some(IpAddr::from([203, 0, 113, 10])),
        port,
        protocol: crate::model::Protocol::Tcp,
        scope_id: 0,
    }
}

/// A scan without pacing and with the default timing.
fn unpaced() -> SynConfig {
    SynConfig {
        rate: None,
        pace_loopback: false,
        timing: crate::probe::timing::TimingConfig::default(),
    }
}

/// A scan of 203.0.113.10:7890 whose SYNs left at `sent` (ms after `t0`), answered by a
/// synthetic `said` to our port `our_port` at `at_ms`: the result, and the host's
/// smoothed RTT as the adaptive timeout will use it. `ports`: one source port per try.
/// `sent`: the send times; `rounds_over`: how many of those tries' rounds had ended in
/// silence (recorded as the scan does) before the answer came.
fn answered(
    (sent, rounds_over): (&[u64], u32),
    ports: &[u16],
    our_port: u16,
    at_ms: u64,
    said: Said,
) -> (ProbeResult, Option<Duration>, bool) {
    let target: SocketAddr = "203.0.113.10:7890".parse().unwrap();
    let endpoints = [endpoint(target.port())];
    let config = unpaced();
    let (tx, rx) = mpsc::channel();
    let shared = super::handover::Shared::new(1);
    let tx = super::handover::Sender::new(tx, &shared, 0);
    let mut run = Run::new(&endpoints, Stride::new(0, 1, 1), &config, &tx);
    let t0 = Instant::now();
    for &s in sent {
        run.slots[0].sends.record(t0 + ms(s));
    }
    run.slots[0].silent = rounds_over;
    let reply = Reply {
        target,
        our_port,
        seq: run.cookies.seq(target, our_port),
        from: target.ip(),
        said,
    };
    run.handle(t0 + ms(at_ms), &reply, ports);
    run.flush();
    let retry_answered = run.retry_answered;
    // To the microsecond: the estimator works in floating-point milliseconds.
    let srtt = run
        .hosts
        .get(&target.ip())
        .and_then(HostTiming::srtt)
        .map(|d| Duration::from_micros(u64::try_from(d.as_micros()).unwrap()));
    let mut results = rx.try_iter().flatten();
    let (index, result) = results.next().expect("the reply decided the port");
    assert_eq!(index, 0);
    (result, srtt, retry_answered)
}

/// The result's average RTT in ms, to the microsecond.
fn avg_ms(r: &ProbeResult) -> Option<f64> {
    r.rtt.as_ref().map(|s| (s.avg * 1000.0).round() / 1000.0)
}

#[test]
fn a_late_syn_ack_is_timed_from_the_try_it_answers() {
    // First SYN at 0, the retry at 300 ms; the SYN-ACK to the first comes at 350 ms: its
    // RTT is 350 ms, not the 50 ms since the retry left.
    let (result, srtt, retry) = answered((&[0, 300], 0), &PORTS, 40000, 350, Said::SynAck);
    assert_eq!(result.state, crate::model::State::Open);
    assert_eq!(avg_ms(&result), Some(350.0));
    assert_eq!(srtt, Some(ms(350)), "the timeouts learn the real RTT");
    assert!(!retry, "a slow answer to the first try is not loss");
    // The same moment, answering the retry: 50 ms, and the retry's answer is loss.
    let (result, srtt, retry) = answered((&[0, 300], 0), &PORTS, 40001, 350, Said::SynAck);
    assert_eq!(avg_ms(&result), Some(50.0));
    assert_eq!(srtt, Some(ms(50)));
    assert!(retry);
}

#[test]
fn rst_and_icmp_are_timed_the_same_way() {
    let (result, srtt, _) = answered((&[0, 300], 0), &PORTS, 40000, 420, Said::Rst);
    assert_eq!(
        (result.state, avg_ms(&result), srtt),
        (crate::model::State::Closed, Some(420.0), Some(ms(420)))
    );
    let icmp = Said::Icmp {
        v6: false,
        kind: 3,
        code: 13,
    };
    let (result, srtt, _) = answered((&[0, 300, 600], 0), &PORTS, 40001, 700, icmp);
    assert_eq!(
        (result.state, avg_ms(&result), srtt),
        (crate::model::State::Filtered, Some(400.0), Some(ms(400)))
    );
}

#[test]
fn an_answer_of_unknown_send_time_is_no_rtt_sample() {
    // Three tries; the answer is to the first, whose send time is no longer kept.
    let (result, srtt, retry) = answered((&[0, 300, 600], 0), &PORTS, 40000, 650, Said::SynAck);
    assert_eq!(result.state, crate::model::State::Open, "it still decides");
    assert_eq!((avg_ms(&result), srtt), (None, None), "Karn: no sample");
    // Received all the same: an open port is never reported with every answer lost.
    assert_eq!(result.received, 1, "{result:?}");
    assert!(!retry, "the first try was answered");
    // One reserved port for two tries: which one was answered cannot be told.
    let (result, srtt, retry) = answered((&[0, 300], 0), &[40000], 40000, 350, Said::SynAck);
    assert_eq!(result.state, crate::model::State::Open);
    assert_eq!((avg_ms(&result), srtt), (None, None));
    assert_eq!(result.received, 1, "{result:?}");
    assert!(
        retry,
        "possibly a retry: counted as loss, which buys more retries"
    );
}

#[test]
fn an_answer_after_its_round_ended_is_late_not_lost() {
    // The first SYN at 0 went unanswered for its round (silence recorded), the retry left
    // at 1000 ms; then the answer to the first SYN came at 1500 ms: a slow server, not
    // loss (it was 50 % loss).
    let (result, srtt, retry) = answered((&[0, 1000], 1), &PORTS, 40000, 1500, Said::SynAck);
    assert_eq!(
        (result.state, result.attempts, result.received, result.late),
        (crate::model::State::Open, 1, 1, 1)
    );
    assert!(result.loss_pct().abs() < 1e-9, "{result:?}");
    assert_eq!(avg_ms(&result), Some(1500.0));
    assert_eq!(srtt, Some(ms(1500)), "the timeouts learn the slow path");
    assert!(!retry);
    // The retry's own answer after the first try's silence: that try was lost.
    let (result, _, retry) = answered((&[0, 1000], 1), &PORTS, 40001, 1050, Said::SynAck);
    assert_eq!((result.attempts, result.received, result.late), (2, 1, 0));
    assert!(retry);
}

#[test]
fn one_reply_decides_every_place_of_its_target_in_the_share() {
    // Places 0, 2, 4 are thread 0's of two: 7890 twice, and 22.
    let endpoints = [7890, 1, 22, 2, 7890].map(endpoint);
    let config = unpaced();
    let (tx, rx) = mpsc::channel();
    let shared = super::handover::Shared::new(1);
    let tx = super::handover::Sender::new(tx, &shared, 0);
    let mut run = Run::new(&endpoints, Stride::new(0, 2, endpoints.len()), &config, &tx);
    assert_eq!(run.slots.len(), 3);
    let t0 = Instant::now();
    for slot in &mut run.slots {
        slot.sends.record(t0);
    }
    let target: SocketAddr = "203.0.113.10:7890".parse().unwrap();
    let reply = Reply {
        target,
        our_port: PORTS[0],
        seq: run.cookies.seq(target, PORTS[0]),
        from: target.ip(),
        said: Said::Rst,
    };
    run.handle(t0 + ms(1), &reply, &PORTS);
    run.flush();
    let decided: Vec<(usize, u16)> = rx
        .try_iter()
        .flatten()
        .map(|(i, r)| (i, r.endpoint.port))
        .collect();
    assert_eq!(
        decided,
        [(0, 7890), (4, 7890)],
        "both places, by their plan places"
    );
    assert!(!run.slots[1].done, "22 is still waiting");
}
