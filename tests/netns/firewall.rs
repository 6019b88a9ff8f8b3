//! `ipdiag local --port P` against real rulesets, each loaded into a namespace of the
//! test's own (nftables, or iptables-nft, which shares the namespace's kernel ruleset) with
//! a listener on 0.0.0.0:P: every row of issue 22's table, firewalld-style zones, a second
//! table at another priority, `ct state`, a source restriction, an unknown match, and the
//! listing without `--port`.

use crate::bed::{ipdiag_in, may_build, nft, run};
use crate::rcvbuf::Netns;
use crate::servers::Servers;
use serde_json::Value;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/firewall/{name}.nft",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `iptables ARGS` inside the namespace, the arguments split at spaces (a quoted comment
/// is passed as `--comment` then one word).
fn iptables(ns: &str, args: &[&str]) {
    let mut all = vec!["ip", "netns", "exec", ns, "iptables"];
    all.extend_from_slice(args);
    run(&all);
}

/// `local --port P --json` inside the namespace: (exit code, report).
fn local(ns: &str, port: u16) -> (i32, Value) {
    let port = port.to_string();
    let (code, stdout, stderr) = ipdiag_in(ns, &["local", "--port", &port, "--json"]);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    (code, report)
}

/// The namespace with listeners on 0.0.0.0 for `ports`; `None` (skipped) when namespaces
/// cannot be made here.
fn bed(test: &str, tag: &str, ports: &[u16]) -> Option<(Netns, Servers)> {
    if !may_build(test) {
        return None;
    }
    let ns = Netns::new(tag);
    let mut servers = Servers::default();
    for port in ports {
        servers.tcp(&ns.0, &format!("0.0.0.0:{port}"));
    }
    Some((ns, servers))
}

/// Asserts the port is stopped by `rule` (a part of its text) and returns the verdict.
fn stopped(ns: &str, port: u16, rule: &str) -> Value {
    let (code, report) = local(ns, port);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["port"]["cause"], "host_firewall", "{port}: {report}");
    let verdict = report["firewall"]["verdict"].clone();
    let text = verdict["rule"]["rule"].as_str().unwrap_or_default();
    assert!(
        text.contains(rule),
        "{port}: `{text}` lacks `{rule}`: {report}"
    );
    verdict
}

pub fn iptables_rows_of_the_issue() {
    let test = "iptables_rows_of_the_issue";
    let Some((ns, _servers)) = bed(test, "fwipt", &[8081, 8083, 8084, 8085, 22]) else {
        return;
    };
    let ns = ns.0.as_str();
    // Row 1: a drop with a comment (Docker's and kube-proxy's rules carry them).
    iptables(
        ns,
        &[
            "-A",
            "INPUT",
            "-p",
            "tcp",
            "--dport",
            "8081",
            "-m",
            "comment",
            "--comment",
            "keep 8081 shut",
            "-j",
            "DROP",
        ],
    );
    // Row 5: the same without a comment.
    iptables(
        ns,
        &["-A", "INPUT", "-p", "tcp", "--dport", "8084", "-j", "DROP"],
    );
    // Row 2: ufw's layout, the drop in a chain jumped to.
    iptables(ns, &["-N", "ufw-user-input"]);
    iptables(ns, &["-A", "INPUT", "-j", "ufw-user-input"]);
    iptables(
        ns,
        &[
            "-A",
            "ufw-user-input",
            "-p",
            "tcp",
            "--dport",
            "8083",
            "-j",
            "DROP",
        ],
    );
    // Row 3: ufw's default deny, an accept for another port only.
    iptables(
        ns,
        &[
            "-A",
            "ufw-user-input",
            "-p",
            "tcp",
            "--dport",
            "22",
            "-j",
            "ACCEPT",
        ],
    );
    iptables(ns, &["-P", "INPUT", "DROP"]);

    let v = stopped(ns, 8081, "--dport 8081");
    assert_eq!(v["rule"]["comment"], "keep 8081 shut", "{v}");
    assert_eq!(v["stop"], "drop", "{v}");
    stopped(ns, 8084, "--dport 8084 -j DROP");
    let v = stopped(
        ns,
        8083,
        "-A ufw-user-input -p tcp -m tcp --dport 8083 -j DROP",
    );
    assert_eq!(
        (v["owner"]["tool"].as_str(), v["fix"].as_str()),
        (Some("ufw"), Some("ufw allow 8083/tcp")),
        "{v}"
    );
    let v = stopped(ns, 8085, "policy drop");
    assert_eq!(v["rule"]["chain"], "INPUT", "{v}");
    assert_eq!(
        (v["owner"]["tool"].as_str(), v["fix"].as_str()),
        (Some("ufw"), Some("ufw allow 8085/tcp")),
        "{v}"
    );
    let (code, report) = local(ns, 22);
    assert_eq!(
        (code, report["port"]["cause"].as_str()),
        (0, Some("ok")),
        "{report}"
    );
    let read = report["firewall"]["read_from"].to_string();
    assert!(read.contains("iptables-save (nf_tables)"), "{read}");
}

