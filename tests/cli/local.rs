//! `ipdiag local --port P` on this host (loopback sockets of the test's own).

use std::net::{TcpListener, UdpSocket};

#[test]
fn a_udp_server_asked_about_as_tcp_is_pointed_to_udp() {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = udp.local_addr().unwrap().port();
    let note = format!(
        "nothing listens on {port}/tcp, but a UDP socket is bound to {port}: ipdiag local --port {port} --udp shows it, with its receive queue and drops"
    );
    let (code, report) = local(port);
    assert_eq!(code, 1);
    assert_eq!(report["port"]["cause"], "not_listening", "{report}");
    assert!(
        report["notes"]
            .as_array()
            .unwrap()
            .contains(&note.clone().into()),
        "{report}"
    );

    // With a TCP listener on the same number, the TCP answer stands alone (when that
    // number is free for TCP too, as it nearly always is).
    if let Ok(tcp) = TcpListener::bind(("127.0.0.1", port)) {
        let (_, report) = local(port);
        let notes = report["notes"].as_array().unwrap();
        assert!(!notes.contains(&note.into()), "{report}");
        drop(tcp);
    }
    drop(udp);
}

/// `local --port PORT --json`: the exit code and the report.
fn local(port: u16) -> (i32, serde_json::Value) {
    let port = port.to_string();
    let (code, stdout, stderr) = super::run(&["local", "--port", &port, "--json"]);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    (code, report)
}
