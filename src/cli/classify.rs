//! `ipdiag classify`: arguments.

use clap::Args;
use std::path::PathBuf;

/// Examples shown under `ipdiag classify --help`.
pub const EXAMPLES: &str = "\
Examples:
  ipdiag classify 192.168.1.103                 class C, private (RFC 1918), not global
  ipdiag classify 127.0.0.1 0.0.0.0 100.64.0.1  loopback, unspecified, carrier-grade NAT
  ipdiag classify 192.168.1.103/26              network, broadcast, hosts, classful view
  ipdiag classify 2001:db8::1 ::ffff:10.0.0.1   IPv6 type and scope, embedded IPv4
  ipdiag classify localhost                     resolve, then classify each address
  ipdiag classify --file addrs.txt --format csv one address a line, streamed
  cat addrs.txt | ipdiag classify - --jsonl     the same from stdin

In files and on stdin, blank lines and lines starting with # are skipped, and host names
are reported, not looked up, unless --resolve is given; a bad line is
reported on stderr with its line number and the run goes on (exit 1 at the end), unless
--strict stops at the first (exit 2).";

/// Classify addresses, CIDR networks and host names.
#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Addresses, CIDR networks (ADDR/LEN) or host names; `-` reads stdin, one a line
    #[arg(value_name = "ADDR|CIDR|HOST|-")]
    pub items: Vec<String>,
    /// Read items from FILE, one a line (repeatable)
    #[arg(short, long, value_name = "FILE")]
    pub file: Vec<PathBuf>,
    /// Stop at the first bad line of a file or stdin (exit 2) instead of reporting and going on
    #[arg(long)]
    pub strict: bool,
    /// Never resolve host names (no DNS traffic); a name is reported as an error
    #[arg(short = 'n', long)]
    pub numeric: bool,
    /// Look up the host names read from files and stdin too (at most 16 at once, output in
    /// input order); without it a name there is reported, not looked up
    #[arg(long, conflicts_with = "numeric")]
    pub resolve: bool,
}
