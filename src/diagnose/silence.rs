//! The rules for a port that gave no answer (TCP `filtered`, UDP `open|filtered`): who
//! could be dropping it, given what else answered. Pure, as every rule.

use super::cause::{Cause, Confidence, Finding};
use super::rules::{Facts, address_text, ping_text, push, seen_text};
use crate::model::{ProbeResult, Protocol, Scope};

/// No answer on this port (TCP filtered, or UDP open|filtered).
pub(super) fn silence(
    result: &ProbeResult,
    facts: &Facts<'_>,
    this: String,
    out: &mut Vec<Finding>,
) {
    private_target(result, facts, &this, out);
    let alive: Vec<String> = facts
        .others
        .iter()
        .filter(|o| o.host_answered())
        .map(seen_text)
        .chain(facts.ping.filter(|p| p.received > 0).map(|p| ping_text(&p)))
        .collect();
    let checked: Vec<String> = facts
        .others
        .iter()
        .map(seen_text)
        .chain(facts.ping.map(|p| ping_text(&p)))
        .collect();
    let udp = result.endpoint.protocol == Protocol::Udp;
    if !alive.is_empty() {
        dropped_on_a_live_host(result, this, alive, out);
    } else if !checked.is_empty() {
        let mut evidence = vec![this];
        evidence.extend(checked);
        push(
            out,
            Cause::HostDownOrWrongIp,
            Confidence::Medium,
            evidence.clone(),
        );
        evidence.push("a security group that allows nothing looks the same".into());
        push(out, Cause::SecurityGroup, Confidence::Low, evidence);
    } else {
        let unchecked = "no other port or ping was checked (ipdiag doctor checks them)".to_owned();
        let confidence = if udp {
            Confidence::Low
        } else {
            Confidence::Medium
        };
        push(
            out,
            Cause::SecurityGroup,
            confidence,
            vec![this.clone(), unchecked.clone()],
        );
        push(
            out,
            Cause::HostDownOrWrongIp,
            Confidence::Low,
            vec![this, unchecked],
        );
    }
}

/// The host answers, this port is silent: something drops it. From this side a security
/// group and the server's own firewall drop alike; only the server can tell which (its
/// firewall's verdict for the port, or packets arriving at all).
fn dropped_on_a_live_host(
    result: &ProbeResult,
    this: String,
    alive: Vec<String>,
    out: &mut Vec<Finding>,
) {
    let udp = result.endpoint.protocol == Protocol::Udp;
    let mut evidence = vec![this];
    evidence.extend(alive);
    let port = result.endpoint.port;
    let decide = format!(
        "from here, the security group or the server's own firewall: they drop alike \
         (`ipdiag local --port {port}{}` on the server tells which)",
        if udp { " --udp" } else { "" }
    );
    evidence.push(decide.clone());
    push(
        out,
        Cause::SecurityGroup,
        Confidence::Medium,
        evidence.clone(),
    );
    push(out, Cause::HostFirewall, Confidence::Medium, vec![decide]);
    if udp {
        let mute = "from here a UDP server that receives and never answers looks the same \
                    (`ipdiag local --port P --udp` on the server counts datagrams in and out)"
            .replace('P', &port.to_string());
        push(
            out,
            Cause::ServerNotReplying,
            Confidence::Medium,
            vec![mute],
        );
        let quiet = "the service may be up and silent: UDP silence proves neither".to_owned();
        push(out, Cause::Ok, Confidence::Low, vec![quiet]);
    }
}

/// A silent private address: dialled from outside its network, or on this machine's own
/// LAN where it may be another network's (overlapping private ranges).
fn private_target(result: &ProbeResult, facts: &Facts<'_>, this: &str, out: &mut Vec<Finding>) {
    let scope = facts.target.map(|t| t.scope);
    let private = matches!(
        scope,
        Some(Scope::Private | Scope::Shared | Scope::LinkLocal)
    );
    if private
        && let Some(address) = result.endpoint.address
        && !facts.local_networks.iter().any(|n| n.contains(&address))
    {
        let evidence = format!(
            "{this}; {address} is {} and no interface of this machine is in its network",
            scope.map_or("private", Scope::as_str)
        );
        push(out, Cause::PrivateAddress, Confidence::High, vec![evidence]);
    }
    // On this machine's own LAN, an address nobody answers may be another network's
    // (overlapping private ranges): the ARP failure that would prove it takes the kernel
    // 3 s, longer than a probe usually waits.
    let lan = result
        .endpoint
        .address
        .and_then(|a| facts.local_networks.iter().find(|n| n.contains(&a)));
    if private
        && let Some(net) = lan
        && net.prefix_len() < net.max_prefix_len()
    {
        let evidence = format!(
            "{this}; {} is on this machine's own network {}: if the server is in another network (a cloud VPC), this is its private address there",
            address_text(result),
            net.trunc()
        );
        push(out, Cause::PrivateAddress, Confidence::Low, vec![evidence]);
    }
}
