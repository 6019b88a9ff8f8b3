//! `ipdiag trace HOST:PORT`: TTL-limited probes to the destination port, a line per hop as
//! it is done, then the destination's answer and where along the path the packets stop.

use super::Context;
use super::drive::runtime;
use crate::classify::port_spec::parse_port_arg;
use crate::cli::trace::TraceArgs;
use crate::diagnose::hops::{summarise, summarise_all};
use crate::diagnose::path::{PathVerdict, provider_of, verdict};
use crate::error::{EXIT_FAILURE, EXIT_OK, Error, InputError, Problem, Result};
use crate::model::{Protocol, State};
use crate::output::Format;
use crate::output::trace_multipath;
use crate::output::trace_text::{self, HopRecord, TraceRecord, VerdictRecord};
use crate::plan::duration::parse_duration;
use crate::plan::expand::{PlanOptions, build_plan};
use crate::plan::target::{HostSpec, parse_target};
use crate::probe::multipath::discover;
use crate::probe::socket_prober::Nonces;
use crate::probe::trace::{Hop, Payloads, TraceConfig, trace_watched};
use crate::probe::trace_watch::Watch;
use crate::resolve::SystemResolver;
use crate::wire::payloads::{parse_payload, payload_for};
use std::net::SocketAddr;

/// The most probes per hop: more adds time, not information.
const MAX_QUERIES: u32 = 10;

