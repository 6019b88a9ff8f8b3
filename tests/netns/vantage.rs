//! Many vantage points, one verdict: three vantage namespaces and one server, with nftables
//! making each split `ipdiag merge` names. Each vantage runs `check --vantage`, then
//! `merge` judges the three reports.
//!
//! ```text
//!  va 198.51.100.2/24 ─┐ br0 198.51.100.1/24 (a and b: one network)
//!  vb 198.51.100.3/24 ─┘      srv: 203.0.113.10, .11, .12, 2001:db8:ff::10 on lo
//!  vc 192.0.2.2/24, 2001:db8:3::2/64 ─ sc0 192.0.2.1/24, 2001:db8:3::1/64
//! ```
//!
//! | port | made by | verdict |
//! |---|---|---|
//! | 7000 | a listener | reachable |
//! | 7001 | the server's input chain drops it | server_side |
//! | 7002 | the server drops it from 192.0.2.0/24 (c) | source_restricted |
//! | 7003, 7004 | b's own output chain drops both | vantage_egress |
//! | 7005 | DNAT by source: a and c to .11 (listening), b to .12 (nothing) | load_balancing |
//! | 7006 | `dual.lab` is A for a and b, AAAA for c; the listener is IPv4-only | ipv6 |

use crate::bed::{ip, ipdiag_in, may_build, nft, output, run};
use crate::servers::Servers;
use serde_json::Value;
use std::process::{Command, Stdio};

/// The four namespaces, deleted (hosts files too) when dropped.
struct Lab {
    vantages: [String; 3],
    server: String,
}

impl Lab {
    fn new(test: &str) -> Option<Lab> {
        if !may_build(test) {
            return None;
        }
        let pid = std::process::id();
        let lab = Lab {
            vantages: ["a", "b", "c"].map(|v| format!("ipdc-{pid}-v{v}")),
            server: format!("ipds-{pid}-v"),
        };
        for ns in lab.vantages.iter().chain([&lab.server]) {
            run(&["ip", "netns", "add", ns]);
            ip(ns, "link set lo up");
        }
        lab.wire();
        Some(lab)
    }

    fn wire(&self) {
        let [a, b, c] = &self.vantages;
        let s = &self.server;
        ip(s, "link add br0 type bridge");
        for (ns, dev, peer) in [(a, "va0", "sa0"), (b, "vb0", "sb0"), (c, "vc0", "sc0")] {
            run(&[
                "ip", "link", "add", dev, "netns", ns, "type", "veth", "peer", "name", peer,
                "netns", s,
            ]);
            ip(ns, &format!("link set {dev} up"));
            ip(s, &format!("link set {peer} up"));
        }
        ip(s, "link set sa0 master br0");
        ip(s, "link set sb0 master br0");
        ip(s, "link set br0 up");
        ip(s, "addr add 198.51.100.1/24 dev br0");
        ip(s, "addr add 192.0.2.1/24 dev sc0");
        ip(s, "-6 addr add 2001:db8:3::1/64 dev sc0 nodad");
        for addr in ["203.0.113.10/32", "203.0.113.11/32", "203.0.113.12/32"] {
            ip(s, &format!("addr add {addr} dev lo"));
        }
        ip(s, "-6 addr add 2001:db8:ff::10/128 dev lo");
        ip(a, "addr add 198.51.100.2/24 dev va0");
        ip(b, "addr add 198.51.100.3/24 dev vb0");
        ip(c, "addr add 192.0.2.2/24 dev vc0");
        ip(c, "-6 addr add 2001:db8:3::2/64 dev vc0 nodad");
        for ns in [a, b] {
            ip(ns, "route add default via 198.51.100.1");
        }
        ip(c, "route add default via 192.0.2.1");
        ip(c, "-6 route add default via 2001:db8:3::1");
        for (ns, address) in [
            (a, "203.0.113.10"),
            (b, "203.0.113.10"),
            (c, "2001:db8:ff::10"),
        ] {
            let dir = format!("/etc/netns/{ns}");
            std::fs::create_dir_all(&dir).expect("/etc/netns/NS is writable as root");
            std::fs::write(format!("{dir}/hosts"), format!("{address} dual.lab\n"))
                .expect("the hosts file is written");
        }
        nft(
            s,
            "table inet host {
              chain input {
                type filter hook input priority filter; policy accept;
                tcp dport 7001 drop
                ip saddr 192.0.2.0/24 tcp dport 7002 drop
              }
            }
            table ip balancer {
              chain prerouting {
                type nat hook prerouting priority dstnat; policy accept;
                ip daddr 203.0.113.10 tcp dport 7005 dnat to ip saddr map { 198.51.100.2 : 203.0.113.11, 198.51.100.3 : 203.0.113.12, 192.0.2.2 : 203.0.113.11 }
              }
            }",
        );
        nft(
            b,
            "table inet egress {
              chain output {
                type filter hook output priority filter; policy accept;
                tcp dport { 7003, 7004 } drop
              }
            }",
        );
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in self.vantages.iter().chain([&self.server]) {
            let _ = std::fs::remove_dir_all(format!("/etc/netns/{ns}"));
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
    }
}

const CHECKS: &str = r#"[defaults]
timeout = "300ms"
retries = 0

