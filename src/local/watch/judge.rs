//! The verdict of a watch (pure): what the packets that arrived — or did not — say, on top
//! of `local`'s verdict on the port's listeners and firewall.
//!
//! The order is the order a packet meets things: nothing arrived (the cause is before this
//! machine), then the port's own problem (nothing listens, loopback only, the firewall),
//! then the listener's accept queue (TCP), then what the UDP socket did with them.

use super::report::{AcceptQueue, Capture, UdpSocket, Verdict};
use crate::diagnose::Cause;
use crate::local::verdict::PortVerdict;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// What the watch saw.
#[derive(Debug, Clone)]
pub struct Evidence<'a> {
    /// `8000/tcp`.
    pub port: String,
    /// `30s`.
    pub watched: String,
    /// `local`'s verdict on the port (listeners, firewall, receive buffer).
    pub base: &'a PortVerdict,
    /// How arrivals were counted.
    pub capture: Capture,
    /// Packets that arrived for the port, and from how many sources.
    pub arrived: u64,
    /// Of them, SYNs.
    pub syns: u64,
    /// Sources, most packets first.
    pub sources: Vec<IpAddr>,
    /// The local addresses they were sent to.
    pub destinations: BTreeSet<IpAddr>,
    /// The firewall rules that counted them, with their counts.
    pub hits: &'a [(String, u64)],
    /// TCP: the accept queue.
    pub accept_queue: Option<&'a AcceptQueue>,
    /// UDP: the socket's traffic.
    pub udp: Option<&'a UdpSocket>,
}

/// The verdict.
pub fn judge(e: &Evidence<'_>) -> Verdict {
    let (cause, detail) = decide(e);
    Verdict {
        cause: cause.as_str().to_owned(),
        detail,
    }
}

fn decide(e: &Evidence<'_>) -> (Cause, String) {
    let port = &e.port;
    let seen = e.capture == Capture::PacketSocket;
    if seen && e.arrived == 0 {
        let also = if e.base.cause == Cause::Ok {
            String::new()
        } else {
            format!(" (here too: {})", e.base.detail)
        };
        return (
            Cause::SecurityGroup,
            format!(
                "nothing for {port} arrived at this machine in the {} watched: the packets stop before it (security group, edge, path), or none were sent{also}",
                e.watched
            ),
        );
    }
    let from = from_text(e);
    if e.base.cause != Cause::Ok {
        let rule = e
            .hits
            .first()
            .map_or_else(String::new, |(rule, n)| format!("; {n} counted by {rule}"));
        return (e.base.cause, format!("{from}{}{rule}", e.base.detail));
    }
    if let Some(q) = e.accept_queue
        && q.overflows > 0
        && (e.syns > 0 || !seen)
    {
        return (
            Cause::AcceptQueueOverflow,
            format!(
                "{from}the accept queue overflowed {} times while watched (ListenOverflows; {} queued of a backlog of {}): the program does not accept() fast enough and the kernel drops the SYNs; accept faster or raise the backlog (listen(), net.core.somaxconn)",
                q.overflows, q.queued, q.backlog
            ),
        );
    }
    if let Some(u) = e.udp {
        if u.datagrams_in > 0 && u.datagrams_out == 0 {
            return (
                Cause::ServerNotReplying,
                format!(
                    "{from}{} datagrams reached the socket and it sent none back: the program receives and never answers",
                    u.datagrams_in
                ),
            );
        }
        let other: Vec<String> = u
            .reply_sources
            .iter()
            .filter(|s| !e.destinations.is_empty() && !e.destinations.contains(s))
            .map(ToString::to_string)
            .collect();
        if !other.is_empty() {
            let asked: Vec<String> = e.destinations.iter().map(ToString::to_string).collect();
            return (
                Cause::ReplyFromOtherAddress,
                format!(
                    "{from}the socket answered from {} although the datagrams were sent to {}: a client's connected socket drops such replies; bind the socket to that address (or answer with IP_PKTINFO from the address asked)",
                    other.join(", "),
                    asked.join(", ")
                ),
            );
        }
    }
    (Cause::Ok, format!("{from}{}", e.base.detail))
}

/// `12 packets from 198.51.100.7 arrived; ` (nothing when not captured).
fn from_text(e: &Evidence<'_>) -> String {
    if e.capture != Capture::PacketSocket {
        return String::new();
    }
    let sources: Vec<String> = e.sources.iter().take(3).map(ToString::to_string).collect();
    let more = e.sources.len().saturating_sub(3);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "{} packets from {}{more} arrived; ",
        e.arrived,
        sources.join(", ")
    )
}

#[cfg(test)]
#[path = "judge_tests.rs"]
mod tests;
