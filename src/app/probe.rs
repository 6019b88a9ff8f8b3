//! `ipdiag probe`: arguments → plan → engine → results (diagnosed) streamed or rendered →
//! exit code.

use super::Context;
use super::advise::Adviser;
use super::drive::{drive_run, runtime};
use super::options::{Defaults, advice, engine_config, protocols, strict_addresses};
use super::probe_hints::ExpectedOpen;
use super::probe_run::syn_then_connect;
use super::probe_stage::{Shown, Stage, Verdict, WHOLE_RUN};
use super::progress::Progress;
use crate::classify::port_spec::parse_port_arg;
use crate::cli::probe::ProbeArgs;
use crate::diagnose::CloudChoice;
use crate::error::{Error, InputError, LineError, Problem, Result};
use crate::lines::{Line, LineReader, MAX_LINE};
use crate::model::{Endpoint, Protocol};
use crate::output::Format;
use crate::plan::endpoints::Endpoints;
use crate::plan::expand::{PlanOptions, expand};
use crate::plan::expect::Expected;
use crate::plan::target::{HostSpec, TargetSpec, parse_target, parse_targets};
use crate::probe::{EngineConfig, SocketProber};
use crate::raw;
use crate::resolve::SystemResolver;
use crate::wire::payloads::{PayloadChoice, parse_payload};
use ipnet::IpNet;
use std::fs::File;
use std::io::IsTerminal;
use std::net::SocketAddr;

/// `probe`'s defaults: one attempt, a second apart when more are asked for.
pub const PROBE_DEFAULTS: Defaults = Defaults {
    count: 1,
    interval: "1s",
};

/// Everything `probe` needs, parsed and checked.
struct Request {
    plan: Endpoints,
    engine: EngineConfig,
    payload: PayloadChoice,
    expect: Expected,
    /// Every address of a name judged on its own (`--all-addresses`, `-4`, `-6`).
    strict: bool,
    live: bool,
    all: bool,
    cloud: CloudChoice,
    source: Option<IpNet>,
    hints: bool,
    /// The ports the diagnosis advises on (`probe_hints::ExpectedOpen`).
    expected_open: ExpectedOpen,
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
    if args.load.idle_test {
        return super::idle_test::run(&args.load, args, ctx);
    }
    if args.sizes.is_some() || args.size_sweep {
        return super::sizes::run(args, ctx);
    }
    let request = request(args, ctx.format)?;
    if ctx.verbose > 0 {
        let tcp = request.tcp_count();
        let other = request.plan.len() - tcp;
        let method = if request.syn {
            "SYN scan (raw)"
        } else {
            "connect"
        };
        writeln!(
            ctx.err,
            "ipdiag: probing {} endpoint{}: {tcp} TCP by {method}, {other} UDP or unresolved; at most {:.0} probes/s{}, timeout {} ms, at most {} retries as loss needs",
            request.plan.len(),
            if request.plan.len() == 1 { "" } else { "s" },
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
fn loss_split_command(args: &ProbeArgs, plan: &Endpoints) -> Option<String> {
    let count = args.timing.count.unwrap_or(PROBE_DEFAULTS.count);
    if !args.responder.responder || count == 1 {
        return None;
    }
    let mut udp = plan.iter().filter(|e| e.protocol == Protocol::Udp);
    let first = udp.next()?;
    let target = match (first.address, udp.next()) {
        (Some(address), None) => SocketAddr::new(address, first.port).to_string(),
        _ => "HOST:PORT".to_owned(),
    };
    Some(format!("ipdiag probe {target} --loss-split"))
}

impl Request {
    fn tcp_count(&self) -> usize {
        tcp_count(&self.plan)
    }

    fn any_loopback(&self) -> bool {
        self.plan
            .count_where(|a, _| a.is_some_and(|a| a.to_canonical().is_loopback()))
            > 0
    }
}

/// TCP endpoints with an address: the ones a SYN scan can take.
fn tcp_count(plan: &Endpoints) -> usize {
    plan.count_where(|address, (_, protocol)| protocol == Protocol::Tcp && address.is_some())
}

pub(super) fn takes_syn(e: &Endpoint) -> bool {
    e.protocol == Protocol::Tcp && e.address.is_some()
}

/// Whether TCP goes by raw SYN: asked for (`--raw`, which needs the privilege and one
/// attempt per port), or picked for a large sweep when privileged and nothing needs a
/// completed handshake (`--responder` reads the TCP banner).
fn use_syn(args: &ProbeArgs, plan: &Endpoints, count: u32) -> Result<Syn> {
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
        && tcp_count(plan) >= AUTO_SYN_FROM;
    Ok(if !eligible {
        Syn::No
    } else if raw::privileged() {
        Syn::Yes
    } else if crate::sys::System::HERE == crate::sys::System::Linux {
        Syn::WantedPrivilege
    } else {
        // The SYN scan is Linux's: no privilege would make it run here, so no note.
        Syn::No
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
    let mut specs = parse_targets(&args.targets, true)?;
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
    let expected_open = ExpectedOpen::new(&specs, &default_ports, args.expect.as_deref());
    let (protocols, family) = protocols(&args.protocol);
    let (cloud, source) = advice(&args.advice)?;
    let options = PlanOptions {
        default_ports,
        protocols,
        family,
        allow_broadcast: args.allow_broadcast,
    };
    let plan = expand(&specs, &options, &SystemResolver)?;
    if format == Format::Prometheus && plan.len() > WHOLE_RUN {
        // Metrics are grouped by name, so the file is written whole at the end: a bound
        // on what is held, and on the series a textfile brings into Prometheus.
        return Err(Error::Usage(format!(
            "--format prometheus writes at most {WHOLE_RUN} endpoints (a textfile for node_exporter, written at the end); this run plans {}: probe fewer, or use --format jsonl",
            plan.len()
        )));
    }
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
            .map(Expected::parse)
            .transpose()?
            .unwrap_or_default(),
        strict: strict_addresses(&args.protocol),
        live: args.timing.count.unwrap_or(PROBE_DEFAULTS.count) != 1 && format == Format::Table,
        all: args.all,
        cloud,
        source,
        hints: !args.no_hints,
        expected_open,
        responder: args.responder.responder,
        token: super::options::secret(args.responder.token.as_ref())?,
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
        strict,
        live,
        all,
        cloud,
        source,
        hints,
        expected_open,
        responder,
        token,
        syn,
        syn_demanded,
        syn_wanted_privilege: _,
    } = request;
    let total = plan.len();
    // Only where someone sees it: a hidden bar still takes a lock per result.
    let visible = !live && !ctx.quiet && std::io::stderr().is_terminal();
    let progress = Progress::new(total, visible);
    let verdict = Verdict {
        expect,
        strict,
        until_stopped: engine.count.is_none(),
    };
    let shown = Shown {
        live,
        all,
        hints,
        expected_open,
    };
    let adviser = Adviser::new(cloud, source);
    let mut stage = Stage::new(ctx, (shown, verdict), total, progress, adviser);
    let prober = || {
        SocketProber::new(payload.clone())
            .with_token(token.clone())
            .expecting_responder(responder)
    };
    let driven = if syn {
        let probers = (&prober as &dyn Fn() -> SocketProber, engine, responder);
        syn_then_connect(&plan, probers, &mut stage, !syn_demanded).await?
    } else {
        let probers = (prober(), engine, responder);
        drive_run(&plan, &[], None, probers, &mut stage).await?
    };
    stage.finish(driven)
}
