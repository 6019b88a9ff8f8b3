//! The bad-input corpus (`tests/fixtures/bad_inputs.tsv`, issue 9): for every command, inputs
//! that must exit 2 with nothing on stdout and exactly one line on stderr naming the bad token.
//!
//! Every case fails while parsing, before any I/O, so nothing here touches the network. All
//! mismatches are collected and reported together: one run shows every one of them.

use super::ipdiag;
use std::fmt::Write as _;
use std::path::Path;
use std::thread;
use std::time::Duration;

/// The corpus: `ARGS<TAB>STDERR` a line (the header comment of the file says more).
const CORPUS: &str = include_str!("../fixtures/bad_inputs.tsv");

/// Fewer cases than this means the corpus was truncated or mangled.
const AT_LEAST: usize = 100;

/// A case still running after this long did not refuse its input: it is killed and reported.
const LIMIT: Duration = Duration::from_secs(20);

/// One case of the corpus.
struct Case {
    /// Line number in the TSV (1-based), for the report.
    line: usize,
    /// The ARGS column as written.
    raw: &'static str,
    /// The arguments after unescaping.
    args: Vec<String>,
    /// The exact stderr line, without its newline.
    stderr: &'static str,
}

/// Unescapes one ARGS word: `''` alone is an empty argument, `\s` a space, `\\` a backslash.
fn unescape(word: &str) -> Result<String, String> {
    if word == "''" {
        return Ok(String::new());
    }
    let mut out = String::with_capacity(word.len());
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('s') => out.push(' '),
                Some('\\') => out.push('\\'),
                other => return Err(format!("unknown escape '\\{}'", other.unwrap_or(' '))),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Parses the corpus; a malformed line is a test failure of its own.
fn parse(text: &'static str) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((raw, stderr)) = line.split_once('\t') else {
            return Err(format!(
                "line {number}: no tab between ARGS and STDERR: {line:?}"
            ));
        };
        if stderr.contains('\t') || stderr.is_empty() {
            return Err(format!(
                "line {number}: want exactly two non-empty columns: {line:?}"
            ));
        }
        if raw.is_empty() || raw.split(' ').any(str::is_empty) {
            return Err(format!(
                "line {number}: ARGS are words separated by single spaces (use '' for an empty argument): {raw:?}"
            ));
        }
        let args = raw
            .split(' ')
            .map(unescape)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("line {number}: {e}: {raw:?}"))?;
        cases.push(Case {
            line: number,
            raw,
            args,
            stderr,
        });
    }
    Ok(cases)
}

/// Runs one case; `None` when it behaves, else what went wrong.
fn check(case: &Case) -> Option<String> {
    let out = ipdiag()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(&case.args)
        .timeout(LIMIT)
        .output()
        .expect("ipdiag runs");
    let code = out.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = in_this_systems_words(&format!("{}\n", case.stderr));
    if (code, stdout.as_ref(), stderr.as_ref()) == (2, "", expected.as_str())
        || (code, stdout.as_ref()) == (2, "") && same_but_the_system_words(&expected, &stderr)
    {
        return None;
    }
    let mut report = format!("line {}: ipdiag {}\n", case.line, case.raw);
    if out.status.code().is_none() {
        let _ = writeln!(
            report,
            "  exit:     none: killed by a signal, or after {} s (it ran instead of refusing?)",
            LIMIT.as_secs()
        );
    } else {
        let _ = writeln!(report, "  exit:     {code} (want 2)");
    }
    if !stdout.is_empty() {
        let _ = writeln!(report, "  stdout:   {stdout:?} (want nothing)");
    }
    let _ = writeln!(report, "  stderr:   {stderr:?}");
    let _ = writeln!(report, "  expected: {expected:?}");
    Some(report)
}

#[test]
fn every_bad_input_exits_2_with_one_line_naming_it() {
    let cases = parse(CORPUS).unwrap_or_else(|e| panic!("tests/fixtures/bad_inputs.tsv: {e}"));
    assert!(
        cases.len() >= AT_LEAST,
        "the corpus has {} cases, fewer than {AT_LEAST}",
        cases.len()
    );
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/check/ok.toml")
            .is_file(),
        "the check files of the corpus are in tests/fixtures/check"
    );
    let threads = thread::available_parallelism()
        .map_or(4, usize::from)
        .min(8);
    let chunk = cases.len().div_ceil(threads);
    // In corpus order: the chunks are joined in order.
    let failures: Vec<String> = thread::scope(|scope| {
        let workers: Vec<_> = cases
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().filter_map(check).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a worker thread panicked"))
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} bad-input cases misbehave (tests/fixtures/bad_inputs.tsv):\n{}",
        failures.len(),
        cases.len(),
        failures.join("")
    );
}

#[test]
fn the_corpus_parser_unescapes_and_refuses_malformed_lines() {
    assert_eq!(unescape("''"), Ok(String::new()));
    assert_eq!(unescape(r"a\sb\\c"), Ok(r"a b\c".to_owned()));
    assert!(unescape(r"a\t").is_err());
    let cases = parse("# comment\n\nport 70000\tipdiag: error: x\n").unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(
        (cases[0].line, cases[0].args.clone()),
        (3, vec!["port".to_owned(), "70000".to_owned()])
    );
    assert!(parse("port 70000 ipdiag: error: x\n").is_err(), "no tab");
    assert!(
        parse("port  70000\tipdiag: error: x\n").is_err(),
        "two spaces"
    );
    assert!(parse("port 70000\t\n").is_err(), "empty STDERR");
}

/// The corpus speaks Linux's words where a line suggests a command of this machine's
/// (interfaces, link-local zones, nmap's -sS); elsewhere the line carries this system's.
fn in_this_systems_words(line: &str) -> String {
    use ipdiag::sys::System;
    let (linux, here) = (System::Linux.words(), System::HERE.words());
    [
        (linux.interfaces, here.interfaces),
        (linux.link_local, here.link_local),
        (linux.syn_scan_tip, here.syn_scan_tip),
    ]
    .iter()
    .fold(line.to_owned(), |line, (linux, here)| {
        line.replace(linux, here)
    })
}

/// Off Linux the corpus's `(os error N)` lines carry the system's own words: the line up to
/// them must match, and the system's line must name an OS error too.
fn same_but_the_system_words(expected: &str, got: &str) -> bool {
    if cfg!(target_os = "linux") {
        return false;
    }
    let head = |line: &str| line.rsplit_once(": ").map(|(head, _)| head.to_owned());
    expected.contains("(os error ") && got.contains("(os error ") && head(expected) == head(got)
}
