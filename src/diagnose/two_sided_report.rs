//! The server's side of a two-sided diagnosis as it arrives: the JSON of
//! `ipdiag local --port P --watch D --format json` run on the server, read strictly enough
//! to trust (`schema_version` first), loosely enough that fields a newer server adds are
//! ignored. Pure: the transport (`app/on_server.rs`) hands the text in.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The newest server-report schema this ipdiag reads.
pub const SCHEMA_VERSION: u64 = 1;

/// What the server saw while the client probed.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ServerReport {
    /// The report's schema (1).
    pub schema_version: u64,
    /// The server's ipdiag.
    #[serde(default)]
    pub ipdiag_version: String,
    /// The port as the server sees it (after DNAT).
    pub port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// How long the server watched.
    #[serde(default)]
    pub watch_seconds: f64,
    /// How the arrivals were seen: `packet_socket` (before the host firewall, the proof),
    /// `counters` (the firewall's counters: less), `none` (not seen at all).
    pub capture: String,
    /// Packets to the port per source address.
    #[serde(default)]
    pub arrivals: Vec<Arrival>,
    /// The host firewall's verdict for the port.
    pub firewall: Option<Firewall>,
    /// The socket listening on the port (TCP); `null` when nothing does.
    pub listener: Option<Listener>,
    /// The UDP socket's datagrams in and out while watched; `null` for TCP or no socket.
    pub udp_socket: Option<UdpSocketSeen>,
    /// The TCP listener's accept queue; `null` for UDP or no listener.
    pub accept_queue: Option<AcceptQueue>,
    /// The server's own verdict from its side alone.
    pub verdict: Option<ServerVerdict>,
    /// What the server could not see, and why.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Packets from one source.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Arrival {
    /// The source address as the server saw it (after any NAT on the way).
    pub source: IpAddr,
    /// Packets to the port.
    pub packets: u64,
}

/// The host firewall for the port.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Firewall {
    /// `accept`, `drop`, `reject` or `may_apply` (a rule ipdiag could not evaluate).
    pub verdict: String,
    /// The deciding rule, as the firewall lists it.
    pub rule: Option<String>,
    /// Rules whose counters rose while watched.
    #[serde(default)]
    pub hits: Vec<RuleHit>,
}

/// A rule's counter while watched.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RuleHit {
    /// The rule.
    pub rule: String,
    /// Packets it counted.
    pub packets: u64,
}

/// The listening socket.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Listener {
    /// `ADDRESS:PORT` it is bound to.
    pub bound: String,
    /// Its process, when known.
    pub process: Option<String>,
    /// Its process id, when known.
    pub pid: Option<u32>,
}

impl Listener {
    /// The address it is bound to (`0.0.0.0`, `[::]`, `127.0.0.1`, …), when it parses.
    pub fn address(&self) -> Option<IpAddr> {
        let host = self
            .bound
            .rsplit_once(':')
            .map_or(self.bound.as_str(), |(h, _)| h);
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .split('%')
            .next()?
            .parse()
            .ok()
    }
}

/// A UDP socket's traffic while watched.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct UdpSocketSeen {
    /// Datagrams the socket received.
    pub datagrams_in: u64,
    /// Datagrams it sent.
    pub datagrams_out: u64,
    /// The source addresses of its replies.
    #[serde(default)]
    pub reply_sources: Vec<IpAddr>,
}

/// A TCP listener's accept queue.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct AcceptQueue {
    /// `listen()`'s backlog.
    pub backlog: u64,
    /// Connections waiting to be accepted.
    pub queued: u64,
    /// `ListenOverflows` while watched.
    pub overflows: u64,
    /// `ListenDrops` while watched.
    pub drops: u64,
}

/// The server's verdict from its side.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ServerVerdict {
    /// A cause word (DESIGN.md), or `ok`.
    pub cause: String,
    /// In words.
    #[serde(default)]
    pub detail: String,
}

/// Why a server's output is not a report this ipdiag can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportProblem {
    /// Not JSON, or JSON without `schema_version`: an ipdiag from before the watch.
    NotAReport,
    /// A schema newer than [`SCHEMA_VERSION`].
    Newer(u64),
    /// The schema is known but a field is wrong.
    Malformed(String),
}

impl ServerReport {
    /// Reads the server's stdout.
    pub fn parse(text: &str) -> Result<Self, ReportProblem> {
        let value: serde_json::Value =
            serde_json::from_str(text.trim()).map_err(|_| ReportProblem::NotAReport)?;
        let version = value
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or(ReportProblem::NotAReport)?;
        if version > SCHEMA_VERSION {
            return Err(ReportProblem::Newer(version));
        }
        serde_json::from_value(value).map_err(|e| ReportProblem::Malformed(e.to_string()))
    }

    /// Packets that arrived from every source.
    pub fn packets(&self) -> u64 {
        self.arrivals.iter().map(|a| a.packets).sum()
    }

    /// Whether arrivals were seen at all (`capture` other than `none`).
    pub fn sees_arrivals(&self) -> bool {
        self.capture != "none"
    }
}
