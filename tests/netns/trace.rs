//! `ipdiag trace` through three routers: it finds the hop where an nftables drop sits and
//! tells the provider's edge (security group) from the client's own network.

use crate::chain::{Chain, SERVER};
use crate::servers::Servers;
use serde_json::Value;

const PORT: u16 = 7890;

/// Runs a quick trace (2 probes per hop, 300 ms wait, stop after 2 silent hops) and
/// returns the exit code and the JSON record.
fn trace(chain: &Chain, extra: &[&str]) -> (i32, Value) {
    let target = format!("{SERVER}:{PORT}");
    let mut args = vec![
        "trace",
        &target,
        "--queries",
        "2",
        "-w",
        "300ms",
        "--max-silent",
        "2",
    ];
    args.extend_from_slice(extra);
    args.push("--json");
    let (code, stdout, stderr) = chain.ipdiag(&args);
    let record = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    (code, record)
}

/// The first address that answered at each hop (`*` for a silent hop).
fn path(record: &Value) -> Vec<String> {
    record["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .map(|h| h["addresses"][0].as_str().unwrap_or("*").to_owned())
        .collect()
}

pub fn trace_reaches_an_open_port_through_every_router() {
    let Some(chain) = Chain::new("trace_open") else {
        return;
    };
    let mut servers = Servers::default();
    servers.tcp(&chain.server, &format!("0.0.0.0:{PORT}"));
    let (code, record) = trace(&chain, &[]);
    assert_eq!(code, 0, "{record}");
    assert_eq!(
        path(&record),
        ["198.51.100.1", "192.0.2.2", "3.5.140.2", SERVER],
        "{record}"
    );
    assert_eq!(record["hops"][2]["provider"], "aws", "{record}");
    assert_eq!(record["hops"][2]["asn"], 16509, "{record}");
    assert_eq!(record["hops"][0]["provider"], Value::Null, "{record}");
    assert_eq!(record["hops"][0]["loss_pct"], 0.0, "{record}");
    assert_eq!(record["destination"]["state"], "open", "{record}");
    assert_eq!(record["destination"]["reason"], "syn-ack", "{record}");
    assert_eq!(record["destination"]["ttl"], 4, "{record}");
    assert_eq!(record["verdict"]["kind"], "reached", "{record}");
}

pub fn a_drop_at_the_providers_edge_is_the_security_group() {
    let Some(chain) = Chain::new("trace_edge_drop") else {
        return;
    };
    let mut servers = Servers::default();
    servers.tcp(&chain.server, &format!("0.0.0.0:{PORT}"));
    chain.drop_at(3, &format!("tcp dport {PORT}"));
    let (code, record) = trace(&chain, &[]);
    assert_eq!(code, 1, "{record}");
    assert_eq!(
        path(&record),
        ["198.51.100.1", "192.0.2.2", "3.5.140.2", "*", "*"],
        "{record}"
    );
    assert_eq!(record["destination"], Value::Null, "{record}");
    let verdict = &record["verdict"];
    assert_eq!(verdict["kind"], "dropped_at_edge", "{record}");
    assert_eq!(verdict["last_hop"]["ttl"], 3, "{record}");
    assert_eq!(verdict["last_hop"]["address"], "3.5.140.2", "{record}");
    assert_eq!(verdict["last_hop"]["provider"], "aws", "{record}");
    assert!(
        verdict["text"]
            .as_str()
            .is_some_and(|t| t.contains("dropped at the edge (security group)")),
        "{record}"
    );
}

pub fn a_drop_before_the_provider_is_the_clients_network() {
    let Some(chain) = Chain::new("trace_isp_drop") else {
        return;
    };
    let mut servers = Servers::default();
    servers.udp_echo(&chain.server, &format!("0.0.0.0:{PORT}"));
    chain.drop_at(1, &format!("udp dport {PORT}"));
    let (code, record) = trace(&chain, &["--udp"]);
    assert_eq!(code, 1, "{record}");
    assert_eq!(path(&record), ["198.51.100.1", "*", "*"], "{record}");
    let verdict = &record["verdict"];
    assert_eq!(verdict["kind"], "dropped_before_provider", "{record}");
    assert_eq!(verdict["last_hop"]["address"], "198.51.100.1", "{record}");
    assert_eq!(verdict["last_hop"]["provider"], Value::Null, "{record}");
    assert!(
        verdict["text"]
            .as_str()
            .is_some_and(|t| t.contains("your network or ISP blocks it")),
        "{record}"
    );
}

pub fn the_table_streams_a_line_per_hop_and_ends_with_the_verdict() {
    let Some(chain) = Chain::new("trace_table") else {
        return;
    };
    chain.drop_at(3, &format!("tcp dport {PORT}"));
    let target = format!("{SERVER}:{PORT}");
    let (code, stdout, stderr) = chain.ipdiag(&[
        "trace",
        &target,
        "--queries",
        "1",
        "-w",
        "300ms",
        "--max-silent",
        "1",
    ]);
    assert_eq!(code, 1, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0], "trace to 3.5.141.10:7890/tcp (aws), 30 hops max, 1 probe per hop",
        "{stdout}"
    );
    assert!(
        lines[4].starts_with("  3  3.5.140.2        aws AS16509        0%  "),
        "{stdout}"
    );
    assert_eq!(
        lines[5], "  4  *                                 100%",
        "{stdout}"
    );
    assert_eq!(
        lines[6],
        "destination 3.5.141.10:7890: no answer (1 silent hop at the end)"
    );
    assert_eq!(
        lines[7],
        "verdict: replies stop after hop 3 (3.5.140.2, aws), inside the provider's network, and the server never answered: dropped at the edge (security group) or by the server (its own firewall)"
    );
}

