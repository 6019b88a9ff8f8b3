//! Fix texts: the steps for each cause, with the provider's console path and CLI command,
//! filled in with protocol, port and source. The texts live in `data/fixes.toml` so a
//! provider is added without touching code.

use super::cause::Cause;
use crate::model::Protocol;
use crate::sys::{System, Words};
use ipnet::IpNet;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;

const FIXES_TOML: &str = include_str!("../../data/fixes.toml");

/// One provider's texts, as written in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderFix {
    name: String,
    security_group: String,
    cli: String,
    instance: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UdpTexts {
    silence: String,
    lossy_path: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TcpTexts {
    lossy_path: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceTexts {
    known: String,
    unknown: String,
}

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixTable {
    provider: BTreeMap<String, ProviderFix>,
    cause: BTreeMap<String, Vec<String>>,
    tcp: TcpTexts,
    udp: UdpTexts,
    source: SourceTexts,
}

fn parse(text: &str) -> Result<FixTable, toml::de::Error> {
    toml::from_str(text)
}

/// A text with its placeholders found once, so filling it is one pass and one allocation
/// (a sweep diagnoses tens of thousands of ports).
#[derive(Debug)]
struct Template(Vec<Piece>);

#[derive(Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Proto,
    ProtoUpper,
    ProtoFlag,
    LocalUdp,
    Port,
    Source,
    Why,
    Address,
    Target,
    Name,
    Route,
    Resolver,
    RcvbufWanted,
    RmemMax,
    RmemDefault,
    Largest,
    PerPacket,
    Received,
}

impl Template {
    fn compile(text: &str) -> Self {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let (before, after) = rest.split_at(open);
            let Some(close) = after.find('}') else { break };
            let piece = match &after[1..close] {
                "proto" => Piece::Proto,
                "PROTO" => Piece::ProtoUpper,
                "proto_flag" => Piece::ProtoFlag,
                "local_udp" => Piece::LocalUdp,
                "port" => Piece::Port,
                "source" => Piece::Source,
                "why" => Piece::Why,
                "address" => Piece::Address,
                "target" => Piece::Target,
                "name" => Piece::Name,
                "route" => Piece::Route,
                "resolver" => Piece::Resolver,
                "rcvbuf_wanted" => Piece::RcvbufWanted,
                "rmem_max" => Piece::RmemMax,
                "rmem_default" => Piece::RmemDefault,
                "largest" => Piece::Largest,
                "per_packet" => Piece::PerPacket,
                "received" => Piece::Received,
                _ => {
                    // Not a placeholder: keep the brace as text and look further on.
                    pieces.push(Piece::Text(rest[..=open].to_owned()));
                    rest = &rest[open + 1..];
                    continue;
                }
            };
            if !before.is_empty() {
                pieces.push(Piece::Text(before.to_owned()));
            }
            pieces.push(piece);
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_owned()));
        }
        Self(pieces)
    }

    /// Whether the text quotes this placeholder (a line that only makes sense with its
    /// number is left out without it).
    fn quotes(&self, placeholder: &Piece) -> bool {
        self.0.contains(placeholder)
    }

    fn fill(&self, v: &Values<'_>) -> String {
        let mut out = String::with_capacity(128);
        for piece in &self.0 {
            if *piece == Piece::Route {
                // Made only for the texts that quote it (a sweep fills many others).
                out.push_str(&v.client.route(&v.address));
                continue;
            }
            out.push_str(match piece {
                Piece::Text(text) => text,
                Piece::Proto => v.proto,
                Piece::ProtoUpper => v.proto_upper,
                Piece::ProtoFlag => v.proto_flag,
                Piece::LocalUdp => v.local_udp,
                Piece::Port => &v.port,
                Piece::Source => &v.source,
                Piece::Why => v.why,
                Piece::Address => &v.address,
                Piece::Target => &v.target,
                Piece::Name => v.name,
                Piece::Route => "",
                Piece::Resolver => v.client.resolve,
                Piece::RcvbufWanted => &v.buffer.wanted,
                Piece::RmemMax => &v.buffer.max,
                Piece::RmemDefault => &v.buffer.default,
                Piece::Largest => &v.sizes.largest,
                Piece::PerPacket => &v.sizes.per_packet,
                Piece::Received => &v.sizes.received,
            });
        }
        out
    }
}

