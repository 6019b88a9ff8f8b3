//! `ipdiag ping`: arguments.

use super::parse::OneHostArgs;
use crate::sys::System;
use clap::Args;

/// Examples shown under `ipdiag ping --help`.
pub const EXAMPLES: &str = "\
Examples:
  ipdiag ping 203.0.113.10               is the host up at all? (4 echo requests)
  ipdiag ping 203.0.113.10 -c 20 -i 200ms   RTT min/avg/max/stddev and loss
  ipdiag ping 2001:db8::1 --json";

/// What follows how `system` sends the echo requests under `ipdiag ping --help`.
const AFTER: &str = "Many cloud security groups drop ICMP: silence here does not prove the host
is down; `ipdiag doctor` probes ports as well.
Exit status: 0 when a reply came, 1 when none did, 2 on bad input, 3 when ICMP cannot be
sent here.";

/// `ipdiag ping --help`'s text under the options: the examples, then how `system` sends
/// echo requests and what that needs.
pub fn after_help(system: System) -> String {
    format!("{EXAMPLES}\n\n{}\n{AFTER}", system.words().ping_how)
}

/// ICMP echo: is the host up, with RTT and loss.
#[derive(Debug, Args)]
pub struct PingArgs {
    /// The host: an address or a name
    #[arg(value_name = "HOST")]
    pub host: String,
    /// Echo requests to send
    #[arg(short, long, default_value_t = 4, value_name = "N")]
    pub count: u32,
    /// Pause between requests (250ms, 1s)
    #[arg(short, long, default_value = "1s", value_name = "DURATION")]
    pub interval: String,
    /// The longest wait for each reply
    #[arg(short = 'w', long, default_value = "1s", value_name = "DURATION")]
    pub timeout: String,
    /// Name resolution.
    #[command(flatten)]
    pub name: OneHostArgs,
}
