//! `ipdiag trace`: arguments.

use super::parse::OneHostArgs;
use clap::Args;

/// Examples shown under `ipdiag trace --help`.
pub const EXAMPLES: &str = "\
Examples:
  ipdiag trace 203.0.113.10:7890            where along the path does the port die? (TCP SYN)
  ipdiag trace 203.0.113.10:7890 --udp      the same with UDP datagrams
  ipdiag trace 203.0.113.10:7890 --queries 1 -w 500ms -m 20
  ipdiag trace 203.0.113.10:7890 --json
  ipdiag trace 203.0.113.10 --icmp          ICMP echo, as tracert (Windows only for now)

Probes go to the real destination port with a growing TTL: each router where the TTL runs
out answers with ICMP time exceeded, so the path is the one the port's own packets take
(firewalls that pass ping may still drop the port). Each hop shows who answered, the
network it belongs to (the provider and ASN from the embedded table), loss and RTT. The
verdict says where replies stop: after a hop inside the target's cloud provider, with the
server silent, the provider's edge drops it (the security group); before the provider's
network, your own network or ISP blocks it. Every probe of a trace leaves from one source
port, one after another, so routers that balance flows (ECMP) send them all down one path
(Paris traceroute). Ordinary sockets: no privileges needed.
Exit status: 0 when the destination port answered open, 1 otherwise, 2 on bad input.";

/// Trace the path to a port: the hop where its packets stop, and whose network that is
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The port to trace to: HOST:PORT or [IPV6]:PORT (with --icmp: HOST)
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// TCP SYN probes (the default)
    #[arg(long, conflicts_with = "udp")]
    pub tcp: bool,
    /// UDP probes
    #[arg(short = 'u', long)]
    pub udp: bool,
    /// ICMP echo probes, as tracert; the target is a HOST (Windows only for now)
    #[arg(long, conflicts_with_all = ["tcp", "udp", "payload"])]
    pub icmp: bool,
    /// The highest TTL tried (1-255)
    #[arg(short = 'm', long, default_value_t = 30, value_name = "N")]
    pub max_hops: u8,
    /// Probes per hop (1-10)
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub queries: u32,
    /// The longest wait for each probe's answer
    #[arg(short = 'w', long, default_value = "1s", value_name = "DURATION")]
    pub wait: String,
    /// Stop after this many hops in a row where nothing answered
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub max_silent: u8,
    /// Find every load-balanced path (MDA): vary the flow at each hop until every next hop
    /// is found with 99.9 % confidence; shows each hop's addresses and the links between them
    #[arg(long)]
    pub multipath: bool,
    /// UDP payload: 0xHEX or text; '' sends an empty datagram [default: per service]
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true)]
    pub payload: Option<String>,
    /// Name resolution.
    #[command(flatten)]
    pub name: OneHostArgs,
}
