//! The two-sided diagnosis: the client's probe and what the server saw of it during the
//! same seconds (`ipdiag doctor --on-server`), merged into one verdict. From the client
//! alone a security group and the server's firewall drop alike, and a UDP server that
//! never answers looks like a dropped port; the server's report tells them apart, so the
//! cause it proves gets `high`, with the evidence of both sides in words.
//!
//! Pure: the transport (`app/on_server.rs`) hands in the parsed report.

use super::cause::{Cause, Confidence, Finding};
use super::stray::stray_text;
use crate::local::watch::report::{Capture, FirewallAction, Listener, WatchReport};
use crate::model::{ProbeResult, Protocol, State};
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

/// What decides a two-sided verdict besides the probe and the report.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientSide {
    /// A reply to the UDP probe that came from another address of the server (seen by a
    /// socket listening unconnected on the probe's port).
    pub stray_reply: Option<SocketAddr>,
}

/// The findings of `result` with the server's report merged in: the cause the server
/// proves first (`high`), then the client's other findings the server did not rule out
/// (at most `low`). When the report proves nothing, the client's findings stay as they
/// were, with the server's observations added to the first.
pub fn merge(
    result: &ProbeResult,
    client: Vec<Finding>,
    server: &WatchReport,
    side: ClientSide,
) -> Vec<Finding> {
    let seen = Seen::of(result, server);
    let Some(proven) = proven(result, &client, server, &seen, side) else {
        let mut out = client;
        if let Some(top) = out.first_mut() {
            top.evidence.push(Seen::summary(server));
        }
        return out;
    };
    let mut out = vec![proven];
    for mut f in client {
        if f.cause == out[0].cause || ruled_out(f.cause, result, server, &seen) {
            continue;
        }
        f.confidence = Confidence::Low;
        out.push(f);
    }
    out
}

/// The facts of the report the rules read, worked out once.
struct Seen {
    /// Packets that arrived at the server's network card (all sources).
    packets: u64,
    /// The report counts arrivals (a packet socket or the firewall's counters).
    counted: bool,
    /// Packets reached the server: counted, or the host itself answered the client.
    reached: bool,
    /// `packet_socket`: the count is the network card's, before any firewall.
    exact: bool,
}

impl Seen {
    fn of(result: &ProbeResult, server: &WatchReport) -> Self {
        let packets = server.packets();
        let counted = server.sees_arrivals();
        let hits: u64 = server.firewall.hits.iter().map(|h| h.packets).sum();
        Self {
            packets,
            counted,
            reached: packets > 0 || hits > 0 || result.state == State::Closed,
            exact: server.capture == Capture::PacketSocket,
        }
    }

    /// The server's observations in one sentence (for a verdict it does not change).
    fn summary(server: &WatchReport) -> String {
        let mut text = format!("on the server: {}", arrivals_text(server));
        let _ = write!(text, "; its firewall: {}", server.firewall.verdict.as_str());
        let _ = match (&server.listener, &server.udp_socket) {
            (Some(l), _) => write!(text, "; {} listens", listener_text(l)),
            (None, Some(u)) => write!(
                text,
                "; its UDP socket took {} datagrams and sent {}",
                u.datagrams_in, u.datagrams_out
            ),
            (None, None) => write!(text, "; nothing listens on the port"),
        };
        let _ = write!(text, "; its verdict: {}", server.verdict.cause);
        text
    }
}