[[check]]
name = "web"
target = "203.0.113.10:7000"

[[check]]
name = "admin"
target = "203.0.113.10:7001"

[[check]]
name = "partners"
target = "203.0.113.10:7002"

[[check]]
name = "smtp"
target = "203.0.113.10:7003"

[[check]]
name = "submission"
target = "203.0.113.10:7004"

[[check]]
name = "balanced"
target = "203.0.113.10:7005"

[[check]]
name = "dual stack"
target = "dual.lab:7006"
"#;

/// Runs `check --vantage` in each vantage namespace and `merge` on the three reports:
/// (merge's exit code, its JSON, its table).
fn check_and_merge(lab: &Lab) -> (Option<i32>, String, String) {
    let s = &lab.server;
    let mut servers = Servers::default();
    for port in 7000..=7004 {
        servers.tcp(s, &format!("0.0.0.0:{port}"));
    }
    servers.tcp(s, "203.0.113.11:7005").tcp(s, "0.0.0.0:7006");
    let dir = std::env::temp_dir().join(format!("ipdiag-netns-vantage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let checks = dir.join("ipdiag.toml");
    std::fs::write(&checks, CHECKS).expect("the check file is written");
    let mut reports = Vec::new();
    for (ns, name) in lab.vantages.iter().zip(["a", "b", "c"]) {
        let (code, stdout, stderr) = ipdiag_in(
            ns,
            &[
                "check",
                checks.to_str().expect("UTF-8 path"),
                "--json",
                "--vantage",
                name,
            ],
        );
        assert_eq!(code, 1, "{name}: some checks fail: {stdout}{stderr}");
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, &stdout).expect("the report is written");
        reports.push(path.to_str().expect("UTF-8 path").to_owned());
    }
    let mut args = vec![env!("CARGO_BIN_EXE_ipdiag"), "merge", "--json"];
    args.extend(reports.iter().map(String::as_str));
    let merged = output(&args);
    let mut table_args = args.clone();
    table_args.retain(|a| *a != "--json");
    table_args.extend(["--color", "never"]);
    let table = String::from_utf8_lossy(&output(&table_args).stdout).into_owned();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&merged.stdout).into_owned();
    drop(servers);
    (merged.status.code(), stdout, table)
}

pub fn merge_names_each_split_from_three_vantages() {
    let Some(lab) = Lab::new("vantage_merge") else {
        return;
    };
    let (code, stdout, table) = check_and_merge(&lab);
    assert_eq!(code, Some(1), "{stdout}");
    let merged: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let endpoints = merged["endpoints"].as_array().expect("endpoints");
    let got: Vec<(String, String, String)> = endpoints
        .iter()
        .map(|e| {
            let states: Vec<&str> = e["seen"]
                .as_array()
                .expect("seen")
                .iter()
                .map(|s| s["state"].as_str().unwrap_or("?"))
                .collect();
            (
                e["name"].as_str().unwrap_or("?").to_owned(),
                states.join(" "),
                e["verdict"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    let want = [
        ("web", "open open open", "reachable"),
        ("admin", "filtered filtered filtered", "server_side"),
        ("partners", "open open filtered", "source_restricted"),
        ("smtp", "open filtered open", "vantage_egress"),
        ("submission", "open filtered open", "vantage_egress"),
        ("balanced", "open closed open", "load_balancing"),
        ("dual stack", "open open closed", "ipv6"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
        .collect();
    assert_eq!(got, want, "{stdout}");
    assert_eq!(
        merged["verdicts"],
        serde_json::json!([
            {"verdict": "vantage_egress", "count": 2},
            {"verdict": "ipv6", "count": 1},
            {"verdict": "load_balancing", "count": 1},
            {"verdict": "reachable", "count": 1},
            {"verdict": "server_side", "count": 1},
            {"verdict": "source_restricted", "count": 1},
        ]),
        "{stdout}"
    );
    assert_eq!(
        (&merged["total"], &merged["passed"]),
        (&Value::from(7), &Value::from(1))
    );
    let why = |i: usize| endpoints[i]["why"].as_str().unwrap_or_default();
    assert_eq!(
        why(2),
        "open from a, b; filtered from c: a rule restricted by source (a security group or firewall rule with a source list) admits a, b but not c"
    );
    assert_eq!(
        endpoints[3]["evidence"],
        serde_json::json!(["b also blocked on 203.0.113.10:7004/tcp, which other vantages reach"])
    );
    assert_eq!(
        why(5),
        "open from a, c; closed from b: different answers from the same network (a and b are both in 198.51.100.0/24), so load balancing or anycast: different servers answer"
    );
    assert_eq!(
        why(6),
        "open from a, b; closed from c: only the vantages that probed over IPv6 fail (c), so the AAAA record or the listener's IPv6 bind"
    );
    assert_eq!(endpoints[6]["seen"][2]["address"], "2001:db8:ff::10");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["CHECK", "ENDPOINT", "a", "b", "c", "VERDICT"],
        "{table}"
    );
    assert_eq!(
        lines.last().copied(),
        Some(
            "1 of 7 endpoints holds from all 3 vantages (2 vantage_egress, 1 ipv6, 1 load_balancing, 1 reachable, 1 server_side, 1 source_restricted)"
        ),
        "{table}"
    );
}
