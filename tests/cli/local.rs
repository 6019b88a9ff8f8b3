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

/// Issue 18 item 8: `local` runs as root, so it must not run an `nft` or `iptables-save`
/// that comes first in `$PATH` (a directory the user can write): only the system's own.
#[test]
fn the_firewall_tools_never_come_from_path() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("ipdiag-path-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let marker = dir.join("ran");
    for tool in ["nft", "iptables-save", "ip6tables-save"] {
        let script = dir.join(tool);
        std::fs::write(
            &script,
            format!("#!/bin/sh\necho {tool} >> '{}'\n", marker.display()),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = super::ipdiag()
        .args(["local", "--port", "1", "--json"])
        .env("PATH", &path)
        .env_remove("IPDIAG_NFT")
        .env_remove("IPDIAG_IPTABLES_SAVE")
        .env_remove("IPDIAG_IP6TABLES_SAVE")
        .output()
        .unwrap();
    let ran = std::fs::read_to_string(&marker).unwrap_or_default();
    // Told otherwise, explicitly, it runs the named tool.
    let told = super::ipdiag()
        .args(["local", "--port", "1", "--json"])
        .env("IPDIAG_NFT", dir.join("nft"))
        .output()
        .unwrap();
    let after = std::fs::read_to_string(&marker).unwrap_or_default();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(ran, "", "tools from $PATH ran: {ran}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["port"]["port"], 1, "{report}");
    assert!(told.status.code().is_some());
    assert_eq!(after, "nft\n", "IPDIAG_NFT names the tool to run");
}
