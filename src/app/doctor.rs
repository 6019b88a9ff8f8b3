//! `ipdiag doctor`: probe the port, probe control ports and ICMP echo, look at this
//! machine, diagnose, and print the verdict with the ranked causes and their fixes.

use super::Context;
use super::advise::Adviser;
use super::doctor_request::{Request, control_endpoints, distinct_addresses, request};
use super::drive::{Quiet, drive, runtime};
use super::on_server::Witness;
use super::options::strict_addresses;
use crate::classify::classify;
use crate::cli::doctor::DoctorArgs;
use crate::diagnose::hops::{HopSummary, summarise_all};
use crate::diagnose::names::all_as_expected;
use crate::diagnose::path::{PathVerdict, verdict};
use crate::diagnose::stray::with_stray;
use crate::diagnose::two_sided::{ClientSide, merge};
use crate::diagnose::{CloudChoice, Finding, HostIndex, PingSeen};
use crate::error::{EXIT_FAILURE, EXIT_OK, Result};
use crate::local::watch::report::WatchReport;
use crate::model::{Endpoint, ProbeResult, Protocol, State};
use crate::output::Format;
use crate::output::doctor_json::{self, DoctorRecord};
use crate::output::doctor_text::{self, Asked, Report};
use crate::output::json_stream::JsonStream;
use crate::plan::expand::Plan;
use crate::probe::icmp::{PingOutcome, ping};
use crate::probe::socket_prober::Nonces;
use crate::probe::trace::{Hop, Payloads, TraceConfig, trace};
use crate::probe::ttl_watch::TtlWatch;
use crate::probe::udp_stray::Strays;
use crate::probe::{EngineConfig, SocketProber};
use crate::wire::payloads::{PayloadChoice, payload_for};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// ICMP echo requests per address.
pub(super) const PINGS: u32 = 3;
pub(super) const PING_INTERVAL: Duration = Duration::from_millis(200);
/// `--trace`: hops tried, probes per hop, and silent hops in a row before giving up.
pub(super) const TRACE_MAX_HOPS: u8 = 30;
const TRACE_QUERIES: u32 = 2;
const TRACE_MAX_SILENT: u8 = 3;

/// What the probes found.
struct Gathered {
    asked: Vec<ProbeResult>,
    control: Vec<ProbeResult>,
    pings: Vec<(IpAddr, std::result::Result<PingOutcome, String>)>,
    traces: Vec<Traced>,
    /// UDP replies from other addresses than the one probed (`probe::udp_stray`).
    strays: Vec<SocketAddr>,
    /// What the server saw (`--on-server`).
    server: Option<WatchReport>,
}

/// A trace to one asked endpoint.
struct Traced {
    endpoint: SocketAddr,
    protocol: Protocol,
    hops: Vec<Hop>,
    /// Each hop's figures, worked out once for every format.
    summaries: Vec<HopSummary>,
    verdict: PathVerdict,
}

/// Runs `ipdiag doctor`.
pub fn run(args: &DoctorArgs, ctx: &mut Context<'_>) -> Result<u8> {
    let request = request(args)?;
    let request_strict = strict_addresses(&args.protocol);
    if ctx.verbose > 0 {
        let asked: Vec<String> = request
            .plan
            .endpoints
            .iter()
            .map(crate::output::probe_text::endpoint_text)
            .collect();
        writeln!(
            ctx.err,
            "ipdiag: diagnosing {}: {} attempts each (timeout {} ms), {} control ports, ICMP echo to {} address(es){}{}",
            asked.join(", "),
            request.engine.count.unwrap_or(1),
            request.engine.timing.max.as_millis(),
            request.control.len(),
            request.ping.len(),
            if request.trace {
                ", a trace of the path"
            } else {
                ""
            },
            if request.responder {
                ", through the responder"
            } else {
                ""
            }
        )?;
    }
    let mut adviser = Adviser::new(request.cloud, request.source);
    let witness = match &request.on_server {
        Some(s) => {
            if ctx.verbose > 0 {
                writeln!(
                    ctx.err,
                    "ipdiag: the server watches {}/{} for {} s through `{}`",
                    s.port,
                    s.protocol,
                    s.watch.as_secs(),
                    s.command.words.join(" ")
                )?;
            }
            Some(Witness::start(
                s.command.clone(),
                s.port,
                s.protocol == Protocol::Udp,
                s.watch,
            )?)
        }
        None => None,
    };
    let ttl_watch = TtlWatch::start(&request.ping);
    // Ctrl-C ends the run at once: the pings and the trace would go on for seconds (the
    // server's side is ended with the witness).
    let mut quiet = Quiet;
    let gathered = runtime()?.block_on(async {
        tokio::select! {
            gathered = gather(request, &mut quiet) => gathered.map(Some),
            _ = tokio::signal::ctrl_c() => Ok(None),
        }
    })?;
    let Some(mut gathered) = gathered else {
        writeln!(ctx.err, "ipdiag: interrupted")?;
        return Ok(super::check::EXIT_INTERRUPTED);
    };
    adviser.add_ttls(ttl_watch.map(TtlWatch::stop).unwrap_or_default());
    gathered.server = witness.map(Witness::finish).transpose()?;
    for t in &gathered.traces {
        adviser.add_path(t.endpoint.ip(), t.protocol, t.verdict.clone());
    }
    write_report(&gathered, &mut adviser, request_strict, ctx)?;
    Ok(
        if all_as_expected(&gathered.asked, |s| s == State::Open, request_strict) {
            EXIT_OK
        } else {
            EXIT_FAILURE
        },
    )
}

