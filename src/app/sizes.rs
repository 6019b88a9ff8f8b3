//! `ipdiag probe HOST:PORT --sizes LIST / --size-sweep`: which UDP datagram sizes arrive,
//! the path MTU, and whether fragments or a short read lose data.

use super::Context;
use super::drive::runtime;
use super::options::engine_config;
use super::probe::PROBE_DEFAULTS;
use crate::cli::probe::ProbeArgs;
use crate::error::{EXIT_FAILURE, EXIT_OK, Error, InputError, Problem, Result};
use crate::model::Protocol;
use crate::output::Format;
use crate::output::sizes_text::{self, SizesReport};
use crate::plan::expand::{PlanOptions, build_plan};
use crate::plan::target::{HostSpec, parse_target};
use crate::probe::size_search::{
    MAX_PAYLOAD_V4, MAX_PAYLOAD_V6, SizeSearch, SizeSeen, judge_sizes, overhead,
};
use crate::probe::sizes::{PathMtu, SizeOutcome, SizeProber, explain_small};
use crate::resolve::SystemResolver;
use crate::wire::responder::smallest_answered;
use std::net::SocketAddr;

/// The size a sweep starts from: it must arrive, or sizes are not the problem.
const SWEEP_FLOOR: usize = 64;

/// Runs the size probe.
pub fn run(args: &ProbeArgs, ctx: &mut Context<'_>) -> Result<u8> {
    let sizes = args
        .sizes
        .as_deref()
        .map(parse_sizes)
        .transpose()?
        .unwrap_or_default();
    let Some(target) = target(args)? else {
        writeln!(
            ctx.err,
            "ipdiag: cannot resolve '{}'",
            args.targets.join(" ")
        )?;
        return Ok(EXIT_FAILURE);
    };
    // IPv4's 20-byte header leaves 65,507 bytes of payload (IPv6: 65,527).
    if target.is_ipv4()
        && let Some(size) = sizes.iter().find(|&&size| size > MAX_PAYLOAD_V4)
    {
        let range = Problem::Between(0, u32::try_from(MAX_PAYLOAD_V4).unwrap_or(u32::MAX));
        return Err(InputError::new("--sizes", &size.to_string(), range).into());
    }
    let tagged = args.responder.token.is_some();
    let smallest = smallest_answered(target.is_ipv6(), tagged);
    if (args.responder.responder || tagged)
        && let Some(size) = sizes.iter().find(|&&size| size < smallest)
    {
        let why = if tagged {
            "room for the --token tag and its clock, and for its reply, which is never larger than the request"
        } else {
            "room for its reply, which is never larger than the request"
        };
        let problem = Problem::ResponderMinimum { min: smallest, why };
        return Err(InputError::new("--sizes", &size.to_string(), problem).into());
    }
    let engine = engine_config(&args.timing, PROBE_DEFAULTS)?;
    crate::sys::linux_only("probe --sizes")?;
    let tries = args.timing.retries.saturating_add(1);
    let token = super::options::secret(args.responder.token.as_ref())?;
    let mut prober = SizeProber::new(target, token, engine.timing, tries);
    let measured = runtime()?
        .block_on(async {
            tokio::select! {
                measured = measure(&mut prober, sizes, args.size_sweep) => measured.map(Some),
                _ = tokio::signal::ctrl_c() => Ok(None),
            }
        })
        .map_err(|e| Error::Environment(format!("cannot probe sizes to {target}: {e}")))?;
    let Some((path, outcomes)) = measured else {
        writeln!(ctx.err, "ipdiag: interrupted")?;
        return Ok(super::check::EXIT_INTERRUPTED);
    };
    let mut outcomes = outcomes;
    outcomes.sort_by_key(|o| o.size);
    outcomes.dedup_by_key(|o| o.size);
    explain_small(&mut outcomes, smallest);
    let seen: Vec<SizeSeen> = outcomes
        .iter()
        .map(|o| SizeSeen {
            size: o.size,
            arrived: o.arrived,
            received: o.received,
        })
        .collect();
    let hints = judge_sizes(&seen, Some(path.mtu), target.is_ipv6());
    let report = SizesReport {
        target,
        path,
        sizes: &outcomes,
        hints: &hints,
    };
    if ctx.format == Format::Table {
        write!(ctx.out, "{}", sizes_text::render(&report))?;
    } else {
        serde_json::to_writer(&mut *ctx.out, &sizes_text::record(&report))
            .map_err(std::io::Error::from)?;
        writeln!(ctx.out)?;
    }
    let whole = outcomes.iter().all(|o| o.arrived) && hints.is_empty();
    Ok(if whole { EXIT_OK } else { EXIT_FAILURE })
}

