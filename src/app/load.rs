//! `ipdiag probe HOST:PORT --loss-split [-c N] [--rate R | --rates LIST]`: UDP loss split by
//! direction through the responder, a row per send rate. Arguments → one target → a run
//! per rate on one socket (`probe::load`) → the split (`probe::load_split`) → rows as they
//! finish, then notes or JSON.

use super::Context;
use super::check::EXIT_INTERRUPTED;
use super::drive::runtime;
use crate::classify::port_spec::parse_port_arg;
use crate::cli::load::LoadArgs;
use crate::cli::probe::ProbeArgs;
use crate::error::{EXIT_FAILURE, EXIT_OK, Error, InputError, Problem, Result};
use crate::model::Protocol;
use crate::output::Format;
use crate::output::load_text::{self, LoadRecord, RateLine, RateRecord, Row};
use crate::plan::duration::parse_duration;
use crate::plan::expand::{PlanOptions, build_plan};
use crate::plan::target::{HostSpec, TargetSpec, parse_target};
use crate::probe::load::{self as measure, LoadConfig};
use crate::probe::load_split::split;
use crate::probe::load_trend::{loss_grows, trend_of};
use crate::resolve::SystemResolver;
use std::net::SocketAddr;
use std::time::Duration;

/// Counted requests per rate without `-c`: enough for a loss of a fraction of a percent to
/// show, few enough that the default rate takes five seconds.
pub const DEFAULT_COUNT: u32 = 500;
/// The rate without `--rate` / `--rates`: gentle on the path and on the responder.
pub const DEFAULT_RATE: f64 = 100.0;
/// The most requests per rate (the client keeps a byte per request).
pub const MAX_COUNT: u32 = 1_000_000;
/// The highest rate: a measurement, not a flood.
pub const MAX_RATE: u32 = 100_000;

/// Everything a measurement needs, checked.
#[derive(Debug, Clone, PartialEq)]
struct Request {
    target: SocketAddr,
    count: u32,
    rates: Vec<f64>,
    wait: Duration,
    token: Option<Vec<u8>>,
}

/// Runs `probe --loss-split`; `load` are its own flags, `args` the rest of `probe`'s.
pub fn run(load: &LoadArgs, args: &ProbeArgs, ctx: &mut Context<'_>) -> Result<u8> {
    let text = args.targets.first().cloned().unwrap_or_default();
    let Some(request) = request(load, args)? else {
        writeln!(ctx.err, "ipdiag: cannot resolve '{text}'")?;
        return Ok(EXIT_FAILURE);
    };
    let target = request.target;
    if ctx.format == Format::Table {
        let header = load_text::header(&text, target, request.count, request.wait);
        writeln!(ctx.out, "{header}")?;
        ctx.out.flush()?;
    }
    let mut rows: Vec<Row> = Vec::new();
    let interrupted = runtime()?.block_on(async {
        let socket = measure::socket(target).map_err(|e| {
            Error::Environment(format!("cannot open a UDP socket to {target}: {e}"))
        })?;
        for &rate in &request.rates {
            let config = LoadConfig {
                target,
                count: request.count,
                rate,
                wait: request.wait,
                token: request.token.clone(),
            };
            let run = tokio::select! {
                run = measure::run(&socket, &config) => run,
                _ = tokio::signal::ctrl_c() => return Ok::<bool, Error>(true),
            };
            let row = Row {
                run,
                split: split(run.counts, run.tally),
            };
            write_row(ctx, &text, target, &row)?;
            rows.push(row);
        }
        Ok(false)
    })?;
    let trend = trend_of(rows.iter().map(|r| (&r.run, &r.split)));
    match ctx.format {
        Format::Table => write!(ctx.out, "{}", load_text::notes(&rows, target.port(), trend))?,
        Format::Json => {
            let record = LoadRecord {
                target: &text,
                address: target.ip().to_string(),
                port: target.port(),
                count: request.count,
                wait_ms: u64::try_from(request.wait.as_millis()).unwrap_or(u64::MAX),
                rates: rows.iter().map(RateRecord::from).collect(),
                loss_grows_with_rate: loss_grows(trend),
            };
            serde_json::to_writer(&mut *ctx.out, &record).map_err(std::io::Error::from)?;
            writeln!(ctx.out)?;
        }
        Format::Jsonl | Format::Csv | Format::Prometheus => {}
    }
    if interrupted {
        writeln!(ctx.err, "ipdiag: interrupted")?;
        return Ok(EXIT_INTERRUPTED);
    }
    let split = rows.iter().all(|r| r.split.directions.is_some());
    Ok(if split { EXIT_OK } else { EXIT_FAILURE })
}

