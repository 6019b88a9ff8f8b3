//! The readers and the walk on real `nft -j` output: what stops each packet, in nft's
//! words; `merge` of nft's and iptables' views; the readers never panic. (Whole rulesets:
//! `firewall/summary_tests.rs`; iptables: `firewall/iptables_tests.rs`.)

use super::*;
use crate::model::Transport;
use proptest::prelude::*;

// The JSON below is `nft -j list ruleset` (nftables 1.0.6) after `nft -f` of the ruleset
// quoted above each, in a throwaway network namespace.

/// `table inet host { chain input { type filter hook input priority 0; policy accept;
/// tcp dport 7890 drop } chain forward { type filter hook forward priority 0;
/// policy accept; tcp dport 7891 drop } }`
const SINGLE: &str = r#"{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "host", "handle": 1}}, {"chain": {"family": "inet", "table": "host", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}, {"chain": {"family": "inet", "table": "host", "name": "forward", "handle": 2, "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}}, {"rule": {"family": "inet", "table": "host", "chain": "input", "handle": 3, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 7890}}, {"drop": null}]}}, {"rule": {"family": "inet", "table": "host", "chain": "forward", "handle": 4, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 7891}}, {"drop": null}]}}]}"#;

/// `table ip filter { chain input { type filter hook input priority 0; policy accept;
/// tcp dport 7894 reject with icmp type admin-prohibited; tcp dport 1234 ct state new counter
/// reject with tcp reset; ip saddr 10.0.0.0/8 tcp dport 3306 drop } }`
const REJECT: &str = r#"{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "ip", "name": "filter", "handle": 2}}, {"chain": {"family": "ip", "table": "filter", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}, {"rule": {"family": "ip", "table": "filter", "chain": "input", "handle": 2, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 7894}}, {"reject": {"type": "icmp", "expr": "admin-prohibited"}}]}}, {"rule": {"family": "ip", "table": "filter", "chain": "input", "handle": 3, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 1234}}, {"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": "new"}}, {"counter": {"packets": 0, "bytes": 0}}, {"reject": {"type": "tcp reset"}}]}}, {"rule": {"family": "ip", "table": "filter", "chain": "input", "handle": 4, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "10.0.0.0", "len": 8}}}}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 3306}}, {"drop": null}]}}]}"#;

/// `table inet host { set blocked { type inet_service; flags interval; elements =
/// { 5000-5010, 6000 } } chain input { type filter hook input priority 0; policy accept;
/// tcp dport { 22, 7000-7100, 8443 } drop; udp dport 7895-7899 reject;
/// tcp dport @blocked drop; th dport 9000 drop } }`
const SETS: &str = r#"{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "host", "handle": 3}}, {"set": {"family": "inet", "name": "blocked", "table": "host", "type": "inet_service", "handle": 2, "flags": ["interval"], "elem": [{"range": [5000, 5010]}, 6000]}}, {"chain": {"family": "inet", "table": "host", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}, {"rule": {"family": "inet", "table": "host", "chain": "input", "handle": 4, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"set": [22, {"range": [7000, 7100]}, 8443]}}}, {"drop": null}]}}, {"rule": {"family": "inet", "table": "host", "chain": "input", "handle": 5, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": {"range": [7895, 7899]}}}, {"reject": {"type": "icmpx", "expr": "port-unreachable"}}]}}, {"rule": {"family": "inet", "table": "host", "chain": "input", "handle": 6, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": "@blocked"}}, {"drop": null}]}}, {"rule": {"family": "inet", "table": "host", "chain": "input", "handle": 7, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "th", "field": "dport"}}, "right": 9000}}, {"drop": null}]}}]}"#;

/// `table inet filter { chain input { type filter hook input priority 0; policy drop;
/// ct state established,related accept; iifname "lo" accept; tcp dport 22 accept;
/// udp dport 53 accept; jump extra } chain extra { tcp dport 4444 accept } }`
const POLICY: &str = r#"{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "filter", "handle": 4}}, {"chain": {"family": "inet", "table": "filter", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}, {"chain": {"family": "inet", "table": "filter", "name": "extra", "handle": 2}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 3, "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 4, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "lo"}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 5, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 6, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": 53}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 7, "expr": [{"jump": {"target": "extra"}}]}}, {"rule": {"family": "inet", "table": "filter", "chain": "extra", "handle": 8, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 4444}}, {"accept": null}]}}]}"#;

