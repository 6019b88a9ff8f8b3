//! The diagnosis itself: from a probe result and what else is known about the host, the
//! ranked causes with their confidence and evidence. A pure function; unit tests drive it
//! with synthetic results.

use super::cause::{Cause, Confidence, Finding};
use super::path::PathVerdict;
use crate::classify::AddrInfo;
use crate::model::{LocalFault, ProbeResult, Protocol, Reason, Scope, State};
use ipnet::IpNet;
use std::fmt::Write as _;
use std::net::IpAddr;

/// Loss (percent) from which an open path counts as lossy, given enough attempts.
pub const LOSSY_LOSS_PCT: f64 = 2.0;
/// Attempts needed before loss or jitter says anything about the path.
pub const LOSSY_MIN_ATTEMPTS: u32 = 5;
/// Jitter (RTT standard deviation) that counts as erratic: above this many milliseconds
/// and above half the mean.
pub const JITTER_MS: f64 = 20.0;

/// Another probe of the same address (a control port, or another port the user asked for).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PortSeen {
    /// The port.
    pub port: u16,
    /// Its protocol.
    pub protocol: Protocol,
    /// What it was.
    pub state: State,
    /// Why.
    pub reason: Reason,
    /// Mean RTT when it answered.
    pub rtt_avg_ms: Option<f64>,
}

impl PortSeen {
    /// The same facts from a full result.
    pub fn of(result: &ProbeResult) -> Self {
        Self {
            port: result.endpoint.port,
            protocol: result.endpoint.protocol,
            state: result.state,
            reason: result.reason,
            rtt_avg_ms: result.rtt.map(|r| r.avg),
        }
    }

    /// The host sent something back for this port (a handshake, a RST, a reply, or an ICMP
    /// error from the host itself).
    fn host_answered(&self) -> bool {
        matches!(self.state, State::Open | State::Closed)
    }
}

/// ICMP echo to the address.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PingSeen {
    /// Echo requests sent.
    pub sent: u32,
    /// Replies.
    pub received: u32,
    /// Mean RTT of the replies.
    pub rtt_avg_ms: Option<f64>,
}

/// What the diagnosis knows besides the result (gathered by the caller, by I/O).
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts<'a> {
    /// Classification of the probed address.
    pub target: Option<&'a AddrInfo>,
    /// The networks of this machine's interfaces.
    pub local_networks: &'a [IpNet],
    /// Other probes of the same address in this run.
    pub others: &'a [PortSeen],
    /// ICMP echo, when it was tried.
    pub ping: Option<PingSeen>,
    /// Where a trace to the port saw replies stop (`doctor --trace`).
    pub path: Option<&'a PathVerdict>,
}

/// The ranked findings for `result`; the first is the diagnosis. Never empty.
pub fn findings(result: &ProbeResult, facts: &Facts<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let this = evidence_of(result);
    let scope = facts.target.map(|t| t.scope);
    match (result.state, result.reason) {
        (State::Error, Reason::DnsError) => {
            push(&mut out, Cause::Dns, Confidence::High, vec![this]);
        }
        (State::Error, _) => local_failure(result, scope, this, &mut out),
        (State::Open, _) => open(result, facts, this, &mut out),
        (State::Closed, _) => closed(result, &this, &mut out),
        // A rejection (admin-prohibited; port unreachable for TCP, or for UDP from someone
        // other than the target): who sent it tells the host's firewall from a filter on
        // the way (iptables' default REJECT answers a TCP SYN with port unreachable).
        (State::Filtered, Reason::AdminProhibited | Reason::PortUnreach) => {
            rejected(result, facts, &this, &mut out);
        }
        (State::Filtered, Reason::NetUnreach | Reason::TimeExceeded | Reason::FragNeeded) => {
            push(
                &mut out,
                Cause::NoRoute,
                Confidence::Medium,
                vec![this.clone()],
            );
            push(
                &mut out,
                Cause::HostDownOrWrongIp,
                Confidence::Low,
                vec![this],
            );
        }
        (State::Filtered, Reason::HostUnreach | Reason::ProtoUnreach) => {
            push(
                &mut out,
                Cause::HostDownOrWrongIp,
                Confidence::Medium,
                vec![this.clone()],
            );
            push(&mut out, Cause::NoRoute, Confidence::Low, vec![this]);
        }
        (State::Filtered | State::OpenFiltered, _) => silence(result, facts, this, &mut out),
    }
    if result.state != State::Open {
        if let Some(path) = facts.path {
            path_evidence(path, &mut out);
        }
        special_address(result, facts, scope, &mut out);
    }
    if out.is_empty() {
        push(&mut out, Cause::Ok, Confidence::Low, Vec::new());
    }
    // Ranked by confidence; among equals, the order the rules gave (stable sort).
    out.sort_by_key(|f| f.confidence);
    out
}

