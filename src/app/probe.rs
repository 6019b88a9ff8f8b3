//! `ipdiag probe`: arguments → plan → engine → results (diagnosed) streamed or rendered →
//! exit code.

use super::Context;
use super::advise::Adviser;
use super::drive::{drive, runtime};
use super::options::{Defaults, advice, engine_config, protocols};
use super::probe_run::{Sink, syn_then_connect};
use crate::classify::port_spec::parse_port_arg;
use crate::cli::probe::ProbeArgs;
use crate::diagnose::{CloudChoice, Diagnosis, HostIndex};
use crate::error::{EXIT_FAILURE, EXIT_OK, Error, InputError, LineError, Problem, Result};
use crate::lines::{Line, LineReader, MAX_LINE};
use crate::model::{Endpoint, ProbeResult, Protocol, State};
use crate::output::diagnosis_text::{self, Group};
use crate::output::json_stream::JsonStream;
use crate::output::probe_json::ProbeRecord;
use crate::output::{Format, probe_csv, probe_live, probe_table};
use crate::plan::expand::{Plan, PlanOptions, build_plan};
use crate::plan::target::{HostSpec, TargetSpec, parse_target};
use crate::probe::{EngineConfig, SocketProber};
use crate::raw;
use crate::resolve::SystemResolver;
use crate::wire::payloads::{PayloadChoice, parse_payload};
use indicatif::{ProgressBar, ProgressDrawTarget};
use ipnet::IpNet;
use std::fs::File;
use std::io::IsTerminal;
use std::net::SocketAddr;

/// `probe`'s defaults: one attempt, a second apart when more are asked for.
pub const PROBE_DEFAULTS: Defaults = Defaults {
    count: 1,
    interval: "1s",
};
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
    cloud: CloudChoice,
    source: Option<IpNet>,
    hints: bool,
    responder: bool,
    token: Option<Vec<u8>>,
    /// TCP by raw SYN (`--raw`, or a large sweep with the privilege).
    syn: bool,
    /// `--raw` was given: a SYN scan that cannot start is an error (exit 3), not a note
    /// and ordinary connects.
    syn_demanded: bool,
    /// A sweep that only the missing privilege keeps from being a SYN scan.
    syn_wanted_privilege: bool,
}

/// TCP sweeps of at least this many ports run as a SYN scan when privileged.
const AUTO_SYN_FROM: usize = 1000;

/// Runs `ipdiag probe`.
pub fn run(args: &ProbeArgs, ctx: &mut Context<'_>) -> Result<u8> {
    if args.load.loss_split {
        return super::load::run(&args.load, args, ctx);
    }
    if args.sizes.is_some() || args.size_sweep {
        return super::sizes::run(args, ctx);
    }
    let request = request(args, ctx.format)?;
    if ctx.verbose > 0 {
        let tcp = request.tcp_count();
        let other = request.plan.endpoints.len() - tcp;
        let method = if request.syn {
            "SYN scan (raw)"
        } else {
            "connect"
        };
        writeln!(
            ctx.err,
            "ipdiag: probing {} endpoint{}: {tcp} TCP by {method}, {other} UDP or unresolved; at most {:.0} probes/s{}, timeout {} ms, {} retries",
            request.plan.endpoints.len(),
            if request.plan.endpoints.len() == 1 {
                ""
            } else {
                "s"
            },
            request.engine.rate.unwrap_or(f64::INFINITY),
            if request.engine.pace_loopback || !request.any_loopback() {
                ""
            } else {
                " (loopback unpaced)"
            },
            request.engine.timing.max.as_millis(),
            request.engine.timing.max_retries
        )?;
    }
    if request.syn_wanted_privilege && !ctx.quiet {
        writeln!(
            ctx.err,
            "ipdiag: note: with root or CAP_NET_RAW this sweep would run as a SYN scan (half-open, faster); probing with ordinary connects"
        )?;
    }
    if let Some(command) = loss_split_command(args, &request.plan)
        && !ctx.quiet
    {
        writeln!(
            ctx.err,
            "ipdiag: note: which way UDP datagrams are lost (to the server or back): {command}"
        )?;
    }
    runtime()?.block_on(execute(request, ctx))
}