/// `table inet host { chain input { type filter hook input priority 0; policy accept;
/// tcp dport 8080 accept; tcp dport != 443 counter accept; meta l4proto udp reject; drop } }`
const ORDER: &str = r#"{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "host", "handle": 5}}, {"chain": {"family": "inet", "table": "host", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}, {"rule": {"family": "inet", "table": "host", "chain": "input", "handle": 2, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 8080}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "host", "chain": "input", "handle": 3, "expr": [{"match": {"op": "!=", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 443}}, {"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "host", "chain": "input", "handle": 4, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "udp"}}, {"reject": {"type": "icmpx", "expr": "port-unreachable"}}]}}, {"rule": {"family": "inet", "table": "host", "chain": "input", "handle": 5, "expr": [{"drop": null}]}}]}"#;

/// `table inet host { set recent { type inet_service; flags timeout; elements =
/// { 7001 timeout 1h, 7002 } } chain input { type filter hook input priority 0;
/// policy accept; tcp dport @recent drop; tcp dport 7003 limit rate over 10/second drop;
/// tcp dport vmap { 7004 : drop, 7005 : accept }; ip protocol udp udp dport 7006 drop;
/// ct state invalid drop; tcp dport 7007 ct state != established reject with tcp reset } }
/// table ip6 early { chain input { type filter hook input priority -10; policy accept;
/// tcp dport 7001 accept; meta l4proto { tcp, udp } th dport 7008 log prefix "bye " drop } }`
const MISC: &str = r#"{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "host", "handle": 1}}, {"set": {"family": "inet", "name": "recent", "table": "host", "type": "inet_service", "handle": 2, "flags": ["timeout"], "elem": [{"elem": {"val": 7001, "timeout": 3600, "expires": 3599}}, 7002]}}, {"chain": {"family": "inet", "table": "host", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}, {"rule": {"family": "inet", "table": "host", "chain": "input", "handle": 3, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": "@recent"}}, {"drop": null}]}}, {"rule": {"family": "inet", "table": "host", "chain": "input", "handle": 4, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 7003}}, {"limit": {"rate": 10, "burst": 5, "per": "second", "inv": true}}, {"drop": null}]}}, {"rule": {"family": "inet", "table": "host", "chain": "input", "handle": 6, "expr": [{"vmap": {"key": {"payload": {"protocol": "tcp", "field": "dport"}}, "data": {"set": [[7004, {"drop": null}], [7005, {"accept": null}]]}}}]}}, {"rule": {"family": "inet", "table": "host", "chain": "input", "handle": 7, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "protocol"}}, "right": "udp"}}, {"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": 7006}}, {"drop": null}]}}, {"rule": {"family": "inet", "table": "host", "chain": "input", "handle": 8, "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": "invalid"}}, {"drop": null}]}}, {"rule": {"family": "inet", "table": "host", "chain": "input", "handle": 9, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 7007}}, {"match": {"op": "!=", "left": {"ct": {"key": "state"}}, "right": "established"}}, {"reject": {"type": "tcp reset"}}]}}, {"table": {"family": "ip6", "name": "early", "handle": 2}}, {"chain": {"family": "ip6", "table": "early", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": -10, "policy": "accept"}}, {"rule": {"family": "ip6", "table": "early", "chain": "input", "handle": 2, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 7001}}, {"accept": null}]}}, {"rule": {"family": "ip6", "table": "early", "chain": "input", "handle": 4, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": {"set": ["tcp", "udp"]}}}, {"match": {"op": "==", "left": {"payload": {"protocol": "th", "field": "dport"}}, "right": 7008}}, {"log": {"prefix": "bye "}}, {"drop": null}]}}]}"#;

const TCP: Transport = Transport::Tcp;
const UDP: Transport = Transport::Udp;

/// (access, the stopping rule as printed) for an IPv4 packet.
fn nft(json: &str, protocol: Transport, port: u16) -> (Access, String) {
    nft_in(json, IpFamily::V4, protocol, port)
}

fn nft_in(json: &str, family: IpFamily, protocol: Transport, port: u16) -> (Access, String) {
    let set = read_nft(json).expect("nft JSON");
    let v = evaluate(&set, &Packet::new(family, protocol, port));
    (v.access, v.rule.map(|r| r.text()).unwrap_or_default())
}

fn open() -> (Access, String) {
    (Access::Open, String::new())
}