/// The placeholder values of one fix.
struct Values<'a> {
    proto: &'static str,
    proto_upper: &'static str,
    proto_flag: &'static str,
    /// ` --udp` for a UDP port, so `ipdiag local --port P{local_udp}` reads the right table.
    local_udp: &'static str,
    port: String,
    source: String,
    why: &'a str,
    address: String,
    target: String,
    name: &'a str,
    /// The client's words for its own commands (its route, its resolver).
    client: &'static Words,
    buffer: BufferTexts,
    sizes: SizeTexts,
}

impl Values<'_> {
    /// UDP on `port` with nothing else known: the receive-buffer and size fixes quote
    /// numbers of their own, not a target's.
    fn udp(port: u16) -> Self {
        Self {
            proto: Protocol::Udp.as_str(),
            proto_upper: "UDP",
            proto_flag: "u",
            local_udp: " --udp",
            port: port.to_string(),
            source: String::new(),
            why: "",
            address: "the address".to_owned(),
            target: format!("HOST:{port}"),
            name: "",
            client: System::HERE.words(),
            buffer: BufferNumbers::default().into(),
            sizes: SizeTexts::default(),
        }
    }
}

/// A size probe's numbers as the texts say them.
#[derive(Debug, Default)]
struct SizeTexts {
    largest: String,
    per_packet: String,
    received: String,
}

/// The receive-buffer numbers as the texts say them.
struct BufferTexts {
    wanted: String,
    max: String,
    default: String,
}

impl From<BufferNumbers> for BufferTexts {
    fn from(n: BufferNumbers) -> Self {
        let here = |value: Option<u64>, name: &str| {
            value.map_or_else(
                || format!("sysctl {name} shows it"),
                |v| format!("{v} bytes here"),
            )
        };
        Self {
            wanted: n.suggested_rcvbuf.to_string(),
            max: here(n.rmem_max, "net.core.rmem_max"),
            default: here(n.rmem_default, "net.core.rmem_default"),
        }
    }
}

/// The numbers seen on the server that the receive-buffer fix texts quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferNumbers {
    /// The `SO_RCVBUF` (and `net.core.rmem_max`) to suggest.
    pub suggested_rcvbuf: u64,
    /// `net.core.rmem_max`, when read.
    pub rmem_max: Option<u64>,
    /// `net.core.rmem_default`, when read.
    pub rmem_default: Option<u64>,
}

/// The least `SO_RCVBUF` to suggest, 8 MiB: about what high-rate UDP stacks ask for
/// (quic-go recommends 7.5 MB), and well below what a server's memory notices.
pub const MIN_SUGGESTED_RCVBUF: u64 = 8 * 1024 * 1024;

impl Default for BufferNumbers {
    /// What the texts say when the server's numbers are not known (a probe from the client).
    fn default() -> Self {
        Self {
            suggested_rcvbuf: MIN_SUGGESTED_RCVBUF,
            rmem_max: None,
            rmem_default: None,
        }
    }
}

/// One provider's compiled texts.
#[derive(Debug)]
struct Provider {
    name: String,
    security_group: Template,
    cli: Option<Template>,
    instance: Template,
}

/// The compiled table.
#[derive(Debug)]
struct Texts {
    provider: BTreeMap<String, Provider>,
    cause: BTreeMap<String, Vec<Template>>,
    udp_silence: Template,
    udp_lossy_path: Template,
    tcp_lossy_path: Template,
    source_known: Template,
    source_unknown: Template,
}

