//! `ipdiag wait TARGET... [-- COMMAND]`: probe until every target is ready (or gone), then
//! become COMMAND. The targets are checks (`check::Check`) run by the same rounds as
//! `ipdiag check --wait`.

use super::Context;
use super::checking::{Settings, Until, seconds, until_hold, waiting_line};
use super::drive::runtime;
use crate::check::{Budget, Check, CheckTiming, Expect, Outcome, validate};
use crate::classify::port_spec::refuse_port_zero;
use crate::cli::wait::WaitArgs;
use crate::error::{EXIT_FAILURE, EXIT_OK, InputError, Problem, Result};
use crate::model::Protocol;
use crate::output::check_report::{failure_line, unprobed_line};
use crate::output::probe_text::endpoint_text;
use crate::plan::duration::parse_duration;
use crate::plan::guess;
use crate::plan::target::parse_target;
use std::time::Duration;

/// Exit status when the command cannot be run (as `env`, `timeout` and shells use it).
pub const EXIT_CANNOT_RUN: u8 = 126;
/// Exit status when the command is not found.
pub const EXIT_NOT_FOUND: u8 = 127;

/// Runs `ipdiag wait`.
pub fn run(args: &WaitArgs, ctx: &mut Context<'_>) -> Result<u8> {
    let checks = checks(args)?;
    let limit = parse_duration("--timeout", &args.timeout)?;
    let until = if limit.is_zero() {
        Until::Forever
    } else {
        Until::Deadline(limit)
    };
    let settings = Settings {
        concurrency: 64,
        token: super::options::secret(args.token.as_ref())?,
    };
    if ctx.verbose > 0 {
        writeln!(
            ctx.err,
            "ipdiag: waiting until {} {} {}: a probe every round (timeout {} each), rounds backing off from 100 ms to 1 s{}",
            checks
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if checks.len() == 1 { "is" } else { "are" },
            args.expect,
            seconds(checks.first().map_or(Duration::ZERO, |c| c.timing.timeout)),
            if limit.is_zero() {
                ", for ever".to_owned()
            } else {
                format!(", for {} at most (-vv: each round)", seconds(limit))
            }
        )?;
    }
    let spinner = waiting_line(ctx.quiet);
    let verbose = ctx.verbose;
    let err = &mut *ctx.err;
    let report = runtime()?.block_on(until_hold(
        &checks,
        &settings,
        until,
        &mut |checks, outcomes, elapsed| {
            let text = waiting_text(checks, outcomes, elapsed, limit);
            if verbose > 1 {
                let _ = writeln!(err, "ipdiag: {text}");
            }
            spinner.set_message(text);
        },
    ))?;
    spinner.finish_and_clear();
    let seconds = report.elapsed.as_secs_f64();
    if report.interrupted {
        return Ok(super::check::EXIT_INTERRUPTED);
    }
    if !report.all_hold() {
        if !ctx.quiet {
            for (check, outcome) in checks.iter().zip(&report.outcomes) {
                if let Some(row) = outcome.first_failure() {
                    writeln!(
                        ctx.err,
                        "ipdiag: timed out after {seconds:.1} s: {}",
                        failure_line(row, None)
                    )?;
                } else if outcome.rows.is_empty() {
                    writeln!(ctx.err, "ipdiag: timed out: {} was not probed", check.name)?;
                } else if let Some(line) = unprobed_line(outcome.unprobed) {
                    writeln!(
                        ctx.err,
                        "ipdiag: timed out after {seconds:.1} s: {}: {line}",
                        check.name
                    )?;
                }
            }
        }
        return Ok(EXIT_FAILURE);
    }
    if !ctx.quiet {
        for (outcome, held_at) in report.outcomes.iter().zip(&report.held_at) {
            let seconds = held_at.unwrap_or(report.elapsed).as_secs_f64();
            for row in &outcome.rows {
                writeln!(
                    ctx.err,
                    "ipdiag: {} is {} after {seconds:.2} s",
                    endpoint_text(&row.result.endpoint),
                    row.result.state
                )?;
            }
        }
    }
    match args.command.split_first() {
        None => Ok(EXIT_OK),
        Some((program, rest)) => {
            ctx.out.flush()?;
            ctx.err.flush()?;
            Ok(exec(program, rest, ctx))
        }
    }
}

