//! The evaluator on real `nft -j` output (`tests/fixtures/firewall/NAME.json`, made by
//! `nft -f NAME.nft` in a throwaway namespace): one row per packet, its access, the rule
//! that stops it and where it is let in from.

use super::*;
use crate::local::firewall::read_nft;
use crate::model::Transport::{self, Tcp, Udp};
use test_case::test_case;

fn fixture(name: &str) -> Ruleset {
    let path = format!(
        "{}/tests/fixtures/firewall/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    read_nft(&std::fs::read_to_string(&path).expect(&path)).expect("nft JSON")
}

fn verdict_of(name: &str, family: IpFamily, protocol: Transport, port: u16) -> FirewallVerdict {
    evaluate(&fixture(name), &Packet::new(family, protocol, port))
}

const V4: IpFamily = IpFamily::V4;
const V6: IpFamily = IpFamily::V6;

/// (access, the stopping rule as printed, drop or reject).
#[test_case("policy_jump", V4, Tcp, 22 => (Access::Open, String::new(), None); "accepted before the policy")]
#[test_case("policy_jump", V4, Tcp, 8086 => (Access::Blocked, "inet filter user_in: tcp dport 8086 drop".into(), Some(Stop::Drop)); "dropped in the chain jumped to")]
#[test_case("policy_jump", V4, Tcp, 8087 => (Access::Blocked, "inet filter input: policy drop".into(), Some(Stop::Drop)); "back from the jump to the policy")]
#[test_case("two_tables", V4, Tcp, 8090 => (Access::Blocked, "ip late input: tcp dport 8090 drop".into(), Some(Stop::Drop)); "accepted in one table, dropped in the next")]
#[test_case("two_tables", V4, Tcp, 8091 => (Access::Open, String::new(), None); "an ip6 table does not see IPv4")]
#[test_case("two_tables", V6, Udp, 8091 => (Access::Blocked, "ip6 early pre: udp dport 8091 drop".into(), Some(Stop::Drop)); "prerouting at another priority")]
#[test_case("two_tables", V4, Tcp, 8092 => (Access::Open, String::new(), None); "nat chains do not filter")]
#[test_case("ct_state", V4, Tcp, 8093 => (Access::Blocked, "inet filter input: tcp dport 8093 drop".into(), Some(Stop::Drop)); "established accept does not let a new connection in")]
#[test_case("ct_state", V4, Tcp, 8094 => (Access::Blocked, "inet filter input: ct state new tcp dport 8094 reject with tcp reset".into(), Some(Stop::Reject)); "ct state new holds")]
#[test_case("ct_state", V6, Udp, 8093 => (Access::Open, String::new(), None); "tcp rule, udp packet")]
#[test_case("firewalld", V4, Tcp, 9090 => (Access::Open, String::new(), None); "allowed in the zone")]
#[test_case("firewalld", V6, Tcp, 22 => (Access::Open, String::new(), None); "rpfilter passes, allowed in the zone")]
#[test_case("maps", V4, Tcp, 8102 => (Access::Blocked, "inet filter input: tcp dport vmap @portv".into(), Some(Stop::Drop)); "named verdict map")]
#[test_case("maps", V4, Tcp, 8103 => (Access::Open, String::new(), None); "named verdict map accept")]
#[test_case("maps", V4, Tcp, 8104 => (Access::Open, String::new(), None); "inline verdict map accept")]
#[test_case("maps", V4, Tcp, 8105 => (Access::Blocked, "inet filter deny: drop".into(), Some(Stop::Drop)); "verdict map jump")]
#[test_case("maps", V4, Tcp, 8106 => (Access::Blocked, "inet filter input: policy drop".into(), Some(Stop::Drop)); "return from the map's chain, then the policy")]
#[test_case("maps", V4, Udp, 54 => (Access::Blocked, "inet filter input: udp dport != 53 reject".into(), Some(Stop::Reject)); "negated port")]
fn walks(
    name: &str,
    family: IpFamily,
    protocol: Transport,
    port: u16,
) -> (Access, String, Option<Stop>) {
    let v = verdict_of(name, family, protocol, port);
    assert!(v.may_apply.is_empty(), "{v:?}");
    if v.access == Access::Open {
        assert_eq!((v.rule.clone(), v.fix.clone()), (None, None), "{v:?}");
    }
    (
        v.access,
        v.rule.map(|r| r.text()).unwrap_or_default(),
        v.stop,
    )
}

#[test]
fn firewalld_zone_rejects_and_names_the_zone() {
    let v = verdict_of("firewalld", V4, Tcp, 8095);
    // An interface named in a trusted zone lets it in; every other one rejects it.
    assert_eq!(v.access, Access::Restricted);
    assert_eq!(
        v.allowed,
        [Allowance {
            sources: vec![],
            interface: Some("eth9".into())
        }]
    );
    assert_eq!(
        v.rule.as_ref().map(RuleRef::text).as_deref(),
        Some("inet firewalld filter_IN_public: reject with icmpx admin-prohibited")
    );
    assert_eq!(v.stop, Some(Stop::Reject));
    assert_eq!(
        v.owner,
        Some(Owner {
            tool: "firewalld",
            zone: Some("public".into())
        })
    );
    assert_eq!(
        v.fix.as_deref(),
        Some(
            "firewall-cmd --zone=public --add-port=8095/tcp (and once more with --permanent to keep it)"
        )
    );
    // On a known interface, a plain answer.
    let mut packet = Packet::new(V4, Tcp, 8095);
    packet.interface = Some("eth0".into());
    assert_eq!(
        evaluate(&fixture("firewalld"), &packet).access,
        Access::Blocked
    );
    packet.interface = Some("eth9".into());
    assert_eq!(
        evaluate(&fixture("firewalld"), &packet).access,
        Access::Open
    );
}

#[test]
fn allowed_only_from_a_source() {
    let v = verdict_of("source", V4, Tcp, 8095);
    assert_eq!(v.access, Access::Restricted);
    assert_eq!(
        v.allowed,
        [Allowance {
            sources: vec!["192.0.2.0/24".into()],
            interface: None
        }]
    );
    assert_eq!(
        v.rule.map(|r| r.text()).as_deref(),
        Some("inet filter input: tcp dport 8095 drop")
    );
    assert_eq!(
        v.fix.as_deref(),
        Some("nft insert rule inet filter input tcp dport 8095 accept")
    );
    // From a given source: a plain answer each way.
    let set = fixture("source");
    let mut packet = Packet::new(V4, Tcp, 8095);
    packet.source = Some("192.0.2.77".parse().unwrap());
    assert_eq!(evaluate(&set, &packet).access, Access::Open);
    packet.source = Some("198.51.100.1".parse().unwrap());
    assert_eq!(evaluate(&set, &packet).access, Access::Blocked);
    // `!=`: dropped from everywhere but 192.0.2.0/24.
    let v = verdict_of("source", V4, Udp, 8097);
    assert_eq!(v.access, Access::Restricted);
    assert_eq!(v.allowed[0].sources, ["192.0.2.0/24"]);
    // `ip saddr` is IPv4's: over IPv6 these rules do not hold.
    assert_eq!(verdict_of("source", V6, Udp, 8097).access, Access::Open);
}

#[test]
fn allowed_from_a_named_set_or_an_interface() {
    let v = verdict_of("source", V4, Tcp, 8096);
    assert_eq!(v.access, Access::Restricted);
    assert_eq!(
        v.allowed,
        [
            Allowance {
                sources: vec![],
                interface: Some("eth1".into())
            },
            Allowance {
                sources: vec!["198.51.100.7/32".into(), "203.0.113.0/28".into()],
                interface: Some("other interfaces".into())
            }
        ]
    );
}

#[test]
fn a_match_ipdiag_cannot_evaluate_may_apply() {
    for (port, unknown) in [(8098, "meta mark 1"), (8099, "limit rate over 10/second")] {
        let v = verdict_of("unknown", V4, Tcp, port);
        assert_eq!(v.access, Access::Open, "{port}");
        assert_eq!(v.may_apply.len(), 1, "{v:?}");
        let m = &v.may_apply[0];
        assert_eq!((m.unknown.as_str(), m.would), (unknown, "drop"), "{port}");
        assert!(
            m.rule
                .text()
                .starts_with(&format!("inet filter input: tcp dport {port} ")),
            "{m:?}"
        );
    }
    // A rule with no verdict cannot change one.
    assert!(verdict_of("unknown", V4, Tcp, 8100).may_apply.is_empty());
    // Behind a drop, an unknown accept is never reached.
    let v = verdict_of("unknown", V4, Tcp, 8101);
    assert_eq!((v.access, v.may_apply.len()), (Access::Blocked, 0));
}

#[test]
fn networks_from_ranges() {
    let r = |a: &str, b: &str| (a.parse().unwrap(), b.parse().unwrap());
    assert_eq!(
        networks(V4, &[r("192.0.2.0", "192.0.2.255")]),
        ["192.0.2.0/24"]
    );
    assert_eq!(
        networks(V4, &[r("0.0.0.0", "255.255.255.255")]),
        ["0.0.0.0/0"]
    );
    assert_eq!(
        networks(
            V4,
            &[
                r("192.0.2.0", "192.0.2.127"),
                r("192.0.2.128", "192.0.2.130")
            ]
        ),
        ["192.0.2.0/25", "192.0.2.128/31", "192.0.2.130/32"]
    );
    assert_eq!(
        networks(V6, &[r("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]),
        ["::/0"]
    );
    assert_eq!(
        networks(V6, &[r("2001:db8::", "2001:db8::ffff")]),
        ["2001:db8::/112"]
    );
}

#[test]
fn sources_no_other_machine_has_are_not_counted() {
    // `ip saddr 127.0.0.0/8 accept`, then the policy: nobody from elsewhere gets in.
    let save = "*filter\n:INPUT DROP [0:0]\n-A INPUT -s 127.0.0.0/8 -j ACCEPT\n-A INPUT -s 224.0.0.0/4 -j ACCEPT\n";
    let set = crate::local::firewall::read_save(save, crate::local::firewall::Backend::Iptables);
    let v = evaluate(&set, &Packet::new(V4, Tcp, 80));
    assert_eq!(v.access, Access::Blocked, "{v:?}");
    // A real network next to them still counts.
    let save = "*filter\n:INPUT DROP [0:0]\n-A INPUT -s 126.0.0.0/7 -j ACCEPT\n";
    let set = crate::local::firewall::read_save(save, crate::local::firewall::Backend::Iptables);
    let v = evaluate(&set, &Packet::new(V4, Tcp, 80));
    assert_eq!(
        (v.access, v.allowed[0].sources.clone()),
        (Access::Restricted, vec!["126.0.0.0/7".to_owned()])
    );
}

proptest::proptest! {
    /// Ranges written as networks cover exactly the ranges: the networks are aligned,
    /// disjoint, in order, and their sizes add up.
    #[test]
    fn networks_cover_exactly_their_ranges(a in proptest::prelude::any::<u32>(), b in proptest::prelude::any::<u32>()) {
        let (lo, hi) = (a.min(b), a.max(b));
        let range = (
            std::net::IpAddr::from(std::net::Ipv4Addr::from(lo)),
            std::net::IpAddr::from(std::net::Ipv4Addr::from(hi)),
        );
        let mut next = u64::from(lo);
        for text in networks(V4, &[range]) {
            let net: ipnet::Ipv4Net = text.parse().unwrap();
            proptest::prop_assert_eq!(u64::from(u32::from(net.network())), next, "{}", text);
            next = u64::from(u32::from(net.broadcast())) + 1;
        }
        proptest::prop_assert_eq!(next, u64::from(hi) + 1);
    }
}
