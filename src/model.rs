//! The shared vocabulary: small types every layer speaks (see DESIGN.md "Vocabulary").
//!
//! This module holds data only: no I/O, no formatting beyond the canonical words that
//! JSON, CSV and tables all print, so the words cannot drift between output formats.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of address this is, in one word a user understands.
///
/// Derived from the most specific IANA registry block containing the address
/// (`data/ipv4-special.tsv`, `data/ipv6-special.tsv`); `Public` when no block applies
/// or the block is globally reachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Routable on the Internet.
    Public,
    /// RFC 1918 private-use (IPv4) or unique-local `fc00::/7` (IPv6).
    Private,
    /// RFC 6598 shared address space `100.64.0.0/10` (carrier-grade NAT).
    Shared,
    /// `127.0.0.0/8` or `::1`: this host only.
    Loopback,
    /// `169.254.0.0/16` or `fe80::/10`: this link only.
    LinkLocal,
    /// `224.0.0.0/4` or `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// RFC 5737 / RFC 3849 / RFC 9637 documentation ranges.
    Documentation,
    /// RFC 2544 / RFC 5180 benchmarking ranges.
    Benchmarking,
    /// Reserved, deprecated or protocol-specific; not an ordinary host address.
    Reserved,
    /// `0.0.0.0` or `::`: "no address" (as a bind address: all interfaces).
    Unspecified,
    /// `0.0.0.0/8`: "this network", valid only as a source.
    ThisNetwork,
}

impl Scope {
    /// The word used in every output format.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::Public => "public",
            Scope::Private => "private",
            Scope::Shared => "shared",
            Scope::Loopback => "loopback",
            Scope::LinkLocal => "link-local",
            Scope::Multicast => "multicast",
            Scope::Broadcast => "broadcast",
            Scope::Documentation => "documentation",
            Scope::Benchmarking => "benchmarking",
            Scope::Reserved => "reserved",
            Scope::Unspecified => "unspecified",
            Scope::ThisNetwork => "this-network",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A transport protocol as the IANA port registry knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
    /// DCCP.
    Dccp,
}

impl Transport {
    /// The lowercase name, as IANA and nmap write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Sctp => "sctp",
            Transport::Dccp => "dccp",
        }
    }

    /// Parses `tcp`, `udp`, `sctp` or `dccp` (any case).
    pub fn parse(text: &str) -> Option<Self> {
        [
            Transport::Tcp,
            Transport::Udp,
            Transport::Sctp,
            Transport::Dccp,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The transport a probe uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// `tcp` or `udp`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of a probed port, in nmap's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum State {
    /// Something answered: a TCP handshake or a UDP reply.
    #[serde(rename = "open")]
    Open,
    /// The host answered that nothing listens: a TCP RST or ICMP port unreachable from the target.
    #[serde(rename = "closed")]
    Closed,
    /// Something in between dropped or rejected the probe: silence (TCP) or ICMP unreachable.
    #[serde(rename = "filtered")]
    Filtered,
    /// UDP silence: open (the service ignored the probe) or filtered (dropped); silence cannot tell.
    #[serde(rename = "open|filtered")]
    OpenFiltered,
    /// The probe could not be made (no such name, no local route, no privileges).
    #[serde(rename = "error")]
    Error,
}

impl State {
    /// The word used in every output.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Closed => "closed",
            State::Filtered => "filtered",
            State::OpenFiltered => "open|filtered",
            State::Error => "error",
        }
    }

    /// Parses the words above (for `--expect` and check files).
    pub fn parse(text: &str) -> Option<Self> {
        [
            State::Open,
            State::Closed,
            State::Filtered,
            State::OpenFiltered,
            State::Error,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The evidence behind a state (nmap's `--reason` words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// TCP handshake completed.
    SynAck,
    /// TCP RST: the host refused the connection.
    ConnRefused,
    /// A UDP datagram came back.
    UdpResponse,
    /// ICMP port unreachable (type 3 code 3, ICMPv6 1/4).
    PortUnreach,
    /// ICMP host unreachable.
    HostUnreach,
    /// ICMP network unreachable.
    NetUnreach,
    /// ICMP protocol unreachable (type 3 code 2).
    ProtoUnreach,
    /// ICMP administratively prohibited (type 3 codes 9, 10, 13; ICMPv6 1/1, 1/5, 1/6).
    AdminProhibited,
    /// ICMP time exceeded: a TTL ran out on the way.
    TimeExceeded,
    /// ICMP fragmentation needed / packet too big.
    FragNeeded,
    /// An ICMP echo reply: the host itself answered (trace's ICMP mode).
    EchoReply,
    /// Nothing came back within the timeout, after retries.
    NoResponse,
    /// The name did not resolve.
    DnsError,
    /// This host refused to send the probe (no route, firewall, privileges, resources).
    LocalError,
}

impl Reason {
    /// The word used in every output.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::SynAck => "syn-ack",
            Reason::ConnRefused => "conn-refused",
            Reason::UdpResponse => "udp-response",
            Reason::PortUnreach => "port-unreach",
            Reason::HostUnreach => "host-unreach",
            Reason::NetUnreach => "net-unreach",
            Reason::ProtoUnreach => "proto-unreach",
            Reason::AdminProhibited => "admin-prohibited",
            Reason::TimeExceeded => "time-exceeded",
            Reason::FragNeeded => "frag-needed",
            Reason::EchoReply => "echo-reply",
            Reason::NoResponse => "no-response",
            Reason::DnsError => "dns-error",
            Reason::LocalError => "local-error",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing to probe: an address, a port, a protocol, and how the user named it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// The target as the user wrote it (`web:80`, `203.0.113.10`).
    pub target: String,
    /// The host part (a name or an address).
    pub host: String,
    /// The address probed; `None` when the name did not resolve.
    pub address: Option<std::net::IpAddr>,
    /// The port.
    pub port: u16,
    /// TCP or UDP.
    pub protocol: Protocol,
    /// The interface index of an IPv6 address written with a zone (`fe80::1%eth0`), else 0.
    pub scope_id: u32,
}

impl Endpoint {
    /// The socket address to probe, with the IPv6 scope id (a link-local address is
    /// reachable only through its interface).
    pub fn socket_addr(&self) -> Option<std::net::SocketAddr> {
        use std::net::{IpAddr, SocketAddr, SocketAddrV6};
        Some(match self.address? {
            IpAddr::V6(a) => SocketAddr::V6(SocketAddrV6::new(a, self.port, 0, self.scope_id)),
            a @ IpAddr::V4(_) => SocketAddr::new(a, self.port),
        })
    }
}

/// RTT summary in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RttStats {
    /// Fastest answer.
    pub min: f64,
    /// Mean.
    pub avg: f64,
    /// Slowest answer.
    pub max: f64,
    /// Population standard deviation (ping's `mdev` over the same samples).
    pub stddev: f64,
}

/// How a port was probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Ordinary sockets: TCP `connect()`, UDP `send()`, ICMP errors from the error queue.
    #[default]
    Connect,
    /// Raw mode: a crafted SYN, the handshake never completed (`probe --raw`).
    Syn,
}

