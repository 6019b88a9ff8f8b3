//! `ipdiag check FILE`: read the file → probe every check (again with `--wait`) → diagnose
//! the failures → table or JSON, JUnit file, GitHub annotations → exit status 0 or 1.

use super::Context;
use super::advise::Adviser;
use super::checking::{Report, Settings, Until, seconds, until_hold, waiting_line};
use super::drive::runtime;
use super::options::advice;
use super::report_file::ReportFile;
use crate::check::{Check, CheckFile, Outcome, parse_check_file};
use crate::cli::check::CheckArgs;
use crate::diagnose::HostIndex;
use crate::error::{EXIT_FAILURE, EXIT_OK, Error, InputError, Problem, Result, escaped};
use crate::model::ProbeResult;
use crate::output::check_json::{CheckRunRecord, SCHEMA_VERSION, check_record};
use crate::output::check_report::{CheckView, summary_line};
use crate::output::json_stream::JsonStream;
use crate::output::prometheus::{ProbeMetrics, endpoint_labels, write_text};
use crate::output::{Format, check_github, check_junit, check_table};
use crate::plan::duration::parse_duration;
use std::path::Path;
use std::time::Duration;

/// Exit status after Ctrl-C, as shells report a command killed by SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Runs `ipdiag check`.
pub fn run(args: &CheckArgs, ctx: &mut Context<'_>) -> Result<u8> {
    let path = escaped(&args.file.display().to_string());
    let on_github = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    let file = read_check_file(&args.file);
    // On GitHub the file's problem is shown on its line too (the usual error line follows).
    if on_github
        && let Err(Error::Config {
            path,
            line,
            column,
            message,
        }) = &file
    {
        let annotation = check_github::file_error(path, *line, *column, message);
        write!(ctx.err, "{annotation}")?;
    }
    let file = file?;
    let until = match args.wait.as_deref() {
        None => Until::Once,
        Some(text) => {
            let limit = parse_duration("--wait", text)?;
            if limit.is_zero() {
                return Err(InputError::new("--wait", text, Problem::NotPositive).into());
            }
            Until::Deadline(limit)
        }
    };
    if args.concurrency == 0 {
        return Err(InputError::new("--concurrency", "0", Problem::NotPositive).into());
    }
    let vantage = vantage(args.vantage.as_deref())?;
    let (cloud, source) = advice(&args.advice)?;
    // Opened before any packet: a report that cannot be written fails the run now, not
    // after the probing, when the results would be lost.
    let junit = args
        .junit
        .as_deref()
        .map(|report| ReportFile::prepare(report, &args.file))
        .transpose()?;
    let settings = Settings {
        concurrency: args.concurrency,
        token: super::options::secret(args.token.as_ref())?,
    };
    if ctx.verbose > 0 {
        writeln!(
            ctx.err,
            "ipdiag: {path}: {} check{}, probed concurrently (at most {} ports at once, names resolved every round){}",
            file.checks.len(),
            if file.checks.len() == 1 { "" } else { "s" },
            args.concurrency,
            match until {
                Until::Deadline(limit) => format!(
                    ", failing ones again until {} (-vv: each round)",
                    seconds(limit)
                ),
                Until::Once | Until::Forever => ", once".to_owned(),
            }
        )?;
    }
    let spinner = waiting_line(ctx.quiet || until == Until::Once);
    let verbose = ctx.verbose;
    let err = &mut *ctx.err;
    let report = runtime()?.block_on(until_hold(
        &file.checks,
        &settings,
        until,
        &mut |checks, outcomes, elapsed| {
            let text = waiting_text(checks, outcomes, elapsed, until);
            if verbose > 1 {
                let _ = writeln!(err, "ipdiag: {text}");
            }
            spinner.set_message(text);
        },
    ))?;
    spinner.finish_and_clear();
    let mut adviser = Adviser::new(cloud, source);
    let views = views(&file.checks, &report.outcomes, &mut adviser);
    if let Some(junit) = junit {
        let xml = check_junit::render(&views, &path, &vantage, report.elapsed)?;
        junit.commit(xml.as_bytes())?;
    }
    if on_github {
        write!(ctx.err, "{}", check_github::annotations(&views, &path))?;
    }
    if !ctx.quiet {
        let sources = sources(&views, &mut adviser);
        let run = Run {
            report: &report,
            path: &path,
            vantage: &vantage,
            sources,
        };
        write_report(&views, &run, ctx)?;
    }
    Ok(if report.interrupted {
        EXIT_INTERRUPTED
    } else if report.all_hold() {
        EXIT_OK
    } else {
        EXIT_FAILURE
    })
}

/// Where this run is: `--vantage NAME`, else the system's host name (no DNS lookup), else
/// `unknown`. An empty name is refused: it would name no place in `ipdiag merge`.
fn vantage(given: Option<&str>) -> Result<String> {
    match given {
        Some(name) if name.trim().is_empty() => {
            Err(InputError::new("--vantage", name, Problem::Empty).into())
        }
        Some(name) => Ok(name.to_owned()),
        None => Ok(crate::sys::host_name().unwrap_or_else(|| "unknown".to_owned())),
    }
}

/// This machine's source addresses towards the addresses the run probed, each once, in
/// order (a routing lookup per address, no packet).
fn sources(views: &[CheckView<'_>], adviser: &mut Adviser) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for view in views {
        for (row, _) in view.rows() {
            let from = adviser.sends_from(row.result.endpoint.address);
            if let Some(text) = from.map(|a| a.to_string())
                && !seen.contains(&text)
            {
                seen.push(text);
            }
        }
    }
    seen
}

