//! `ipdiag probe`'s plan: each endpoint once, and a plan too large refused with its real
//! count before anything is built. Probes closed ports on 127.0.0.1 only.

use super::super::run;

/// `-p 1-3,1-3` probed each port twice (six rows); nmap probes it once.
#[test]
fn ports_and_endpoints_named_twice_are_probed_once() {
    let (code, out, err) = run(&[
        "probe",
        "-n",
        "127.0.0.1",
        "127.0.0.1:2",
        "-p",
        "1-3,1-3,3",
        "--connect",
        "--format",
        "csv",
    ]);
    assert!(code == 0 || code == 1, "{err}");
    let ports: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|row| row.split(',').nth(3).unwrap())
        .collect();
    assert_eq!(ports, ["1", "2", "3"], "{out}");
}

/// `127.0.0.0/24 -p-` allocated 567 MB, then said "16645890 addresses is more than one
/// run probes (at most 65536)": neither number was the one it checked.
#[test]
fn a_plan_too_large_names_its_count_and_the_limit() {
    let (code, out, err) = run(&["probe", "-n", "127.0.0.0/24", "-p-"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        "ipdiag: error: invalid target '127.0.0.0/24': 16645890 endpoints (with the targets before it) is more than one run probes (at most 4000000)\n"
    );
}

/// A run larger than the stage holds whole (4096 results) is written as it comes, still in
/// plan order and each endpoint once, in JSON and CSV.
#[test]
fn a_large_run_streams_in_plan_order_each_endpoint_once() {
    let expected: Vec<u64> = (1..=5000).collect();
    let probe = |format| {
        run(&[
            "probe",
            "-n",
            "127.0.0.1",
            "-p",
            "1-5000",
            "--connect",
            "--format",
            format,
        ])
    };
    let (code, out, err) = probe("json");
    assert!(code == 0 || code == 1, "{err}");
    let all: serde_json::Value = serde_json::from_str(&out).expect("a JSON array");
    let ports: Vec<u64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, expected);
    let (code, out, err) = probe("csv");
    assert!(code == 0 || code == 1, "{err}");
    let ports: Vec<u64> = out
        .lines()
        .skip(1)
        .map(|row| row.split(',').nth(3).unwrap().parse().unwrap())
        .collect();
    assert_eq!(ports, expected);
}