/// The exporter's `doctor` module: the planned endpoints probed with doctor's evidence
/// (the control ports and canaries, ICMP echo; no trace), each diagnosed as `doctor` does.
/// `observer` sees the asked endpoints' attempts.
pub(super) async fn diagnosed(
    plan: Plan,
    engine: EngineConfig,
    (payload, responder, token): (PayloadChoice, bool, Option<Vec<u8>>),
    observer: &mut impl super::drive::Observer,
) -> Result<Vec<(ProbeResult, crate::diagnose::Diagnosis)>> {
    let addresses = distinct_addresses(&plan.endpoints);
    let request = Request {
        control: control_endpoints(&plan.endpoints, &addresses),
        ping: addresses,
        plan,
        engine,
        payload,
        cloud: CloudChoice::Auto,
        source: None,
        responder,
        token,
        trace: false,
        on_server: None,
    };
    let gathered = gather(request, observer).await?;
    let mut adviser = Adviser::new(CloudChoice::Auto, None);
    let (_, diagnoses) = diagnose_asked(&gathered, &mut adviser, false);
    Ok(gathered.asked.into_iter().zip(diagnoses).collect())
}

/// Probes the asked port, the control ports and ICMP echo, all at once.
async fn gather(
    request: Request,
    asked_observer: &mut impl super::drive::Observer,
) -> Result<Gathered> {
    let Request {
        plan,
        engine,
        payload,
        control,
        ping: ping_addresses,
        responder,
        token,
        trace: tracing,
        ..
    } = request;
    let traces = if tracing {
        trace_each(
            &plan.endpoints,
            &payload,
            token.as_deref(),
            engine.timing.max,
        )
    } else {
        Vec::new()
    };
    let wait = engine.timing.max;
    let control_engine = EngineConfig {
        count: Some(1),
        ..engine.clone()
    };
    let mut quiet_control = Quiet;
    let strays = Strays::default();
    let prober = SocketProber::new(payload)
        .with_token(token)
        .expecting_responder(responder)
        .with_strays(strays.clone());
    let asked = drive(
        plan.endpoints,
        &plan.unresolved,
        prober,
        engine,
        responder,
        asked_observer,
    );
    let control_prober = SocketProber::new(PayloadChoice::default());
    let control = drive(
        control,
        &[],
        control_prober,
        control_engine,
        false,
        &mut quiet_control,
    );
    let pings = async {
        let mut out = Vec::new();
        for address in ping_addresses {
            out.push((address, ping(address, PINGS, PING_INTERVAL, wait).await));
        }
        out
    };
    let traces = async {
        let mut out = Vec::new();
        for (endpoint, protocol, task) in traces {
            if let Ok(hops) = task.await {
                let verdict = verdict(endpoint.ip(), &hops);
                let summaries = summarise_all(&hops);
                out.push(Traced {
                    endpoint,
                    protocol,
                    hops,
                    summaries,
                    verdict,
                });
            }
        }
        out
    };
    let (asked, control, pings, traces) = tokio::join!(asked, control, pings, traces);
    let strays = strays.lock().map(|s| s.clone()).unwrap_or_default();
    Ok(Gathered {
        asked: asked?,
        control: control?,
        pings,
        traces,
        strays,
        server: None,
    })
}

/// A trace of each asked endpoint, started now.
fn trace_each(
    endpoints: &[Endpoint],
    payload: &PayloadChoice,
    token: Option<&[u8]>,
    wait: Duration,
) -> Vec<(SocketAddr, Protocol, tokio::task::JoinHandle<Vec<Hop>>)> {
    let nonces = std::sync::Arc::new(Nonces::default());
    endpoints
        .iter()
        .filter_map(|e| {
            let target = e.socket_addr()?;
            let (choice, port, token) = (payload.clone(), e.port, token.map(<[u8]>::to_vec));
            let nonces = std::sync::Arc::clone(&nonces);
            let payload = Payloads::new(move || {
                payload_for(&choice, port, nonces.next(), token.as_deref()).1
            });
            let config = TraceConfig {
                protocol: e.protocol,
                max_hops: TRACE_MAX_HOPS,
                queries: TRACE_QUERIES,
                wait,
                max_silent: TRACE_MAX_SILENT,
                payload,
                icmp: false,
            };
            let task = tokio::spawn(async move { trace(target, &config, |_| {}).await });
            Some((target, e.protocol, task))
        })
        .collect()
}