/// The cause the report proves, with both sides' evidence; `None` when it proves none.
fn proven(
    result: &ProbeResult,
    client: &[Finding],
    server: &WatchReport,
    seen: &Seen,
    side: ClientSide,
) -> Option<Finding> {
    let port = server.port;
    let probe = probe_text(result);
    if let Some(q) = &server.accept_queue
        && (q.overflows > 0 || q.drops > 0)
    {
        let evidence = format!(
            "on the server the listener's accept queue overflowed {} times and dropped {} connections while watched (backlog {}, {} waiting): the program does not accept fast enough",
            q.overflows, q.drops, q.backlog, q.queued
        );
        return Some(high(Cause::AcceptQueueOverflow, vec![probe, evidence]));
    }
    if result.state == State::Open {
        return open(result, server, seen, side, probe);
    }
    if seen.counted && !seen.reached {
        return Some(nothing_arrived(result, client, server, seen, probe));
    }
    let f = &server.firewall;
    if matches!(f.verdict, FirewallAction::Drop | FirewallAction::Reject) {
        let rule = f.rule.as_deref().unwrap_or("(the policy)");
        let evidence = format!(
            "on the server: {}, and its own firewall {}s them: rule `{rule}`{}",
            arrivals_text(server),
            f.verdict.as_str(),
            hits_text(server)
        );
        let confidence = if seen.reached {
            Confidence::High
        } else {
            Confidence::Medium
        };
        return Some(finding(
            Cause::HostFirewall,
            confidence,
            vec![probe, evidence],
        ));
    }
    if let Some(f) = listening(result, server, seen, probe.clone()) {
        return Some(f);
    }
    if result.endpoint.protocol == Protocol::Udp
        && let Some(f) = udp(result, server, side, probe.clone())
    {
        return Some(f);
    }
    if seen.reached && seen.counted {
        let evidence = format!(
            "on the server: {}, its firewall lets them in and {} took them, yet no answer reached this client: the replies are lost on the way back (an egress rule, a route that sends them out another way, a NAT that does not translate them); port {port} itself is fine",
            arrivals_text(server),
            server
                .listener
                .as_ref()
                .map_or_else(|| "its socket".to_owned(), listener_text)
        );
        return Some(high(Cause::NoRoute, vec![probe, evidence]));
    }
    server_word(server, probe)
}

/// The client connected or got a reply: `ok`, unless the reply came from elsewhere.
fn open(
    result: &ProbeResult,
    server: &WatchReport,
    seen: &Seen,
    side: ClientSide,
    probe: String,
) -> Option<Finding> {
    if result.endpoint.protocol == Protocol::Udp
        && let Some(f) = other_address(result, server, side, probe.clone())
    {
        return Some(f);
    }
    if !seen.counted {
        return None;
    }
    if seen.packets == 0 {
        if !seen.exact {
            return None;
        }
        let evidence = format!(
            "on the server: no packet to {}/{} reached its network card in {:.0} s: whatever answered this client was not the server (a SYN proxy, a tarpit, a redirect on the way)",
            server.port, server.protocol, server.watch_seconds
        );
        return Some(high(Cause::AnswersEveryPort, vec![probe, evidence]));
    }
    let evidence = format!(
        "on the server: {}, taken by {}",
        arrivals_text(server),
        server.listener.as_ref().map_or_else(
            || "its socket".to_owned(),
            |l| format!("{} listening", listener_text(l))
        )
    );
    Some(high(Cause::Ok, vec![probe, evidence]))
}

/// Nothing reached the server's network card while the client sent.
fn nothing_arrived(
    result: &ProbeResult,
    client: &[Finding],
    server: &WatchReport,
    seen: &Seen,
    probe: String,
) -> Finding {
    let how = if seen.exact {
        "its network card (a packet socket, before any firewall)"
    } else {
        "its firewall's counters"
    };
    let evidence = format!(
        "on the server: no packet to {}/{} reached {how} in {:.0} s from anyone, while this client sent {}: they stop before the VM, at the security group (or the cloud's edge, or the path)",
        server.port, server.protocol, server.watch_seconds, result.attempts
    );
    // A trace that saw the packets stop before the provider's network keeps `no_route`.
    if let Some(route) = client
        .iter()
        .find(|f| f.cause == Cause::NoRoute && f.confidence == Confidence::High)
    {
        let mut f = route.clone();
        f.evidence.push(evidence);
        return f;
    }
    let confidence = if seen.exact {
        Confidence::High
    } else {
        Confidence::Medium
    };
    finding(Cause::SecurityGroup, confidence, vec![probe, evidence])
}

