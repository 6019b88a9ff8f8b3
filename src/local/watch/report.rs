//! The JSON record of `ipdiag local --port P --watch D` (schema version 1): what happened
//! to the packets for one port while watched, per source address.
//!
//! A contract: `doctor --on-server` runs `local --watch` on the server and reads this back,
//! possibly from another ipdiag version. Field names never change within a schema version;
//! new fields are added with `#[serde(default)]` so an older reader still parses a newer
//! record, and a change a reader cannot ignore bumps [`SCHEMA_VERSION`]. The reader's side
//! ([`WatchReport::parse`]) checks `schema_version` before anything else, so an older
//! ipdiag's JSON or a newer schema is told apart from a broken record.

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};

/// The version of this record's shape; readers refuse a version they do not know.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything one watch saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchReport {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// The writer's `CARGO_PKG_VERSION`.
    pub ipdiag_version: String,
    /// The watched port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// How long it watched, in seconds (shorter than asked when Ctrl-C ended it).
    pub watch_seconds: f64,
    /// Where `arrivals` come from.
    pub capture: Capture,
    /// Packets for the port that reached this machine's network card, per source address
    /// (with a packet socket: before the host firewall); most packets first.
    pub arrivals: Vec<Arrival>,
    /// What the host firewall did to them.
    pub firewall: FirewallWatch,
    /// The socket bound to the port (the first, when several are), or null.
    pub listener: Option<Listener>,
    /// UDP: what went in and out of the socket while watched; null for TCP or no socket.
    pub udp_socket: Option<UdpSocket>,
    /// TCP: the listener's accept queue and the host's overflow counters; null for UDP or
    /// when nothing listens.
    pub accept_queue: Option<AcceptQueue>,
    /// The cause (`local`'s vocabulary) and one sentence.
    pub verdict: Verdict,
    /// What the watch could not see, and why.
    pub notes: Vec<String>,
    /// UDP: the receive side as `local --port P --udp` reports it (queue, buffer, drops
    /// while watched, the host's UDP counters); absent for TCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive: Option<serde_json::Value>,
}

/// How arrivals were counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capture {
    /// An `AF_PACKET` socket saw every packet at the network card (CAP_NET_RAW).
    PacketSocket,
    /// No packet socket: the firewall's counters, conntrack and the host's counters, which
    /// say how many but not always from whom.
    Counters,
    /// Nothing could be counted (no privileges, no tools).
    None,
}

/// Packets from one source address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arrival {
    /// The sender's address as this machine saw it (after any NAT before it).
    pub source: IpAddr,
    /// Packets to the port (TCP: every segment, SYNs included; UDP: datagrams).
    pub packets: u64,
    /// TCP: how many of them were SYNs (new connections and their retransmissions).
    #[serde(default)]
    pub syns: u64,
    /// The local addresses they were sent to.
    #[serde(default)]
    pub destinations: Vec<IpAddr>,
}

/// What the host firewall does to a new packet for the port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallWatch {
    /// The evaluator's verdict on a new connection from anywhere.
    pub verdict: FirewallAction,
    /// The deciding rule, as text, or null (the chain's policy or nothing decides).
    pub rule: Option<String>,
    /// Rules touching the port whose counters grew while watched, most packets first.
    pub hits: Vec<RuleHit>,
}

/// The firewall's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirewallAction {
    /// Let in.
    Accept,
    /// Dropped in silence.
    Drop,
    /// Refused with an ICMP error or a reset.
    Reject,
    /// Let in unless a rule ipdiag cannot evaluate applies (the rule is named).
    MayApply,
    /// The rules could not be read (no root, no tools).
    Unknown,
}

/// One rule whose counter grew.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleHit {
    /// The rule as text (`inet filter input: tcp dport 8000 drop`).
    pub rule: String,
    /// Packets it counted while watched.
    pub packets: u64,
}

/// The socket bound to the port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listener {
    /// Its bind address and port.
    pub bound: SocketAddr,
    /// The process holding it, when visible.
    pub process: Option<String>,
    /// Its process id, when visible.
    pub pid: Option<u32>,
}

/// Datagrams in and out of the UDP socket while watched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UdpSocket {
    /// Datagrams that reached the socket (arrived for its address and no rule dropped).
    pub datagrams_in: u64,
    /// Datagrams sent from the port.
    pub datagrams_out: u64,
    /// The source addresses of those replies.
    pub reply_sources: Vec<IpAddr>,
}

