//! The firewall's packet counters, read twice around a watch: which rules touching a port
//! counted packets meanwhile (`local --watch`). nftables rules with a `counter` (from
//! `nft -j list ruleset`, every table and hook, nat included) and every iptables rule and
//! built-in chain policy (`iptables-save -c`, whose counters are always on). A rule
//! without a counter says nothing here; the evaluator's verdict still names it.
//!
//! Parsing and comparing are pure; `snapshot` runs the tools (read-only).

use super::eval::{Holds, Packet, all};
use super::iptables::{self, nft_backed, read_rule, without_counters, words};
use super::model::{Match, Rule};
use super::nft::every_rule;
use super::{Tools, run};

/// One counted rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// Where it lives and which it is (a handle, or its place in the chain), to find the
    /// same rule in the second reading.
    pub key: String,
    /// The rule as a verdict quotes it (`inet filter input: tcp dport 8000 counter drop`,
    /// `-A INPUT -p tcp -m tcp --dport 8000 -j DROP`, `filter INPUT: policy drop`).
    pub text: String,
    /// Packets counted so far.
    pub packets: u64,
    /// Its conditions (none for a policy).
    pub matches: Vec<Match>,
}

/// The counters of nft's JSON text (rules with an anonymous `counter` only).
pub fn nft_counters(json: &str) -> Vec<Counted> {
    every_rule(json)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|listed| {
            let packets = listed
                .exprs
                .iter()
                .find_map(|e| e.get("counter")?.get("packets")?.as_u64())?;
            let Rule { text, matches, .. } = listed.rule;
            let (family_table, chain) = listed.place.rsplit_once(' ')?;
            Some(Counted {
                key: format!("nft {} #{}", listed.place, listed.handle),
                text: format!("{family_table} {chain}: {text}"),
                packets,
                matches,
            })
        })
        .collect()
}

/// The counters of `iptables-save -c` text (`tool`: `iptables` or `ip6tables`): each rule's
/// `[packets:bytes]`, and the policy counters of built-in chains that drop.
pub fn save_counters(save: &str, tool: &str) -> Vec<Counted> {
    let mut out = Vec::new();
    let mut table = "filter".to_owned();
    let mut index = std::collections::HashMap::<String, usize>::new();
    for line in save.lines().map(str::trim) {
        if let Some(t) = line.strip_prefix('*') {
            t.trim().clone_into(&mut table);
        } else if let Some(rest) = line.strip_prefix(':') {
            // `:INPUT DROP [12:720]`
            let mut w = rest.split_whitespace();
            if let (Some(chain), Some("DROP"), Some(count)) = (w.next(), w.next(), w.next())
                && let Some(packets) = bracketed(count)
            {
                out.push(Counted {
                    key: format!("{tool} {table} {chain} policy"),
                    text: format!("{table} {chain}: policy drop"),
                    packets,
                    matches: Vec::new(),
                });
            }
        } else if line.starts_with('[') {
            let Some(packets) = line.split_whitespace().next().and_then(bracketed) else {
                continue;
            };
            let text = without_counters(line);
            let Some(rest) = text.strip_prefix("-A ") else {
                continue;
            };
            let words = words(rest);
            let Some((chain, options)) = words.split_first() else {
                continue;
            };
            let n = index.entry(format!("{table} {chain}")).or_default();
            *n += 1;
            out.push(Counted {
                key: format!("{tool} {table} {chain} {n}"),
                text: text.to_owned(),
                packets,
                matches: read_rule(text, options).matches,
            });
        }
    }
    out
}

/// `[12:720]` → 12.
fn bracketed(word: &str) -> Option<u64> {
    let inner = word.strip_prefix('[')?.strip_suffix(']')?;
    inner.split_once(':')?.0.parse().ok()
}

/// Whether a rule may count packets like `packet` (a new connection or flow to the port
/// from another machine): its conditions do not rule it out, and it is not a rule for the
/// loopback interface only.
pub fn relevant(counted: &Counted, packet: &Packet) -> bool {
    let loopback_only = counted.matches.iter().any(|m| {
        matches!(m, Match::InInterface { negated: false, names } if names.iter().all(|n| n == "lo"))
    });
    !loopback_only && all(&counted.matches, packet) != Holds::No
}

