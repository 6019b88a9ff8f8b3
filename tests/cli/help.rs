//! Help that is true (issue 21): each command's `--help` lists only the formats it writes,
//! the top-level help says which commands need no network, and `data` names sources that
//! are part of the repository.

use super::run;
use std::path::Path;

/// The `--format` entry of a command's short help (its wrapped lines joined), and whether
/// `--jsonl` is listed.
fn format_help(command: &str) -> (Option<String>, bool) {
    let (code, stdout, stderr) = run(&[command, "-h"]);
    assert_eq!(code, 0, "{stderr}");
    let words: Vec<&str> = stdout.split_whitespace().collect();
    let entry = words.iter().position(|w| *w == "--format").map(|start| {
        let end = words[start + 1..]
            .iter()
            .position(|w| {
                w.starts_with('-')
                    && w.len() > 2
                    && !w.starts_with("--loss")
                    && !w.starts_with("--sizes")
                    && !w.starts_with("--junit")
            })
            .map_or(words.len(), |n| start + 1 + n);
        words[start..end].join(" ")
    });
    let jsonl = words.contains(&"--jsonl");
    (entry, jsonl)
}

#[test]
fn each_command_lists_the_formats_it_writes() {
    let cases: [(&str, Option<&str>, bool); 13] = [
        (
            "classify",
            Some("table, json (a JSON array), jsonl (one JSON object a line, streamed) or csv"),
            true,
        ),
        (
            "port",
            Some("table, json (a JSON array), jsonl (one JSON object a line, streamed) or csv"),
            true,
        ),
        (
            "probe",
            Some(
                "csv or prometheus (node_exporter's textfile collector) (--loss-split and --sizes: table or json)",
            ),
            true,
        ),
        (
            "doctor",
            Some("Output format: table, or json (one JSON object) [default: table]"),
            false,
        ),
        (
            "serve",
            Some(
                "Output format: table (a line per arrival), or json (one JSON object per arrival, a line each)",
            ),
            false,
        ),
        (
            "local",
            Some("Output format: table, or json (one JSON object) [default: table]"),
            false,
        ),
        (
            "ping",
            Some("Output format: table, or json (one JSON object) [default: table]"),
            false,
        ),
        (
            "trace",
            Some("Output format: table, or json (one JSON object) [default: table]"),
            false,
        ),
        (
            "check",
            Some(
                "jsonl (one JSON object per check) or prometheus (node_exporter's textfile collector); JUnit with --junit FILE",
            ),
            true,
        ),
        ("wait", None, false),
        (
            "data",
            Some("Output format: table, or json (a JSON array) [default: table]"),
            false,
        ),
        ("completions", None, false),
        ("man", None, false),
    ];
    for (command, want, jsonl) in cases {
        let (line, listed) = format_help(command);
        match (want, &line) {
            (Some(want), Some(line)) => assert!(line.contains(want), "{command}: {line}"),
            (None, None) => {}
            _ => panic!("{command}: --format line {line:?}, want {want:?}"),
        }
        if let Some(line) = &line {
            assert_eq!(
                line.contains("csv"),
                ["classify", "port", "probe"].contains(&command),
                "{command}: {line}"
            );
            assert_eq!(
                line.contains("prometheus"),
                ["probe", "check"].contains(&command),
                "{command}: {line}"
            );
        }
        assert_eq!(listed, jsonl, "{command}: --jsonl listed");
    }
    // What the help says is what runs: doctor refuses CSV, and writes one object.
    let (code, _, stderr) = run(&["doctor", "127.0.0.1:1", "--format", "csv"]);
    assert_eq!(
        (code, stderr.as_str()),
        (2, "ipdiag: error: doctor writes a table or JSON, not CSV\n")
    );
}

#[test]
fn the_top_level_help_says_which_commands_need_no_network() {
    let (code, stdout, _) = run(&["--help"]);
    assert_eq!(code, 0);
    let text = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("classify, port and data need no network"),
        "{text}"
    );
    assert!(!text.contains("with no network access"), "{text}");
}

#[test]
fn data_names_sources_inside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for args in [&["data"][..], &["data", "--help"], &["data", "--json"]] {
        let (code, stdout, _) = run(args);
        assert_eq!(code, 0);
        assert!(
            !stdout.contains("../"),
            "{args:?} names a path outside the repository: {stdout}"
        );
    }
    let (_, help, _) = run(&["data", "--help"]);
    assert!(help.contains("data/sources/"), "{help}");
    for file in [
        "README.md",
        "cloud-asns.csv",
        "iana-ports.csv",
        "DBIP-LICENSE",
        "ROUTEVIEWS-LICENSE",
    ] {
        assert!(
            root.join("data/sources").join(file).is_file(),
            "data/sources/{file}"
        );
    }
    assert!(root.join("scripts/gen-data.py").is_file());
}

/// Every `> ~/DIR/FILE` in the README's Install block (and under `completions --help` and
/// `man --help`) follows a `mkdir -p ~/DIR`, so copying the lines works on a fresh account.
#[test]
fn install_lines_create_their_folders() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let install = readme
        .split("### Install")
        .nth(1)
        .and_then(|rest| rest.split("```sh").nth(1))
        .and_then(|block| block.split("```").next())
        .expect("an Install block");
    let (_, completions, _) = run(&["completions", "--help"]);
    let (_, man, _) = run(&["man", "--help"]);
    for text in [install, &completions, &man] {
        let mut made: Vec<&str> = Vec::new();
        let mut written = 0;
        for line in text.lines() {
            for word in line
                .split_whitespace()
                .skip_while(|w| *w != "-p")
                .skip(1)
                .take(1)
            {
                made.push(word);
            }
            if let Some(path) = line
                .split("> ")
                .nth(1)
                .and_then(|p| p.split_whitespace().next())
                && path.starts_with("~/")
            {
                let folder = path.rsplit_once('/').map_or(path, |(dir, _)| dir);
                assert!(
                    made.contains(&folder),
                    "no mkdir -p {folder} before: {line}"
                );
                written += 1;
            }
        }
        assert!(written >= 1, "{text}");
    }
}

/// `ping --help` and `port --help` say how this system sends echo requests and where its
/// port facts come from, in its own words (`sys::words` holds each system's).
#[test]
fn ping_and_port_help_speak_this_systems_words() {
    let words = ipdiag::sys::System::HERE.words();
    for (command, text) in [("ping", words.ping_how), ("port", words.port_facts_from)] {
        let (code, stdout, stderr) = run(&[command, "--help"]);
        assert_eq!(code, 0, "{stderr}");
        let help = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(help.contains(text), "{command} --help: {help}");
    }
}
