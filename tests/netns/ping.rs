//! `ipdiag ping` through the simulated cloud: 50 ms of injected delay and 10 % of echo
//! requests dropped by an nftables rule. The loss must equal the rule's counter exactly and
//! the RTT must show the delay.

use crate::bed::{Bed, PUBLIC, Setup};
use serde_json::Value;
use std::time::Duration;

pub fn ping_reports_the_injected_delay_and_loss() {
    const COUNT: u64 = 60;
    let setup = Setup {
        echo_loss_pct: 10,
        delay: Some(Duration::from_millis(50)),
        ..Setup::default()
    };
    let Some(bed) = Bed::new("ping_delay_loss", setup) else {
        return;
    };
    let count = COUNT.to_string();
    let (code, stdout, stderr) = bed.ipdiag(&[
        "ping", PUBLIC, "-c", &count, "-i", "10ms", "-w", "400ms", "--json",
    ]);
    let record: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(record["sent"], COUNT, "{record}");
    let (seen, dropped) = (
        bed.edge_counter("echos_seen"),
        bed.edge_counter("echos_dropped"),
    );
    assert_eq!(seen, COUNT, "one echo request per count");
    let received = record["received"].as_u64().expect("received");
    assert_eq!(
        COUNT - received,
        dropped,
        "lost = dropped by the rule: {record}"
    );
    let small = |n: u64| f64::from(u32::try_from(n).expect("a small count"));
    let truth = (1000.0 * small(dropped) / small(COUNT)).round() / 10.0;
    assert_eq!(record["loss_pct"].as_f64(), Some(truth), "{record}");
    let avg = record["rtt_ms"]["avg"].as_f64().expect("rtt_ms.avg");
    let min = record["rtt_ms"]["min"].as_f64().expect("rtt_ms.min");
    eprintln!("ping: loss {truth} % ({dropped}/{COUNT} dropped), rtt min {min:.3} avg {avg:.3} ms");
    assert!(
        min >= 50.0,
        "the 50 ms delay shows in every reply: min {min} ms"
    );
    // The fastest reply is the path itself; an average would also carry the scheduling
    // jitter of the userspace delay line on a busy machine (61 ms was seen).
    assert!(min < 55.0, "and little else: min {min} ms (avg {avg} ms)");
    let replies = record["replies"].as_array().expect("replies");
    assert_eq!(replies.len() as u64, COUNT);
    let lost = replies.iter().filter(|r| r["rtt_ms"].is_null()).count() as u64;
    assert_eq!(lost, dropped, "each lost request is listed");
}
