//! The ruleset readers (`ipdiag::local::firewall::{read_nft, read_save}`) and the evaluator
//! on arbitrary text, read as nft's JSON and as `iptables-save` / `ip6tables-save` output:
//! never a panic; every chain is of the reader's backend; an iptables reading has at most
//! one rule a line; and each verdict is consistent (open: no stopping rule and no
//! allowances; blocked: a rule; restricted: a rule and somewhere it is let in) and
//! serialises to JSON.
//! Run: `cargo +nightly fuzz run firewall -- -max_total_time=60`.

use ipdiag::local::firewall::model::Ruleset;
use ipdiag::local::firewall::{Access, Backend, IpFamily, Packet, evaluate, read_nft, read_save};
use ipdiag::model::Transport;

/// The target's assertions on one input.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(set) = read_nft(text) {
        assert!(set.chains.iter().all(|c| c.backend == Backend::Nftables));
        verdicts(&set);
    }
    let lines = text.lines().count();
    for backend in [Backend::Iptables, Backend::Ip6tables] {
        let set = read_save(text, backend);
        assert!(set.chains.iter().all(|c| c.backend == backend));
        let rules: usize = set.chains.iter().map(|c| c.rules.len()).sum();
        assert!(
            rules + set.chains.len() <= lines,
            "{rules} rules, {lines} lines"
        );
        verdicts(&set);
    }
}

/// A few packets through the ruleset, each verdict checked.
fn verdicts(set: &Ruleset) {
    for (family, protocol, port) in [
        (IpFamily::V4, Transport::Tcp, 22),
        (IpFamily::V6, Transport::Udp, 53),
        (IpFamily::V4, Transport::Tcp, 8080),
    ] {
        let v = evaluate(set, &Packet::new(family, protocol, port));
        match v.access {
            Access::Open => assert!(v.rule.is_none() && v.allowed.is_empty(), "{v:?}"),
            Access::Blocked => assert!(v.rule.is_some() && v.allowed.is_empty(), "{v:?}"),
            Access::Restricted => assert!(v.rule.is_some() && !v.allowed.is_empty(), "{v:?}"),
        }
        assert!(serde_json::to_string(&v).is_ok());
    }
}
