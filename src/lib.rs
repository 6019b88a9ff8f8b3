//! ipdiag: IP and port classification and network-reachability diagnostics.
//!
//! The library holds all the logic; the `ipdiag` binary only calls [`main_with_args`].
//! Layers (see ARCHITECTURE.md): `cli` → `app` → {`classify`, `output`, `local`, `resolve`,
//! `lines`} → `model`. `classify` and `output` never do I/O of their own.

pub mod app;
pub mod check;
pub mod classify;
pub mod cli;
pub mod diagnose;
pub mod error;
pub mod lines;
pub mod local;
pub mod model;
pub mod output;
pub mod plan;
pub mod probe;
pub mod raw;
pub mod resolve;
pub mod serve;
pub mod wire;

pub use error::{Error, Result};

use cli::parse::{Parsed, parse_args};
use output::Style;
use std::ffi::OsString;
use std::io::{self, BufWriter, IsTerminal, Write};

/// Runs ipdiag with these arguments against the real process (stdout, stderr, environment)
/// and returns the exit code. Errors are printed as one line `ipdiag: error: ...`.
pub fn main_with_args<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let mut err = io::stderr().lock();
    let result = parse_args(args).and_then(|parsed| match parsed {
        Parsed::Exit(code) => Ok(code),
        Parsed::Run(cli) => {
            let no_color = std::env::var("NO_COLOR").ok();
            let style = Style::decide(cli.global.color(), terminal, no_color.as_deref());
            let mut ctx = app::Context {
                out: &mut out,
                err: &mut err,
                format: cli.global.format(),
                style,
            };
            let code = app::run(&cli, &mut ctx)?;
            out.flush()?;
            Ok(code)
        }
    });
    match result {
        Ok(code) => code,
        // `ipdiag ... | head`: the reader has what it wanted.
        Err(e) if e.is_broken_pipe() => error::EXIT_OK,
        Err(e) => {
            let _ = writeln!(err, "ipdiag: error: {e}");
            e.exit_code()
        }
    }
}