/// `ipdiag probe ADDRESS:PORT --loss-split` when this run counts UDP loss through the
/// responder (`--responder -c N`, or `-c 0` until Ctrl-C): that measurement splits it by
/// direction.
fn loss_split_command(args: &ProbeArgs, plan: &Plan) -> Option<String> {
    let count = args.timing.count.unwrap_or(PROBE_DEFAULTS.count);
    if !args.responder.responder || count == 1 {
        return None;
    }
    let mut udp = plan
        .endpoints
        .iter()
        .filter(|e| e.protocol == Protocol::Udp);
    let first = udp.next()?;
    let target = match (first.address, udp.next()) {
        (Some(address), None) => SocketAddr::new(address, first.port).to_string(),
        _ => "HOST:PORT".to_owned(),
    };
    Some(format!("ipdiag probe {target} --loss-split"))
}

impl Request {
    fn tcp_count(&self) -> usize {
        tcp_count(&self.plan.endpoints)
    }

    fn any_loopback(&self) -> bool {
        self.plan
            .endpoints
            .iter()
            .any(|e| e.address.is_some_and(|a| a.to_canonical().is_loopback()))
    }
}

/// TCP endpoints with an address: the ones a SYN scan can take.
fn tcp_count(endpoints: &[Endpoint]) -> usize {
    endpoints.iter().filter(|e| takes_syn(e)).count()
}

pub(super) fn takes_syn(e: &Endpoint) -> bool {
    e.protocol == Protocol::Tcp && e.address.is_some()
}

/// Whether TCP goes by raw SYN: asked for (`--raw`, which needs the privilege and one
/// attempt per port), or picked for a large sweep when privileged and nothing needs a
/// completed handshake (`--responder` reads the TCP banner).
fn use_syn(args: &ProbeArgs, plan: &Plan, count: u32) -> Result<Syn> {
    if args.raw && args.protocol.udp {
        return Err(Error::Usage(
            "--raw is a SYN scan, for TCP: UDP always goes by ordinary sockets (leave out --raw)"
                .into(),
        ));
    }
    if args.raw && args.responder.responder {
        return Err(Error::Usage(
            "--raw never completes a handshake, and --responder reads the banner of one: use one or the other".into(),
        ));
    }
    if args.raw {
        if count != 1 {
            return Err(Error::Usage(
                "--raw sends one SYN per port (retried as loss requires); -c/--count is for connect mode".into(),
            ));
        }
        crate::sys::linux_only("probe --raw")?;
        if !raw::privileged() {
            return Err(Error::Environment(
                "--raw needs root or CAP_NET_RAW to send crafted SYN packets (without --raw, probe uses ordinary sockets)".into(),
            ));
        }
        return Ok(Syn::Yes);
    }
    let eligible = !args.connect
        && count == 1
        && !args.responder.responder
        && tcp_count(&plan.endpoints) >= AUTO_SYN_FROM;
    Ok(if !eligible {
        Syn::No
    } else if raw::privileged() {
        Syn::Yes
    } else {
        Syn::WantedPrivilege
    })
}

/// Whether TCP goes by SYN scan, and if not, whether only the privilege was missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syn {
    Yes,
    No,
    /// A sweep that would be a SYN scan with root or `CAP_NET_RAW` (said once in a note).
    WantedPrivilege,
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
    let (protocols, family) = protocols(&args.protocol);
    let (cloud, source) = advice(&args.advice)?;
    let options = PlanOptions {
        default_ports,
        protocols,
        family,
        allow_broadcast: args.allow_broadcast,
    };
    let plan = build_plan(&specs, &options, &SystemResolver)?;
    let count = args.timing.count.unwrap_or(PROBE_DEFAULTS.count);
    let syn = use_syn(args, &plan, count)?;
    let syn_wanted_privilege = syn == Syn::WantedPrivilege;
    let syn = syn == Syn::Yes;
    Ok(Request {
        plan,
        engine: engine_config(&args.timing, PROBE_DEFAULTS)?,
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
        live: args.timing.count.unwrap_or(PROBE_DEFAULTS.count) != 1 && format == Format::Table,
        all: args.all,
        cloud,
        source,
        hints: !args.no_hints,
        responder: args.responder.responder,
        token: args.responder.token.as_ref().map(|t| t.as_bytes().to_vec()),
        syn,
        syn_demanded: args.raw,
        syn_wanted_privilege,
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
        cloud,
        source,
        hints,
        responder,
        token,
        syn,
        syn_demanded,
        syn_wanted_privilege: _,
    } = request;
    let total = plan.endpoints.len();
    // Only where someone sees it: a hidden bar still takes a lock per result.
    let progress =
        (total > PROGRESS_OVER && !live && !ctx.quiet && std::io::stderr().is_terminal()).then(
            || ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr()),
        );
    let mut sink = Sink {
        out: &mut *ctx.out,
        err: (!ctx.quiet).then_some(&mut *ctx.err as &mut dyn std::io::Write),
        live,
        progress: progress.as_ref(),
        stream: (ctx.format == Format::Jsonl).then(|| JsonStream::new(Vec::new(), false)),
        adviser: Adviser::new(cloud, source),
        index: HostIndex::default(),
    };
    let Plan {
        endpoints,
        unresolved,
    } = plan;
    let prober = SocketProber::new(payload).with_token(token);
    let results = if syn {
        let probers = (prober, engine, responder);
        syn_then_connect(endpoints, &unresolved, probers, &mut sink, !syn_demanded).await?
    } else {
        drive(endpoints, &unresolved, prober, engine, responder, &mut sink).await?
    };
    if let Some(bar) = sink.progress {
        bar.finish_and_clear();
    }
    let mut adviser = sink.adviser;
    render(&results, &mut adviser, ctx, Shown { live, all, hints })?;
    Ok(
        if results.iter().all(|r| r.state == expect) && !results.is_empty() {
            EXIT_OK
        } else {
            EXIT_FAILURE
        },
    )
}