/// Packets reached the host: is anything listening, and where?
fn listening(
    result: &ProbeResult,
    server: &WatchReport,
    seen: &Seen,
    probe: String,
) -> Option<Finding> {
    let udp = result.endpoint.protocol == Protocol::Udp;
    let port = server.port;
    let nobody = if udp {
        server.listener.is_none() && server.udp_socket.is_none()
    } else {
        server.listener.is_none()
    };
    if nobody {
        let evidence = format!(
            "on the server: {}, and no socket is bound to {port}/{}: the program is not running, or failed at start (told to bind the public IP, it fails with `OSError: [Errno 99] Cannot assign requested address`, EADDRNOTAVAIL: the public IP is not on the VM)",
            arrivals_text(server),
            server.protocol
        );
        let confidence = if seen.reached {
            Confidence::High
        } else {
            Confidence::Medium
        };
        return Some(finding(
            Cause::NotListening,
            confidence,
            vec![probe, evidence],
        ));
    }
    let listener = server.listener.as_ref()?;
    let address = listener.bound.ip();
    if address.is_loopback() || (!address.is_unspecified() && result.state == State::Closed) {
        let evidence = format!(
            "on the server: {} listens, so clients from elsewhere are refused; {}",
            listener_text(listener),
            arrivals_text(server)
        );
        return Some(high(Cause::LoopbackBind, vec![probe, evidence]));
    }
    None
}

/// UDP that arrived at the socket: answered, or not, and from where.
fn udp(
    result: &ProbeResult,
    server: &WatchReport,
    side: ClientSide,
    probe: String,
) -> Option<Finding> {
    if let Some(f) = other_address(result, server, side, probe.clone()) {
        return Some(f);
    }
    let socket = server.udp_socket.as_ref()?;
    if socket.datagrams_in > 0 && socket.datagrams_out == 0 {
        let evidence = format!(
            "on the server: {}; its socket{} received {} datagrams and sent none: the program reads and never answers",
            arrivals_text(server),
            server
                .listener
                .as_ref()
                .map_or_else(String::new, |l| format!(" ({})", listener_text(l))),
            socket.datagrams_in
        );
        return Some(high(Cause::ServerNotReplying, vec![probe, evidence]));
    }
    None
}

/// The server answered UDP from another of its addresses: the client's socket that sent
/// the probe (connected to the target) never sees such a reply.
fn other_address(
    result: &ProbeResult,
    server: &WatchReport,
    side: ClientSide,
    probe: String,
) -> Option<Finding> {
    let target = result.endpoint.address?;
    let stray = side.stray_reply.filter(|s| s.ip() != target);
    let says = server.verdict.cause == Cause::ReplyFromOtherAddress.as_str();
    let answered = server.udp_socket.as_ref().filter(|u| u.datagrams_out > 0);
    if stray.is_none() && !says {
        return None;
    }
    let mut evidence = vec![probe];
    if let Some(from) = stray {
        evidence.push(stray_text(target, from));
    }
    if let Some(u) = answered {
        evidence.push(format!(
            "on the server: its socket received {} datagrams and answered {} from {}",
            u.datagrams_in,
            u.datagrams_out,
            addresses_text(&u.reply_sources)
        ));
    }
    if says {
        evidence.push(format!("the server's verdict: {}", server.verdict.detail));
    }
    // Proven by both sides, or by the client's own eyes with the server answering.
    let confidence = if stray.is_some() && (says || answered.is_some()) {
        Confidence::High
    } else {
        Confidence::Medium
    };
    Some(finding(Cause::ReplyFromOtherAddress, confidence, evidence))
}

