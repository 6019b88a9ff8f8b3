//! Raw mode's RTTs are the path's: the kernel's receive time of each reply, against the
//! send, through a path delayed 20 ms (the bed's delay line), agree with connect mode's.
//! Before, replies were timed when the scan got round to reading them.

use crate::bed::{Bed, PUBLIC, Setup, ports};
use crate::servers::Servers;
use serde_json::Value;
use std::time::Duration;

const DELAY_MS: f64 = 20.0;

/// Raw mode sends one SYN per port: that many runs, and as many connect attempts. A
/// minimum only ever errs upwards (a descheduled delay line or prober); 20 samples a side
/// keep a loaded machine's worst minutes from reaching both minima.
const RUNS: usize = 20;

fn probe(bed: &Bed, extra: &[&str]) -> Value {
    let target = format!("{PUBLIC}:{}", ports::TCP_OPEN);
    let mut args = vec!["probe", &target, "--json"];
    args.extend_from_slice(extra);
    let (_, stdout, stderr) = bed.ipdiag(&args);
    let records: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    records[0].clone()
}

pub fn raw_rtts_agree_with_connect_rtts_on_a_delayed_path() {
    let setup = Setup {
        delay: Some(Duration::from_millis(20)),
        ..Setup::default()
    };
    let Some(bed) = Bed::new("raw_rtt_delayed", setup) else {
        return;
    };
    let mut servers = Servers::default();
    servers.tcp(&bed.server, &format!("0.0.0.0:{}", ports::TCP_OPEN));
    let count = RUNS.to_string();
    let connect = probe(&bed, &["-c", &count, "-i", "10ms"]);
    assert_eq!(connect["state"], "open", "{connect}");
    let ms = |r: &Value, f: &str| r["rtt_ms"][f].as_f64().expect("rtt_ms");
    let mut raw: Vec<f64> = (0..RUNS)
        .map(|_| {
            let r = probe(&bed, &["--raw"]);
            assert_eq!(
                (r["method"].as_str(), r["state"].as_str()),
                (Some("syn"), Some("open")),
                "{r}"
            );
            ms(&r, "avg")
        })
        .collect();
    raw.sort_by(f64::total_cmp);
    let (raw_min, raw_median) = (raw[0], raw[RUNS / 2]);
    eprintln!(
        "raw_rtt: connect min {:.3} avg {:.3} ms, raw min {raw_min:.3} median {raw_median:.3} ms",
        ms(&connect, "min"),
        ms(&connect, "avg"),
    );
    // No reply comes faster than the delay line lets it; the minimum, as in
    // cases::lossy_delayed_path, is the path itself (averages carry the delay line's
    // scheduling jitter on a busy machine).
    assert!(raw_min >= DELAY_MS, "{raw:?}");
    assert!(
        (raw_min - ms(&connect, "min")).abs() <= 1.0,
        "raw {raw:?} vs connect {connect}"
    );
}
