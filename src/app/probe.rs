//! `ipdiag probe`: arguments → plan → engine → results streamed or rendered → exit code.

use super::Context;
use crate::classify::port_spec::parse_port_arg;
use crate::cli::probe::ProbeArgs;
use crate::error::{EXIT_FAILURE, EXIT_OK, Error, InputError, LineError, Problem, Result};
use crate::lines::{Line, LineReader, MAX_LINE};
use crate::model::{Endpoint, ProbeResult, Protocol, State};
use crate::output::json_stream::JsonStream;
use crate::output::probe_json::ProbeRecord;
use crate::output::{Format, probe_csv, probe_live, probe_table};
use crate::plan::duration::parse_duration;
use crate::plan::expand::{Plan, PlanOptions, build_plan};
use crate::plan::target::{HostSpec, TargetSpec, parse_target};
use crate::probe::timing::TimingConfig;
use crate::probe::{EngineConfig, Event, SocketProber, limits};
use crate::resolve::SystemResolver;
use crate::wire::payloads::{PayloadChoice, parse_payload};
use indicatif::{ProgressBar, ProgressDrawTarget};
use std::fs::File;
use std::time::Duration;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, watch};

/// The default packet-rate cap for non-loopback targets.
const DEFAULT_RATE: f64 = 20_000.0;
/// Worker threads at most: beyond this, sockets contend in the kernel more than they gain.
const MAX_WORKERS: usize = 4;
/// Events queued between the engine and the consumer (a few ticks' worth of a sweep).
const EVENT_QUEUE: usize = 16 * 1024;
/// How long the consumer sleeps when no event is waiting: results appear at most this late.
const DRAIN_TICK: Duration = Duration::from_millis(5);
/// JSON-lines output is written out at least every this many bytes.
const STREAM_BATCH: usize = 64 * 1024;
/// Runs with more endpoints than this show a progress bar (on a terminal).
const PROGRESS_OVER: usize = 100;

/// Everything `probe` needs, parsed and checked.
struct Request {
    plan: Plan,
    engine: EngineConfig,
    payload: PayloadChoice,
    expect: State,
    live: bool,
    all: bool,
}

/// Runs `ipdiag probe`.
pub fn run(args: &ProbeArgs, ctx: &mut Context<'_>) -> Result<u8> {
    let request = request(args, ctx.format)?;
    // On loopback and near hosts a sweep is bound by the kernel's work in connect() and
    // close(); a worker per core (up to a few) spreads it.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_WORKERS));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .map_err(|e| Error::Environment(format!("cannot start the I/O runtime: {e}")))?;
    runtime.block_on(execute(request, ctx))
}

fn request(args: &ProbeArgs, format: Format) -> Result<Request> {
    let mut specs = Vec::new();
    for token in &args.targets {
        specs.push(parse_target(token)?);
    }
    for path in &args.file {
        specs.extend(targets_from_file(path)?);
    }
    if specs.is_empty() {
        return Err(Error::Usage(
            "nothing to probe: give TARGET (HOST:PORT) or --file FILE".into(),
        ));
    }
    if args.numeric
        && let Some(spec) = specs.iter().find(|s| matches!(s.host, HostSpec::Name(_)))
    {
        return Err(InputError::new("target", &spec.text, Problem::NameWithNumeric).into());
    }
    let mut default_ports = Vec::new();
    for ports in &args.ports {
        default_ports.extend(parse_port_arg(ports)?);
    }
    let protocols = match (args.udp, args.both) {
        (_, true) => vec![Protocol::Tcp, Protocol::Udp],
        (true, false) => vec![Protocol::Udp],
        (false, false) => vec![Protocol::Tcp],
    };
    let family = if args.ipv4 {
        Some(4)
    } else if args.ipv6 {
        Some(6)
    } else {
        None
    };
    let options = PlanOptions {
        default_ports,
        protocols,
        family,
        allow_broadcast: args.allow_broadcast,
    };
    let plan = build_plan(&specs, &options, &SystemResolver)?;
    Ok(Request {
        plan,
        engine: engine_config(args)?,
        payload: args
            .payload
            .as_deref()
            .map(parse_payload)
            .transpose()?
            .unwrap_or_default(),
        expect: args
            .expect
            .as_deref()
            .and_then(State::parse)
            .unwrap_or(State::Open),
        live: args.count != 1 && format == Format::Table,
        all: args.all,
    })
}

