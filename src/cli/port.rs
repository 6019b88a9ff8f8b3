//! `ipdiag port`: arguments.

use crate::sys::System;
use clap::Args;

/// Examples shown under `ipdiag port --help`.
pub const EXAMPLES: &str = "\
Examples:
  ipdiag port 7788 7890 8080      the tutorial's ports: registered, unprivileged
  ipdiag port 22,80,443           several at once
  ipdiag port 8000-8010           a range
  ipdiag port ssh http-alt        by IANA service name (or a common alias: dns, rdp, postgres)
  ipdiag port 53/udp              only the UDP registration";

/// `ipdiag port --help`'s text under the options: the examples, then where `system`'s
/// privileged and ephemeral facts come from.
pub fn after_help(system: System) -> String {
    format!("{EXAMPLES}\n\n{}", system.words().port_facts_from)
}

/// Explain ports.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct PortArgs {
    /// Ports (0-65535), ranges (A-B), lists (A,B), IANA service names; `/tcp` etc. narrows
    #[arg(value_name = "PORT|RANGE|NAME", required = true)]
    pub ports: Vec<String>,
}