fn blocked(rule: &str) -> (Access, String) {
    (Access::Blocked, rule.to_owned())
}

#[test]
fn nft_single_port_drop() {
    assert_eq!(
        nft(SINGLE, TCP, 7890),
        blocked("inet host input: tcp dport 7890 drop")
    );
    assert_eq!(nft(SINGLE, TCP, 7889), open(), "another port");
    assert_eq!(nft(SINGLE, UDP, 7890), open(), "udp, the rule is tcp");
    assert_eq!(
        nft(SINGLE, TCP, 7891),
        open(),
        "forward hook: not for this host"
    );
}

#[test]
fn nft_reject_and_conditions() {
    assert_eq!(
        nft(REJECT, TCP, 7894),
        blocked("ip filter input: tcp dport 7894 reject with icmp admin-prohibited")
    );
    // `ct state new` holds for a new connection; the counter changes nothing.
    assert_eq!(
        nft(REJECT, TCP, 1234),
        blocked("ip filter input: tcp dport 1234 ct state new counter reject with tcp reset")
    );
    let from_ten = nft(REJECT, TCP, 3306);
    assert_eq!(
        from_ten,
        (
            Access::Restricted,
            "ip filter input: ip saddr 10.0.0.0/8 tcp dport 3306 drop".into()
        ),
        "dropped from 10.0.0.0/8 only"
    );
    assert_eq!(
        nft_in(REJECT, IpFamily::V6, TCP, 7894),
        open(),
        "an ip table"
    );
}

#[test]
fn nft_sets_and_ranges() {
    let set = blocked("inet host input: tcp dport { 22, 7000-7100, 8443 } drop");
    for port in [22, 7000, 7050, 7100, 8443] {
        assert_eq!(nft(SETS, TCP, port), set, "{port}");
    }
    assert_eq!(nft(SETS, TCP, 7101), open());
    assert_eq!(nft(SETS, UDP, 22), open());
    let range = blocked("inet host input: udp dport 7895-7899 reject");
    assert_eq!(nft(SETS, UDP, 7897), range);
    assert_eq!(nft(SETS, TCP, 7897), open());
    let named = blocked("inet host input: tcp dport @blocked drop");
    assert_eq!(nft(SETS, TCP, 5005), named);
    assert_eq!(nft(SETS, TCP, 6000), named);
    assert_eq!(nft(SETS, TCP, 5011), open());
    // `th dport`: whichever the transport.
    let th = blocked("inet host input: th dport 9000 drop");
    assert_eq!(nft(SETS, TCP, 9000), th);
    assert_eq!(nft(SETS, UDP, 9000), th);
}

#[test]
fn nft_policy_drop_after_the_accepts_and_the_jump() {
    assert_eq!(nft(POLICY, TCP, 22), open(), "accepted before the policy");
    assert_eq!(nft(POLICY, UDP, 53), open());
    assert_eq!(
        nft(POLICY, TCP, 4444),
        open(),
        "accepted in the chain jumped to"
    );
    let policy = blocked("inet filter input: policy drop");
    assert_eq!(nft(POLICY, UDP, 22), policy);
    assert_eq!(
        nft(POLICY, TCP, 80),
        policy,
        "`iifname lo` is not another machine's"
    );
}

#[test]
fn nft_rules_in_order() {
    assert_eq!(nft(ORDER, TCP, 8080), open());
    assert_eq!(nft(ORDER, TCP, 7000), open(), "`!= 443 accept` takes it");
    assert_eq!(nft(ORDER, TCP, 443), blocked("inet host input: drop"));
    assert_eq!(
        nft(ORDER, UDP, 8080),
        blocked("inet host input: meta l4proto udp reject")
    );
}