/// The rules relevant to `packet` whose counters rose from `before` to `after`, with the
/// rise, most first. A rule new in `after` counts from zero.
pub fn grown(before: &[Counted], after: &[Counted], packet: &Packet) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = after
        .iter()
        .filter(|c| relevant(c, packet))
        .filter_map(|c| {
            let then = before
                .iter()
                .find(|b| b.key == c.key)
                .map_or(0, |b| b.packets);
            let rise = c.packets.saturating_sub(then);
            (rise > 0).then(|| (c.text.clone(), rise))
        })
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// Reads every counter now; `None` when no tool could be read (not root, not installed).
pub fn snapshot(tools: &Tools) -> Option<Vec<Counted>> {
    let mut nft = run(&tools.nft, &["-j", "list", "ruleset"])
        .ok()
        .map(|t| nft_counters(&t));
    let mut saves = Vec::new();
    for (path, tool) in [
        (&tools.iptables_save, "iptables"),
        (&tools.ip6tables_save, "ip6tables"),
        (&tools.legacy_saves[0], "iptables-legacy"),
        (&tools.legacy_saves[1], "ip6tables-legacy"),
    ] {
        let Ok(text) = run(path, &["-c"]) else {
            continue;
        };
        if nft_backed(&text) {
            // Its tables are nft's too: counted once, in its own words.
            let family = if tool.starts_with("ip6") { "ip6" } else { "ip" };
            let tables = iptables::tables(&text);
            if let Some(nft) = nft.as_mut() {
                nft.retain(|c| {
                    !tables
                        .iter()
                        .any(|t| c.key.starts_with(&format!("nft {family} {t} ")))
                });
            }
        }
        saves.push(save_counters(&text, tool));
    }
    if nft.is_none() && saves.is_empty() {
        return None;
    }
    Some(nft.into_iter().chain(saves).flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::firewall::IpFamily;
    use crate::model::Transport;

    const SAVE: &str = "# Generated by iptables-save v1.8.9 (nf_tables) on Sun Dec  6 2026
*filter
:INPUT DROP [12:720]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [3:180]
[7:420] -A INPUT -i lo -j ACCEPT
[9:540] -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
[4:240] -A INPUT -p tcp -m tcp --dport 8000 -j DROP
[2:120] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
COMMIT
";

    const NFT: &str = r#"{"nftables": [{"table": {"family": "inet", "name": "filter", "handle": 1}}, {"chain": {"family": "inet", "table": "filter", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 3, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 8000}}, {"counter": {"packets": 5, "bytes": 300}}, {"drop": null}]}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 4, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 9000}}, {"drop": null}]}}]}"#;

    fn packet(port: u16) -> Packet {
        Packet::new(IpFamily::V4, Transport::Tcp, port)
    }

    #[test]
    fn reads_rule_and_policy_counters() {
        let c = save_counters(SAVE, "iptables");
        assert_eq!(c.len(), 5, "{c:?}");
        assert_eq!(c[0].text, "filter INPUT: policy drop");
        assert_eq!(c[0].packets, 12);
        assert_eq!(c[3].text, "-A INPUT -p tcp -m tcp --dport 8000 -j DROP");
        assert_eq!(
            (c[3].packets, c[3].key.as_str()),
            (4, "iptables filter INPUT 3")
        );
        let n = nft_counters(NFT);
        assert_eq!(n.len(), 1, "the rule without a counter has none: {n:?}");
        assert_eq!(n[0].text, "inet filter input: tcp dport 8000 counter drop");
        assert_eq!(
            (n[0].packets, n[0].key.as_str()),
            (5, "nft inet filter input #3")
        );
    }

    #[test]
    fn reports_only_the_rules_for_the_port_that_counted() {
        let before = save_counters(SAVE, "iptables");
        let after_text = SAVE
            .replace("[12:720]", "[15:900]")
            .replace("[7:420]", "[70:4200]")
            .replace("[9:540]", "[99:5400]")
            .replace(
                "[4:240] -A INPUT -p tcp -m tcp --dport 8000",
                "[10:600] -A INPUT -p tcp -m tcp --dport 8000",
            )
            .replace("[2:120]", "[3:180]");
        let after = save_counters(&after_text, "iptables");
        let hits = grown(&before, &after, &packet(8000));
        assert_eq!(
            hits,
            [
                ("-A INPUT -p tcp -m tcp --dport 8000 -j DROP".to_owned(), 6),
                ("filter INPUT: policy drop".to_owned(), 3),
            ],
            "lo, established and port 22 left out"
        );
        assert_eq!(grown(&after, &after, &packet(8000)), []);
    }
}
