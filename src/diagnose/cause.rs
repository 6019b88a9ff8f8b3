//! The diagnosis vocabulary (DESIGN.md): causes, confidence, and what a finding carries.

use serde::Serialize;
use std::fmt;

/// Why a port is (un)reachable. The words are DESIGN.md's, used as-is in every output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Reachable as asked.
    Ok,
    /// The host answered, but nothing listens on that port.
    NotListening,
    /// The server listens on 127.0.0.1 / `::1` (or another interface) only.
    LoopbackBind,
    /// The server tried to bind the public IP, which is not on the VM's network card.
    BindPublicIp,
    /// The client dialled a private / CGNAT / link-local address from outside its network.
    PrivateAddress,
    /// The cloud firewall (security group) has no inbound rule for this port and source.
    SecurityGroup,
    /// The server's own firewall rejects (ufw, firewalld, iptables, nftables).
    HostFirewall,
    /// Nothing answers at all: instance stopped, wrong IP, or a group allowing nothing.
    HostDownOrWrongIp,
    /// Reachable, but packets are lost or delayed erratically.
    LossyPath,
    /// The name does not resolve.
    Dns,
    /// This machine has no route (or no usable source) to the target.
    NoRoute,
    /// Loopback, unspecified, documentation, multicast, reserved…: not a server's address.
    SpecialAddress,
    /// Datagrams above the path MTU are lost as fragments.
    Fragmentation,
    /// The receiver's buffer is smaller than the datagram.
    Truncation,
    /// The receiving socket's buffer overflows.
    ReceiveBufferOverflow,
    /// UDP reaches the server's socket and nothing goes back (the program never sends).
    ServerNotReplying,
    /// The listener's accept queue is full: the program does not accept fast enough.
    AcceptQueueOverflow,
    /// Something on the way answers every port (a SYN proxy, a tarpit, a redirect): an
    /// `open` there proves nothing about the server.
    AnswersEveryPort,
    /// The server answers UDP from another of its addresses, which a connected client drops.
    ReplyFromOtherAddress,
    /// A port published by DNAT (Docker, Podman) bypasses the input chain's rules.
    ContainerPublishBypass,
    /// UDP replies stop after a pause: a NAT or firewall forgot the flow.
    NatIdleTimeout,
    /// The address is a CDN's, which forwards only the ports it proxies.
    ProxiedCdn,
}

impl Cause {
    /// The word used in every output format.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::NotListening => "not_listening",
            Self::LoopbackBind => "loopback_bind",
            Self::BindPublicIp => "bind_public_ip",
            Self::PrivateAddress => "private_address",
            Self::SecurityGroup => "security_group",
            Self::HostFirewall => "host_firewall",
            Self::HostDownOrWrongIp => "host_down_or_wrong_ip",
            Self::LossyPath => "lossy_path",
            Self::Dns => "dns",
            Self::NoRoute => "no_route",
            Self::SpecialAddress => "special_address",
            Self::Fragmentation => "fragmentation",
            Self::Truncation => "truncation",
            Self::ReceiveBufferOverflow => "receive_buffer_overflow",
            Self::ServerNotReplying => "server_not_replying",
            Self::AcceptQueueOverflow => "accept_queue_overflow",
            Self::AnswersEveryPort => "answers_every_port",
            Self::ReplyFromOtherAddress => "reply_from_other_address",
            Self::ContainerPublishBypass => "container_publish_bypass",
            Self::NatIdleTimeout => "nat_idle_timeout",
            Self::ProxiedCdn => "proxied_cdn",
        }
    }

    /// The cause in a few words, for the table's diagnosis lines.
    pub const fn summary(self) -> &'static str {
        match self {
            Self::Ok => "reachable",
            Self::NotListening => "the host answered, but nothing listens on this port",
            Self::LoopbackBind => "the server may listen on 127.0.0.1 / ::1 only",
            Self::BindPublicIp => {
                "the server binds its public IP, which is not on its network card"
            }
            Self::PrivateAddress => "this is a private address: dial the server's public IP",
            Self::SecurityGroup => "the cloud security group has no inbound rule for this port",
            Self::HostFirewall => "the server's own firewall drops or rejects the port",
            Self::HostDownOrWrongIp => "nothing answers at this address: stopped or wrong IP",
            Self::LossyPath => "reachable, but the path loses or delays packets",
            Self::Dns => "the name does not resolve",
            Self::NoRoute => "this machine or its network cannot get packets to the target",
            Self::SpecialAddress => "this address cannot be a server's",
            Self::Fragmentation => "large datagrams are lost as fragments",
            Self::Truncation => "the receiver truncates large datagrams",
            Self::ReceiveBufferOverflow => "the receiving socket's buffer overflows",
            Self::ServerNotReplying => "the datagrams may arrive, but the server never answers",
            Self::AcceptQueueOverflow => "the server does not accept connections fast enough",
            Self::AnswersEveryPort => {
                "something on the way answers every port: this open proves nothing"
            }
            Self::ReplyFromOtherAddress => {
                "the server replies from another of its addresses, which the client drops"
            }
            Self::ContainerPublishBypass => {
                "a published container port bypasses the host firewall's input rules"
            }
            Self::NatIdleTimeout => "a NAT or firewall forgets the UDP flow after a pause",
            Self::ProxiedCdn => "the address is a CDN's, which forwards only the ports it proxies",
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// The evidence allows nothing else.
    High,
    /// The likeliest reading of the evidence.
    Medium,
    /// Possible; worth checking when the others are ruled out.
    Low,
}

impl Confidence {
    /// The word used in every output format.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
        }
    }
}

/// One cause the evidence points to (ranked; the first is the diagnosis).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The cause.
    pub cause: Cause,
    /// How sure.
    pub confidence: Confidence,
    /// The observations behind it, e.g. `7890/tcp no-response ×3`.
    pub evidence: Vec<String>,
}

/// A finding with the steps that fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hint {
    /// The cause.
    pub cause: Cause,
    /// How sure.
    pub confidence: Confidence,
    /// The observations behind it.
    pub evidence: Vec<String>,
    /// What to do, one step or command a line.
    pub fix: Vec<String>,
}