pub fn nftables_policy_and_jump() {
    let Some((ns, _servers)) = bed("nftables_policy_and_jump", "fwjump", &[8086, 8087, 22]) else {
        return;
    };
    nft(&ns.0, &fixture("policy_jump"));
    // Row 4: dropped in the chain jumped to, and by the policy after the jump returns.
    let v = stopped(&ns.0, 8086, "tcp dport 8086 drop");
    assert_eq!(v["rule"]["chain"], "user_in", "{v}");
    assert_eq!(
        v["fix"], "nft insert rule inet filter user_in tcp dport 8086 accept",
        "{v}"
    );
    let v = stopped(&ns.0, 8087, "policy drop");
    assert_eq!(v["rule"]["chain"], "input", "{v}");
    assert_eq!(local(&ns.0, 22).1["port"]["cause"], "ok");
}

pub fn firewalld_style_zones() {
    let Some((ns, _servers)) = bed("firewalld_style_zones", "fwzone", &[8095, 9090]) else {
        return;
    };
    nft(&ns.0, &fixture("firewalld"));
    let (code, report) = local(&ns.0, 8095);
    assert_eq!(
        (code, report["port"]["cause"].as_str()),
        (1, Some("host_firewall")),
        "{report}"
    );
    let v = &report["firewall"]["verdict"];
    assert_eq!(
        v["rule"]["rule"], "reject with icmpx admin-prohibited",
        "{v}"
    );
    assert_eq!(
        (v["stop"].as_str(), v["owner"]["zone"].as_str()),
        (Some("reject"), Some("public")),
        "{v}"
    );
    assert_eq!(
        v["fix"],
        "firewall-cmd --zone=public --add-port=8095/tcp (and once more with --permanent to keep it)"
    );
    // The trusted zone's interface lets everything in.
    assert_eq!(v["access"], "restricted", "{v}");
    assert_eq!(v["allowed"][0]["interface"], "eth9", "{v}");
    assert_eq!(local(&ns.0, 9090).1["port"]["cause"], "ok");
}

pub fn tables_at_other_priorities_all_must_accept() {
    let test = "tables_at_other_priorities_all_must_accept";
    let Some((ns, _servers)) = bed(test, "fwprio", &[8089, 8090, 8091]) else {
        return;
    };
    nft(&ns.0, &fixture("two_tables"));
    nft(
        &ns.0,
        "table ip early { chain pre { type filter hook prerouting priority -150; policy accept; tcp dport 8089 drop\n}\n}\n",
    );
    // A drop in a table of its own, at another priority (prerouting, -150).
    let v = stopped(&ns.0, 8089, "tcp dport 8089 drop");
    assert_eq!(v["rule"]["table"], "ip early", "{v}");
    // Accepted in one table, dropped in the next: dropped.
    let v = stopped(&ns.0, 8090, "tcp dport 8090 drop");
    assert_eq!(v["rule"]["table"], "ip late", "{v}");
    assert_eq!(local(&ns.0, 8091).1["port"]["cause"], "ok");
}

