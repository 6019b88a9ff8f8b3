//! The diagnosis itself: from a probe result and what else is known about the host, the
//! ranked causes with their confidence and evidence. A pure function; unit tests drive it
//! with synthetic results.

use super::cause::{Cause, Confidence, Finding};
use super::loss_bound::{self, LossVerdict};
use super::path::PathVerdict;
use super::ttl::{Sender, Ttls};
use crate::classify::AddrInfo;
use crate::model::{LocalFault, ProbeResult, Protocol, Reason, Scope, State};
use ipnet::IpNet;
use std::fmt::Write as _;
use std::net::IpAddr;

/// Answers needed before jitter says anything about the path (loss is judged by its
/// confidence bound, `loss_bound`, which needs no such floor).
pub const LOSSY_MIN_ATTEMPTS: u32 = 5;
/// Jitter (RTT standard deviation) that counts as erratic: above this many milliseconds
/// and above half the mean.
pub const JITTER_MS: f64 = 20.0;

/// Ports that nothing should listen on, which `doctor` probes beside the control ports
/// (TCP, in the dynamic range, assigned to no service): when they answer `open`, something
/// on the way answers every port and an `open` proves nothing.
pub const CANARY_PORTS: [u16; 2] = [61009, 62011];

/// The ports a CDN proxies (Cloudflare's documented HTTP and HTTPS ports); anything else
/// to its addresses stops at the CDN.
const CDN_PROXIED_PORTS: [u16; 13] = [
    80, 8080, 8880, 2052, 2082, 2086, 2095, 443, 2053, 2083, 2087, 2096, 8443,
];

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
    pub(super) fn host_answered(&self) -> bool {
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
    /// TTLs of the address's ICMP errors and answers (`doctor` with `CAP_NET_RAW`).
    pub ttls: Option<&'a Ttls>,
}