/// `doctor --trace --json --no-control` in the chain; returns the record.
fn doctor(chain: &Chain, extra: &[&str]) -> Value {
    let target = format!("{SERVER}:{PORT}");
    let mut args = vec![
        "doctor",
        &target,
        "--trace",
        "--no-control",
        "-c",
        "1",
        "--timeout",
        "300ms",
        "--json",
    ];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = chain.ipdiag(&args);
    assert_eq!(code, 1, "{stdout} {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"))
}

pub fn doctor_trace_makes_the_edge_drop_evidence_for_the_security_group() {
    let Some(chain) = Chain::new("doctor_trace_edge") else {
        return;
    };
    chain.drop_at(3, &format!("tcp dport {PORT}"));
    let record = doctor(&chain, &[]);
    assert_eq!(record["state"], "filtered", "{record}");
    // The trace clears the client's side, but the hop after the edge is the server, silent
    // whether the group or its own firewall drops: both medium, never a confident guess.
    assert_eq!(record["cause"], "security_group", "{record}");
    assert_eq!(record["hints"][0]["confidence"], "medium", "{record}");
    let hints = record["hints"].as_array().expect("hints");
    let firewall = hints
        .iter()
        .find(|h| h["cause"] == "host_firewall")
        .expect("the server's firewall is listed");
    assert_eq!(firewall["confidence"], "medium", "{record}");
    let evidence = record["hints"][0]["evidence"].to_string();
    assert!(
        evidence.contains("trace: replies stop after hop 3 (3.5.140.2, aws)"),
        "{record}"
    );
    assert_eq!(
        record["trace"]["verdict"]["kind"], "dropped_at_edge",
        "{record}"
    );
    assert_eq!(
        record["trace"]["hops"][2]["addresses"][0], "3.5.140.2",
        "{record}"
    );
    let target = format!("{SERVER}:{PORT}");
    let (_, text, _) = chain.ipdiag(&[
        "doctor",
        &target,
        "--trace",
        "--no-control",
        "-c",
        "1",
        "--timeout",
        "300ms",
    ]);
    assert!(
        text.contains("  path     198.51.100.1 → 192.0.2.2 → 3.5.140.2 (aws) → * → * → *\n           replies stop after hop 3"),
        "{text}"
    );
}

pub fn doctor_trace_blames_the_clients_network_when_replies_stop_before_the_provider() {
    let Some(chain) = Chain::new("doctor_trace_isp") else {
        return;
    };
    chain.drop_at(1, &format!("tcp dport {PORT}"));
    let record = doctor(&chain, &[]);
    assert_eq!(record["cause"], "no_route", "{record}");
    assert_eq!(record["hints"][0]["confidence"], "high", "{record}");
    let sg = record["hints"]
        .as_array()
        .expect("hints")
        .iter()
        .find(|h| h["cause"] == "security_group")
        .expect("the security group is still listed");
    assert_eq!(sg["confidence"], "low", "{record}");
    assert_eq!(
        record["trace"]["verdict"]["kind"], "dropped_before_provider",
        "{record}"
    );
}

/// Through the simulated cloud's NAT the edge owns the public address, so the first hop's
/// time exceeded comes from the destination address itself while the port (dropped by the
/// security group) never answers: the verdict names a translating edge, not "something
/// after hop 1", and doctor keeps the security group beside the server's firewall.
pub fn a_translating_edge_answers_for_the_target() {
    use crate::bed::{Bed, PUBLIC, Setup, ports};
    let Some(bed) = Bed::new("trace_translating_edge", Setup::default()) else {
        return;
    };
    let target = format!("{PUBLIC}:{}", ports::TCP_SG_DROP);
    let (code, stdout, stderr) = bed.ipdiag(&[
        "trace",
        "-n",
        &target,
        "--json",
        "-w",
        "300ms",
        "--max-silent",
        "2",
    ]);
    assert_eq!(code, 1, "{stdout} {stderr}");
    let record: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    let verdict = &record["verdict"];
    assert_eq!(verdict["kind"], "edge_answers_for_target", "{record}");
    assert_eq!(verdict["last_hop"]["ttl"], 1, "{record}");
    assert_eq!(verdict["last_hop"]["address"], PUBLIC, "{record}");
    let text = verdict["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("an edge that translates the address answers for it")
            && !text.contains("something after it"),
        "{record}"
    );
}
