//! Only answers from the path are answers, and names are judged the way clients use them.
//!
//! - The overlapping LAN: the client's LAN is 172.16.0.0/24 and it dials 172.16.0.10 (a
//!   server's private address in another network); nothing answers ARP, so the client's
//!   own kernel reports host unreachable "from" the client itself. That is a local failure
//!   (no RTT sample, no loss) and the diagnosis is `private_address`.
//! - A dual-stack name on an IPv4-only client: its IPv6 address has no route, its IPv4
//!   port is open; the name is reachable (exit 0) with a note about IPv6, and
//!   `--all-addresses` keeps the strict per-address view (exit 1).

use crate::alone::Lone;
use crate::servers::Servers;
use serde_json::Value;

pub fn no_arp_reply_on_an_overlapping_lan_is_private_address_not_an_answer() {
    let Some(lone) = Lone::new("own_stack_no_arp") else {
        return;
    };
    let lone = lone.with_lan();
    for protocol in ["--tcp", "--udp"] {
        let (code, stdout, stderr) = lone.ipdiag(&[
            "probe",
            "-n",
            "172.16.0.10:8000",
            protocol,
            "-w",
            "2s",
            "--json",
        ]);
        assert_eq!(code, 1, "{stdout}{stderr}");
        let all: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        assert_eq!(all.as_array().map(Vec::len), Some(1), "{stdout}");
        let r = &all[0];
        assert_eq!(
            (
                r["state"].as_str(),
                r["reason"].as_str(),
                r["cause"].as_str(),
                r["received"].as_u64(),
                r["loss_pct"].as_f64(),
                r["rtt_ms"].is_null(),
                r["icmp_from"].is_null()
            ),
            (
                Some("error"),
                Some("local-error"),
                Some("private_address"),
                Some(0),
                Some(0.0),
                true,
                true
            ),
            "{protocol}: {r}"
        );
        assert_eq!(
            r["error"].as_str(),
            Some(
                "no ARP reply on the local network c0: 172.16.0.10 is on this LAN's subnet (172.16.0.0/24) — a private address of another network?"
            ),
            "{protocol}"
        );
    }
}

pub fn a_dual_stack_name_is_reachable_by_its_ipv4_address() {
    let Some(lone) = Lone::new("own_stack_dual_stack") else {
        return;
    };
    lone.hosts("127.0.0.1 myvm\n2001:db8::10 myvm\n");
    let mut servers = Servers::default();
    servers.tcp(&lone.ns, "127.0.0.1:8000");
    let (code, stdout, stderr) = lone.ipdiag(&["doctor", "myvm:8000", "--no-control"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("127.0.0.1:8000/tcp: open (syn-ack)")
            && stdout.contains("[2001:db8::10]:8000/tcp: error (local-error)"),
        "every address is shown: {stdout}"
    );
    assert!(
        stdout.contains("2001:db8::10 is myvm's IPv6 address and this machine has no IPv6 route; a client connecting to myvm uses 127.0.0.1 (8000/tcp open)"),
        "{stdout}"
    );
    let (code, stdout, _) = lone.ipdiag(&["probe", "myvm:8000", "--json"]);
    let all: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let causes: Vec<_> = all
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["address"].as_str(),
                r["state"].as_str(),
                r["cause"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        (code, causes),
        (
            0,
            vec![
                (Some("127.0.0.1"), Some("open"), Some("ok")),
                (Some("2001:db8::10"), Some("error"), Some("ok"))
            ]
        )
    );
    for strict in ["--all-addresses", "-6"] {
        let (code, stdout, _) = lone.ipdiag(&["doctor", "myvm:8000", "--no-control", strict]);
        assert_eq!(code, 1, "{strict}: {stdout}");
        assert!(
            stdout.contains("Verdict: no_route (high confidence)"),
            "{stdout}"
        );
    }
}

/// This machine's own firewall: a drop in its output chain makes `send()` fail with
/// `EPERM`, a reject makes its own kernel answer with ICMP from this machine itself. Both
/// are a local error that names the client's own firewall, never an answer from the path.
pub fn the_clients_own_firewall_is_named() {
    let Some(lone) = Lone::new("own_stack_firewall") else {
        return;
    };
    let lone = lone.with_lan();
    crate::bed::nft(
        &lone.ns,
        "table inet own {
          chain output {
            type filter hook output priority filter; policy accept;
            udp dport 8001 drop
            udp dport 8002 reject with icmpx type admin-prohibited
          }
        }",
    );
    let words = [
        (
            "8001",
            "refused to send to 172.16.0.10 (EPERM: Operation not permitted)",
        ),
        (
            "8002",
            "rejected the probe to 172.16.0.10 (admin-prohibited from this machine itself)",
        ),
    ];
    for (port, what) in words {
        let target = format!("172.16.0.10:{port}");
        let (code, stdout, stderr) = lone.ipdiag(&["probe", "-n", &target, "--udp", "--json"]);
        assert_eq!(code, 1, "{stdout}{stderr}");
        let all: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        let r = &all[0];
        assert_eq!(
            (
                r["state"].as_str(),
                r["reason"].as_str(),
                r["received"].as_u64(),
                r["rtt_ms"].is_null(),
                r["icmp_from"].is_null()
            ),
            (Some("error"), Some("local-error"), Some(0), true, true),
            "{port}: {r}"
        );
        let error = r["error"].as_str().unwrap_or_default();
        assert!(
            error.starts_with(&format!("this machine's own firewall {what}: ")),
            "{port}: {error}"
        );
    }
}