/// The path MTU, then each size asked for, then (`--size-sweep`) the search.
async fn measure(
    prober: &mut SizeProber,
    sizes: Vec<usize>,
    size_sweep: bool,
) -> std::io::Result<(PathMtu, Vec<SizeOutcome>)> {
    let (path, answered) = prober.path_mtu().await?;
    let mut outcomes = Vec::new();
    for size in sizes {
        outcomes.push(prober.probe(size).await?);
    }
    // The path-MTU probe's answer is evidence like any size (a size asked for keeps its
    // own row).
    if let Some(answered) = answered
        && !outcomes.iter().any(|o| o.size == answered.size)
    {
        outcomes.push(answered);
    }
    if size_sweep {
        sweep(prober, path, &mut outcomes).await?;
    }
    Ok((path, outcomes))
}

/// The largest size that arrives: the floor first (if even that is lost, sizes are not
/// the problem), then the path MTU's boundary, then bisection.
async fn sweep(
    prober: &mut SizeProber,
    path: PathMtu,
    outcomes: &mut Vec<SizeOutcome>,
) -> std::io::Result<()> {
    let v6 = prober.target().is_ipv6();
    if !outcomes.iter().any(|o| o.arrived && o.size <= SWEEP_FLOOR) {
        let floor = prober.probe(SWEEP_FLOOR).await?;
        let arrived = floor.arrived;
        outcomes.push(floor);
        if !arrived {
            return Ok(());
        }
    }
    let max = if v6 { MAX_PAYLOAD_V6 } else { MAX_PAYLOAD_V4 };
    let arrived = outcomes
        .iter()
        .filter(|o| o.arrived)
        .map(|o| o.size)
        .max()
        .unwrap_or(SWEEP_FLOOR);
    let lost = outcomes
        .iter()
        .filter(|o| !o.arrived && o.size > arrived)
        .map(|o| o.size)
        .min()
        .unwrap_or(max + 1);
    let fits = usize::try_from(path.mtu)
        .unwrap_or(usize::MAX)
        .saturating_sub(overhead(v6));
    let mut search = SizeSearch::new(arrived, lost, &[fits, fits + 1]);
    while let Some(size) = search.next_size() {
        let outcome = prober.probe(size).await?;
        search.record(size, outcome.arrived);
        outcomes.push(outcome);
    }
    Ok(())
}

/// `64,512,1472`: payload sizes, each at most the largest UDP payload.
fn parse_sizes(text: &str) -> Result<Vec<usize>> {
    let mut sizes = Vec::new();
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    if parts.len() > 1 && parts.iter().any(|p| p.is_empty()) {
        return Err(InputError::new("--sizes", text, Problem::EmptyItem).into());
    }
    for part in parts {
        let size: usize = part
            .parse()
            .map_err(|_| InputError::new("--sizes", part, Problem::NotANumber))?;
        if size > MAX_PAYLOAD_V6 {
            let range = Problem::Between(0, u32::try_from(MAX_PAYLOAD_V6).unwrap_or(u32::MAX));
            return Err(InputError::new("--sizes", part, range).into());
        }
        sizes.push(size);
    }
    Ok(sizes)
}

/// The one UDP target; `None` when its name does not resolve.
fn target(args: &ProbeArgs) -> Result<Option<SocketAddr>> {
    let [token] = args.targets.as_slice() else {
        return Err(Error::Usage(
            "--sizes and --size-sweep probe one target: HOST:PORT".into(),
        ));
    };
    let spec = parse_target(token)?;
    if args.numeric && matches!(spec.host, HostSpec::Name(_)) {
        return Err(InputError::new("target", &spec.text, Problem::NameWithNumeric).into());
    }
    if spec.ports.is_none() && args.ports.is_empty() {
        return Err(InputError::new("target", &spec.text, Problem::NoPortGiven).into());
    }
    let (_, family) = super::options::protocols(&args.protocol);
    let mut default_ports = Vec::new();
    for ports in &args.ports {
        default_ports.extend(crate::classify::port_spec::parse_port_arg(ports)?);
    }
    let options = PlanOptions {
        default_ports,
        protocols: vec![Protocol::Udp],
        family,
        allow_broadcast: false,
    };
    let plan = build_plan(std::slice::from_ref(&spec), &options, &SystemResolver)?;
    if plan.endpoints.windows(2).any(|w| w[0].port != w[1].port) {
        return Err(Error::Usage(
            "--sizes and --size-sweep probe one port: HOST:PORT".into(),
        ));
    }
    Ok(plan
        .endpoints
        .first()
        .and_then(crate::model::Endpoint::socket_addr))
}
