//! `ipdiag trace` on loopback: the destination answers at hop 1 (open, closed, UDP closed),
//! the JSON shape, and bad input; on Windows (under wine too) the same, and `--icmp`
//! through `IcmpSendEcho2`, which elsewhere is refused with exit 3.

use super::probe::{closed_tcp, closed_udp, listening, tcp_listener};
use super::run;
use serde_json::Value;

#[test]
fn an_open_port_answers_at_the_first_hop() {
    let _guard = listening();
    let (_listener, port) = tcp_listener();
    let target = format!("127.0.0.1:{port}");
    let (code, stdout, stderr) = run(&["trace", &target, "--queries", "1"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!("trace to {target}/tcp, 30 hops max, 1 probe per hop")
    );
    assert_eq!(
        lines[1],
        "hop  address          network          loss  rtt min/avg/max"
    );
    assert!(
        lines[2].starts_with("  1  127.0.0.1                           0%  "),
        "{stdout}"
    );
    assert!(
        lines[2].ends_with(" ms  destination: open (syn-ack)"),
        "{stdout}"
    );
    assert_eq!(lines[3], format!("destination {target}: open (syn-ack)"));
    assert_eq!(
        lines[4],
        "verdict: the destination answered at hop 1: open (syn-ack)"
    );
    assert_eq!(lines.len(), 5, "{stdout}");
}

#[test]
fn closed_ports_are_exit_1_with_the_destinations_answer_in_json() {
    let tcp = format!("127.0.0.1:{}", closed_tcp());
    let (code, stdout, stderr) = run(&["trace", &tcp, "--json", "--queries", "2"]);
    assert_eq!(code, 1, "{stderr}");
    let record: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(record["target"], tcp.as_str());
    assert_eq!(record["protocol"], "tcp");
    assert_eq!(record["provider"], Value::Null);
    assert_eq!(record["hops"].as_array().map(Vec::len), Some(1), "{record}");
    let hop = &record["hops"][0];
    assert_eq!(hop["ttl"], 1);
    assert_eq!(hop["addresses"], serde_json::json!(["127.0.0.1"]));
    assert_eq!(hop["loss_pct"], 0.0);
    assert_eq!(hop["probes"].as_array().map(Vec::len), Some(2));
    assert_eq!(hop["probes"][0]["answer"], "destination");
    assert_eq!(record["destination"]["state"], "closed");
    assert_eq!(record["destination"]["reason"], "conn-refused");
    assert_eq!(record["verdict"]["kind"], "reached");

    let udp = format!("127.0.0.1:{}", closed_udp());
    let (code, stdout, _) = run(&["trace", &udp, "--udp", "--json", "--queries", "1"]);
    assert_eq!(code, 1);
    let record: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(record["destination"]["reason"], "port-unreach", "{record}");
}

#[test]
fn bad_input_names_the_token() {
    for (args, message) in [
        (
            &["trace", "127.0.0.1"][..],
            "ipdiag: error: invalid target '127.0.0.1': no port: write HOST:PORT\n",
        ),
        (
            &["trace", "127.0.0.1:1-5"][..],
            "ipdiag: error: invalid target '127.0.0.1:1-5': trace follows one port: write HOST:PORT\n",
        ),
        (
            &["trace", "127.0.0.1:1", "--queries", "11"][..],
            "ipdiag: error: invalid --queries '11': must be between 1 and 10\n",
        ),
        (
            &["trace", "127.0.0.1:1", "-m", "0"][..],
            "ipdiag: error: invalid --max-hops '0': must be greater than zero\n",
        ),
        (
            &["trace", "127.0.0.1:1", "-w", "soon"][..],
            "ipdiag: error: invalid --wait 'soon': expected a duration such as 250ms, 1s or 1.5s\n",
        ),
        (
            &["trace", "localhost:1", "-n"][..],
            "ipdiag: error: invalid target 'localhost:1': a host name, and --numeric forbids resolving names\n",
        ),
        (
            &["trace", "127.0.0.1:1", "--format", "csv"][..],
            "ipdiag: error: trace writes a table or JSON, not CSV\n",
        ),
        (
            &["trace", "127.0.0.1:80", "--icmp"][..],
            "ipdiag: error: invalid target '127.0.0.1:80': ICMP echo has no port: write HOST with --icmp\n",
        ),
    ] {
        let (code, stdout, stderr) = run(args);
        assert_eq!(
            (code, stdout.as_str(), stderr.as_str()),
            (2, "", message),
            "{args:?}"
        );
    }
}

/// `--icmp`: echo requests with a growing TTL through `IcmpSendEcho2` (as tracert); the
/// destination's echo reply ends the trace at hop 1 on loopback.
#[cfg(windows)]
#[test]
fn icmp_trace_reaches_loopback_at_the_first_hop() {
    let (code, stdout, stderr) = run(&["trace", "127.0.0.1", "--icmp", "--queries", "2", "--json"]);
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");
    let record: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (&record["protocol"], &record["port"], &record["address"]),
        (&"icmp".into(), &Value::Null, &"127.0.0.1".into()),
        "{record}"
    );
    assert_eq!(record["hops"].as_array().map(Vec::len), Some(1), "{record}");
    let hop = &record["hops"][0];
    assert_eq!(hop["addresses"], serde_json::json!(["127.0.0.1"]));
    assert_eq!(hop["probes"].as_array().map(Vec::len), Some(2), "{record}");
    for probe in hop["probes"].as_array().unwrap() {
        assert_eq!(
            (&probe["answer"], &probe["state"], &probe["reason"]),
            (&"destination".into(), &"open".into(), &"echo-reply".into()),
            "{record}"
        );
    }
    assert_eq!(record["verdict"]["kind"], "reached");
    let (code, stdout, _) = run(&["trace", "127.0.0.1", "--icmp", "--queries", "1"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "trace to 127.0.0.1/icmp, 30 hops max, 1 probe per hop"
    );
    assert_eq!(lines[3], "destination 127.0.0.1: open (echo-reply)");
    assert_eq!(lines.len(), 5, "{stdout}");
}

/// ICMP echo with a TTL rides on Windows' `IcmpSendEcho2`; elsewhere one line, exit 3.
#[cfg(not(windows))]
#[test]
fn icmp_trace_is_windows_only_for_now() {
    let (code, stdout, stderr) = run(&["trace", "127.0.0.1", "--icmp"]);
    let system = if cfg!(target_os = "linux") {
        "Linux"
    } else if cfg!(target_os = "macos") {
        "macOS"
    } else {
        "FreeBSD"
    };
    assert_eq!(
        (code, stdout.as_str(), stderr),
        (
            3,
            "",
            format!(
                "ipdiag: error: trace --icmp works on Windows only for now (this is {system}); \
                 trace HOST:PORT follows a port by TCP or UDP\n"
            )
        )
    );
}