/// Runs `ipdiag trace`.
pub fn run(args: &TraceArgs, ctx: &mut Context<'_>) -> Result<u8> {
    // Time exceeded and its sender come from the error queue (Linux), Windows'
    // TCP_ICMP_ERROR_INFO or IcmpSendEcho2 (--icmp), or an ICMP socket of the trace's own
    // (macOS, FreeBSD).
    let (target, config) = request(args)?;
    if config.icmp {
        crate::sys::icmp_trace_here()?;
    }
    let Some(target) = target else {
        writeln!(ctx.err, "ipdiag: cannot resolve '{}'", args.target)?;
        return Ok(EXIT_FAILURE);
    };
    let mode = if config.icmp {
        "icmp"
    } else {
        config.protocol.as_str()
    };
    if !config.icmp && config.protocol == Protocol::Tcp && !crate::sys::tcp_hears_icmp() {
        writeln!(
            ctx.err,
            "ipdiag: note: this system does not tell a TCP connect about ICMP errors \
             (TCP_FAIL_CONNECT_ON_ICMP_ERROR needs Windows 10 version 2004 or later): a router's \
             time exceeded cannot be read, so hops before the destination show as silent, \
             reason unknown; trace --icmp reads them"
        )?;
    }
    if ctx.verbose > 0 {
        writeln!(
            ctx.err,
            "ipdiag: tracing {target} by {mode}: TTL 1 to {}, {} probes per hop, each waiting {} ms, stopping after {} silent hops",
            config.max_hops,
            config.queries,
            config.wait.as_millis(),
            config.max_silent
        )?;
    }
    let rt = runtime()?;
    // Opened before the header: without it, the refusal is all that is printed (exit 3).
    let watch = if crate::sys::HERE.error_queue || config.icmp || cfg!(windows) {
        None
    } else {
        let watch = rt.block_on(async { Watch::open(target, config.protocol) });
        Some(watch.map_err(|e| Error::Environment(format!("ipdiag trace: {e}")))?)
    };
    let table = ctx.format == Format::Table;
    if args.multipath {
        return multipath(target, &config, table, ctx);
    }
    if table {
        let header =
            trace_text::header(&args.target, target, mode, config.max_hops, config.queries);
        writeln!(ctx.out, "{header}")?;
        ctx.out.flush()?;
    }
    let mut write_error = None;
    let hops = rt.block_on(async {
        let each = |hop: &Hop| {
            if table && write_error.is_none() {
                let line = trace_text::hop_line(target, hop, &summarise(hop));
                if let Err(e) = writeln!(ctx.out, "{line}").and_then(|()| ctx.out.flush()) {
                    write_error = Some(e);
                }
            }
        };
        tokio::select! {
            hops = trace_watched(target, &config, watch, each) => Some(hops),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    if let Some(e) = write_error {
        return Err(Error::Write(e));
    }
    let Some(hops) = hops else {
        writeln!(ctx.err, "ipdiag: interrupted")?;
        return Ok(super::check::EXIT_INTERRUPTED);
    };
    let found = verdict(target.ip(), &hops);
    let summaries = summarise_all(&hops);
    if table {
        let footer = trace_text::footer(target, &hops, &summaries, &found);
        write!(ctx.out, "{footer}")?;
    } else {
        let record = TraceRecord {
            target: &args.target,
            address: target.ip().to_string(),
            port: (!config.icmp).then_some(target.port()),
            protocol: mode,
            provider: provider_of(target.ip()),
            hops: hops
                .iter()
                .zip(&summaries)
                .map(|(h, s)| HopRecord::new(h, s))
                .collect(),
            destination: trace_text::destination(&found),
            verdict: VerdictRecord::from(&found),
        };
        serde_json::to_writer(&mut *ctx.out, &record).map_err(std::io::Error::from)?;
        writeln!(ctx.out)?;
    }
    Ok(match found {
        PathVerdict::Reached {
            state: State::Open, ..
        } => EXIT_OK,
        _ => EXIT_FAILURE,
    })
}

/// `--multipath`: the graph of every load-balanced path, as text or JSON.
fn multipath(
    target: SocketAddr,
    config: &TraceConfig,
    table: bool,
    ctx: &mut Context<'_>,
) -> Result<u8> {
    let found = runtime()?.block_on(async {
        tokio::select! {
            graph = discover(target, config) => Some(graph),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    let Some(found) = found else {
        writeln!(ctx.err, "ipdiag: interrupted")?;
        return Ok(super::check::EXIT_INTERRUPTED);
    };
    let graph =
        found.map_err(|e| Error::Environment(format!("cannot reserve a source port: {e}")))?;
    if table {
        write!(
            ctx.out,
            "{}",
            trace_multipath::text(target, config.protocol, &graph)
        )?;
    } else {
        let record = trace_multipath::MultipathRecord::new(target, config.protocol, &graph);
        serde_json::to_writer(&mut *ctx.out, &record).map_err(std::io::Error::from)?;
        writeln!(ctx.out)?;
    }
    Ok(EXIT_OK)
}

/// The destination (`None`: the name did not resolve) and the trace's settings.
fn request(args: &TraceArgs) -> Result<(Option<SocketAddr>, TraceConfig)> {
    let spec = parse_target(&args.target)?;
    if args.name.numeric && matches!(spec.host, HostSpec::Name(_)) {
        return Err(InputError::new("target", &spec.text, Problem::NameWithNumeric).into());
    }
    match (spec.ports.is_some(), args.icmp) {
        (false, false) => {
            return Err(InputError::new("target", &spec.text, Problem::NoPortGiven).into());
        }
        (true, true) => {
            return Err(InputError::new("target", &spec.text, Problem::IcmpNoPort).into());
        }
        _ => {}
    }
    if matches!(spec.host, HostSpec::Network(_)) {
        return Err(InputError::new("target", &spec.text, Problem::NetworkNotHost).into());
    }
    let wait = parse_duration("--wait", &args.wait)?;
    if wait.is_zero() {
        return Err(InputError::new("--wait", &args.wait, Problem::Duration).into());
    }
    if args.max_hops == 0 {
        return Err(InputError::new("--max-hops", "0", Problem::NotPositive).into());
    }
    if !(1..=MAX_QUERIES).contains(&args.queries) {
        let text = args.queries.to_string();
        return Err(InputError::new("--queries", &text, Problem::Between(1, MAX_QUERIES)).into());
    }
    if args.max_silent == 0 {
        return Err(InputError::new("--max-silent", "0", Problem::NotPositive).into());
    }
    let protocol = if args.udp {
        Protocol::Udp
    } else {
        Protocol::Tcp
    };
    let family = args.name.family();
    let options = PlanOptions {
        // ICMP has no port: any one resolves the host (the port is 0 from here on).
        default_ports: if args.icmp {
            parse_port_arg("1")?
        } else {
            Vec::new()
        },
        protocols: vec![protocol],
        family,
        allow_broadcast: false,
    };
    let plan = build_plan(std::slice::from_ref(&spec), &options, &SystemResolver)?;
    if plan.endpoints.windows(2).any(|w| w[0].port != w[1].port) {
        return Err(InputError::new("target", &spec.text, Problem::TraceOnePort).into());
    }
    let target = plan
        .endpoints
        .first()
        .and_then(crate::model::Endpoint::socket_addr)
        .map(|t| {
            if args.icmp {
                SocketAddr::new(t.ip(), 0)
            } else {
                t
            }
        });
    let choice = args
        .payload
        .as_deref()
        .map(parse_payload)
        .transpose()?
        .unwrap_or_default();
    let port = target.map_or(0, |t| t.port());
    let nonces = Nonces::default();
    let payload = Payloads::new(move || payload_for(&choice, port, nonces.next(), None).1);
    let config = TraceConfig {
        protocol,
        max_hops: args.max_hops,
        queries: args.queries,
        wait,
        max_silent: args.max_silent,
        payload,
        icmp: args.icmp,
    };
    Ok((target, config))
}