impl Method {
    /// The word used in every output format.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Syn => "syn",
        }
    }
}

/// Everything a probe found out about one endpoint (pure data; rendering and diagnosis
/// read it).
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeResult {
    /// What was probed.
    pub endpoint: Endpoint,
    /// nmap's state.
    pub state: State,
    /// The evidence.
    pub reason: Reason,
    /// Who sent the ICMP error behind `reason`, when there was one.
    pub icmp_from: Option<std::net::IpAddr>,
    /// Probes sent (retries included).
    pub attempts: u32,
    /// Probes answered (within their timeout, or late).
    pub received: u32,
    /// Of those, answers that came after their timeout (the probe had been given up and
    /// retried): a slow path, not loss.
    pub late: u32,
    /// RTT over the answered probes.
    pub rtt: Option<RttStats>,
    /// The system's message, for `error` states.
    pub error: Option<String>,
    /// UDP: the payload sent (`ipdiag`, `dns`, `ntp`, `snmp`, `custom`, `empty`).
    pub payload: Option<&'static str>,
    /// An ipdiag responder (`ipdiag serve`) answered.
    pub responder: bool,
    /// The client's address and port as the responder saw them (after any NAT).
    pub observed_source: Option<std::net::SocketAddr>,
    /// Connect mode or a raw SYN.
    pub method: Method,
    /// For `error`: what kind of local failure the system's message describes.
    pub fault: Option<LocalFault>,
    /// TCP: the server completed the handshake and then reset the connection at once (an
    /// overloaded server, a load balancer without a backend). The port is open.
    pub reset_after_accept: bool,
}

/// Why this host could not make a probe (state `error`, reason `local-error`): the kind of
/// failure the diagnosis reads, beside the system's own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LocalFault {
    /// No route to the address (`ENETUNREACH`, `EHOSTUNREACH`).
    NoRoute,
    /// Nothing on the local network answered ARP (IPv6: neighbour discovery) for the
    /// address or its gateway: the kernel's own host-unreachable.
    NoNeighbour,
    /// This host's own firewall refused to send (`EPERM`, `EACCES`, or a reject from its
    /// own output rules).
    OwnFirewall,
    /// Anything else: the message says what.
    Other,
}

impl ProbeResult {
    /// Loss in percent over `attempts`.
    pub fn loss_pct(&self) -> f64 {
        if self.attempts == 0 {
            return 0.0;
        }
        100.0 * f64::from(self.attempts.saturating_sub(self.received)) / f64::from(self.attempts)
    }
}

#[cfg(test)]
impl ProbeResult {
    /// A one-attempt TCP result for unit tests: answered unless the state is a silence.
    ///
    /// # Panics
    /// When `address` is not an IP address (a bug in the test).
    pub fn sample(address: &str, port: u16, state: State, reason: Reason) -> Self {
        let address: std::net::IpAddr = address.parse().expect("a test address");
        Self {
            endpoint: Endpoint {
                target: std::net::SocketAddr::new(address, port).to_string(),
                host: address.to_string(),
                address: Some(address),
                port,
                protocol: Protocol::Tcp,
                scope_id: 0,
            },
            state,
            reason,
            icmp_from: None,
            attempts: 1,
            received: u32::from(!matches!(state, State::Filtered | State::OpenFiltered)),
            late: 0,
            rtt: None,
            error: None,
            payload: None,
            responder: false,
            observed_source: None,
            method: Method::Connect,
            fault: None,
            reset_after_accept: false,
        }
    }
}
