//! ipdiag: IP and port classification and network-reachability diagnostics.
//!
//! The library holds all the logic; the `ipdiag` binary only calls [`main_with_args`].
//! Layers (see ARCHITECTURE.md): `cli` → `app` → {`classify`, `check`, `plan`, `probe`,
//! `raw`, `diagnose`, `wire`, `output`, `local`, `serve`} → `model`. Classification,
//! diagnosis, the check file and the packet parsers are pure functions; the probe engine
//! does the I/O.
//!
//! # Examples
//!
//! What kind of address is this? (Pure: the IANA registries and the cloud prefixes are
//! compiled in.)
//!
//! ```
//! use ipdiag::classify::{classify, Item, parse_item};
//! use ipdiag::model::Scope;
//!
//! let Ok(Item::Address(address)) = parse_item("192.168.1.103") else { unreachable!() };
//! let info = classify(address);
//! assert_eq!(info.scope, Scope::Private);
//! assert_eq!(info.class, Some(ipdiag::classify::ipv4::Ipv4Class::C));
//! // Leading zeros are refused: some tools read them as octal.
//! assert!(parse_item("010.1.1.1").is_err());
//! ```
//!
//! Ports and targets, as the command line reads them:
//!
//! ```
//! use ipdiag::classify::port_spec::parse_port_arg;
//! use ipdiag::classify::{Band, PortFacts, classify_port};
//! use ipdiag::plan::target::parse_target;
//!
//! let ports: Vec<u16> = parse_port_arg("22,8000-8002")
//!     .unwrap()
//!     .iter()
//!     .flat_map(|s| s.ports.ports())
//!     .collect();
//! assert_eq!(ports, [22, 8000, 8001, 8002]);
//! assert_eq!(classify_port(7890, None, &PortFacts::default()).band, Band::Registered);
//! let target = parse_target("[2001:db8::1]:53").unwrap();
//! assert_eq!(target.host.text(), "2001:db8::1");
//! ```
//!
//! Probing sends packets, so this example is compiled but not run: a TCP connect to one
//! port, judged with nmap's states and reasons from what came back.
//!
//! ```no_run
//! use ipdiag::probe::reason::judge;
//! use ipdiag::model::Protocol;
//! use std::time::Duration;
//!
//! # async fn demo() {
//! let target = "127.0.0.1:22".parse().unwrap();
//! if let Ok(answer) = ipdiag::probe::tcp::attempt(target, Duration::from_secs(1)).await {
//!     let (state, reason) = judge(Protocol::Tcp, target.ip(), &answer.observation);
//!     println!("{target}: {state} ({reason})");
//! }
//! # }
//! ```

pub mod app;
pub mod check;
pub mod classify;
pub mod cli;
pub mod diagnose;
pub mod error;
pub mod exporter;
pub mod lines;
pub mod local;
pub mod merge;
pub mod model;
pub mod output;
pub mod plan;
pub mod probe;
pub mod raw;
pub mod resolve;
pub mod serve;
pub mod sys;
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
            // The table crate's terminal library obeys NO_COLOR on its own; `--color always`
            // is the user's later word, so it wins there too.
            if style.color {
                crossterm::style::force_color_output(true);
            }
            let mut ctx = app::Context {
                out: &mut out,
                err: &mut err,
                format: cli.global.format(),
                style,
                quiet: cli.global.quiet,
                verbose: cli.global.verbose,
            };
            let started = std::time::Instant::now();
            let code = app::run(&cli, &mut ctx)?;
            if ctx.verbose > 0 {
                writeln!(
                    ctx.err,
                    "ipdiag: {} finished in {:.3} s, exit status {code}",
                    cli.command.name(),
                    started.elapsed().as_secs_f64()
                )?;
            }
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
