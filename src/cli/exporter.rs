//! `ipdiag exporter`: arguments.

use clap::Args;

/// Examples shown under `ipdiag exporter --help`.
pub const EXAMPLES: &str = "\
Examples:
  ipdiag exporter                                  on 127.0.0.1:9799, built-in modules
  ipdiag exporter --config modules.toml            your modules (the check file's words)
  ipdiag exporter --listen 0.0.0.0:9799 --allow 10.0.0.0/8 --allow 192.168.0.0/16
  ipdiag exporter --vantage eu-west                 a vantage=\"eu-west\" label on /probe's series

Then: curl 'http://127.0.0.1:9799/probe?target=127.0.0.1:22&module=tcp'
Prometheus scrapes /probe with blackbox_exporter's multi-target relabelling (README
\"Monitoring with Prometheus\"). Built-in modules: tcp (expects open), udp (expects a
reply), tcp_closed (expects closed: a port that must stay shut), doctor (TCP open, with
doctor's control ports and ICMP echo for a sharper cause). Listening on anything but
loopback needs --allow: an exporter probes whatever a request names.";

/// Serve Prometheus metrics of probes: /probe?target=HOST:PORT&module=NAME, /metrics, /
#[derive(Debug, Args)]
pub struct ExporterArgs {
    /// Address and port to listen on (HTTP)
    #[arg(long, default_value = "127.0.0.1:9799", value_name = "ADDR:PORT")]
    pub listen: String,
    /// Modules file (TOML: [module.NAME] tables with protocol, expect, count, interval,
    /// timeout, retries, responder, token, payload, doctor); added to the built-in ones
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Networks or addresses probes may go to (repeatable); required when listening on
    /// anything but loopback
    #[arg(long, value_name = "CIDR")]
    pub allow: Vec<String>,
    /// Probes running at once at most; a request waits for a slot until its scrape
    /// timeout, then gets 503
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub max_concurrent: usize,
    /// Where this exporter runs (a node, a region, an office): a `vantage` label on every
    /// series of /probe, the word `ipdiag merge` and the alert rules group by. Leave it
    /// out when the scrape config labels the targets `vantage` itself
    #[arg(long, value_name = "NAME")]
    pub vantage: Option<String>,
}