/// A finished rate: a table row, or a JSON line, at once.
fn write_row(ctx: &mut Context<'_>, text: &str, target: SocketAddr, row: &Row) -> Result<()> {
    match ctx.format {
        Format::Table => writeln!(ctx.out, "{}", load_text::row(row))?,
        Format::Jsonl => {
            let line = RateLine {
                target: text,
                address: target.ip().to_string(),
                port: target.port(),
                record: RateRecord::from(row),
            };
            serde_json::to_writer(&mut *ctx.out, &line).map_err(std::io::Error::from)?;
            writeln!(ctx.out)?;
        }
        Format::Json | Format::Csv | Format::Prometheus => return Ok(()),
    }
    ctx.out.flush()?;
    Ok(())
}

/// The checked request; `None` when the name does not resolve.
fn request(load: &LoadArgs, args: &ProbeArgs) -> Result<Option<Request>> {
    let mode = "--loss-split";
    if !load.rates.is_empty() && args.timing.rate.is_some() {
        return Err(Error::Usage(
            "--loss-split takes --rate R or --rates LIST, not both".into(),
        ));
    }
    let spec = one_target(mode, Problem::LossSplitOnePort, args)?;
    let count = args.timing.count.unwrap_or(DEFAULT_COUNT);
    if count == 0 {
        return Err(InputError::new("--count", "0", Problem::NotPositive).into());
    }
    if count > MAX_COUNT {
        let shown = count.to_string();
        return Err(InputError::new("--count", &shown, Problem::Between(1, MAX_COUNT)).into());
    }
    let rates = match (&load.rates[..], args.timing.rate.as_deref()) {
        ([], None) => vec![DEFAULT_RATE],
        ([], Some(one)) => vec![parse_rate("--rate", one)?],
        (list, _) => list
            .iter()
            .map(|r| parse_rate("--rates", r))
            .collect::<Result<_, _>>()?,
    };
    let wait = parse_wait(args)?;
    let Some(target) = resolve_one(&spec, Problem::LossSplitOnePort, args)? else {
        return Ok(None);
    };
    Ok(Some(Request {
        target,
        count,
        rates,
        wait,
        token: super::options::secret(args.responder.token.as_ref())?,
    }))
}

/// The one HOST:PORT a responder measurement (`mode`: `--loss-split`, `--idle-test`) takes,
/// parsed: UDP only, no other measurement, no file, no network.
/// `one_port` is the problem of a target that names several.
pub(super) fn one_target(mode: &str, one_port: Problem, args: &ProbeArgs) -> Result<TargetSpec> {
    if args.protocol.tcp || args.protocol.both {
        return Err(Error::Usage(format!(
            "{mode} measures UDP through the responder: leave out --tcp and --both"
        )));
    }
    if args.raw || args.sizes.is_some() || args.size_sweep {
        return Err(Error::Usage(format!(
            "{mode} is a measurement of its own: leave out --raw, --sizes and --size-sweep"
        )));
    }
    let [text] = args.targets.as_slice() else {
        return Err(Error::Usage(format!(
            "{mode} measures one target: give exactly one HOST:PORT"
        )));
    };
    if !args.file.is_empty() {
        return Err(Error::Usage(format!(
            "{mode} measures one target: give HOST:PORT, not --file"
        )));
    }
    let spec = parse_target(text)?;
    match spec.host {
        HostSpec::Network(_) => Err(InputError::new("target", &spec.text, one_port).into()),
        HostSpec::Name(_) if args.numeric => {
            Err(InputError::new("target", &spec.text, Problem::NameWithNumeric).into())
        }
        _ => Ok(spec),
    }
}

/// `-w/--timeout`: the wait for a reply, above zero.
pub(super) fn parse_wait(args: &ProbeArgs) -> Result<Duration> {
    let wait = parse_duration("--timeout", &args.timing.timeout)?;
    if wait.is_zero() {
        return Err(InputError::new("--timeout", &args.timing.timeout, Problem::Duration).into());
    }
    Ok(wait)
}

/// The UDP address `spec` names (with `-p` for a port); `None` when it does not resolve.
pub(super) fn resolve_one(
    spec: &TargetSpec,
    one_port: Problem,
    args: &ProbeArgs,
) -> Result<Option<SocketAddr>> {
    let mut default_ports = Vec::new();
    for ports in &args.ports {
        default_ports.extend(parse_port_arg(ports)?);
    }
    let options = PlanOptions {
        default_ports,
        protocols: vec![Protocol::Udp],
        family: super::options::protocols(&args.protocol).1,
        allow_broadcast: false,
    };
    let plan = build_plan(std::slice::from_ref(spec), &options, &SystemResolver)?;
    if plan.endpoints.windows(2).any(|w| w[0].port != w[1].port) {
        return Err(InputError::new("target", &spec.text, one_port).into());
    }
    Ok(plan
        .endpoints
        .iter()
        .find_map(crate::model::Endpoint::socket_addr))
}

