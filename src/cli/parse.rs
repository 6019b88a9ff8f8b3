//! Turns argv into a [`Cli`], printing help or version when asked, and folding clap's
//! multi-line usage errors into the one-line form every ipdiag error has.

use super::Cli;
use crate::error::Error;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, FromArgMatches};
use std::ffi::OsString;

/// The result of reading argv.
#[derive(Debug)]
pub enum Parsed {
    /// Run this command.
    Run(Box<Cli>),
    /// Help or version was printed; exit with this code.
    Exit(u8),
}

/// Parses the arguments (the first is the program name).
pub fn parse_args<I, T>(args: I) -> Result<Parsed, Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let parsed = super::formats::command()
        .try_get_matches_from(&args)
        .and_then(|matches| Cli::from_arg_matches(&matches));
    match parsed {
        Ok(cli) => Ok(Parsed::Run(Box::new(cli))),
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                // A closed stdout while printing help is not worth a message.
                let _ = e.print();
                Ok(Parsed::Exit(0))
            }
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let _ = e.print();
                Ok(Parsed::Exit(crate::error::EXIT_USAGE))
            }
            _ => {
                let mut line = one_line(&e.render().to_string());
                if let Some(tip) = habit_tip(&args, &e) {
                    line.push_str("; tip: ");
                    line.push_str(&tip);
                }
                Err(Error::Usage(line))
            }
        },
    }
}

/// What an argument clap does not know was probably meant to be, from the habits of nmap
/// (`-sS`, `-Pn`), nc (`HOST PORT`) and other servers (`serve 8000`). `None` when no habit
/// explains it.
fn habit_tip(args: &[OsString], error: &clap::Error) -> Option<String> {
    if error.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let words: Vec<&str> = args.iter().skip(1).filter_map(|a| a.to_str()).collect();
    let nmap = |flag: &str| words.contains(&flag);
    if nmap("-sS") {
        return Some(crate::sys::System::HERE.words().syn_scan_tip.into());
    }
    if nmap("-sU") {
        return Some("nmap's UDP scan (-sU) is --udp here (--both for TCP and UDP)".into());
    }
    if nmap("-sT") {
        return Some(
            "a connect scan (nmap -sT) is what probe does by default: leave -sT out".into(),
        );
    }
    if nmap("-Pn") {
        return Some("ipdiag never pings before it probes: leave -Pn out".into());
    }
    let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let port: u16 = arg.parse().ok()?;
    let command = words
        .iter()
        .find(|w| Cli::command().find_subcommand(w).is_some())?;
    match *command {
        "serve" => Some(format!("serve listens on --tcp {port} and/or --udp {port}")),
        "local" => Some(format!("the port is given as --port {port}")),
        "doctor" | "trace" => Some(format!("the port goes with the host: HOST:{port}")),
        _ => None,
    }
}

/// Keeps what clap says before its usage block, on one line. A list clap prints under a
/// line ending in `:` (conflicting or missing arguments) is joined with commas, so the line
/// reads "cannot be used with: --udp, --both"; other lines are joined with "; ". clap's tip
/// "to pass '-1' as a value, use '-- -1'" is left out: after `--` every word is a target (or
/// `wait`'s command), never an option's value, so the tip would mislead.
fn one_line(message: &str) -> String {
    let mut out = String::new();
    let mut in_list = false;
    for raw in message.lines().take_while(|l| !l.starts_with("Usage:")) {
        let line = raw.trim();
        if line.is_empty() {
            in_list = false;
            continue;
        }
        if line.starts_with("For more information") || line.starts_with("tip: to pass '") {
            continue;
        }
        let line = line.strip_prefix("error: ").unwrap_or(line);
        if out.is_empty() {
        } else if out.ends_with(':') {
            out.push(' ');
            in_list = true;
        } else if in_list && raw.starts_with(char::is_whitespace) {
            out.push_str(", ");
        } else {
            out.push_str("; ");
            in_list = false;
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(args: &[&str]) -> String {
        match parse_args(args) {
            Err(Error::Usage(message)) => message,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn usage_errors_are_one_line() {
        let message = usage(&["ipdiag", "port", "22", "--format", "xml"]);
        assert!(!message.contains('\n'));
        assert!(
            message.starts_with("invalid value 'xml' for '--format <FORMAT>'"),
            "{message}"
        );
        assert!(
            message.contains("possible values: table, json, jsonl, csv"),
            "{message}"
        );
        assert!(
            usage(&["ipdiag", "frobnicate"]).starts_with("unrecognized subcommand 'frobnicate'")
        );
        assert_eq!(
            usage(&["ipdiag", "probe", "--tcp", "--udp", "--both", "127.0.0.1:1"]),
            "the argument '--tcp' cannot be used with: --udp, --both"
        );
        assert_eq!(
            usage(&["ipdiag", "wait"]),
            "the following required arguments were not provided: <TARGET>..."
        );
        assert_eq!(
            usage(&["ipdiag", "classify", "--bogus"]),
            "unexpected argument '--bogus' found"
        );
    }

    #[test]
    fn negative_ports_reach_the_port_parser() {
        assert!(matches!(
            parse_args(["ipdiag", "port", "-1"]),
            Ok(Parsed::Run(_))
        ));
    }
}

/// `-n`, `-4`, `-6` for commands that take one host (`ping`, `trace`).
#[derive(Debug, clap::Args)]
pub struct OneHostArgs {
    /// Never resolve host names
    #[arg(short = 'n', long)]
    pub numeric: bool,
    /// Only an IPv4 address of a name
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Only an IPv6 address of a name
    #[arg(short = '6')]
    pub ipv6: bool,
}

impl OneHostArgs {
    /// The family asked for (4 or 6), if any.
    pub fn family(&self) -> Option<u8> {
        match (self.ipv4, self.ipv6) {
            (true, _) => Some(4),
            (_, true) => Some(6),
            _ => None,
        }
    }
}