/// What the table shows besides the results.
#[derive(Clone, Copy)]
struct Shown {
    live: bool,
    all: bool,
    hints: bool,
}

fn render(
    results: &[ProbeResult],
    adviser: &mut Adviser,
    ctx: &mut Context<'_>,
    shown: Shown,
) -> Result<()> {
    let index = HostIndex::new(results);
    match ctx.format {
        Format::Jsonl => {}
        Format::Json => {
            let mut json = JsonStream::new(&mut *ctx.out, true);
            for r in results {
                json.record(&ProbeRecord::new(r, &adviser.diagnose(r, &index, None)))?;
            }
            json.finish()?;
        }
        Format::Csv => {
            ctx.out.write_all(probe_csv::HEADER.as_bytes())?;
            for r in results {
                ctx.out
                    .write_all(probe_csv::row(r, adviser.cause(r, &index)).as_bytes())?;
            }
        }
        Format::Table => {
            if shown.live {
                for r in results {
                    let [head, stats] = probe_live::summary_lines(r);
                    writeln!(ctx.out, "\n{head}\n{stats}")?;
                }
                writeln!(ctx.out)?;
            }
            write!(
                ctx.out,
                "{}",
                probe_table::render(results, shown.all, ctx.style)
            )?;
            if shown.hints {
                let (groups, diagnoses) = group_by_cause(results, &index, adviser);
                let groups: Vec<Group<'_>> = groups
                    .into_iter()
                    .zip(&diagnoses)
                    .map(|((results, provider_note), diagnosis)| Group {
                        results,
                        diagnosis,
                        provider_note,
                    })
                    .collect();
                write!(ctx.out, "{}", diagnosis_text::render(&groups))?;
            }
        }
    }
    Ok(())
}

/// Ports of one address with the same state, reason and most likely cause, in plan order;
/// only the first of each group is diagnosed in full (a sweep has tens of thousands of
/// ports and a handful of groups). Confident `ok`s are left out.
#[expect(clippy::type_complexity, reason = "a private pair of parallel lists")]
pub fn group_by_cause<'a>(
    results: &'a [ProbeResult],
    index: &HostIndex,
    adviser: &mut Adviser,
) -> (Vec<(Vec<&'a ProbeResult>, Option<String>)>, Vec<Diagnosis>) {
    let mut groups: Vec<(Vec<&'a ProbeResult>, Option<String>)> = Vec::new();
    let mut diagnoses: Vec<Diagnosis> = Vec::new();
    // Each key with its group, or `None` for a group not worth showing.
    let mut keys: Vec<(_, Option<usize>)> = Vec::new();
    for r in results {
        let key = (
            r.endpoint.address,
            r.endpoint.protocol,
            r.state,
            r.reason,
            adviser.cause(r, index),
        );
        if let Some((_, group)) = keys.iter().find(|(k, _)| *k == key) {
            if let Some(i) = *group {
                groups[i].0.push(r);
            }
            continue;
        }
        let first = adviser.diagnose(r, index, None);
        if !diagnosis_text::worth_showing(&first) {
            keys.push((key, None));
            continue;
        }
        keys.push((key, Some(groups.len())));
        let note = diagnosis_text::uses_provider(&first)
            .then(|| adviser.provider_note(r.endpoint.address));
        groups.push((vec![r], note));
        diagnoses.push(first);
    }
    (groups, diagnoses)
}
