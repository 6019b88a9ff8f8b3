//! One orchestrator per command: arguments → plan → work → render, as a short recipe.
//!
//! The [`Context`] carries what every command needs from the process (output streams, the
//! format, the colour decision), so commands can be run in-process by tests.

mod advise;
mod capped_read;
mod check;
mod checking;
mod classify;
mod doctor;
mod doctor_request;
mod drive;
mod exporter;
mod idle_test;
pub mod load;
mod local;
mod local_firewall;
mod local_receive;
mod local_trace;
mod local_watch;
mod lookups;
mod merge;
mod meta;
mod on_server;
mod options;
mod ping;
mod port;
mod probe;
mod probe_hints;
mod probe_run;
mod probe_stage;
mod progress;
mod report;
mod report_file;
mod serve;
mod sizes;
mod trace;
mod wait;

use crate::cli::{Cli, Command};
use crate::error::{Error, Result};
use crate::output::{Format, Style};
use std::io::Write;

/// What a command needs from the process it runs in.
pub struct Context<'a> {
    /// Where results go.
    pub out: &'a mut dyn Write,
    /// Where warnings and per-item errors go.
    pub err: &'a mut dyn Write,
    /// The output format.
    pub format: Format,
    /// The output style.
    pub style: Style,
    /// `-q`: no notes or progress (check and wait: no report either).
    pub quiet: bool,
    /// `-v`: how many times (what ran and how, on stderr).
    pub verbose: u8,
}

/// Runs the parsed command; returns the exit code for a run that worked (0 or 1; `wait`
/// may return its command's failure to start, 126 or 127, and Ctrl-C gives 130).
pub fn run(cli: &Cli, ctx: &mut Context<'_>) -> Result<u8> {
    let (name, formats, what) = formats(&cli.command);
    if !formats.contains(&ctx.format) {
        return Err(Error::Usage(format!(
            "{name} writes {what}, not {}",
            ctx.format.describe()
        )));
    }
    match &cli.command {
        Command::Classify(args) => classify::run(args, ctx),
        Command::Port(args) => port::run(args, ctx),
        Command::Probe(args) => probe::run(args, ctx),
        Command::Doctor(args) => doctor::run(args, ctx),
        Command::Serve(args) => serve::run(args, ctx),
        Command::Local(args) => local::run(args, ctx),
        Command::Ping(args) => ping::run(args, ctx),
        Command::Trace(args) => trace::run(args, ctx),
        Command::Check(args) => check::run(args, ctx),
        Command::Wait(args) => wait::run(args, ctx),
        Command::Exporter(args) => exporter::run(args, ctx),
        Command::Merge(args) => merge::run(args, ctx),
        Command::Data(_) => meta::data(ctx),
        Command::Completions(args) => meta::completions(args, ctx),
        Command::Man(args) => meta::man(args, ctx),
    }
}

/// What a run writes: its name in messages (the command, or probe's `--loss-split` and
/// `--sizes` modes), the formats it writes, and those in words (for refusing the others:
/// a format a run does not write is a usage error, never another format instead).
fn formats(command: &Command) -> (&'static str, &'static [Format], &'static str) {
    use Format::{Csv, Json, Jsonl, Prometheus, Table};
    const ALL: &[Format] = &[Table, Json, Jsonl, Csv];
    const PROBE: &[Format] = &[Table, Json, Jsonl, Csv, Prometheus];
    const NO_CSV: &[Format] = &[Table, Json, Jsonl];
    const TEXT: &[Format] = &[Table];
    let name = command.name();
    match command {
        Command::Probe(p) if p.load.loss_split => ("--loss-split", NO_CSV, "a table or JSON"),
        Command::Probe(p) if p.sizes.is_some() || p.size_sweep => {
            ("--sizes", NO_CSV, "a table or JSON")
        }
        Command::Probe(_) => (
            name,
            PROBE,
            "a table, JSON, JSON lines, CSV or Prometheus metrics",
        ),
        Command::Classify(_) | Command::Port(_) => (name, ALL, "a table, JSON, JSON lines or CSV"),
        Command::Doctor(_)
        | Command::Serve(_)
        | Command::Local(_)
        | Command::Ping(_)
        | Command::Trace(_)
        | Command::Data(_) => (name, NO_CSV, "a table or JSON"),
        Command::Check(_) => (
            name,
            &[Table, Json, Jsonl, Prometheus],
            "a table, JSON, JSON lines or Prometheus metrics (and --junit FILE)",
        ),
        Command::Merge(_) => (
            name,
            NO_CSV,
            "a table, JSON or JSON lines (and --junit FILE)",
        ),
        Command::Wait(_) => (
            name,
            TEXT,
            "no report, only lines on stderr (its exit status tells)",
        ),
        Command::Exporter(_) => (
            name,
            TEXT,
            "metrics over HTTP, only lines on stderr (no --format)",
        ),
        Command::Completions(_) => (name, TEXT, "a shell script"),
        Command::Man(_) => (name, TEXT, "a manual page (roff)"),
    }
}
