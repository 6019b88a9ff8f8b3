//! The cases of the simulated cloud: each asserts ipdiag's exact state, reason and ICMP
//! sender from `--json`, and that nmap (when installed) reports the same state.

use crate::bed::{Bed, PRIVATE, PUBLIC, Setup, ports};
use crate::nmap;
use crate::servers::Servers;
use serde_json::Value;
use std::time::Duration;

/// Probes `host:port` once from the client and returns the JSON record.
fn probe(bed: &Bed, host: &str, port: u16, udp: bool, extra: &[&str]) -> Value {
    let target = format!("{host}:{port}");
    let mut args = vec!["probe", "-n", &target, "--json"];
    if udp {
        args.push("--udp");
    }
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = bed.ipdiag(&args);
    assert!(
        code == 0 || code == 1,
        "ipdiag {args:?} exited {code}: {stderr}"
    );
    let records: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    records[0].clone()
}

/// Asserts ipdiag's state, reason and `icmp_from`, then nmap's state.
fn expect(
    bed: &Bed,
    host: &str,
    port: u16,
    udp: bool,
    state: &str,
    reason: &str,
    icmp_from: Option<&str>,
) {
    let record = probe(bed, host, port, udp, &[]);
    assert_eq!(record["state"], state, "{record}");
    assert_eq!(record["reason"], reason, "{record}");
    assert_eq!(record["icmp_from"].as_str(), icmp_from, "{record}");
    if nmap::available() {
        assert_eq!(
            nmap::state(bed, host, port, udp),
            state,
            "nmap disagrees with {record}"
        );
    } else {
        eprintln!("nmap is not installed: comparison skipped");
    }
}

#[test]
fn tcp_open() {
    let Some(bed) = Bed::new("tcp_open", Setup::default()) else {
        return;
    };
    let mut servers = Servers::default();
    servers.tcp(&bed.server, "0.0.0.0:7890");
    expect(
        &bed,
        PUBLIC,
        ports::TCP_OPEN,
        false,
        "open",
        "syn-ack",
        None,
    );
}

#[test]
fn tcp_server_bound_to_loopback_only() {
    let Some(bed) = Bed::new("tcp_server_bound_to_loopback_only", Setup::default()) else {
        return;
    };
    let mut servers = Servers::default();
    servers.tcp(&bed.server, "127.0.0.1:7891");
    expect(
        &bed,
        PUBLIC,
        ports::TCP_LOOPBACK_BIND,
        false,
        "closed",
        "conn-refused",
        None,
    );
}

#[test]
fn tcp_nothing_listening() {
    let Some(bed) = Bed::new("tcp_nothing_listening", Setup::default()) else {
        return;
    };
    expect(
        &bed,
        PUBLIC,
        ports::TCP_NOTHING,
        false,
        "closed",
        "conn-refused",
        None,
    );
}

#[test]
fn tcp_dropped_by_security_group() {
    let Some(bed) = Bed::new("tcp_dropped_by_security_group", Setup::default()) else {
        return;
    };
    let mut servers = Servers::default();
    servers.tcp(&bed.server, "0.0.0.0:7893");
    expect(
        &bed,
        PUBLIC,
        ports::TCP_SG_DROP,
        false,
        "filtered",
        "no-response",
        None,
    );
}

#[test]
fn tcp_rejected_by_host_firewall() {
    let Some(bed) = Bed::new("tcp_rejected_by_host_firewall", Setup::default()) else {
        return;
    };
    let mut servers = Servers::default();
    servers.tcp(&bed.server, "0.0.0.0:7894");
    // The server's ICMP leaves from its private address; the edge translates it back.
    expect(
        &bed,
        PUBLIC,
        ports::TCP_HOST_REJECT,
        false,
        "filtered",
        "admin-prohibited",
        Some(PUBLIC),
    );
}

#[test]
fn tcp_client_dials_the_private_address() {
    let Some(bed) = Bed::new("tcp_client_dials_the_private_address", Setup::default()) else {
        return;
    };
    let mut servers = Servers::default();
    servers.tcp(&bed.server, "0.0.0.0:7890");
    expect(
        &bed,
        PRIVATE,
        ports::TCP_OPEN,
        false,
        "filtered",
        "no-response",
        None,
    );
}