fn engine_config(args: &ProbeArgs) -> Result<EngineConfig> {
    let timeout = parse_duration("--timeout", &args.timeout)?;
    let interval = parse_duration("--interval", &args.interval)?;
    if timeout.is_zero() {
        return Err(InputError::new("--timeout", &args.timeout, Problem::Duration).into());
    }
    if let Some(rate) = args.rate
        && !(rate.is_finite() && rate > 0.0)
    {
        return Err(InputError::new("--rate", &rate.to_string(), Problem::NotPositive).into());
    }
    if args.concurrency == 0 {
        return Err(InputError::new("--concurrency", "0", Problem::NotPositive).into());
    }
    let sockets = usize::try_from(limits::raise_open_files()).unwrap_or(usize::MAX);
    Ok(EngineConfig {
        concurrency: args.concurrency.min(sockets),
        rate: Some(args.rate.unwrap_or(DEFAULT_RATE)),
        pace_loopback: args.rate.is_some(),
        count: (args.count > 0).then_some(args.count),
        interval,
        timing: TimingConfig {
            initial: timeout,
            min: timeout.min(Duration::from_millis(100)),
            max: timeout,
            max_retries: args.retries,
        },
    })
}

/// Targets from a file, one a line; a bad line is exit 2 with its file and line number.
fn targets_from_file(path: &std::path::Path) -> Result<Vec<TargetSpec>> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|source| Error::Read {
        path: name.clone(),
        source,
    })?;
    let mut reader = LineReader::new(file, MAX_LINE);
    let mut specs = Vec::new();
    let mut line = 0u64;
    while let Some(next) = reader.next_line().map_err(|source| Error::Read {
        path: name.clone(),
        source,
    })? {
        line += 1;
        let error = match next {
            Line::TooLong => LineError::Line(Problem::LineTooLong(MAX_LINE)),
            Line::Text(bytes) => match std::str::from_utf8(bytes).map(str::trim) {
                Err(_) => LineError::Line(Problem::NotUtf8),
                Ok(text) if text.is_empty() || text.starts_with('#') => continue,
                Ok(text) => match parse_target(text) {
                    Ok(spec) => {
                        specs.push(spec);
                        continue;
                    }
                    Err(e) => LineError::Token(e),
                },
            },
        };
        return Err(Error::InputLine {
            source_name: name,
            line,
            error,
        });
    }
    Ok(specs)
}