impl From<FixTable> for Texts {
    fn from(t: FixTable) -> Self {
        Self {
            provider: t
                .provider
                .into_iter()
                .map(|(key, p)| {
                    let provider = Provider {
                        security_group: Template::compile(&p.security_group),
                        cli: (!p.cli.is_empty()).then(|| Template::compile(&p.cli)),
                        instance: Template::compile(&p.instance),
                        name: p.name,
                    };
                    (key, provider)
                })
                .collect(),
            cause: t
                .cause
                .into_iter()
                .map(|(key, lines)| (key, lines.iter().map(|l| Template::compile(l)).collect()))
                .collect(),
            udp_silence: Template::compile(&t.udp.silence),
            udp_lossy_path: Template::compile(&t.udp.lossy_path),
            tcp_lossy_path: Template::compile(&t.tcp.lossy_path),
            source_known: Template::compile(&t.source.known),
            source_unknown: Template::compile(&t.source.unknown),
        }
    }
}

/// The embedded texts; `None` only if the file is broken, which a unit test rules out.
fn table() -> Option<&'static Texts> {
    static TABLE: OnceLock<Option<Texts>> = OnceLock::new();
    TABLE
        .get_or_init(|| parse(FIXES_TOML).ok().map(Texts::from))
        .as_ref()
}

/// The providers with their own texts (besides `generic`).
pub const PROVIDERS: [&str; 6] = ["alibaba", "aws", "gcp", "azure", "tencent", "huawei"];

/// The provider's display name (`generic` → "your cloud provider").
pub fn provider_name(key: &str) -> &'static str {
    table()
        .and_then(|t| t.provider.get(key).or_else(|| t.provider.get("generic")))
        .map_or("your cloud provider", |p| p.name.as_str())
}

/// Where the source of a security-group rule comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Given with `--source`.
    Given(IpNet),
    /// Reported by ipdiag's responder: the address the server saw.
    Observed(IpAddr),
    /// The address this machine leaves from, which is public (no NAT in between).
    Local(IpAddr),
    /// Not known; why (e.g. "this machine's address 192.168.1.5 is private: NAT").
    Unknown(String),
}

impl Source {
    fn cidr(&self) -> String {
        match self {
            Self::Given(net) => net.to_string(),
            Self::Observed(a) | Self::Local(a) => IpNet::from(*a).to_string(),
            Self::Unknown(_) => "<your public IP>/32".into(),
        }
    }

    fn why(&self) -> &str {
        match self {
            Self::Given(_) => "given with --source",
            Self::Observed(_) => "the address the server saw this probe come from",
            Self::Local(_) => "the public address this machine sends from (no NAT in between)",
            Self::Unknown(why) => why,
        }
    }
}

/// What the texts are filled in with.
#[derive(Debug, Clone)]
pub struct FixParams<'a> {
    /// Provider key (`aws`, …, or `generic`).
    pub provider: &'a str,
    /// The probed protocol and port.
    pub protocol: Protocol,
    /// The probed port.
    pub port: u16,
    /// The probed address.
    pub address: Option<IpAddr>,
    /// The client's address for a rule's source.
    pub source: &'a Source,
    /// The result is UDP silence (`open|filtered`).
    pub udp_silence: bool,
    /// The system of the machine that probed (the client): its own commands are named in
    /// its words (`System::HERE` but in tests).
    pub client: System,
}

