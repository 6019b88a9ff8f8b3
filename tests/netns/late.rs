//! A server that answers after the timeout (issue 15): every packet to it is held 1.5 s by
//! the bed's delay line while the SYN scan waits 1 s a try. The answer to the first SYN
//! comes after its retry left: it decides the state and is reported late, and nothing was
//! lost (the SYN scan once said 50 % loss on every port of such a server).

use crate::bed::{Bed, PUBLIC, Setup, ports};
use crate::servers::Servers;
use serde_json::Value;
use std::time::Duration;

pub fn an_answer_after_the_timeout_is_late_not_lost() {
    let setup = Setup {
        delay: Some(Duration::from_millis(1500)),
        ..Setup::default()
    };
    let Some(bed) = Bed::new("late_answer", setup) else {
        return;
    };
    let mut servers = Servers::default();
    servers.tcp(&bed.server, &format!("0.0.0.0:{}", ports::TCP_OPEN));
    let plan = format!("{},{}", ports::TCP_OPEN, ports::TCP_NOTHING);
    let base = ["probe", "-n", PUBLIC, "-p", &plan, "--raw", "-w", "1s"];
    let (code, stdout, stderr) = bed.ipdiag(&[&base[..], &["--json"]].concat());
    assert_eq!(code, 1, "a closed port is exit 1: {stdout}{stderr}");
    let records: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let seen: Vec<_> = records
        .as_array()
        .expect("an array")
        .iter()
        .map(|r| {
            (
                r["port"].as_u64(),
                r["state"].as_str(),
                r["method"].as_str(),
                r["attempts"].as_u64(),
                r["received"].as_u64(),
                r["late"].as_u64(),
                r["loss_pct"].as_f64(),
            )
        })
        .collect();
    let late = |port: u16, state| {
        (
            Some(u64::from(port)),
            Some(state),
            Some("syn"),
            Some(1),
            Some(1),
            Some(1),
            Some(0.0),
        )
    };
    assert_eq!(
        seen,
        vec![
            late(ports::TCP_OPEN, "open"),
            late(ports::TCP_NOTHING, "closed")
        ],
        "{stdout}"
    );
    // The answer's RTT is the path's: 1.5 s and more, not the 0.5 s after the retry.
    let rtt = records[0]["rtt_ms"]["min"].as_f64().expect("an RTT sample");
    assert!(rtt >= 1500.0, "{rtt} ms");
    // The table says so on the port's line.
    let (_, table, _) = bed.ipdiag(&base);
    let line = table
        .lines()
        .find(|l| l.contains(&format!("{}/tcp", ports::TCP_OPEN)))
        .unwrap_or_else(|| panic!("no line for the open port: {table}"));
    assert!(line.contains("syn-ack (1 late)"), "{table}");
}
