//! The command line: clap definitions only. `///` comments are the `--help` text.
//!
//! No I/O and no defaults that a config could override live here; `app/` turns these
//! structs into work.

// The doc comments here are `--help` text, where `[IPV6]:PORT` is literal, not a link.
#![allow(rustdoc::broken_intra_doc_links)]

pub mod check;
pub mod classify;
pub mod doctor;
pub mod exporter;
pub mod formats;
pub mod load;
pub mod local;
pub mod merge;
pub mod meta;
pub mod parse;
pub mod ping;
pub mod port;
pub mod probe;
pub mod serve;
pub mod trace;
pub mod wait;

use crate::output::{Format, style::ColorChoice};
use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  ipdiag classify 192.168.1.103          what kind of address is this?
  ipdiag classify 192.168.1.103/26       subnet maths and the classful view
  ipdiag classify --file addrs.txt --format csv
  ipdiag port 7890 8080 ssh              bands, privileges and service names
  ipdiag probe 203.0.113.10:7890         is the port open, closed or filtered, and why?
  ipdiag doctor 203.0.113.10:7890        the likely cause, with evidence and the exact fix
  ipdiag check ipdiag.toml --junit r.xml CI: prove which endpoints are open, closed, filtered
  ipdiag wait db:5432 -- ./migrate.sh    wait until the database is up, then run a command
  ipdiag merge eu.json us.json office.json  one verdict per endpoint from several places

Exit codes: 0 all as expected, 1 something failed, 2 bad input or usage, 3 the environment refused.";

/// `ipdiag --version`: the version and the dates of the embedded data.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\ndata: ",
    crate::data_summary!()
);

/// IP and port classification and network-reachability diagnostics.
///
/// classify, port and data need no network: they answer from IANA registries and
/// cloud-provider prefix tables compiled in. probe, doctor, ping, trace, check and wait
/// send packets to the targets you name and nothing else; serve answers them; local reads
/// this host's own interfaces, sockets and firewall.
#[derive(Debug, Parser)]
#[command(name = "ipdiag", version, long_version = LONG_VERSION, about, long_about, after_help = EXAMPLES)]
#[command(propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Classify addresses, CIDR networks and host names (class, range, scope, provider)
    #[command(after_help = classify::EXAMPLES)]
    Classify(classify::ClassifyArgs),
    /// Explain ports: IANA band, privileged or not, ephemeral range, service names
    #[command(after_help = port::after_help(crate::sys::System::HERE))]
    Port(port::PortArgs),
    /// Probe TCP and UDP reachability with nmap's states and reasons, RTT and loss
    #[command(after_help = probe::EXAMPLES)]
    Probe(probe::ProbeArgs),
    /// Diagnose an unreachable port: the likely cause, the evidence and the exact fix
    #[command(after_help = doctor::EXAMPLES)]
    Doctor(doctor::DoctorArgs),
    /// Answer ipdiag's probes on the server: log arrivals, tell clients how they were seen
    #[command(after_help = serve::EXAMPLES)]
    Serve(serve::ServeArgs),
    /// The server's view: interfaces, listeners and their bind addresses, firewall
    #[command(after_help = local::EXAMPLES)]
    Local(local::LocalArgs),
    /// ICMP echo: is the host up at all? RTT and loss
    #[command(after_help = ping::after_help(crate::sys::System::HERE))]
    Ping(ping::PingArgs),
    /// Trace the path to a port: the hop where its packets stop, and whose network it is
    #[command(after_help = trace::EXAMPLES)]
    Trace(trace::TraceArgs),
    /// CI: run the reachability checks of a file (expected states, budgets), JUnit/JSON reports
    #[command(after_help = check::EXAMPLES)]
    Check(check::CheckArgs),
    /// Wait until ports are open (or closed), then run a command
    #[command(after_help = wait::EXAMPLES)]
    Wait(wait::WaitArgs),
    /// Prometheus exporter: probes as metrics, the blackbox exporter's /probe with ipdiag's causes
    #[command(after_help = exporter::EXAMPLES)]
    Exporter(exporter::ExporterArgs),
    /// Many vantage points, one verdict: merge check/probe JSON reports from several places
    #[command(after_help = merge::EXAMPLES)]
    Merge(merge::MergeArgs),
    /// The registries and prefix tables compiled in: sources, sizes and dates
    #[command(after_help = meta::DATA_EXAMPLES)]
    Data(meta::DataArgs),
    /// Shell completions for bash, zsh, fish or PowerShell, on stdout
    #[command(after_help = meta::COMPLETIONS_EXAMPLES)]
    Completions(meta::CompletionsArgs),
    /// The manual page (roff), on stdout
    #[command(after_help = meta::MAN_EXAMPLES)]
    Man(meta::ManArgs),
}