/// The steps that fix `cause`, one a line (fragmentation and truncation quote sizes, not
/// a port: [`size_fix`] gives theirs).
pub fn fix(cause: Cause, params: &FixParams<'_>) -> Vec<String> {
    let Some(table) = table() else {
        return Vec::new();
    };
    if matches!(cause, Cause::Fragmentation | Cause::Truncation) {
        return Vec::new();
    }
    let provider = table
        .provider
        .get(params.provider)
        .or_else(|| table.provider.get("generic"));
    let udp = params.protocol == Protocol::Udp;
    let address = params
        .address
        .map_or_else(|| "the address".to_owned(), |a| a.to_string());
    let values = Values {
        proto: params.protocol.as_str(),
        proto_upper: if udp { "UDP" } else { "TCP" },
        proto_flag: if udp { "u" } else { "t" },
        local_udp: if udp { " --udp" } else { "" },
        port: params.port.to_string(),
        source: params.source.cidr(),
        why: params.source.why(),
        client: params.client.words(),
        address,
        target: params.address.map_or_else(
            || format!("HOST:{}", params.port),
            |a| SocketAddr::new(a, params.port).to_string(),
        ),
        name: provider.map_or("", |p| p.name.as_str()),
        buffer: BufferNumbers::default().into(),
        sizes: SizeTexts::default(),
    };
    let mut steps: Vec<String> = table
        .cause
        .get(cause.as_str())
        .map(|lines| lines.iter().map(|l| l.fill(&values)).collect())
        .unwrap_or_default();
    match (cause, provider) {
        (Cause::SecurityGroup, Some(p)) => {
            let source = match params.source {
                Source::Unknown(_) => &table.source_unknown,
                _ => &table.source_known,
            };
            steps.push(source.fill(&values));
            steps.push(p.security_group.fill(&values));
            if let Some(cli) = &p.cli {
                steps.push(format!("CLI: {}", cli.fill(&values)));
            }
            if params.udp_silence {
                steps.push(table.udp_silence.fill(&values));
            }
        }
        (Cause::HostDownOrWrongIp | Cause::PrivateAddress, Some(p)) => {
            steps.push(p.instance.fill(&values));
        }
        (Cause::Ok, _) if params.udp_silence => steps.push(table.udp_silence.fill(&values)),
        (Cause::LossyPath, _) if udp => steps.push(table.udp_lossy_path.fill(&values)),
        (Cause::LossyPath, _) => steps.push(table.tcp_lossy_path.fill(&values)),
        _ => {}
    }
    steps
}

/// The steps that fix an overflowing receive buffer on `port`/udp, with the numbers seen
/// on this host (`ipdiag local` runs on the server, so they are the server's). The step
/// that raises `net.core.rmem_max` is left out when it is already high enough: telling
/// the user to "raise" it to a lower value would be wrong.
pub fn receive_buffer_fix(port: u16, numbers: BufferNumbers) -> Vec<String> {
    let Some(lines) = table().and_then(|t| t.cause.get(Cause::ReceiveBufferOverflow.as_str()))
    else {
        return Vec::new();
    };
    let values = Values {
        buffer: numbers.into(),
        ..Values::udp(port)
    };
    let ceiling_high = numbers
        .rmem_max
        .is_some_and(|max| max >= numbers.suggested_rcvbuf);
    lines
        .iter()
        .filter(|l| !(ceiling_high && l.quotes(&Piece::RmemMax)))
        .map(|l| l.fill(&values))
        .collect()
}

/// The numbers a size probe's fix texts quote (`probe --sizes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeNumbers {
    /// Datagrams of up to `largest` bytes arrive, larger ones are lost as fragments.
    Fragmentation {
        /// The largest datagram that arrived.
        largest: usize,
        /// Payload bytes one packet carries on the path, when that is more than `largest`
        /// and less than the smallest lost size: the limit lies between (the line that
        /// says so is left out without it).
        per_packet: Option<usize>,
    },
    /// The server received only `received` bytes of a larger datagram.
    Truncation {
        /// The bytes it got.
        received: usize,
    },
}

/// The steps that fix lost fragments or a short read, with the sizes seen.
pub fn size_fix(numbers: SizeNumbers) -> Vec<String> {
    let (cause, sizes, per_packet) = match numbers {
        SizeNumbers::Fragmentation {
            largest,
            per_packet,
        } => (
            Cause::Fragmentation,
            SizeTexts {
                largest: largest.to_string(),
                per_packet: per_packet.map(|p| p.to_string()).unwrap_or_default(),
                received: String::new(),
            },
            per_packet,
        ),
        SizeNumbers::Truncation { received } => (
            Cause::Truncation,
            SizeTexts {
                received: received.to_string(),
                ..SizeTexts::default()
            },
            None,
        ),
    };
    let Some(lines) = table().and_then(|t| t.cause.get(cause.as_str())) else {
        return Vec::new();
    };
    let values = Values {
        sizes,
        ..Values::udp(0)
    };
    lines
        .iter()
        .filter(|l| per_packet.is_some() || !l.quotes(&Piece::PerPacket))
        .map(|l| l.fill(&values))
        .collect()
}

#[cfg(test)]
#[path = "fixes_tests.rs"]
mod tests;