fn write_report(
    g: &Gathered,
    adviser: &mut Adviser,
    strict: bool,
    ctx: &mut Context<'_>,
) -> Result<()> {
    let (index, diagnoses) = diagnose_asked(g, adviser, strict);
    let cloud_note = adviser.provider_note(g.asked.first().and_then(|r| r.endpoint.address));
    let reports: Vec<Asked<'_>> = g
        .asked
        .iter()
        .zip(&diagnoses)
        .map(|(result, diagnosis)| {
            let address = result.endpoint.address;
            Asked {
                result,
                diagnosis,
                control: g
                    .control
                    .iter()
                    .filter(|c| c.endpoint.address == address)
                    .collect(),
                ping: address
                    .and_then(|a| g.pings.iter().find(|(p, _)| *p == a))
                    .map(|(_, p)| p),
                target: address.map(classify),
                trace: g
                    .traces
                    .iter()
                    .find(|t| {
                        Some(t.endpoint.ip()) == address && t.protocol == result.endpoint.protocol
                    })
                    .map(|t| (t.hops.as_slice(), t.summaries.as_slice(), &t.verdict)),
                sends_from: adviser.sends_from(address).map(classify),
                server: g
                    .server
                    .as_ref()
                    .filter(|s| s.protocol == result.endpoint.protocol.as_str()),
            }
        })
        .collect();
    if ctx.format == Format::Json || ctx.format == Format::Jsonl {
        let control_diagnoses: Vec<Vec<_>> = reports
            .iter()
            .map(|a| {
                a.control
                    .iter()
                    .map(|c| adviser.diagnose(c, &index, None))
                    .collect()
            })
            .collect();
        let records: Vec<DoctorRecord<'_>> = reports
            .iter()
            .zip(&control_diagnoses)
            .map(|(a, d)| doctor_json::record(a, d, &cloud_note))
            .collect();
        // One asked port (the usual case) is one object; several (--both, a name with
        // several addresses) are an array, or JSON lines.
        if let [one] = records.as_slice()
            && ctx.format == Format::Json
        {
            serde_json::to_writer(&mut *ctx.out, one).map_err(std::io::Error::from)?;
            writeln!(ctx.out)?;
        } else {
            let mut stream = JsonStream::new(&mut *ctx.out, ctx.format == Format::Json);
            for r in &records {
                stream.record(r)?;
            }
            stream.finish()?;
        }
    } else {
        let report = Report {
            asked: &reports,
            cloud_note: &cloud_note,
        };
        write!(ctx.out, "{}", doctor_text::render(&report, ctx.style))?;
    }
    Ok(())
}

/// Each asked result diagnosed with the control ports and the pings as evidence; the
/// index of every result.
fn diagnose_asked(
    g: &Gathered,
    adviser: &mut Adviser,
    strict: bool,
) -> (HostIndex, Vec<crate::diagnose::Diagnosis>) {
    let mut all = g.asked.clone();
    all.extend(g.control.iter().cloned());
    let index = HostIndex::new(&all);
    if !strict {
        // A family this machine has no route for is a note while the name answers.
        adviser.judge_names(&g.asked);
    }
    let diagnoses = g
        .asked
        .iter()
        .map(|r| {
            let adjust = |f: Vec<Finding>| both_sides(r, f, g);
            adviser.diagnose_adjusted(r, &index, ping_seen(&g.pings, r.endpoint.address), &adjust)
        })
        .collect();
    (index, diagnoses)
}

/// The client's findings with what else was seen: a UDP reply from another address of
/// the server, and the server's report (`--on-server`) for its protocol.
fn both_sides(result: &ProbeResult, findings: Vec<Finding>, g: &Gathered) -> Vec<Finding> {
    let stray = (result.endpoint.protocol == Protocol::Udp)
        .then(|| g.strays.first().copied())
        .flatten();
    let findings = match stray {
        Some(from) => with_stray(result, findings, from),
        None => findings,
    };
    match &g.server {
        Some(report) if report.protocol == result.endpoint.protocol.as_str() => {
            merge(result, findings, report, ClientSide { stray_reply: stray })
        }
        _ => findings,
    }
}

/// The ping outcome of `address` as evidence (`None` when ICMP was not available).
fn ping_seen(
    pings: &[(IpAddr, std::result::Result<PingOutcome, String>)],
    address: Option<IpAddr>,
) -> Option<PingSeen> {
    let (_, outcome) = pings.iter().find(|(a, _)| Some(*a) == address)?;
    let outcome = outcome.as_ref().ok()?;
    let avg = outcome.rtt.stats().map(|s| s.avg);
    Some(PingSeen {
        sent: outcome.sent,
        received: outcome.received,
        rtt_avg_ms: avg,
    })
}
