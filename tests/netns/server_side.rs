//! The server side in the simulated cloud: `ipdiag serve` as the responder, and what the
//! client learns from it; bind mistakes explained.

use crate::bed::{Bed, PUBLIC, ROUTED, Setup, ports};
use serde_json::Value;

fn probe_json(bed: &Bed, args: &[&str]) -> Value {
    let mut all = vec!["probe", "-n", "--json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = bed.ipdiag(&all);
    assert!(code == 0 || code == 1, "{stderr}");
    serde_json::from_str::<Value>(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))[0].clone()
}

/// UDP through the responder is definitive, and the client learns the address the server
/// saw: here a carrier NAT rewrites 198.51.100.2 to 198.51.100.77 on the way in.
pub fn udp_open_through_the_responder_reports_the_natted_source() {
    let setup = Setup {
        client_nat: Some("198.51.100.77"),
        ..Setup::default()
    };
    let Some(bed) = Bed::new(
        "udp_open_through_the_responder_reports_the_natted_source",
        setup,
    ) else {
        return;
    };
    let port = ports::UDP_ECHO.to_string();
    let server = bed.serve(&[
        "--udp",
        &port,
        "--tcp",
        &ports::TCP_OPEN.to_string(),
        "--token",
        "k3y-k3y-k3y",
    ]);
    let target = format!("{PUBLIC}:{port}");
    let record = probe_json(&bed, &[&target, "--udp", "--token", "k3y-k3y-k3y"]);
    assert_eq!(record["state"], "open", "{record}");
    assert_eq!(record["reason"], "udp-response", "{record}");
    assert_eq!(record["responder"], true, "{record}");
    let observed = record["observed_source"].as_str().expect("observed_source");
    assert!(observed.starts_with("198.51.100.77:"), "{record}");
    let evidence = record["hints"][0]["evidence"].to_string();
    assert!(evidence.contains("a NAT rewrote the address"), "{evidence}");
    // Without the token the responder stays silent: open|filtered, not a reply.
    let record = probe_json(&bed, &[&target, "--udp", "-w", "300ms"]);
    assert_eq!(record["state"], "open|filtered", "{record}");
    // TCP: the banner says the same (--responder: read however late a loaded server
    // writes it).
    let record = probe_json(
        &bed,
        &[&format!("{PUBLIC}:{}", ports::TCP_OPEN), "--responder"],
    );
    assert_eq!(
        (record["state"].as_str(), record["responder"].as_bool()),
        (Some("open"), Some(true)),
        "{record}"
    );
    assert!(
        record["observed_source"]
            .as_str()
            .is_some_and(|o| o.starts_with("198.51.100.77:")),
        "{record}"
    );
    // The server logged the probes as they arrived, with the translated source.
    let log = server.stop();
    assert!(log.contains("udp 198.51.100.77:"), "{log}");
    assert!(log.contains("replied (25 bytes)"), "{log}");
    assert!(log.contains("no reply: bad token"), "{log}");
}

/// A server with a second address (here [`ROUTED`], on its loopback): `serve --udp` bound
/// to 0.0.0.0 must answer a request sent to the second address from that address, or the
/// client's connected socket drops the reply (and the probe says filtered). The log names
/// the address the request was sent to, not 0.0.0.0.
pub fn udp_reply_leaves_from_the_address_the_request_was_sent_to() {
    let setup = Setup {
        routed: true,
        ..Setup::default()
    };
    let Some(bed) = Bed::new(
        "udp_reply_leaves_from_the_address_the_request_was_sent_to",
        setup,
    ) else {
        return;
    };
    let port = ports::UDP_ECHO.to_string();
    let server = bed.serve(&["--udp", &port]);
    let target = format!("{ROUTED}:{port}");
    let record = probe_json(&bed, &[&target, "--udp", "--responder", "-w", "500ms"]);
    assert_eq!(
        (record["state"].as_str(), record["reason"].as_str()),
        (Some("open"), Some("udp-response")),
        "{record}"
    );
    let log = server.stop();
    assert!(
        log.contains(&format!("-> {ROUTED}:{port} 48 bytes: replied (25 bytes)")),
        "{log}"
    );
    assert!(!log.contains("-> 0.0.0.0:"), "{log}");
}

/// With a responder known to run there, UDP silence has one meaning: filtered.
pub fn udp_dropped_with_a_responder_is_filtered() {
    let Some(bed) = Bed::new("udp_dropped_with_a_responder_is_filtered", Setup::default()) else {
        return;
    };
    let port = ports::UDP_SG_DROP.to_string();
    let server = bed.serve(&["--udp", &port]);
    let target = format!("{PUBLIC}:{port}");
    let record = probe_json(&bed, &[&target, "--udp", "--responder", "-w", "300ms"]);
    assert_eq!(record["state"], "filtered", "{record}");
    assert_eq!(record["reason"], "no-response", "{record}");
    assert_eq!(record["cause"], "security_group", "{record}");
    let log = server.stop();
    assert!(
        !log.contains("udp 198.51.100.2"),
        "the security group dropped it before the server: {log}"
    );
}

/// The classic mistake: binding the public IP, which is not on the VM.
pub fn serve_on_the_public_ip_explains_bind_public_ip() {
    let Some(bed) = Bed::new(
        "serve_on_the_public_ip_explains_bind_public_ip",
        Setup::default(),
    ) else {
        return;
    };
    let (code, stdout, stderr) =
        bed.ipdiag_on_server(&["serve", "--tcp", "7890", "--bind", PUBLIC]);
    assert_eq!(code, 3, "{stdout}");
    assert!(
        stderr.starts_with("ipdiag: error: cannot bind tcp 203.0.113.10:7890: bind_public_ip: on a cloud VM the public IP"),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("Bind 0.0.0.0 (every interface) or the private IP. This host's addresses: "),
        "{stderr}"
    );
    assert!(stderr.contains("172.16.0.10"), "{stderr}");
}

fn local_json(bed: &Bed, port: u16) -> Value {
    let port = port.to_string();
    let (_, stdout, stderr) = bed.ipdiag_on_server(&["local", "--port", &port, "--json"]);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"))
}

/// On the server: a listener on 127.0.0.1 only is `loopback_bind`; nothing at all is
/// `not_listening`; the server's own firewall rule is found (`host_firewall`); the VM has
/// no public address (NAT).
pub fn local_on_the_server_finds_binds_and_firewall() {
    let Some(bed) = Bed::new(
        "local_on_the_server_finds_binds_and_firewall",
        Setup::default(),
    ) else {
        return;
    };
    let mut servers = crate::servers::Servers::default();
    servers
        .tcp(&bed.server, "127.0.0.1:7891")
        .tcp(&bed.server, "0.0.0.0:7894");
    let report = local_json(&bed, ports::TCP_LOOPBACK_BIND);
    assert_eq!(report["port"]["cause"], "loopback_bind", "{report}");
    assert_eq!(report["listening"][0]["address"], "127.0.0.1", "{report}");
    assert_eq!(report["listening"][0]["reach"], "this_machine", "{report}");
    assert_eq!(report["nat"], true, "{report}");
    let report = local_json(&bed, ports::TCP_NOTHING);
    assert_eq!(report["port"]["cause"], "not_listening", "{report}");
    let report = local_json(&bed, ports::TCP_HOST_REJECT);
    assert_eq!(report["port"]["cause"], "host_firewall", "{report}");
    let hits = report["firewall"]["hits"].to_string();
    assert!(hits.contains("nftables") && hits.contains("7894"), "{hits}");
}