/// One rate: a number of requests per second from 1 to [`MAX_RATE`].
fn parse_rate(what: &'static str, text: &str) -> Result<f64, InputError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(InputError::new(what, text, Problem::EmptyItem));
    }
    match trimmed.parse::<f64>() {
        Ok(rate) if rate.is_finite() && (1.0..=f64::from(MAX_RATE)).contains(&rate) => Ok(rate),
        Ok(_) => Err(InputError::new(what, text, Problem::Between(1, MAX_RATE))),
        Err(_) => Err(InputError::new(what, text, Problem::NotANumber)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    /// `probe`'s arguments as clap reads them, with this command's flags split off by hand
    /// (they are flattened into `probe` by the caller).
    fn parsed(argv: &[&str], rates: &[&str]) -> Result<Option<Request>> {
        let mut all = vec!["ipdiag", "probe"];
        all.extend_from_slice(argv);
        let Command::Probe(probe) = Cli::try_parse_from(all).unwrap().command else {
            unreachable!()
        };
        let load = LoadArgs {
            loss_split: true,
            rates: rates.iter().map(|r| (*r).to_owned()).collect(),
            idle_test: false,
            idle_max: None,
        };
        request(&load, &probe)
    }

    fn message(result: Result<Option<Request>>) -> String {
        let error = result.unwrap_err();
        assert_eq!(error.exit_code(), 2, "{error}");
        error.to_string()
    }

    #[test]
    fn defaults_and_the_probe_flags_it_reads() {
        let r = parsed(&["127.0.0.1:7895"], &[]).unwrap().unwrap();
        assert_eq!(r.target, "127.0.0.1:7895".parse().unwrap());
        assert_eq!(
            (r.count, r.rates.clone()),
            (DEFAULT_COUNT, vec![DEFAULT_RATE])
        );
        assert_eq!(r.wait, Duration::from_secs(1));
        let r = parsed(
            &[
                "127.0.0.1",
                "-p",
                "7895",
                "-c",
                "20",
                "--rate",
                "250",
                "-w",
                "300ms",
                "--token",
                "k3y-k3y-k3y",
            ],
            &[],
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (r.count, r.rates, r.wait),
            (20, vec![250.0], Duration::from_millis(300))
        );
        assert_eq!(r.token.as_deref(), Some(&b"k3y-k3y-k3y"[..]));
        let r = parsed(&["[::1]:7895"], &["100", " 1000", "2.5"])
            .unwrap()
            .unwrap();
        assert_eq!(r.rates, vec![100.0, 1000.0, 2.5]);
    }

    #[test]
    fn bad_input_is_one_line_naming_the_token() {
        assert_eq!(
            message(parsed(&["127.0.0.1:7895"], &["100", "fast"])),
            "invalid --rates 'fast': expected a number"
        );
        assert_eq!(
            message(parsed(&["127.0.0.1:7895"], &["100", ""])),
            "invalid --rates '': an empty item in the list (two commas, or one at an end)"
        );
        assert_eq!(
            message(parsed(&["127.0.0.1:7895", "--rate", "0"], &[])),
            "invalid --rate '0': must be between 1 and 100000"
        );
        assert_eq!(
            message(parsed(&["127.0.0.1:7895"], &["1e9"])),
            "invalid --rates '1e9': must be between 1 and 100000"
        );
        assert_eq!(
            message(parsed(&["127.0.0.1:7895", "-c", "0"], &[])),
            "invalid --count '0': must be greater than zero"
        );
        assert_eq!(
            message(parsed(&["127.0.0.1:7895", "-c", "2000000"], &[])),
            "invalid --count '2000000': must be between 1 and 1000000"
        );
        assert_eq!(
            message(parsed(&["10.0.0.0/30:7895"], &[])),
            "invalid target '10.0.0.0/30:7895': --loss-split measures one port of one host: write HOST:PORT"
        );
        assert_eq!(
            message(parsed(&["127.0.0.1:7895-7896"], &[])),
            "invalid target '127.0.0.1:7895-7896': --loss-split measures one port of one host: write HOST:PORT"
        );
        assert_eq!(
            message(parsed(&["127.0.0.1"], &[])),
            "invalid target '127.0.0.1': no port: write HOST:PORT or give -p PORTS"
        );
        assert_eq!(
            message(parsed(&["localhost:7895", "-n"], &[])),
            "invalid target 'localhost:7895': a host name, and --numeric forbids resolving names"
        );
    }

    #[test]
    fn usage_errors() {
        for (argv, rates, text) in [
            (&["127.0.0.1:7895", "--tcp"][..], &[][..], "leave out --tcp"),
            (
                &["127.0.0.1:1", "127.0.0.1:2"],
                &[],
                "exactly one HOST:PORT",
            ),
            (&["127.0.0.1:7895", "--rate", "5"], &["10"], "not both"),
            (
                &["127.0.0.1:7895", "--size-sweep"],
                &[],
                "a measurement of its own",
            ),
        ] {
            assert!(message(parsed(argv, rates)).contains(text), "{argv:?}");
        }
    }
}