#[test]
fn nft_timeouts_vmaps_and_priorities() {
    // 7001 is accepted by ip6 early, but base chains are passed one after the other: inet
    // host still drops it (and IPv4 never sees ip6 early).
    let recent = blocked("inet host input: tcp dport @recent drop");
    assert_eq!(nft(MISC, TCP, 7001), recent);
    assert_eq!(nft_in(MISC, IpFamily::V6, TCP, 7001), recent);
    assert_eq!(nft(MISC, TCP, 7002), recent);
    let set = read_nft(MISC).unwrap();
    let v = evaluate(&set, &Packet::new(IpFamily::V4, TCP, 7003));
    assert_eq!(v.access, Access::Open);
    assert_eq!(
        v.may_apply[0].unknown, "limit rate over 10/second",
        "only over a rate"
    );
    let vmap = "inet host input: tcp dport vmap { 7004 : drop, 7005 : accept }";
    assert_eq!(nft(MISC, TCP, 7004), blocked(vmap));
    assert_eq!(nft(MISC, TCP, 7005), open());
    assert_eq!(
        nft(MISC, UDP, 7006),
        blocked("inet host input: ip protocol udp udp dport 7006 drop")
    );
    assert_eq!(nft(MISC, TCP, 7006), open());
    assert_eq!(
        nft(MISC, TCP, 7007),
        blocked("inet host input: tcp dport 7007 ct state != established reject with tcp reset")
    );
    let both = blocked(
        r#"ip6 early input: meta l4proto { tcp, udp } th dport 7008 log prefix "bye " drop"#,
    );
    assert_eq!(nft_in(MISC, IpFamily::V6, UDP, 7008), both);
    assert_eq!(nft_in(MISC, IpFamily::V6, TCP, 7008), both);
    assert_eq!(nft(MISC, TCP, 7008), open(), "an ip6 table");
    assert_eq!(
        nft(MISC, TCP, 7009),
        open(),
        "ct state invalid: not a new connection"
    );
}

#[test]
fn nft_base_chains_by_priority() {
    // A second base chain, listed last but passed first (priority -5 before 0).
    let early = r#"{"chain": {"family": "ip", "table": "t", "name": "c", "hook": "input", "prio": -5, "policy": "drop"}}"#;
    let early = format!("{}, {early}]}}", SINGLE.strip_suffix("]}").unwrap());
    assert_eq!(nft(&early, TCP, 7890), blocked("ip t c: policy drop"));
}

