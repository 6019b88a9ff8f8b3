//! `ipdiag local`: arguments.

use clap::Args;

/// Examples shown under `ipdiag local --help`.
pub const EXAMPLES: &str = "\
Examples:
  ipdiag local                     interfaces, NAT, every listening socket and what it reaches
  ipdiag local --port 7890         is anything listening on 7890/tcp, where, and does the
                                   firewall let it in?
  ipdiag local --port 7890 --udp   the same for a UDP port

Run it on the server. Reading other users' processes and the firewall needs root; without
it, ipdiag says what it could not see.";

/// The server's view: interfaces, listeners, bind addresses, firewall.
#[derive(Debug, Args)]
pub struct LocalArgs {
    /// Look at this port only, with a verdict: not listening, loopback only, or firewalled
    #[arg(short, long, value_name = "PORT")]
    pub port: Option<u16>,
    /// The port is UDP (default TCP)
    #[arg(short, long)]
    pub udp: bool,
}