/// The targets as checks: ready means open (for UDP: a reply, or silence unless a responder
/// is promised; never an ICMP error), or closed / unreachable with `--expect`. Which rule a
/// port gets follows its own protocol (`dns:53/udp` is UDP without `--udp`), port by port.
fn checks(args: &WaitArgs) -> Result<Vec<Check>> {
    let timeout = parse_duration("--probe-timeout", &args.probe_timeout)?;
    if timeout.is_zero() {
        return Err(
            InputError::new("--probe-timeout", &args.probe_timeout, Problem::NotPositive).into(),
        );
    }
    let protocol = if args.udp {
        Protocol::Udp
    } else {
        Protocol::Tcp
    };
    let expect = match args.expect.as_str() {
        "closed" => Expect::Closed,
        "unreachable" => Expect::Unreachable,
        _ => Expect::OpenOrSilent,
    };
    let mut checks = Vec::new();
    for (index, token) in args.targets.iter().enumerate() {
        // `wait db:5432 ./migrate.sh`: the command was meant to follow `--`.
        let command = || {
            guess::wait_command(index, &args.targets[..index], &args.targets[index..])
                .map(|problem| InputError::new("target", token, problem))
        };
        let target = match parse_target(token) {
            Ok(target) => target,
            Err(e) => {
                let previous = index.checked_sub(1).map(|i| args.targets[i].as_str());
                let port = guess::bare_port(token, previous, false)
                    .map(|problem| InputError::new("target", token, problem));
                return Err(port.or_else(command).unwrap_or(e).into());
            }
        };
        let Some(ports) = &target.ports else {
            let error =
                command().unwrap_or_else(|| InputError::new("target", token, Problem::NoPortGiven));
            return Err(error.into());
        };
        refuse_port_zero(ports)?;
        let check = Check {
            name: target.text.clone(),
            line: 0,
            target,
            protocol,
            expect,
            budget: Budget::default(),
            timing: CheckTiming {
                timeout,
                retries: 1,
                count: 1,
                interval: Duration::from_millis(200),
            },
            responder: args.responder,
        };
        validate(&check)?;
        checks.push(check);
    }
    Ok(checks)
}

/// `waiting for db:5432 (expected open, got closed (conn-refused)) · 3 s of 60 s`.
fn waiting_text(
    checks: &[Check],
    outcomes: &[Outcome],
    elapsed: Duration,
    limit: Duration,
) -> String {
    let first = checks
        .iter()
        .zip(outcomes)
        .find(|(_, o)| !o.holds())
        .map_or_else(String::new, |(c, o)| {
            let why = o
                .first_failure()
                .and_then(|r| r.verdict.why.clone())
                .unwrap_or_default();
            format!("{} ({why})", c.name)
        });
    let of = if limit.is_zero() {
        String::new()
    } else {
        format!(" of {}", seconds(limit))
    };
    format!("waiting for {first} · {}{of}", seconds(elapsed))
}

/// Replaces this process with the command (Unix `exec`; Windows runs it and passes its
/// exit status on); returns 126 / 127 when it cannot run, with the reason on stderr.
fn exec(program: &std::ffi::OsStr, args: &[std::ffi::OsString], ctx: &mut Context<'_>) -> u8 {
    let error = match crate::sys::hand_over(std::process::Command::new(program).args(args)) {
        Ok(code) => return code,
        Err(error) => error,
    };
    let (code, why) = if error.kind() == std::io::ErrorKind::NotFound {
        (EXIT_NOT_FOUND, "command not found".to_owned())
    } else {
        (EXIT_CANNOT_RUN, error.to_string())
    };
    let _ = writeln!(
        ctx.err,
        "ipdiag: error: cannot run '{}': {why}",
        program.to_string_lossy()
    );
    code
}
