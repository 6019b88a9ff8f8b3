//! `ipdiag probe`: arguments.

use clap::Args;
use std::path::PathBuf;

/// Examples shown under `ipdiag probe --help`.
pub const EXAMPLES: &str = "\
Examples:
  ipdiag probe 203.0.113.10:7890            is the cloud server's port reachable?
  ipdiag probe 203.0.113.10:7890 --udp      the same for UDP (silence is open|filtered)
  ipdiag probe web -p 22,80,8000-8100       several ports of one host
  ipdiag probe '[2001:db8::1]:53' --both    TCP and UDP, IPv6
  ipdiag probe 127.0.0.1 -p 1-65535         a full sweep (closed ports are summarised)
  ipdiag probe 203.0.113.10:7890 -c 20      20 attempts: RTT min/avg/max/stddev and loss
  ipdiag probe 203.0.113.10:7890 -c 0       until Ctrl-C, then the summary
  ipdiag probe --file targets.txt --jsonl   one target a line, results as they finish
  sudo ipdiag probe 203.0.113.10 -p- --raw   a SYN scan of every port (raw mode)
  ipdiag probe 203.0.113.10:7895 --sizes 64,1472,1473,4000 --responder
                                            which UDP datagram sizes arrive (fragments?)
  ipdiag probe 203.0.113.10:7895 --size-sweep   the largest datagram that arrives
  ipdiag probe 203.0.113.10:7895 --loss-split --rates 100,1000,5000
                                            UDP loss by direction per send rate
                                            (needs ipdiag serve --udp on the server)

States and reasons are nmap's: open (syn-ack, udp-response), closed (conn-refused,
port-unreach from the target), filtered (no-response, host-unreach, net-unreach,
admin-prohibited, ...), open|filtered (UDP silence), error (dns-error, local-error).
On Linux, with root or CAP_NET_RAW, TCP sweeps of 1000 ports or more run as a SYN scan
(method syn: crafted SYNs, replies matched by a cookie, the handshake never completed;
--connect keeps ordinary sockets); --raw asks for it for any TCP probe.
Exit status: 0 when every port is open (or in a state --expect lists), 1 otherwise, 3 when
--raw was given without the privilege. So a sweep where most ports are closed exits 1
(nmap exits 0 after any completed scan): --expect open,closed, or --expect any (every
port got a state; a probe that could not be made, an error, still fails), makes the exit
status mean 'as expected'.";

/// Probe TCP and UDP reachability.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Targets: HOST:PORT, [IPV6]:PORT, [IPV6%IFACE]:PORT (link-local), HOST (with -p), NETWORK/LEN:PORT
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Ports for targets given without one: 22,80,8000-8100, ssh, 53/udp
    #[arg(short, long, value_name = "PORTS")]
    pub ports: Vec<String>,
    /// Read targets from FILE, one a line (# comments and blank lines skipped)
    #[arg(short, long, value_name = "FILE")]
    pub file: Vec<PathBuf>,
    /// Protocols and address families.
    #[command(flatten)]
    pub protocol: ProtocolArgs,
    /// Attempts, timeouts, limits.
    #[command(flatten)]
    pub timing: TimingArgs,
    /// UDP payload: 0xHEX or text; '' sends an empty datagram [default: per service]
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true)]
    pub payload: Option<String>,
    /// Exit 0 when every port is in one of these states instead of open: a comma list of
    /// open, closed, filtered, open|filtered, error, or any (every state but error), e.g.
    /// --expect open,closed for a sweep
    #[arg(long, value_name = "STATES")]
    pub expect: Option<String>,
    /// List every port in the table (by default the most common state of a sweep is summarised)
    #[arg(short, long)]
    pub all: bool,
    /// Never resolve host names
    #[arg(short = 'n', long)]
    pub numeric: bool,
    /// Allow broadcast and multicast destinations
    #[arg(long)]
    pub allow_broadcast: bool,
    /// Fix texts and the rule's source.
    #[command(flatten)]
    pub advice: AdviceArgs,
    /// The responder on the target.
    #[command(flatten)]
    pub responder: ResponderArgs,
    /// Leave out the diagnosis under the table
    #[arg(long)]
    pub no_hints: bool,
    /// Raw mode (Linux): a half-open SYN scan for TCP (root or CAP_NET_RAW; exit 3 without)
    /// [default: automatic for 1000 or more TCP ports when privileged]
    #[arg(long, conflicts_with = "connect")]
    pub raw: bool,
    /// Ordinary sockets only (TCP connect), even for a large sweep with privileges
    #[arg(long)]
    pub connect: bool,
    /// UDP datagram sizes to send (payload bytes, e.g. 64,512,1472,1473,4000): which
    /// arrive, how many bytes the server got, the path MTU (one HOST:PORT; implies --udp)
    #[arg(long, value_name = "LIST", conflicts_with_all = ["raw", "both", "tcp"])]
    pub sizes: Option<String>,
    /// Search for the largest UDP datagram that arrives, with the path MTU (one HOST:PORT;
    /// implies --udp)
    #[arg(long, conflicts_with_all = ["raw", "both", "tcp"])]
    pub size_sweep: bool,
    /// Loss by direction through the responder.
    #[command(flatten)]
    pub load: super::load::LoadArgs,
}

