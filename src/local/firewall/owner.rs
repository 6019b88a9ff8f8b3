//! Whose rule is it: ufw, firewalld, Docker, kube-proxy, or the user's own nftables or
//! iptables rules; and the fix in that tool's words.
//!
//! Pure, told apart by the names those tools give their chains and tables (ufw's `ufw-*`,
//! firewalld's `firewalld` table and `IN_<zone>` chains, Docker's `DOCKER*`, kube-proxy's
//! `KUBE-*`) and by rule comments. Must not guess beyond them: anything else is the
//! backend's own.

use super::eval::Walked;
use super::model::{Backend, Ruleset};
use super::summary::RuleRef;
use crate::model::Transport;
use serde::Serialize;

/// The tool a rule belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    /// `ufw`, `firewalld`, `docker`, `kube-proxy`, `nftables`, `iptables` or `ip6tables`.
    pub tool: &'static str,
    /// firewalld's zone, when the packet went through one.
    pub zone: Option<String>,
}

/// The owner of the rule that decided a walk, from the chains it went through.
pub fn owner(set: &Ruleset, walked: &Walked) -> Owner {
    let chains: Vec<&super::model::Chain> = walked
        .path
        .iter()
        .filter_map(|i| set.chains.get(*i))
        .collect();
    let comment = walked
        .by
        .and_then(|(c, r)| set.chains.get(c)?.rules.get(r?)?.comment.clone())
        .unwrap_or_default()
        .to_lowercase();
    let named = |f: &dyn Fn(&str) -> bool| chains.iter().any(|c| f(&c.name));
    let backend = chains
        .first()
        .map_or(Backend::Nftables, |c| c.backend)
        .as_str();
    let tool = if named(&|n| n.starts_with("ufw-") || n.starts_with("ufw6-")) {
        "ufw"
    } else if chains.iter().any(|c| c.table == "firewalld")
        || named(&|n| n == "INPUT_ZONES" || zone_of(n).is_some())
    {
        "firewalld"
    } else if named(&|n| n.starts_with("KUBE-")) || comment.starts_with("kubernetes") {
        "kube-proxy"
    } else if named(&|n| n.starts_with("DOCKER")) || comment.contains("docker") {
        "docker"
    } else {
        backend
    };
    let zone = (tool == "firewalld")
        .then(|| chains.iter().rev().find_map(|c| zone_of(&c.name)))
        .flatten();
    Owner { tool, zone }
}

/// firewalld's zone chains: `filter_IN_public_allow` (nftables), `IN_public_deny`
/// (iptables).
fn zone_of(chain: &str) -> Option<String> {
    let rest = chain
        .strip_prefix("filter_IN_")
        .or_else(|| chain.strip_prefix("IN_"))?;
    let zone = ["_pre", "_log", "_deny", "_allow", "_post"]
        .iter()
        .find_map(|s| rest.strip_suffix(s))
        .unwrap_or(rest);
    (!zone.is_empty()).then(|| zone.to_owned())
}

/// The command that lets the port in, in the owner's words.
pub fn fix(owner: &Owner, rule: Option<&RuleRef>, protocol: Transport, port: u16) -> String {
    let proto = protocol.as_str();
    let chain = rule.map_or("INPUT", |r| r.chain.as_str());
    match owner.tool {
        "ufw" => format!("ufw allow {port}/{proto}"),
        "firewalld" => {
            let zone = owner
                .zone
                .as_ref()
                .map_or_else(String::new, |z| format!("--zone={z} "));
            format!(
                "firewall-cmd {zone}--add-port={port}/{proto} (and once more with --permanent to keep it)"
            )
        }
        "docker" => format!(
            "the rule is Docker's (chain {chain}): publish the port on the container (docker run -p {port}:…) or change the rule in DOCKER-USER"
        ),
        "kube-proxy" => format!(
            "the rule is kube-proxy's (chain {chain}): the Service or NetworkPolicy for {port}/{proto} decides it (kubectl get svc,networkpolicy -A)"
        ),
        "nftables" => {
            let table = rule.map_or("inet filter", |r| r.table.as_str());
            format!("nft insert rule {table} {chain} {proto} dport {port} accept")
        }
        tool => {
            let table = rule
                .filter(|r| r.table != "filter")
                .map_or_else(String::new, |r| format!(" -t {}", r.table));
            format!("{tool}{table} -I {chain} -p {proto} --dport {port} -j ACCEPT")
        }
    }
}
