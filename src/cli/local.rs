//! `ipdiag local`: arguments.

use clap::Args;

/// Examples shown under `ipdiag local --help`.
pub const EXAMPLES: &str = "\
Examples:
  ipdiag local                     interfaces, NAT, every listening socket and what it reaches
  ipdiag local --port 7890         is anything listening on 7890/tcp, where, and does the
                                   firewall let it in?
  ipdiag local --port 7890 --udp   the same for a UDP port, with its receive queue, buffer
                                   and drops, and the host's UDP counters
  ipdiag local --port 7890 --watch 30s
                                   (root) for 30s, what happened to the packets for
                                   7890/tcp: arrivals per source, the firewall rule that
                                   counted them, the listener and its accept queue
  ipdiag local --port 7890 --udp --watch 10s
                                   the same for UDP: datagrams in and out of the socket, the
                                   replies' source address, and its receive buffer (drops
                                   counted twice: receive_buffer_overflow if they rise)
  ipdiag local --port 7890 --watch 30s --trace-firewall
                                   (root) for 30s, which chain and rule decides each new
                                   connection to 7890 that arrives, as the kernel says

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
    /// With --port: watch the port for DURATION (1s, 30s; Ctrl-C ends it early) and report
    /// what happened to its packets: arrivals per source (a packet socket, CAP_NET_RAW),
    /// the firewall rules that counted them, the socket and its accept queue or datagrams
    /// in and out. With --trace-firewall: how long to trace
    #[arg(short, long, value_name = "DURATION", requires = "port")]
    pub watch: Option<String>,
    /// With --port and --watch (root): add a temporary nftables trace rule for the port (a
    /// table of ipdiag's own, removed on exit, Ctrl-C included) and report, per arriving
    /// new connection, the chain and rule that decided it (`nft monitor trace`)
    #[arg(long, requires_all = ["port", "watch"])]
    pub trace_firewall: bool,
}