#[test]
fn udp_echo_open() {
    let Some(bed) = Bed::new("udp_echo_open", Setup::default()) else {
        return;
    };
    let mut servers = Servers::default();
    servers.udp_echo(&bed.server, "0.0.0.0:7895");
    expect(
        &bed,
        PUBLIC,
        ports::UDP_ECHO,
        true,
        "open",
        "udp-response",
        None,
    );
}

#[test]
fn udp_nothing_listening() {
    let Some(bed) = Bed::new("udp_nothing_listening", Setup::default()) else {
        return;
    };
    expect(
        &bed,
        PUBLIC,
        ports::UDP_NOTHING,
        true,
        "closed",
        "port-unreach",
        Some(PUBLIC),
    );
}

#[test]
fn udp_dropped_by_security_group() {
    let Some(bed) = Bed::new("udp_dropped_by_security_group", Setup::default()) else {
        return;
    };
    let mut servers = Servers::default();
    servers.udp_echo(&bed.server, "0.0.0.0:7897");
    expect(
        &bed,
        PUBLIC,
        ports::UDP_SG_DROP,
        true,
        "open|filtered",
        "no-response",
        None,
    );
}

/// 5 % of SYNs dropped and 50 ms of delay: the state stays right, every dropped SYN is
/// counted as lost (the kernel's retransmission 1 s later must not hide it), and the RTT
/// agrees with ping's over the same path.
#[test]
fn lossy_delayed_path() {
    const ATTEMPTS: u32 = 200;
    let setup = Setup {
        syn_loss_pct: 5,
        delay: Some(Duration::from_millis(50)),
    };
    let Some(bed) = Bed::new("lossy_delayed_path", setup) else {
        return;
    };
    let mut servers = Servers::default();
    servers.tcp(&bed.server, "0.0.0.0:7898");
    let count = ATTEMPTS.to_string();
    let record = probe(
        &bed,
        PUBLIC,
        ports::TCP_LOSSY,
        false,
        &["-c", &count, "-i", "10ms"],
    );
    assert_eq!(record["state"], "open", "{record}");
    assert_eq!(record["attempts"], ATTEMPTS, "{record}");

    // Every attempt sent exactly one SYN, and each one the rule dropped is one lost.
    let (seen, dropped) = (
        bed.edge_counter("syns_seen"),
        bed.edge_counter("syns_dropped"),
    );
    assert_eq!(
        seen,
        u64::from(ATTEMPTS),
        "one SYN per attempt, no retransmission"
    );
    let received = record["received"].as_u64().expect("received");
    assert_eq!(u64::from(ATTEMPTS) - received, dropped, "{record}");
    let truth = 100.0 * f64::from(u32::try_from(dropped).expect("small")) / f64::from(ATTEMPTS);
    let loss = record["loss_pct"].as_f64().expect("loss_pct");
    assert!(
        (loss - truth).abs() < 1e-9,
        "loss {loss} % vs {truth} % dropped"
    );

    let ping_avg = ping_avg_ms(&bed, 50);
    let avg = record["rtt_ms"]["avg"].as_f64().expect("rtt_ms.avg");
    eprintln!(
        "lossy_delayed_path: loss {loss} % (truth {truth} %), rtt avg {avg:.3} ms, ping avg {ping_avg:.3} ms"
    );
    assert!(
        (avg - ping_avg).abs() <= 1.0,
        "rtt avg {avg} ms vs ping {ping_avg} ms"
    );
    assert!(avg >= 50.0, "the 50 ms delay shows: {avg} ms");
}

/// ping's average RTT to the public address over `count` echoes.
fn ping_avg_ms(bed: &Bed, count: u32) -> f64 {
    let count = count.to_string();
    let out = bed.in_client(&["ping", "-n", "-q", "-c", &count, "-i", "0.01", PUBLIC]);
    // "rtt min/avg/max/mdev = 50.1/50.3/50.9/0.2 ms"
    out.lines()
        .find_map(|l| l.split_once(" = ").filter(|_| l.starts_with("rtt")))
        .and_then(|(_, v)| v.split('/').nth(1)?.parse().ok())
        .unwrap_or_else(|| panic!("no rtt line in ping's output:\n{out}"))
}