pub fn established_accept_does_not_let_new_connections_in() {
    let test = "established_accept_does_not_let_new_connections_in";
    let Some((ns, _servers)) = bed(test, "fwct", &[8093, 8094]) else {
        return;
    };
    nft(&ns.0, &fixture("ct_state"));
    stopped(&ns.0, 8093, "tcp dport 8093 drop");
    let v = stopped(
        &ns.0,
        8094,
        "ct state new tcp dport 8094 reject with tcp reset",
    );
    assert_eq!(v["stop"], "reject", "{v}");
}

pub fn a_source_restriction_and_an_unknown_match() {
    let test = "a_source_restriction_and_an_unknown_match";
    let Some((ns, _servers)) = bed(test, "fwsrc", &[8095, 8098]) else {
        return;
    };
    nft(&ns.0, &fixture("source"));
    nft(&ns.0, &fixture("unknown"));
    let (code, report) = local(&ns.0, 8095);
    assert_eq!(code, 1, "{report}");
    let detail = report["port"]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("allowed only from 192.0.2.0/24"),
        "{detail}"
    );
    assert_eq!(
        report["firewall"]["verdict"]["allowed"][0]["sources"][0],
        "192.0.2.0/24"
    );
    // `meta mark` is not evaluated: ok, but said to maybe apply, with the rule.
    let (code, report) = local(&ns.0, 8098);
    assert_eq!(
        (code, report["port"]["cause"].as_str()),
        (0, Some("ok")),
        "{report}"
    );
    let may = &report["firewall"]["verdict"]["may_apply"][0];
    assert_eq!(
        (may["unknown"].as_str(), may["would"].as_str()),
        (Some("meta mark 1"), Some("drop")),
        "{report}"
    );
    let detail = report["port"]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("unless this rule applies")
            && detail.contains("tcp dport 8098 meta mark 1 drop"),
        "{detail}"
    );
}

pub fn the_listing_says_how_far_each_port_is_let_in() {
    let test = "the_listing_says_how_far_each_port_is_let_in";
    let Some((ns, _servers)) = bed(test, "fwlist", &[22, 8086, 8095]) else {
        return;
    };
    nft(&ns.0, &fixture("policy_jump"));
    nft(
        &ns.0,
        "table inet extra { chain input { type filter hook input priority -5; policy accept; ip saddr != 192.0.2.0/24 tcp dport 22 drop\n}\n}\n",
    );
    let (_, stdout, stderr) = ipdiag_in(&ns.0, &["local", "--json"]);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let access = |port: u16| {
        let listener = report["listening"]
            .as_array()
            .and_then(|l| {
                l.iter()
                    .find(|l| l["port"] == port && l["protocol"] == "tcp")
            })
            .unwrap_or_else(|| panic!("{port}: {report}"));
        (
            listener["firewall"]["access"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            listener["firewall"]["detail"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    };
    assert_eq!(
        access(22),
        ("restricted".into(), "allowed only from 192.0.2.0/24".into())
    );
    assert_eq!(
        access(8086),
        (
            "blocked".into(),
            "inet filter user_in: tcp dport 8086 drop".into()
        )
    );
    assert_eq!(
        access(8095),
        ("blocked".into(), "inet filter input: policy drop".into())
    );
    let (_, listing, _) = ipdiag_in(&ns.0, &["local"]);
    assert!(
        listing.contains("firewall: restricted (allowed only from 192.0.2.0/24)"),
        "{listing}"
    );
}

/// Rules loaded by the legacy iptables filter too, unseen by nft and by the `nf_tables`
/// `iptables-save`: `iptables-legacy-save` is read as well.
pub fn legacy_iptables_rules_are_read_too() {
    let test = "legacy_iptables_rules_are_read_too";
    let Some((ns, _servers)) = bed(test, "fwlegacy", &[8088]) else {
        return;
    };
    let mut args = vec!["ip", "netns", "exec", &ns.0, "iptables-legacy"];
    args.extend(["-A", "INPUT", "-p", "tcp", "--dport", "8088", "-j", "DROP"]);
    run(&args);
    let v = stopped(&ns.0, 8088, "-A INPUT -p tcp -m tcp --dport 8088 -j DROP");
    assert_eq!(v["rule"]["backend"], "iptables", "{v}");
    let (_, report) = local(&ns.0, 8088);
    let read = report["firewall"]["read_from"].to_string();
    assert!(read.contains("iptables-save (legacy)"), "{read}");
}