impl Command {
    /// The command's name on the command line.
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Classify(_) => "classify",
            Self::Port(_) => "port",
            Self::Probe(_) => "probe",
            Self::Doctor(_) => "doctor",
            Self::Serve(_) => "serve",
            Self::Local(_) => "local",
            Self::Ping(_) => "ping",
            Self::Trace(_) => "trace",
            Self::Check(_) => "check",
            Self::Wait(_) => "wait",
            Self::Exporter(_) => "exporter",
            Self::Merge(_) => "merge",
            Self::Data(_) => "data",
            Self::Completions(_) => "completions",
            Self::Man(_) => "man",
        }
    }
}

/// Options every command takes, listed under their own heading after each command's own.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = FormatArg::Table, value_name = "FORMAT")]
    pub format: FormatArg,
    /// Short for --format json
    #[arg(long, global = true, conflicts_with_all = ["format", "jsonl"])]
    pub json: bool,
    /// Short for --format jsonl (one JSON object per line, streamed)
    #[arg(long, global = true, conflicts_with = "format")]
    pub jsonl: bool,
    /// When to use colours (also honours `NO_COLOR`)
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto, value_name = "WHEN")]
    pub color: ColorArg,
    /// Print less: no notes or progress on stderr (check and wait: nothing on stdout either;
    /// the exit status tells)
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more on stderr: what ran, how, and how long it took (-vv: also each round of
    /// check --wait and wait)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl GlobalArgs {
    /// The format after applying `--json` / `--jsonl`.
    pub fn format(&self) -> Format {
        match (self.json, self.jsonl, self.format) {
            (true, _, _) | (_, _, FormatArg::Json) => Format::Json,
            (_, true, _) | (_, _, FormatArg::Jsonl) => Format::Jsonl,
            (_, _, FormatArg::Csv) => Format::Csv,
            (_, _, FormatArg::Prometheus) => Format::Prometheus,
            (_, _, FormatArg::Table) => Format::Table,
        }
    }

    /// The colour choice.
    pub fn color(&self) -> ColorChoice {
        match self.color {
            ColorArg::Auto => ColorChoice::Auto,
            ColorArg::Always => ColorChoice::Always,
            ColorArg::Never => ColorChoice::Never,
        }
    }
}

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Human-readable table
    Table,
    /// A JSON array
    Json,
    /// One JSON object per line
    Jsonl,
    /// CSV with a header row
    Csv,
    /// Prometheus text format, for the node exporter's textfile collector (probe, check)
    Prometheus,
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    /// Colour on a terminal, unless `NO_COLOR` is set
    Auto,
    /// Always colour
    Always,
    /// Never colour
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn json_shorthands() {
        let cli = Cli::try_parse_from(["ipdiag", "--json", "port", "22"]).unwrap();
        assert_eq!(cli.global.format(), Format::Json);
        let cli = Cli::try_parse_from(["ipdiag", "port", "22", "--jsonl"]).unwrap();
        assert_eq!(cli.global.format(), Format::Jsonl);
        let cli = Cli::try_parse_from(["ipdiag", "port", "22", "--format", "csv"]).unwrap();
        assert_eq!(cli.global.format(), Format::Csv);
        assert!(
            Cli::try_parse_from(["ipdiag", "port", "22", "--json", "--format", "csv"]).is_err()
        );
    }
}