/// The TCP listener's accept queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptQueue {
    /// Its length limit (the `listen()` backlog, capped by `net.core.somaxconn`).
    pub backlog: u32,
    /// Connections waiting for `accept()` at the end of the watch.
    pub queued: u32,
    /// The host's `TcpExt: ListenOverflows` increase while watched.
    pub overflows: u64,
    /// The host's `TcpExt: ListenDrops` increase while watched.
    pub drops: u64,
}

/// The verdict on the watched port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// A cause word (README's cause list): `ok`, `not_listening`, `loopback_bind`,
    /// `host_firewall`, `receive_buffer_overflow`, `accept_queue_overflow`,
    /// `server_not_replying`, `reply_from_other_address`, `container_publish_bypass`, or
    /// `security_group` when nothing arrived at all.
    pub cause: String,
    /// One sentence: what was seen and what to do.
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

impl WatchReport {
    /// Reads a watch's JSON (a server's stdout): `schema_version` first, then the record;
    /// fields a newer writer added within the same schema are ignored.
    pub fn parse(text: &str) -> Result<Self, ReportProblem> {
        let value: serde_json::Value =
            serde_json::from_str(text.trim()).map_err(|_| ReportProblem::NotAReport)?;
        let version = value
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or(ReportProblem::NotAReport)?;
        if version > u64::from(SCHEMA_VERSION) {
            return Err(ReportProblem::Newer(version));
        }
        serde_json::from_value(value).map_err(|e| ReportProblem::Malformed(e.to_string()))
    }

    /// Packets that arrived from every source.
    pub fn packets(&self) -> u64 {
        self.arrivals.iter().map(|a| a.packets).sum()
    }

    /// Whether arrivals were counted at all (a packet socket or the firewall's counters).
    pub fn sees_arrivals(&self) -> bool {
        self.capture != Capture::None
    }
}

impl Capture {
    /// The JSON word (`packet_socket`, `counters`, `none`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PacketSocket => "packet_socket",
            Self::Counters => "counters",
            Self::None => "none",
        }
    }
}

impl FirewallAction {
    /// The JSON word (`accept`, `drop`, `reject`, `may_apply`, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Drop => "drop",
            Self::Reject => "reject",
            Self::MayApply => "may_apply",
            Self::Unknown => "unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_round_trips_with_its_field_names() {
        let text = r#"{"schema_version":1,"ipdiag_version":"0.1.0","port":8000,"protocol":"tcp","watch_seconds":30.0,"capture":"packet_socket","arrivals":[{"source":"198.51.100.7","packets":12}],"firewall":{"verdict":"drop","rule":"inet filter input: tcp dport 8000 drop","hits":[{"rule":"inet filter input: tcp dport 8000 drop","packets":12}]},"listener":{"bound":"10.0.0.5:8000","process":"python3","pid":123},"udp_socket":null,"accept_queue":{"backlog":128,"queued":0,"overflows":0,"drops":0},"verdict":{"cause":"host_firewall","detail":"x"},"notes":[]}"#;
        let report: WatchReport = serde_json::from_str(text).unwrap();
        assert_eq!(report.capture, Capture::PacketSocket);
        assert_eq!(report.arrivals[0].packets, 12);
        assert_eq!(report.firewall.verdict, FirewallAction::Drop);
        let back = serde_json::to_value(&report).unwrap();
        assert_eq!(back["listener"]["bound"], "10.0.0.5:8000");
        assert_eq!(back["firewall"]["verdict"], "drop");
        assert_eq!(back["arrivals"][0]["syns"], 0);
        assert_eq!(back["capture"], "packet_socket");
        assert_eq!(back["capture"], report.capture.as_str());
        assert_eq!(
            back["firewall"]["verdict"],
            report.firewall.verdict.as_str()
        );
    }

    #[test]
    fn reports_that_cannot_be_read_say_why() {
        assert_eq!(
            WatchReport::parse(include_str!("../../../tests/fixtures/server/newer.json")),
            Err(ReportProblem::Newer(7))
        );
        assert_eq!(
            WatchReport::parse(r#"{"port": 8000, "listening": []}"#),
            Err(ReportProblem::NotAReport)
        );
        assert_eq!(
            WatchReport::parse("Usage: ipdiag local"),
            Err(ReportProblem::NotAReport)
        );
        assert!(matches!(
            WatchReport::parse(r#"{"schema_version": 1, "port": "x"}"#),
            Err(ReportProblem::Malformed(_))
        ));
    }
}
