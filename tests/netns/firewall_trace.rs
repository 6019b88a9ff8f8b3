//! `ipdiag local --port P --watch D --trace-firewall` in a server namespace, new
//! connections sent from a client namespace over a veth: the kernel's trace names the rule
//! that accepted, dropped or rejected each, and the ruleset is left exactly as it was found,
//! after the watch runs out and after SIGINT.

use crate::bed::{ip, may_build, nft, output, run};
use crate::rcvbuf::Netns;
use crate::servers::Servers;
use serde_json::Value;
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SERVER: &str = "198.51.100.2";

const RULES: &str = "table inet filter {
 chain input {
  type filter hook input priority 0; policy accept;
  tcp dport 8081 drop
  tcp dport 8082 reject with tcp reset
  jump user
 }
 chain user {
  tcp dport 8083 accept
 }
}
";

/// A server and a client namespace joined by a veth, the rules in the server's.
fn pair(test: &str) -> Option<(Netns, Netns)> {
    if !may_build(test) {
        return None;
    }
    let (server, client) = (Netns::new("fwtrs"), Netns::new("fwtrc"));
    let pid = std::process::id();
    let (a, b) = (format!("ipft{pid}a"), format!("ipft{pid}b"));
    run(&[
        "ip", "link", "add", &a, "netns", &server.0, "type", "veth", "peer", "name", &b, "netns",
        &client.0,
    ]);
    ip(&server.0, &format!("addr add {SERVER}/24 dev {a}"));
    ip(&client.0, &format!("addr add 198.51.100.1/24 dev {b}"));
    ip(&server.0, &format!("link set {a} up"));
    ip(&client.0, &format!("link set {b} up"));
    nft(&server.0, RULES);
    Some((server, client))
}

fn ruleset(ns: &str) -> String {
    String::from_utf8_lossy(&output(&["ip", "netns", "exec", ns, "nft", "list", "ruleset"]).stdout)
        .into_owned()
}

/// `local --port P --watch D --trace-firewall --json` started in the namespace, returned
/// once its trace table is in place (polled, at most 5 s).
fn tracing(ns: &str, port: u16, watch: &str) -> Child {
    let port = port.to_string();
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            env!("CARGO_BIN_EXE_ipdiag"),
            "local",
            "--port",
            &port,
        ])
        .args(["--watch", watch, "--trace-firewall", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ipdiag runs");
    let start = Instant::now();
    while !ruleset(ns).contains("ipdiag_trace_") {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no trace table appeared"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// One connection attempt from the client namespace (its outcome does not matter here).
fn connect(client: &Netns, port: u16) {
    client.within(move || {
        let to: SocketAddr = format!("{SERVER}:{port}").parse().expect("an address");
        let _ = TcpStream::connect_timeout(&to, Duration::from_millis(500));
    });
}

/// Waits for the child (at most 20 s) and reads its report.
fn report(mut child: Child) -> Value {
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("ipdiag local did not end");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The first traced packet's (fate, table, chain, rule).
fn first(report: &Value) -> (String, String, String, String) {
    let p = &report["trace"][0];
    let s = |k: &str| {
        p[k].as_str()
            .unwrap_or_else(|| panic!("{k}: {report}"))
            .to_owned()
    };
    (s("fate"), s("table"), s("chain"), s("rule"))
}

pub fn the_trace_names_the_deciding_rule_and_leaves_the_ruleset_as_found() {
    let test = "the_trace_names_the_deciding_rule_and_leaves_the_ruleset_as_found";
    let Some((server, client)) = pair(test) else {
        return;
    };
    let mut servers = Servers::default();
    servers.tcp(&server.0, "0.0.0.0:8083");
    let before = ruleset(&server.0);
    let cases = [
        (
            8083,
            ("accepted", "inet filter", "user", "tcp dport 8083 accept"),
        ),
        (
            8081,
            ("dropped", "inet filter", "input", "tcp dport 8081 drop"),
        ),
        (
            8082,
            (
                "rejected",
                "inet filter",
                "input",
                "tcp dport 8082 reject with tcp reset",
            ),
        ),
    ];
    for (port, (fate, table, chain, rule)) in cases {
        let child = tracing(&server.0, port, "2s");
        connect(&client, port);
        let report = report(child);
        assert_eq!(
            report["trace"].as_array().map(Vec::len),
            Some(1),
            "{report}"
        );
        assert_eq!(
            first(&report),
            (fate.into(), table.into(), chain.into(), rule.into()),
            "{report}"
        );
        assert!(
            report["trace"][0]["source"]
                .as_str()
                .unwrap_or_default()
                .starts_with("198.51.100.1:")
        );
        assert_eq!(ruleset(&server.0), before, "after tracing {port}");
    }
    // SIGINT ends a long watch early, with the table removed and the packet reported.
    let child = tracing(&server.0, 8081, "60s");
    connect(&client, 8081);
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
    let report = report(child);
    assert_eq!(first(&report).0, "dropped", "{report}");
    assert!(
        report["notes"]
            .to_string()
            .contains("interrupted: the trace ended early"),
        "{report}"
    );
    assert_eq!(ruleset(&server.0), before, "after SIGINT");
    drop(servers);
}
