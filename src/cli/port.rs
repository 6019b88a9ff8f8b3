//! `ipdiag port`: arguments.

use clap::Args;

/// Examples shown under `ipdiag port --help`.
pub const EXAMPLES: &str = "\
Examples:
  ipdiag port 7788 7890 8080      the tutorial's ports: registered, unprivileged
  ipdiag port 22,80,443           several at once
  ipdiag port 8000-8010           a range
  ipdiag port ssh http-alt        by IANA service name (or a common alias: dns, rdp, postgres)
  ipdiag port 53/udp              only the UDP registration

privileged and ephemeral come from this machine's kernel (/proc/sys/net/ipv4/
ip_unprivileged_port_start and ip_local_port_range), or the Linux defaults without /proc.";

/// Explain ports.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct PortArgs {
    /// Ports (0-65535), ranges (A-B), lists (A,B), IANA service names; `/tcp` etc. narrows
    #[arg(value_name = "PORT|RANGE|NAME", required = true)]
    pub ports: Vec<String>,
}
