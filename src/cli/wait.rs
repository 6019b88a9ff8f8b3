//! `ipdiag wait`: arguments.

use clap::Args;
use std::ffi::OsString;

/// Examples shown under `ipdiag wait --help`.
pub const EXAMPLES: &str = "\
Examples:
  ipdiag wait db:5432                              until PostgreSQL accepts connections
  ipdiag wait db:5432 cache:6379 -- ./migrate.sh   then run the command (its exit status is ours)
  ipdiag wait 127.0.0.1:8080 --expect closed       until the old server is gone
  ipdiag wait dns:53 --udp --timeout 10s           UDP: an ICMP error is never ready
  ipdiag wait app:7890 --udp --responder --token s3cret-k3y   UDP: only the responder's reply

Ready means open (TCP handshake). For UDP (--udp, or a port written dns:53/udp: each port
by its own protocol) it means a reply, or silence: nothing turned the datagram away (an
ICMP port unreachable from the host, or unreachable / prohibited from a firewall on the
way, is never ready; with --responder, only a reply is). Names are resolved again on every
try, so a container that is not up yet is waited for too.
Exit status: 0 when ready (or the command's own), 1 on timeout, 2 on bad input,
126/127 when the command cannot be run / is not found.";

/// Wait until targets are ready, then optionally run a command.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// HOST:PORT or [IPV6]:PORT to wait for (all of them)
    #[arg(value_name = "TARGET", required = true)]
    pub targets: Vec<String>,
    /// Give up after this long (0: never)
    #[arg(short, long, default_value = "60s", value_name = "DURATION")]
    pub timeout: String,
    /// Wait for UDP ports instead of TCP
    #[arg(short, long)]
    pub udp: bool,
    /// What to wait for: open, closed (the port refuses) or unreachable (anything but open)
    #[arg(long, default_value = "open", value_name = "STATE", value_parser = ["open", "closed", "unreachable"])]
    pub expect: String,
    /// The longest wait for one probe's answer
    #[arg(short = 'w', long, default_value = "1s", value_name = "DURATION")]
    pub probe_timeout: String,
    /// An ipdiag responder runs on the target: UDP is ready only when it replies
    #[arg(long)]
    pub responder: bool,
    /// The responder's token (`ipdiag serve --token`), with --responder
    #[arg(long, value_name = "SECRET", requires = "responder")]
    pub token: Option<String>,
    /// The command to run once ready (after `--`): ipdiag becomes it
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}
