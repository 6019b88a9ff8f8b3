//! `ipdiag merge REPORT...`: read the reports → name their vantages → judge
//! (`merge::merge`) → table, JSON or JSON lines, and a JUnit file → exit 0 or 1.

use super::Context;
use super::report_file::{ReportFile, same_file};
use crate::cli::merge::MergeArgs;
use crate::error::{EXIT_FAILURE, EXIT_OK, Error, Result, escaped, printable};
use crate::merge::{Report, merge, parse_report};
use crate::output::json_stream::JsonStream;
use crate::output::merge_json::{endpoint_record, merge_record};
use crate::output::{Format, merge_junit, merge_table};
use std::path::Path;

/// The `schema_version` of `check --json` this ipdiag reads.
const READS: u32 = crate::output::check_json::SCHEMA_VERSION;

/// Runs `ipdiag merge`.
pub fn run(args: &MergeArgs, ctx: &mut Context<'_>) -> Result<u8> {
    let junit = match &args.junit {
        Some(target) => {
            if let Some(input) = args.files.iter().find(|f| same_file(target, f)) {
                return Err(Error::Usage(format!(
                    "--junit {} is one of the reports ({}): give it another path",
                    printable(&target.display().to_string()),
                    printable(&input.display().to_string())
                )));
            }
            Some(ReportFile::prepare(target, &args.files[0])?)
        }
        None => None,
    };
    let mut reports: Vec<(String, Report)> = Vec::new();
    // The first file that states a schema version, which every other must share.
    let mut version: Option<(u32, String)> = None;
    for path in &args.files {
        let shown = escaped(&path.display().to_string());
        let report = read_report(path, &shown)?;
        if let Some(v) = report.schema_version {
            check_version(v, &shown, &mut version)?;
        }
        let name = report.vantage.clone().unwrap_or_else(|| stem(path));
        if let Some((_, _)) = reports.iter().find(|(n, _)| *n == name) {
            return Err(Error::Report {
                path: shown,
                message: format!(
                    "its vantage {} is another report's too: give each place its own (check --vantage NAME)",
                    escaped(&name)
                ),
            });
        }
        reports.push((name, report));
    }
    let merged = merge(&reports);
    if let Some(junit) = junit {
        junit.commit(merge_junit::render(&merged)?.as_bytes())?;
    }
    match ctx.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *ctx.out, &merge_record(&merged))
                .map_err(std::io::Error::from)?;
            writeln!(ctx.out)?;
        }
        Format::Jsonl => {
            let mut stream = JsonStream::new(&mut *ctx.out, false);
            for e in &merged.endpoints {
                stream.record(&endpoint_record(e, &merged.vantages))?;
            }
            stream.finish()?;
        }
        Format::Table | Format::Csv | Format::Prometheus => {
            if !ctx.quiet {
                write!(ctx.out, "{}", merge_table::render(&merged, ctx.style))?;
            }
        }
    }
    Ok(if merged.holds() {
        EXIT_OK
    } else {
        EXIT_FAILURE
    })
}

/// Reads and parses one report; every problem is exit 2 naming the file.
fn read_report(path: &Path, shown: &str) -> Result<Report> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: shown.to_owned(),
        source,
    })?;
    let problem = |message: String| Error::Report {
        path: shown.to_owned(),
        message,
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| problem("not an ipdiag report (not UTF-8 text)".to_owned()))?;
    parse_report(&text).map_err(|e| problem(e.to_string()))
}

/// Refuses a version this ipdiag does not read, and a version other than the first file's.
fn check_version(v: u32, shown: &str, first: &mut Option<(u32, String)>) -> Result<()> {
    let problem = |message: String| Error::Report {
        path: shown.to_owned(),
        message,
    };
    if let Some((seen, other)) = first.as_ref()
        && *seen != v
    {
        return Err(problem(format!(
            "schema_version {v}, but {other} has {seen}: merge reports of one ipdiag version"
        )));
    }
    if v > READS {
        return Err(problem(format!(
            "schema_version {v} is newer than this ipdiag reads ({READS}): merge with the ipdiag that wrote it"
        )));
    }
    first.get_or_insert_with(|| (v, shown.to_owned()));
    Ok(())
}

/// A file's name without its extension: `eu-west.json` is vantage `eu-west`.
fn stem(path: &Path) -> String {
    path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}