/// The ranked findings for `result`; the first is the diagnosis. Never empty.
pub fn findings(result: &ProbeResult, facts: &Facts<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let this = evidence_of(result);
    let scope = facts.target.map(|t| t.scope);
    if result.state != State::Open && result.state != State::Error {
        proxied_cdn(result, facts, &this, &mut out);
    }
    match (result.state, result.reason) {
        (State::Error, Reason::DnsError) => {
            push(&mut out, Cause::Dns, Confidence::High, vec![this]);
        }
        (State::Error, _) => local_failure(result, scope, this, &mut out),
        (State::Open, _) => open(result, facts, this, &mut out),
        (State::Closed, _) => closed(result, scope, &this, &mut out),
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
        (State::Filtered | State::OpenFiltered, _) => {
            super::silence::silence(result, facts, this, &mut out);
        }
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
    let lost = result.attempts.saturating_sub(result.received);
    let jitter = result
        .rtt
        .filter(|r| result.received >= LOSSY_MIN_ATTEMPTS && r.stddev > JITTER_MS.max(r.avg / 2.0));
    let verdict = loss_bound::judge(lost, result.attempts);
    if let LossVerdict::Lossy | LossVerdict::ClearlyLossy = verdict {
        let confidence = if verdict == LossVerdict::ClearlyLossy {
            Confidence::High
        } else {
            Confidence::Medium
        };
        push(out, Cause::LossyPath, confidence, vec![this]);
    } else if verdict == LossVerdict::Unproven && jitter.is_none() {
        // Some loss, but chance at the usual background could give as much: reachable,
        // with the lossy path named as possible, not claimed.
        let attempts = result.attempts;
        let maybe = format!(
            "{lost} of {attempts} probes lost: more than the usual background, but too few to \
             tell it from chance (measure longer, e.g. -c {})",
            (attempts * 10).clamp(200, 1000)
        );
        push(out, Cause::Ok, Confidence::Medium, vec![this]);
        push(out, Cause::LossyPath, Confidence::Low, vec![maybe]);
    } else if let Some(rtt) = jitter {
        let evidence = format!(
            "{this}; rtt varies by ±{:.1} ms around {:.1} ms",
            rtt.stddev, rtt.avg
        );
        push(out, Cause::LossyPath, Confidence::Medium, vec![evidence]);
    } else if result.reset_after_accept {
        // Reachable, but the service aborts connections (nmap -sT/-sS say open too).
        push(out, Cause::Ok, Confidence::Medium, vec![this]);
    } else if let Some(canaries) = canaries_open(result, facts) {
        push(out, Cause::AnswersEveryPort, canaries.0, canaries.1);
        let doubt = "open, but so are ports nothing listens on".to_owned();
        push(out, Cause::Ok, Confidence::Low, vec![this, doubt]);
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

fn closed(result: &ProbeResult, scope: Option<Scope>, this: &str, out: &mut Vec<Finding>) {
    // RST or port-unreachable from the host itself: the packet reached the host (so the
    // security group let it in) and nothing listens on that address and port.
    // Windows (WSAECONNRESET) and macOS report a UDP port unreachable as an error code
    // without its sender: taken as the target's, which nmap's rule cannot confirm.
    let sender_unknown = result.endpoint.protocol == Protocol::Udp
        && result.reason == Reason::PortUnreach
        && result.icmp_from.is_none();
    let reached = if sender_unknown {
        format!("{this}: {SENDER_UNKNOWN}; taken as the host's own refusal, so packets reach it")
    } else {
        format!("{this}: the host itself refused, so packets reach it")
    };
    push(
        out,
        Cause::NotListening,
        Confidence::Medium,
        vec![reached.clone()],
    );
    // A server bound to 127.0.0.1 answers a loopback target: not a cause there.
    if scope != Some(Scope::Loopback) {
        push(out, Cause::LoopbackBind, Confidence::Medium, vec![reached]);
    }
    // The tutorial's first rule: a server told to bind the public IP never starts, since
    // that address is not on the VM's card (the cloud maps it by NAT).
    let bind = "if the server was told to bind the public IP, it failed at start with \
                `OSError: [Errno 99] Cannot assign requested address` (EADDRNOTAVAIL) and is \
                not running"
        .to_owned();
    push(out, Cause::BindPublicIp, Confidence::Low, vec![bind]);
    if result.endpoint.protocol == Protocol::Tcp {
        let evidence = format!("{this}: a firewall rule rejecting with a TCP reset looks the same");
        push(out, Cause::HostFirewall, Confidence::Low, vec![evidence]);
    }
    if sender_unknown {
        let evidence = format!(
            "{this}: {SENDER_UNKNOWN}; a filter on the path rejecting with port unreachable \
             looks the same"
        );
        push(out, Cause::SecurityGroup, Confidence::Low, vec![evidence]);
    }
}

/// Why a UDP port unreachable without its sender proves less (Windows, macOS).
pub const SENDER_UNKNOWN: &str = "the sender is unknown (this system reports a port \
     unreachable as an error code, without who sent it), so nmap's rule, closed only when the \
     target itself sends it, cannot be applied";

fn rejected(result: &ProbeResult, facts: &Facts<'_>, this: &str, out: &mut Vec<Finding>) {
    let target = result.endpoint.address;
    let from = result.icmp_from;
    if from.is_none() || from == target {
        // A cloud edge that translates the public address sends its own rejections from
        // that address too: from here only a target on this machine's own network (no
        // translation between) is surely the host itself.
        let direct = target.is_some_and(|t| facts.local_networks.iter().any(|n| n.contains(&t)));
        if direct {
            let evidence = format!("{this}: sent by the target itself, on this machine's network");
            push(out, Cause::HostFirewall, Confidence::High, vec![evidence]);
        } else {
            translated(result, facts, this, out);
        }
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

/// An error from the target's address through a translating edge: the server's firewall
/// or the edge answering for it. The TTLs, when heard, rank them; both stay listed.
fn translated(result: &ProbeResult, facts: &Facts<'_>, this: &str, out: &mut Vec<Finding>) {
    let mut evidence = format!(
        "{this}: sent from the target's address, which the server's firewall and an \
         edge that translates the address (the security group's) both use; \
         `ipdiag local --port {}` on the server tells them apart",
        result.endpoint.port
    );
    let controls: Vec<u16> = facts
        .others
        .iter()
        .filter(|o| o.protocol == Protocol::Tcp && o.host_answered())
        .map(|o| o.port)
        .collect();
    let distance = facts.ttls.and_then(|t| {
        super::ttl::compare(t, result.endpoint.port, result.endpoint.protocol, &controls)
    });
    if let Some(d) = distance {
        let _ = write!(evidence, "; {}", d.text());
    }
    let (first, second) = match distance.map(|d| d.sender) {
        Some(Sender::Closer) => (
            (Cause::SecurityGroup, Confidence::Medium),
            (Cause::HostFirewall, Confidence::Low),
        ),
        Some(Sender::Same) => (
            (Cause::HostFirewall, Confidence::Medium),
            (Cause::SecurityGroup, Confidence::Low),
        ),
        _ => (
            (Cause::HostFirewall, Confidence::Medium),
            (Cause::SecurityGroup, Confidence::Medium),
        ),
    };
    push(out, first.0, first.1, vec![evidence.clone()]);
    push(out, second.0, second.1, vec![evidence]);
}

/// The canary ports of this address that answered `open` (`doctor` probes them): all of
/// them open is certain (`high`), some of them likely (`medium`). `None` when none did.
fn canaries_open(result: &ProbeResult, facts: &Facts<'_>) -> Option<(Confidence, Vec<String>)> {
    if CANARY_PORTS.contains(&result.endpoint.port) {
        return None;
    }
    let open: Vec<&PortSeen> = facts
        .others
        .iter()
        .filter(|o| {
            CANARY_PORTS.contains(&o.port)
                && o.protocol == result.endpoint.protocol
                && o.state == State::Open
        })
        .collect();
    if open.is_empty() {
        return None;
    }
    let confidence = if open.len() == CANARY_PORTS.len() {
        Confidence::High
    } else {
        Confidence::Medium
    };
    let ports: Vec<String> = open.iter().map(|o| seen_text(o)).collect();
    let evidence = format!(
        "ports nothing should listen on answer too ({}): something on the way answers for any port",
        ports.join(", ")
    );
    Some((confidence, vec![evidence]))
}

/// A target in a CDN's range on a port the CDN does not proxy: the CDN is where it stops.
fn proxied_cdn(result: &ProbeResult, facts: &Facts<'_>, this: &str, out: &mut Vec<Finding>) {
    let Some(cloud) = facts.target.and_then(|t| t.cloud.as_ref()) else {
        return;
    };
    let tcp = result.endpoint.protocol == Protocol::Tcp;
    if cloud.provider.id != "cloudflare"
        || (tcp && CDN_PROXIED_PORTS.contains(&result.endpoint.port))
    {
        return;
    }
    let evidence = format!(
        "{this}; {} is Cloudflare's (AS{}), which forwards only the HTTP(S) ports it proxies",
        address_text(result),
        cloud.asn
    );
    push(out, Cause::ProxiedCdn, Confidence::High, vec![evidence]);
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
        // Replies stop inside the provider's network: the packets reached it, so the
        // client's side is cleared; the security group or the server's own firewall (the
        // hop after the edge is the server, silent either way) — medium, both listed.
        PathVerdict::DroppedAtEdge { .. } | PathVerdict::EdgeAnswersForTarget { .. } => {
            add(Cause::SecurityGroup, Confidence::Medium);
            add(Cause::HostFirewall, Confidence::Medium);
        }
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

pub(super) fn push(
    out: &mut Vec<Finding>,
    cause: Cause,
    confidence: Confidence,
    evidence: Vec<String>,
) {
    out.push(Finding {
        cause,
        confidence,
        evidence,
    });
}

fn is_local(address: IpAddr, networks: &[IpNet]) -> bool {
    networks.iter().any(|n| n.addr() == address)
}

pub(super) fn address_text(result: &ProbeResult) -> String {
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

pub(super) fn seen_text(seen: &PortSeen) -> String {
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

pub(super) fn ping_text(ping: &PingSeen) -> String {
    let mut text = format!("ping {}/{} answered", ping.received, ping.sent);
    if let Some(rtt) = ping.rtt_avg_ms {
        let _ = write!(text, " {}", ms(rtt));
    }
    text
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