/// This host could not send, or its own stack reported the failure: nothing came from the
/// path. No ARP reply for a private address on this LAN's subnet is the overlapping-LAN
/// case: the address is most likely the server's private one in another network (a
/// cloud VPC), and a host of this LAN that is down looks the same.
fn local_failure(result: &ProbeResult, scope: Option<Scope>, this: String, out: &mut Vec<Finding>) {
    let private = matches!(
        scope,
        Some(Scope::Private | Scope::Shared | Scope::LinkLocal)
    );
    match result.fault {
        Some(LocalFault::NoNeighbour) if private => {
            push(
                out,
                Cause::PrivateAddress,
                Confidence::Medium,
                vec![this.clone()],
            );
            push(out, Cause::HostDownOrWrongIp, Confidence::Low, vec![this]);
        }
        Some(LocalFault::NoNeighbour) => {
            push(
                out,
                Cause::HostDownOrWrongIp,
                Confidence::Medium,
                vec![this.clone()],
            );
            push(out, Cause::NoRoute, Confidence::Low, vec![this]);
        }
        _ => push(out, Cause::NoRoute, Confidence::High, vec![this]),
    }
}

fn open(result: &ProbeResult, facts: &Facts<'_>, this: String, out: &mut Vec<Finding>) {
    let loss = result.loss_pct();
    let enough = result.attempts >= LOSSY_MIN_ATTEMPTS;
    let jitter = result
        .rtt
        .filter(|r| result.received >= LOSSY_MIN_ATTEMPTS && r.stddev > JITTER_MS.max(r.avg / 2.0));
    if enough && loss >= LOSSY_LOSS_PCT {
        let confidence = if loss >= 2.0 * LOSSY_LOSS_PCT {
            Confidence::High
        } else {
            Confidence::Medium
        };
        push(out, Cause::LossyPath, confidence, vec![this]);
    } else if let Some(rtt) = jitter {
        let evidence = format!(
            "{this}; rtt varies by ±{:.1} ms around {:.1} ms",
            rtt.stddev, rtt.avg
        );
        push(out, Cause::LossyPath, Confidence::Medium, vec![evidence]);
    } else if result.reset_after_accept {
        // Reachable, but the service aborts connections (nmap -sT/-sS say open too).
        push(out, Cause::Ok, Confidence::Medium, vec![this]);
    } else {
        push(out, Cause::Ok, Confidence::High, vec![this]);
    }
    if facts.target.is_some_and(|t| t.scope == Scope::Loopback) {
        let evidence = format!(
            "{} is this machine: only local clients can use it",
            address_text(result)
        );
        push(out, Cause::SpecialAddress, Confidence::Low, vec![evidence]);
    }
}

fn closed(result: &ProbeResult, this: &str, out: &mut Vec<Finding>) {
    // RST or port-unreachable from the host itself: the packet reached the host (so the
    // security group let it in) and nothing listens on that address and port.
    let reached = format!("{this}: the host itself refused, so packets reach it");
    push(
        out,
        Cause::NotListening,
        Confidence::Medium,
        vec![reached.clone()],
    );
    push(out, Cause::LoopbackBind, Confidence::Medium, vec![reached]);
    if result.endpoint.protocol == Protocol::Tcp {
        let evidence = format!("{this}: a firewall rule rejecting with a TCP reset looks the same");
        push(out, Cause::HostFirewall, Confidence::Low, vec![evidence]);
    }
}

fn rejected(result: &ProbeResult, facts: &Facts<'_>, this: &str, out: &mut Vec<Finding>) {
    let target = result.endpoint.address;
    let from = result.icmp_from;
    if from.is_none() || from == target {
        push(
            out,
            Cause::HostFirewall,
            Confidence::High,
            vec![format!("{this}: sent by the target itself")],
        );
    } else if from.is_some_and(|f| is_local(f, facts.local_networks)) {
        let evidence = format!("{this}: this machine's own firewall rejects the outgoing packet");
        push(out, Cause::HostFirewall, Confidence::Medium, vec![evidence]);
    } else {
        let evidence = format!("{this}: a filter on the path rejects, not the target");
        push(
            out,
            Cause::SecurityGroup,
            Confidence::Medium,
            vec![evidence.clone()],
        );
        push(out, Cause::HostFirewall, Confidence::Low, vec![evidence]);
    }
}

