//! `ipdiag doctor`: arguments.

use super::probe::{AdviceArgs, ProtocolArgs, ResponderArgs, TimingArgs};
use clap::Args;

/// Examples shown under `ipdiag doctor --help`.
pub const EXAMPLES: &str = "\
Examples:
  ipdiag doctor 203.0.113.10:7890                 why can't I reach my cloud server's port?
  ipdiag doctor 203.0.113.10:7890 --cloud aws     fixes written for AWS
  ipdiag doctor 203.0.113.10:7890 --udp           the same for a UDP service
  ipdiag doctor 203.0.113.10:7890 --source 198.51.100.7
                                                  the security-group rule for that source
  ipdiag doctor 203.0.113.10:7890 --trace         also find the hop where packets stop
  ipdiag doctor 203.0.113.10:7890 --on-server 'ssh root@203.0.113.10 ipdiag'
                                                  the server as witness: one proven cause

doctor probes the port a few times, probes control ports (TCP 22, 80, 443, 3389) and ICMP
echo (when allowed) to learn whether the host is up at all, classifies the address, looks
at this machine's interfaces, and ranks the causes with evidence and the exact fix. With
--trace it also traces the path to the port: replies that stop inside the provider's
network point at the security group, replies that stop before it at your own network.
With --on-server CMD, ipdiag also runs `CMD local --port P --watch D --format json` (CMD is
split as a shell would, quotes kept, and run without a shell) and merges what the server
saw of the probes into the verdict.
Exit status: 0 when the port is open, 1 otherwise, 2 on bad input, 3 when the server's side
could not be run.";

/// Diagnose why a port is unreachable, with the fix.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The port to diagnose: HOST:PORT or [IPV6]:PORT
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Protocols and address families.
    #[command(flatten)]
    pub protocol: ProtocolArgs,
    /// Attempts, timeouts, limits.
    #[command(flatten)]
    pub timing: TimingArgs,
    /// Fix texts and the rule's source.
    #[command(flatten)]
    pub advice: AdviceArgs,
    /// The responder on the target.
    #[command(flatten)]
    pub responder: ResponderArgs,
    /// UDP payload: 0xHEX or text; '' sends an empty datagram [default: per service]
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true)]
    pub payload: Option<String>,
    /// Never resolve host names
    #[arg(short = 'n', long)]
    pub numeric: bool,
    /// Skip the control probes (other ports, ICMP echo)
    #[arg(long)]
    pub no_control: bool,
    /// Also trace the path to the port (as `ipdiag trace`): where replies stop is evidence
    #[arg(long)]
    pub trace: bool,
    /// Run ipdiag on the server too, through CMD (how you reach it: "ssh user@vm ipdiag",
    /// "docker exec web ipdiag", "kubectl exec pod -- ipdiag", "ip netns exec ns ipdiag"):
    /// it watches the port while this side probes, and its report decides the cause
    #[arg(long, value_name = "CMD")]
    pub on_server: Option<String>,
    /// With --on-server: the port as the server sees it, when the edge translates the
    /// port too (DNAT 203.0.113.10:80 → 10.0.0.5:8080) [default: the target's port]
    #[arg(long, value_name = "PORT", requires = "on_server")]
    pub server_port: Option<u16>,
}
