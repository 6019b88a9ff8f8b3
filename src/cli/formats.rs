//! The clap command with each subcommand's `--help` telling the formats that command
//! writes: `--format`, `--json` and `--jsonl` are global options, so clap would list all
//! four formats under every command, including those the command refuses at run time.
//!
//! Help text only: which formats a run accepts is decided in `app` (`app::formats`), and
//! the lines here say the same in words. No I/O.

use super::Cli;
use clap::CommandFactory;

/// What `--format` says under one command, and whether `--jsonl` is worth listing (it is
/// not where JSON lines would be the same one object). `None`: the command writes no
/// report and the three options are hidden.
struct Formats {
    command: &'static str,
    help: Option<&'static str>,
    jsonl: bool,
}

const ALL: &str =
    "Output format: table, json (a JSON array), jsonl (one JSON object a line, streamed) or csv";

/// One row per subcommand (`every_command_has_a_row` keeps them in step).
const FORMATS: &[Formats] = &[
    Formats {
        command: "classify",
        help: Some(ALL),
        jsonl: true,
    },
    Formats {
        command: "port",
        help: Some(ALL),
        jsonl: true,
    },
    Formats {
        command: "probe",
        help: Some(
            "Output format: table, json (a JSON array), jsonl (one JSON object a line, streamed), csv or prometheus (node_exporter's textfile collector) (--loss-split and --sizes: table or json)",
        ),
        jsonl: true,
    },
    Formats {
        command: "doctor",
        help: Some("Output format: table, or json (one JSON object)"),
        jsonl: false,
    },
    Formats {
        command: "serve",
        help: Some(
            "Output format: table (a line per arrival), or json (one JSON object per arrival, a line each)",
        ),
        jsonl: false,
    },
    Formats {
        command: "local",
        help: Some("Output format: table, or json (one JSON object)"),
        jsonl: false,
    },
    Formats {
        command: "ping",
        help: Some("Output format: table, or json (one JSON object)"),
        jsonl: false,
    },
    Formats {
        command: "trace",
        help: Some("Output format: table, or json (one JSON object)"),
        jsonl: false,
    },
    Formats {
        command: "check",
        help: Some(
            "Output format: table, json (one JSON object: the report), jsonl (one JSON object per check) or prometheus (node_exporter's textfile collector); JUnit with --junit FILE",
        ),
        jsonl: true,
    },
    Formats {
        command: "wait",
        help: None,
        jsonl: false,
    },
    Formats {
        command: "exporter",
        help: None,
        jsonl: false,
    },
    Formats {
        command: "merge",
        help: Some(
            "Output format: table, json (one JSON object: the merge) or jsonl (one JSON object per endpoint); JUnit with --junit FILE",
        ),
        jsonl: true,
    },
    Formats {
        command: "data",
        help: Some("Output format: table, or json (a JSON array)"),
        jsonl: false,
    },
    Formats {
        command: "completions",
        help: None,
        jsonl: false,
    },
    Formats {
        command: "man",
        help: None,
        jsonl: false,
    },
];

/// The command line ipdiag parses, documents and completes.
pub fn command() -> clap::Command {
    let mut command = Cli::command();
    // Builds the tree, copying the global options into every subcommand, so each copy
    // can get its own help text. Only help and visibility change, in place (`mut_args`
    // keeps the order clap indexed them by), so parsing is untouched.
    command.build();
    command = command.mut_subcommands(|sub| {
        let Some(row) = FORMATS.iter().find(|f| f.command == sub.get_name()) else {
            return sub;
        };
        sub.mut_args(|arg| match (arg.get_id().as_str(), row.help) {
            ("format", Some(help)) => arg
                .hide_possible_values(true)
                .help(help)
                .long_help(None::<&str>),
            ("format" | "json", None) => arg.hide(true),
            ("jsonl", _) => arg.hide(!row.jsonl),
            _ => arg,
        })
    });
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_row() {
        let names: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .collect();
        let rows: Vec<&str> = FORMATS.iter().map(|f| f.command).collect();
        assert_eq!(names, rows);
    }

    fn help(name: &str) -> String {
        let mut command = command();
        command
            .find_subcommand_mut(name)
            .expect("a subcommand")
            .render_long_help()
            .to_string()
    }

    #[test]
    fn doctor_lists_table_and_one_object() {
        let text = help("doctor");
        assert!(text.contains("table, or json (one JSON object)"), "{text}");
        assert!(!text.contains("csv") && !text.contains("--jsonl"), "{text}");
    }

    #[test]
    fn wait_lists_no_format() {
        let text = help("wait");
        assert!(
            !text.contains("--format") && !text.contains("--json"),
            "{text}"
        );
    }
}
