//! `ipdiag serve`: arguments.

use clap::Args;

/// Examples shown under `ipdiag serve --help`.
pub const EXAMPLES: &str = "\
Examples:
  ipdiag serve --tcp 7890 --udp 7890              on the server: answer ipdiag's probes
  ipdiag serve --udp 5000-5010 --for 10m          UDP ports, stop by itself after 10 minutes
  ipdiag serve --tcp 7890 --token s3cret-k3y      answer only probes tagged with the token
  ipdiag serve --tcp 7890 --bind 172.16.0.10      one address (never the cloud's public IP)
  ipdiag serve --tcp 7890 --tcp-reads             log the size of every read() (TCP framing)
  ipdiag serve --udp 7895 --rate 10000            for probe --loss-split at up to 10000/s

Then, on the client: ipdiag probe SERVER:7890 --udp --responder (add --token when set);
ipdiag probe SERVER:7895 --loss-split --rates 100,1000 splits UDP loss by direction.
Every arrival is logged: seeing probes arrive here while the client sees silence proves
the return path is the problem. The responder never sends more bytes than it received,
answers nothing that is not a valid ipdiag probe, limits replies per source, caps and
times out connections, and runs no commands.";

/// Answer ipdiag's probes on the server side.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TCP ports to listen on: 7890, 8000-8010, ssh
    #[arg(long, value_name = "PORTS")]
    pub tcp: Vec<String>,
    /// UDP ports to answer on
    #[arg(long, value_name = "PORTS")]
    pub udp: Vec<String>,
    /// Address to bind (repeatable) [default: 0.0.0.0 and ::]
    #[arg(long, value_name = "ADDR")]
    pub bind: Vec<String>,
    /// Answer only probes tagged with this secret's HMAC (probe --token)
    #[arg(long, value_name = "SECRET")]
    pub token: Option<String>,
    /// Stop after this long (90s, 10m, 1h)
    #[arg(long = "for", value_name = "DURATION")]
    pub duration: Option<String>,
    /// Replies per second per source address (bursts of twice that)
    #[arg(long, default_value_t = 10.0, value_name = "N")]
    pub rate: f64,
    /// TCP connections open at once at most (lowered to what the open-file limit allows);
    /// when all are taken, the connection idle the longest is closed for a new one
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_connections: usize,
    /// TCP connections open at once from one source address at most
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub max_per_source: usize,
    /// TCP: close a connection this long after it was accepted, however it behaves
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub tcp_lifetime: String,
    /// TCP: after the banner, read what the client sends (64 KiB, 10 s idle at most) and log
    /// how many bytes each read returned: two sends often arrive as one read
    #[arg(long)]
    pub tcp_reads: bool,
}