/// What the report says about the run besides the checks.
struct Run<'a> {
    report: &'a Report,
    path: &'a str,
    vantage: &'a str,
    sources: Vec<String>,
}

/// Reads and checks the file: every problem is exit 2 with `FILE:LINE:COLUMN`, before any
/// packet is sent.
fn read_check_file(path: &Path) -> Result<CheckFile> {
    let name = escaped(&path.display().to_string());
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: name.clone(),
        source,
    })?;
    let config_error = |line, column, message| Error::Config {
        path: name.clone(),
        line,
        column,
        message,
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| config_error(1, 1, "the file is not valid UTF-8 text".to_owned()))?;
    parse_check_file(&text).map_err(|e| config_error(e.line, e.column, e.message))
}

/// `waiting: 2 of 5 checks fail (db: expected open, got closed (conn-refused)) · 12 s left`.
pub fn waiting_text(
    checks: &[Check],
    outcomes: &[Outcome],
    elapsed: Duration,
    until: Until,
) -> String {
    let failing: Vec<(&Check, &Outcome)> = checks
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| !o.holds())
        .collect();
    let first = failing.first().map_or_else(String::new, |(c, o)| {
        let why = o
            .first_failure()
            .and_then(|r| r.verdict.why.clone())
            .unwrap_or_default();
        format!(" ({}: {why})", escaped(&c.name))
    });
    let left = match until {
        Until::Deadline(limit) => format!(" · {} left", seconds(limit.saturating_sub(elapsed))),
        Until::Once | Until::Forever => format!(" · {}", seconds(elapsed)),
    };
    format!(
        "waiting: {} of {} checks fail{first}{left}",
        failing.len(),
        checks.len()
    )
}

/// Each check with its outcome and the diagnosis of each row (the other results of the run
/// are the evidence: a closed port next to a silent one says the host is up).
fn views<'a>(
    checks: &'a [Check],
    outcomes: &'a [Outcome],
    adviser: &mut Adviser,
) -> Vec<CheckView<'a>> {
    let all: Vec<ProbeResult> = outcomes
        .iter()
        .flat_map(|o| o.rows.iter().map(|r| r.result.clone()))
        .collect();
    let index = HostIndex::new(&all);
    checks
        .iter()
        .zip(outcomes)
        .map(|(check, outcome)| CheckView {
            check,
            outcome,
            diagnoses: outcome
                .rows
                .iter()
                .map(|row| adviser.diagnose(&row.result, &index, None))
                .collect(),
        })
        .collect()
}

fn write_report(views: &[CheckView<'_>], run: &Run<'_>, ctx: &mut Context<'_>) -> Result<()> {
    let (report, path, vantage) = (run.report, run.path, run.vantage);
    let elapsed_ms = report.elapsed.as_secs_f64() * 1000.0;
    match ctx.format {
        Format::Json => {
            let passed = views.iter().filter(|v| v.outcome.holds()).count();
            let record = CheckRunRecord {
                schema_version: SCHEMA_VERSION,
                vantage,
                sources: run.sources.clone(),
                file: path,
                ok: passed == views.len(),
                total: views.len(),
                passed,
                failed: views.len() - passed,
                rounds: report.rounds,
                elapsed_ms: (elapsed_ms * 1000.0).round() / 1000.0,
                interrupted: report.interrupted,
                checks: views.iter().map(|v| check_record(v, vantage)).collect(),
            };
            serde_json::to_writer_pretty(&mut *ctx.out, &record).map_err(std::io::Error::from)?;
            writeln!(ctx.out)?;
        }
        Format::Jsonl => {
            let mut stream = JsonStream::new(&mut *ctx.out, false);
            for view in views {
                stream.record(&check_record(view, vantage))?;
            }
            stream.finish()?;
        }
        Format::Prometheus => write_text(&mut *ctx.out, metrics(views, vantage))?,
        Format::Table | Format::Csv => {
            write!(
                ctx.out,
                "{}",
                check_table::render(views, vantage, report.rounds, elapsed_ms, ctx.style)
            )?;
            if report.interrupted {
                writeln!(ctx.err, "ipdiag: interrupted: {}", summary_line(views))?;
            }
        }
    }
    Ok(())
}

/// `--format prometheus`: a record per probed endpoint of each check, labelled `vantage`,
/// `check` and the endpoint's labels, `probe_success` the row's verdict. A check keeps no
/// per-attempt samples across its rounds, so its records have no histogram.
fn metrics(views: &[CheckView<'_>], vantage: &str) -> Vec<ProbeMetrics> {
    let mut records = Vec::new();
    for view in views {
        for (row, diagnosis) in view.rows() {
            let Some(diagnosis) = diagnosis else { continue };
            let expect = view
                .check
                .expect
                .for_endpoint(row.result.endpoint.protocol, view.check.responder);
            let words = expect.as_str().to_owned();
            let mut m = ProbeMetrics::new(&row.result, diagnosis, words, row.verdict.holds);
            m.labels = vec![
                ("vantage".to_owned(), vantage.to_owned()),
                ("check".to_owned(), view.check.name.clone()),
            ];
            m.labels.extend(endpoint_labels(&row.result));
            m.samples = None;
            records.push(m);
        }
    }
    records
}