/// No answer on this port (TCP filtered, or UDP open|filtered).
fn silence(result: &ProbeResult, facts: &Facts<'_>, this: String, out: &mut Vec<Finding>) {
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
        let mut evidence = vec![this];
        evidence.extend(alive);
        let confidence = if udp {
            Confidence::Medium
        } else {
            Confidence::High
        };
        push(out, Cause::SecurityGroup, confidence, evidence);
        if udp {
            let quiet = "the service may be up and silent: UDP silence proves neither".to_owned();
            push(out, Cause::Ok, Confidence::Low, vec![quiet]);
        }
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

/// What a trace adds: replies stopping inside the target's provider network make the
/// security group the likely cause; stopping before it points at the client's own network
/// or ISP instead (the provider never saw the packet, so its security group is not to blame).
fn path_evidence(path: &PathVerdict, out: &mut Vec<Finding>) {
    let evidence = format!("trace: {path}");
    let mut add =
        |cause: Cause, confidence: Confidence| match out.iter_mut().find(|f| f.cause == cause) {
            Some(f) => {
                f.confidence = confidence;
                f.evidence.push(evidence.clone());
            }
            None => push(out, cause, confidence, vec![evidence.clone()]),
        };
    match path {
        PathVerdict::DroppedAtEdge { .. } => add(Cause::SecurityGroup, Confidence::High),
        PathVerdict::DroppedBeforeProvider { .. } => {
            add(Cause::NoRoute, Confidence::High);
            add(Cause::SecurityGroup, Confidence::Low);
        }
        PathVerdict::RejectedAt { .. } | PathVerdict::DroppedAfter { .. } => {
            if let Some(top) = out.first_mut() {
                top.evidence.push(evidence);
            }
        }
        PathVerdict::Reached { .. } | PathVerdict::NoReplies => {}
    }
}

/// Addresses that cannot be a remote server's: high confidence when nothing answered.
fn special_address(
    result: &ProbeResult,
    facts: &Facts<'_>,
    scope: Option<Scope>,
    out: &mut Vec<Finding>,
) {
    let Some(scope) = scope else { return };
    let what = facts.target.and_then(|t| t.range).map_or_else(
        || scope.as_str().to_owned(),
        |r| format!("{} ({})", r.name, r.rfc),
    );
    let evidence = format!("{} is {what}", address_text(result));
    let confidence = match scope {
        Scope::Unspecified
        | Scope::ThisNetwork
        | Scope::Multicast
        | Scope::Broadcast
        | Scope::Reserved => Confidence::High,
        Scope::Loopback => Confidence::Medium,
        // Documentation and benchmarking ranges work in labs (and in ipdiag's own tests);
        // worth a look only after the other causes.
        Scope::Documentation | Scope::Benchmarking => Confidence::Low,
        Scope::Public | Scope::Private | Scope::Shared | Scope::LinkLocal => return,
    };
    let finding = Finding {
        cause: Cause::SpecialAddress,
        confidence,
        evidence: vec![evidence],
    };
    if confidence == Confidence::High {
        out.insert(0, finding);
    } else {
        out.push(finding);
    }
}

fn push(out: &mut Vec<Finding>, cause: Cause, confidence: Confidence, evidence: Vec<String>) {
    out.push(Finding {
        cause,
        confidence,
        evidence,
    });
}

fn is_local(address: IpAddr, networks: &[IpNet]) -> bool {
    networks.iter().any(|n| n.addr() == address)
}

fn address_text(result: &ProbeResult) -> String {
    result
        .endpoint
        .address
        .map_or_else(|| result.endpoint.host.clone(), |a| a.to_string())
}

/// `7890/tcp no-response ×3`, `22/tcp syn-ack 31.2 ms`, `7894/tcp admin-prohibited from X`.
pub fn evidence_of(result: &ProbeResult) -> String {
    let e = &result.endpoint;
    let mut text = format!(
        "{}/{} {}",
        e.port,
        e.protocol.as_str(),
        result.reason.as_str()
    );
    if let Some(from) = result.icmp_from {
        let _ = write!(text, " from {from}");
    }
    if result.received < result.attempts && result.received > 0 {
        let _ = write!(
            text,
            ", {} of {} lost ({:.1} %)",
            result.attempts - result.received,
            result.attempts,
            result.loss_pct()
        );
    } else if result.attempts > 1 {
        let _ = write!(text, " ×{}", result.attempts);
    }
    if let Some(rtt) = result.rtt {
        let _ = write!(text, ", rtt {}", ms(rtt.avg));
    }
    if let Some(error) = &result.error {
        let _ = write!(text, ": {error}");
    }
    if result.reset_after_accept {
        text.push_str(
            "; the server accepted the connection and reset it at once (an overloaded server, or a load balancer without a backend)",
        );
    }
    text
}

/// Milliseconds with the precision that matters: microseconds below 1 ms.
pub fn ms(value: f64) -> String {
    if value < 1.0 {
        format!("{value:.3} ms")
    } else {
        format!("{value:.1} ms")
    }
}

fn seen_text(seen: &PortSeen) -> String {
    let mut text = format!(
        "{}/{} {}",
        seen.port,
        seen.protocol.as_str(),
        seen.state.as_str()
    );
    if let Some(rtt) = seen.rtt_avg_ms {
        let _ = write!(text, " {}", ms(rtt));
    }
    text
}

fn ping_text(ping: &PingSeen) -> String {
    let mut text = format!("ping {}/{} answered", ping.received, ping.sent);
    if let Some(rtt) = ping.rtt_avg_ms {
        let _ = write!(text, " {}", ms(rtt));
    }
    text
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