/// Which protocols and address families to probe.
#[derive(Debug, Args)]
pub struct ProtocolArgs {
    /// Probe TCP (the default)
    #[arg(long, conflicts_with_all = ["udp", "both"])]
    pub tcp: bool,
    /// Probe UDP instead of TCP
    #[arg(short = 'u', long, conflicts_with = "both")]
    pub udp: bool,
    /// Probe TCP and UDP
    #[arg(long)]
    pub both: bool,
    /// Only IPv4 addresses of names
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Only IPv6 addresses of names
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Judge every address of a name on its own (by default a name is reachable when one
    /// of its addresses is, as a client's connect finds it)
    #[arg(long)]
    pub all_addresses: bool,
}

/// Attempts, timeouts and limits.
#[derive(Debug, Args)]
pub struct TimingArgs {
    /// Attempts per port; 0 runs until Ctrl-C (then prints the summary) [default: probe 1, doctor 3]
    #[arg(short, long, value_name = "N")]
    pub count: Option<u32>,
    /// Pause between attempts to the same port (250ms, 1s) [default: probe 1s, doctor 200ms]
    #[arg(short, long, value_name = "DURATION")]
    pub interval: Option<String>,
    /// The longest wait for an answer; shorter waits adapt to the measured RTT
    #[arg(short = 'w', long, default_value = "1s", value_name = "DURATION")]
    pub timeout: String,
    /// The most retries for a silent port: one on a host that has lost nothing; once it
    /// loses, as many as make missing an answer unlikely (1 in 100,000) at its measured loss
    #[arg(long, default_value_t = crate::probe::timing::DEFAULT_MAX_RETRIES, value_name = "N")]
    pub retries: u32,
    /// Probes per second at most [default: 20000; loopback unpaced unless given]
    #[arg(long, value_name = "N")]
    pub rate: Option<String>,
    /// Ports probed at once at most (also bounded by the open-file limit)
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub concurrency: usize,
}

/// ipdiag's responder (`ipdiag serve`) on the target.
#[derive(Debug, Args)]
pub struct ResponderArgs {
    /// An ipdiag responder runs on the target: UDP silence then means filtered
    #[arg(long)]
    pub responder: bool,
    /// The responder's token (`ipdiag serve --token`): probe datagrams carry its HMAC tag
    #[arg(long, value_name = "SECRET")]
    pub token: Option<String>,
}

/// Whose fix texts, and the source address for a firewall rule.
#[derive(Debug, Args)]
pub struct AdviceArgs {
    /// Cloud for the fix texts: auto picks it from the target's address
    #[arg(long, value_enum, default_value_t = CloudArg::Auto, value_name = "CLOUD")]
    pub cloud: CloudArg,
    /// Your public address or network, for the security-group rule's source (198.51.100.7, 198.51.100.0/24)
    #[arg(long, value_name = "CIDR")]
    pub source: Option<String>,
}

/// `--cloud`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CloudArg {
    /// From the embedded prefix table
    Auto,
    /// Alibaba Cloud
    Alibaba,
    /// Amazon Web Services
    Aws,
    /// Google Cloud
    Gcp,
    /// Microsoft Azure
    Azure,
    /// Tencent Cloud
    Tencent,
    /// Huawei Cloud
    Huawei,
    /// Any other: generic steps
    Generic,
}

impl CloudArg {
    /// The provider key of `data/fixes.toml`, `None` for auto.
    pub const fn key(self) -> Option<&'static str> {
        Some(match self {
            Self::Auto => return None,
            Self::Alibaba => "alibaba",
            Self::Aws => "aws",
            Self::Gcp => "gcp",
            Self::Azure => "azure",
            Self::Tencent => "tencent",
            Self::Huawei => "huawei",
            Self::Generic => "generic",
        })
    }
}