#[test]
fn nft_never_panics_on_odd_json() {
    for json in [
        "",
        "not json",
        "null",
        "[]",
        r#"{"nftables": 5}"#,
        r#"{"nftables": [5, null, {"chain": 5}, {"rule": {"expr": 5}}]}"#,
        r#"{"nftables": [{"chain": {"family": "inet", "hook": "input", "policy": 1, "prio": "x"}}, {"rule": {"family": "inet", "expr": [null, 5, {}, {"match": null}, {"match": {"op": 3, "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"range": [1]}}}, {"vmap": {"key": {"payload": {"protocol": "tcp", "field": "dport"}}, "data": {"set": [5, [], [7890], [7890, 5]]}}}, {"drop": null}]}}]}"#,
        r#"{"nftables": [{"chain": {"family": "inet", "hook": "input"}}, {"set": {"family": "inet", "name": "a", "elem": ["@a", {"set": "x"}, {"elem": 1}, -1, 1.5, 99999999999999999999]}}, {"rule": {"family": "inet", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "th", "field": "dport"}}, "right": "@a"}}, {"drop": null}]}}]}"#,
    ] {
        if let Some(set) = read_nft(json) {
            let _ = evaluate(&set, &Packet::new(IpFamily::V4, TCP, 7890));
        }
    }
    // A blanket `drop` after a match ipdiag does not know may apply: said, not guessed.
    let unknown = r#"{"nftables": [{"chain": {"family": "inet", "table": "t", "name": "c", "hook": "input", "type": "filter"}}, {"rule": {"family": "inet", "table": "t", "chain": "c", "expr": [{"xt": {"type": "match", "name": "recent"}}, {"drop": null}]}}]}"#;
    let v = evaluate(
        &read_nft(unknown).unwrap(),
        &Packet::new(IpFamily::V4, TCP, 1),
    );
    assert_eq!(v.access, Access::Open);
    assert_eq!(
        (
            v.may_apply[0].rule.text().as_str(),
            v.may_apply[0].unknown.as_str(),
            v.may_apply[0].would
        ),
        ("inet t c: xt match recent drop", "xt match recent", "drop")
    );
    let known = unknown.replace(r#"{"xt": {"type": "match", "name": "recent"}}, "#, "");
    assert_eq!(nft(&known, TCP, 1), blocked("inet t c: drop"));
}

#[test]
fn jumps_that_loop_or_lead_nowhere_end() {
    // The kernel refuses loops, but the JSON may say anything.
    let looped = r#"{"nftables": [{"chain": {"family": "ip", "table": "t", "name": "c", "hook": "input", "type": "filter", "policy": "drop"}}, {"chain": {"family": "ip", "table": "t", "name": "d"}}, {"rule": {"family": "ip", "table": "t", "chain": "c", "expr": [{"jump": {"target": "d"}}]}}, {"rule": {"family": "ip", "table": "t", "chain": "d", "expr": [{"jump": {"target": "c"}}]}}, {"rule": {"family": "ip", "table": "t", "chain": "c", "expr": [{"jump": {"target": "nowhere"}}]}}]}"#;
    assert_eq!(nft(looped, TCP, 1), blocked("ip t c: policy drop"));
}

const LEGACY: &str = "# Generated by iptables-save v1.8.9 (legacy) on Sun Dec  6 20:00:00 2026\n*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 7890 -j REJECT\nCOMMIT\n";
const NF: &str = "# Generated by iptables-save v1.8.9 (nf_tables) on Sun Dec  6 20:00:00 2026\n*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m multiport --dports 7890,7891 -j DROP\nCOMMIT\n";

#[test]
fn merge_adds_legacy_tables_and_replaces_nf_tables_ones() {
    // nft's view of an iptables-nft table: the multiport match is an opaque `xt`.
    let xt = r#"{"nftables": [{"chain": {"family": "ip", "table": "filter", "name": "INPUT", "hook": "input", "type": "filter", "prio": 0, "policy": "accept"}}, {"rule": {"family": "ip", "table": "filter", "chain": "INPUT", "expr": [{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}}, {"xt": {"type": "match", "name": "multiport"}}, {"drop": null}]}}]}"#;
    let packet = Packet::new(IpFamily::V4, TCP, 7891);
    let both = merge(read_nft(xt), &[(NF.to_owned(), Backend::Iptables)]);
    assert_eq!(
        both.read_from,
        ["nft -j list ruleset", "iptables-save (nf_tables)"]
    );
    let v = evaluate(&both.ruleset, &packet);
    assert_eq!(v.access, Access::Blocked);
    assert_eq!(
        v.rule.map(|r| r.text()).as_deref(),
        Some("-A INPUT -p tcp -m multiport --dports 7890,7891 -j DROP")
    );
    assert!(v.may_apply.is_empty());
    // A legacy table is a hook of its own: both are passed.
    let legacy = merge(read_nft(SINGLE), &[(LEGACY.to_owned(), Backend::Iptables)]);
    assert_eq!(
        legacy.read_from,
        ["nft -j list ruleset", "iptables-save (legacy)"]
    );
    assert_eq!(
        legacy.ruleset.chains.len(),
        2,
        "nft's input (not its forward), INPUT"
    );
    let v = evaluate(&legacy.ruleset, &Packet::new(IpFamily::V4, TCP, 7890));
    assert_eq!(
        v.stop,
        Some(Stop::Drop),
        "nft's drop comes first (listed first)"
    );
    // Empty output (no tables) adds nothing.
    let none = merge(None, &[(String::new(), Backend::Ip6tables)]);
    assert!(none.ruleset.chains.is_empty() && none.read_from.is_empty());
}

// `/usr/sbin` and `/sbin` are Linux's (`local` is refused elsewhere).
#[cfg(target_os = "linux")]
#[test]
fn tools_come_from_the_system_directories() {
    let tools = Tools::system();
    for path in [&tools.nft, &tools.iptables_save, &tools.ip6tables_save] {
        assert!(path.is_absolute(), "{}", path.display());
    }
    match read(&tools) {
        FirewallView::Read(r) => assert!(!r.read_from.is_empty() || r.ruleset.chains.is_empty()),
        FirewallView::Unavailable(why) => assert!(!why.is_empty()),
    }
}

proptest! {
    #[test]
    fn nft_never_panics(s in "\\PC{0,200}", port in any::<u16>()) {
        if let Some(set) = read_nft(&s) {
            let _ = evaluate(&set, &Packet::new(IpFamily::V4, TCP, port));
        }
    }

    #[test]
    fn nft_never_panics_on_json_like_text(s in r#"[\[\]{}":, 0-9a-z@-]{0,200}"#) {
        let json = format!(r#"{{"nftables": [{{"chain": {{"family": "inet", "table": "t", "name": "c", "hook": "input"}}}}, {s}]}}"#);
        if let Some(set) = read_nft(&json) {
            let _ = evaluate(&set, &Packet::new(IpFamily::V6, UDP, 53));
        }
    }
}