/// The server's own verdict, when it names a cause the rules above did not reach.
fn server_word(server: &WatchReport, probe: String) -> Option<Finding> {
    let v = &server.verdict;
    let cause = [
        Cause::HostFirewall,
        Cause::NotListening,
        Cause::LoopbackBind,
        Cause::BindPublicIp,
        Cause::ServerNotReplying,
        Cause::AcceptQueueOverflow,
        Cause::ReceiveBufferOverflow,
        Cause::ContainerPublishBypass,
    ]
    .into_iter()
    .find(|c| c.as_str() == v.cause)?;
    let evidence = format!("on the server: {} ({})", v.detail, arrivals_text(server));
    Some(finding(cause, Confidence::Medium, vec![probe, evidence]))
}

/// Whether the report excludes `cause` (it is then left out of the merged list).
fn ruled_out(cause: Cause, result: &ProbeResult, server: &WatchReport, seen: &Seen) -> bool {
    let arrived = seen.counted && seen.packets > 0;
    // The network card saw nothing: nothing reached the host's firewall either.
    let none_at_card = seen.exact && seen.packets == 0;
    let bound = server.listener.is_some()
        || (result.endpoint.protocol == Protocol::Udp && server.udp_socket.is_some());
    let wildcard = server
        .listener
        .as_ref()
        .is_some_and(|l| l.bound.ip().is_unspecified());
    match cause {
        Cause::SecurityGroup | Cause::HostDownOrWrongIp | Cause::PrivateAddress => arrived,
        Cause::HostFirewall => {
            none_at_card || (arrived && server.firewall.verdict == FirewallAction::Accept)
        }
        Cause::NotListening | Cause::BindPublicIp => bound,
        Cause::LoopbackBind => wildcard,
        Cause::ServerNotReplying => server
            .udp_socket
            .as_ref()
            .is_some_and(|u| u.datagrams_out > 0),
        _ => false,
    }
}

fn high(cause: Cause, evidence: Vec<String>) -> Finding {
    finding(cause, Confidence::High, evidence)
}

fn finding(cause: Cause, confidence: Confidence, evidence: Vec<String>) -> Finding {
    Finding {
        cause,
        confidence,
        evidence,
    }
}

/// `this client sent 3 (7890/tcp no-response)`.
fn probe_text(result: &ProbeResult) -> String {
    format!(
        "this client sent {} ({})",
        result.attempts,
        super::rules::evidence_of(result)
    )
}

/// `4 packets arrived at its network card from 198.51.100.2`.
fn arrivals_text(server: &WatchReport) -> String {
    if !server.sees_arrivals() {
        return "arrivals not seen (no packet capture, no counters)".to_owned();
    }
    if server.arrivals.is_empty() {
        return "no packet arrived".to_owned();
    }
    let sources: Vec<String> = server
        .arrivals
        .iter()
        .map(|a| format!("{} from {}", a.packets, a.source))
        .collect();
    let at = if server.capture == Capture::PacketSocket {
        "its network card"
    } else {
        "its firewall's counters"
    };
    format!("packets arrived at {at}: {}", sources.join(", "))
}

/// ` (its counter rose by 3)`, or nothing.
fn hits_text(server: &WatchReport) -> String {
    let counted: u64 = server.firewall.hits.iter().map(|h| h.packets).sum();
    if counted == 0 {
        String::new()
    } else {
        format!(" (its counter rose by {counted} while watched)")
    }
}

/// `python3 (pid 123) on 0.0.0.0:8000`.
fn listener_text(l: &Listener) -> String {
    match (&l.process, l.pid) {
        (Some(p), Some(pid)) => format!("{p} (pid {pid}) on {}", l.bound),
        (Some(p), None) => format!("{p} on {}", l.bound),
        _ => format!("a socket on {}", l.bound),
    }
}

fn addresses_text(addresses: &[IpAddr]) -> String {
    if addresses.is_empty() {
        return "an address not reported".to_owned();
    }
    addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[path = "two_sided_tests.rs"]
mod tests;