async fn execute(request: Request, ctx: &mut Context<'_>) -> Result<u8> {
    let Request {
        plan,
        engine,
        payload,
        expect,
        live,
        all,
    } = request;
    let total = plan.endpoints.len();
    let endpoints = plan.endpoints.clone();
    let (events_tx, mut events) = mpsc::channel(EVENT_QUEUE);
    let (stop_tx, stop) = watch::channel(false);
    let engine = tokio::spawn(crate::probe::run(
        plan.endpoints,
        SocketProber::new(payload),
        engine,
        events_tx,
        stop,
    ));
    let interrupt = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = stop_tx.send(true);
        }
    });
    let progress = (total > PROGRESS_OVER && !live)
        .then(|| ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr()));
    let mut sink = Sink {
        endpoints: &endpoints,
        unresolved: &plan.unresolved,
        live,
        progress: progress.as_ref(),
        stream: (ctx.format == Format::Jsonl).then(|| JsonStream::new(Vec::new(), false)),
        results: vec![None; total],
    };
    // The consumer polls rather than parks: with results arriving from several worker
    // threads, waking it for each one costs more than the probes themselves on loopback.
    loop {
        match events.try_recv() {
            Ok(event) => sink.handle(event, ctx)?,
            Err(TryRecvError::Empty) => {
                sink.flush(ctx)?;
                tokio::time::sleep(DRAIN_TICK).await;
            }
            Err(TryRecvError::Disconnected) => break,
        }
    }
    sink.flush(ctx)?;
    let results = sink.results;
    // The engine has ended (its events channel closed); a join error is a bug in a task,
    // reported rather than hidden.
    engine
        .await
        .map_err(|e| Error::Environment(format!("the probe engine failed: {e}")))?;
    interrupt.abort();
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let results: Vec<ProbeResult> = results.into_iter().flatten().collect();
    render(&results, ctx, live, all)?;
    Ok(
        if results.iter().all(|r| r.state == expect) && !results.is_empty() {
            EXIT_OK
        } else {
            EXIT_FAILURE
        },
    )
}

/// Where the engine's events go while a run lasts.
struct Sink<'a> {
    endpoints: &'a [Endpoint],
    unresolved: &'a [Option<String>],
    live: bool,
    progress: Option<&'a ProgressBar>,
    stream: Option<JsonStream<Vec<u8>>>,
    results: Vec<Option<ProbeResult>>,
}

impl Sink<'_> {
    fn handle(&mut self, event: Event, ctx: &mut Context<'_>) -> Result<()> {
        match event {
            Event::Attempt {
                index,
                seq,
                try_no,
                answer,
            } if self.live => {
                if let Some(endpoint) = self.endpoints.get(index) {
                    writeln!(
                        ctx.out,
                        "{}",
                        probe_live::attempt_line(endpoint, seq, try_no, &answer)
                    )?;
                    ctx.out.flush()?;
                }
            }
            Event::Attempt { .. } => {}
            Event::Done { index, mut result } => {
                if let Some(Some(message)) = self.unresolved.get(index) {
                    result.error = Some(message.clone());
                }
                if let Some(stream) = self.stream.as_mut() {
                    stream.record(&ProbeRecord::from(&result))?;
                    if stream.buffer().len() >= STREAM_BATCH {
                        self.flush(ctx)?;
                    }
                }
                if let Some(bar) = self.progress {
                    bar.inc(1);
                }
                if let Some(slot) = self.results.get_mut(index) {
                    *slot = Some(result);
                }
            }
        }
        Ok(())
    }

    /// Writes out the JSON lines gathered so far.
    fn flush(&mut self, ctx: &mut Context<'_>) -> Result<()> {
        if let Some(stream) = self.stream.as_mut()
            && !stream.buffer().is_empty()
        {
            ctx.out.write_all(&std::mem::take(stream.buffer()))?;
            ctx.out.flush()?;
        }
        Ok(())
    }
}

fn render(results: &[ProbeResult], ctx: &mut Context<'_>, live: bool, all: bool) -> Result<()> {
    match ctx.format {
        Format::Jsonl => {}
        Format::Json => {
            let mut json = JsonStream::new(&mut *ctx.out, true);
            for r in results {
                json.record(&ProbeRecord::from(r))?;
            }
            json.finish()?;
        }
        Format::Csv => {
            ctx.out.write_all(probe_csv::HEADER.as_bytes())?;
            for r in results {
                ctx.out.write_all(probe_csv::row(r).as_bytes())?;
            }
        }
        Format::Table => {
            if live {
                for r in results {
                    let [head, stats] = probe_live::summary_lines(r);
                    writeln!(ctx.out, "\n{head}\n{stats}")?;
                }
                writeln!(ctx.out)?;
            }
            write!(ctx.out, "{}", probe_table::render(results, all, ctx.style))?;
        }
    }
    Ok(())
}
