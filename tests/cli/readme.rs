//! The README's console examples that need no network (`classify`, `port`, `data`,
//! `--version`, and the error lines) run here and are compared with the binary's output,
//! so the README cannot drift from what ipdiag prints.
//!
//! A `$ ipdiag …` line is a command (a trailing `# comment` is left out); the lines after it,
//! up to the next command or the end of the block, are its stdout and stderr as printed. A
//! line `...` stands for any number of lines. Examples of the other commands (probe, doctor,
//! trace, ...) need listeners or the network and are left out; none of those run here.

use super::run;
use std::path::Path;

/// Commands that answer from the embedded data alone.
const OFFLINE: [&str; 4] = ["classify", "port", "data", "--version"];

/// One example: the command's words and what the README shows it printing.
struct Example {
    line: usize,
    args: Vec<String>,
    shown: Vec<String>,
}

fn examples(readme: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut in_console = false;
    for (index, line) in readme.lines().enumerate() {
        if line.starts_with("```") {
            in_console = line == "```console";
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            let command = command.split("  #").next().unwrap_or(command);
            let words: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
            out.push(Example {
                line: index + 1,
                args: words,
                shown: Vec::new(),
            });
        } else if let Some(example) = out.last_mut() {
            example.shown.push(line.to_owned());
        }
    }
    // A blank line between two examples of one block belongs to neither.
    for example in &mut out {
        while example.shown.last().is_some_and(|l| l.trim().is_empty()) {
            example.shown.pop();
        }
    }
    out.retain(|e| {
        e.args.first().map(String::as_str) == Some("ipdiag")
            && e.args.get(1).is_some_and(|a| OFFLINE.contains(&a.as_str()))
    });
    out
}

/// Whether `printed` matches `shown`, where a `...` line in `shown` stands for any lines.
fn matches(shown: &[String], printed: &[&str]) -> bool {
    match shown.split_first() {
        None => printed.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=printed.len()).any(|skip| matches(rest, &printed[skip..]))
        }
        Some((first, rest)) => {
            printed
                .first()
                .is_some_and(|p| p.trim_end() == first.trim_end())
                && matches(rest, &printed[1..])
        }
    }
}

#[test]
fn the_readme_console_examples_print_what_the_binary_prints() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let all = examples(&readme);
    let mut drifted = Vec::new();
    for example in &all {
        let args: Vec<&str> = example.args[1..].iter().map(String::as_str).collect();
        let (_, stdout, stderr) = run(&args);
        let printed = format!("{stdout}{stderr}");
        let printed: Vec<&str> = printed.lines().collect();
        if !matches(&example.shown, &printed) {
            drifted.push(format!(
                "README.md:{}: $ {}\n--- README\n{}\n--- ipdiag\n{}\n",
                example.line,
                example.args.join(" "),
                example.shown.join("\n"),
                printed.join("\n")
            ));
        }
    }
    assert!(drifted.is_empty(), "{}", drifted.join("\n"));
    // The examples this test knows of; a README that loses one is noticed too.
    let commands: Vec<String> = all.iter().map(|e| e.args[1..].join(" ")).collect();
    assert_eq!(
        commands,
        [
            "classify 192.168.1.103",
            "classify 127.0.0.1",
            "classify 192.168.1.103/26",
            "port 7788 7890 8080 22",
            "classify 010.1.1.1",
            "classify 1.2.3.4/33",
            "port 70000",
            "--version",
            "data",
        ]
    );
}

#[test]
fn an_ellipsis_stands_for_any_lines() {
    let shown = |s: &[&str]| s.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>();
    assert!(matches(&shown(&["a", "...", "d"]), &["a", "b", "c", "d"]));
    assert!(matches(&shown(&["a", "...", "d"]), &["a", "d"]));
    assert!(!matches(&shown(&["a", "...", "d"]), &["a", "b"]));
    assert!(!matches(&shown(&["a"]), &["a", "b"]));
}
