//! `ipdiag exporter`: read the modules → refuse an open prober (a non-loopback listener
//! without `--allow`) → bind → serve `/probe` with the library's engine and diagnosis
//! (this file's [`LibraryRunner`]; the HTTP side is `exporter::http`) until Ctrl-C.

use super::Context;
use super::advise::Adviser;
use super::drive::{Observer, drive, runtime};
use super::options::check_engine;
use crate::check::{Budget, judge, most_reachable};
use crate::cli::exporter::ExporterArgs;
use crate::diagnose::{CloudChoice, Diagnosis, HostIndex};
use crate::error::{EXIT_OK, Error, InputError, Problem, Result, escaped};
use crate::exporter::allow::{AllowList, needs_allow};
use crate::exporter::http::{self, Exporter};
use crate::exporter::modules::{Module, builtins, parse_modules};
use crate::exporter::{Job, ProbeError, ProbeFuture, Probed, Runner};
use crate::model::{Endpoint, ProbeResult, Reason, State};
use crate::output::prometheus::ProbeMetrics;
use crate::plan::expand::{Plan, PlanOptions, build_plan};
use crate::probe::SocketProber;
use crate::probe::aggregate::Aggregate;
use crate::probe::attempt::Answer;
use crate::resolve::{SystemResolver, TimedResolver};
use std::net::SocketAddr;
use std::sync::Arc;

/// Ports one probe has in flight at most (a name's addresses; doctor's control ports).
const PER_PROBE: usize = 8;
/// The time kept for the diagnosis after the engine's deadline (less for a short budget).
const DIAGNOSIS_MARGIN: std::time::Duration = std::time::Duration::from_millis(200);

/// Runs `ipdiag exporter`.
pub fn run(args: &ExporterArgs, ctx: &mut Context<'_>) -> Result<u8> {
    let listen: SocketAddr = args.listen.trim().parse().map_err(|_| {
        Error::Usage(format!(
            "--listen '{}': expected ADDRESS:PORT, as 127.0.0.1:9799 or [::1]:9799",
            escaped(&args.listen)
        ))
    })?;
    let allow = AllowList::parse(&args.allow)?;
    if needs_allow(listen) && allow.is_empty() {
        return Err(Error::Usage(format!(
            "--listen {listen} is reachable from other machines, and an exporter probes whatever a request names: give --allow CIDR (the networks it may probe), or listen on 127.0.0.1"
        )));
    }
    if let Some(name) = args.vantage.as_deref()
        && name.trim().is_empty()
    {
        return Err(InputError::new("--vantage", name, Problem::Empty).into());
    }
    if args.max_concurrent == 0 {
        return Err(InputError::new("--max-concurrent", "0", Problem::NotPositive).into());
    }
    let modules = match &args.config {
        Some(path) => read_modules(path)?,
        None => builtins(),
    };
    let names: Vec<&str> = modules.iter().map(|m| m.name.as_str()).collect();
    let listener = std::net::TcpListener::bind(listen)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| Error::Environment(format!("cannot bind tcp {listen}: {e}")))?;
    let local = listener.local_addr()?;
    let targets = if allow.is_empty() {
        "any".to_owned()
    } else {
        let nets: Vec<String> = allow.networks().iter().map(ToString::to_string).collect();
        nets.join(", ")
    };
    writeln!(
        ctx.err,
        "ipdiag: exporter listening on http://{local} (modules: {}; targets: {targets}; at most {} probes at once{})",
        names.join(", "),
        args.max_concurrent,
        args.vantage
            .as_deref()
            .map(|v| format!("; vantage {}", escaped(v)))
            .unwrap_or_default()
    )?;
    ctx.err.flush()?;
    let exporter = Exporter {
        modules: modules.into_iter().map(Arc::new).collect(),
        runner: Arc::new(LibraryRunner {
            allow: allow.clone(),
        }),
        allow,
        max_concurrent: args.max_concurrent,
        vantage: args.vantage.clone(),
    };
    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| Error::Environment(format!("cannot listen on {local}: {e}")))?;
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        http::serve(listener, http::router(exporter), shutdown)
            .await
            .map_err(|e| Error::Environment(format!("the exporter stopped: {e}")))
    })?;
    Ok(EXIT_OK)
}

fn read_modules(path: &std::path::Path) -> Result<Vec<Module>> {
    let name = escaped(&path.display().to_string());
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: name.clone(),
        source,
    })?;
    parse_modules(&text).map_err(|e| Error::Config {
        path: name,
        line: e.line,
        column: e.column,
        message: e.message,
    })
}

/// Probes with the library: the plan (names resolved within the budget), the engine or
/// doctor's evidence, the diagnosis, the module's expectation.
struct LibraryRunner {
    allow: AllowList,
}

impl Runner for LibraryRunner {
    fn probe(&self, job: Job) -> ProbeFuture {
        let allow = self.allow.clone();
        Box::pin(async move { probe(job, &allow).await })
    }
}

/// Each answered attempt's RTT, by endpoint (the histogram).
#[derive(Default)]
struct Samples(Vec<(Endpoint, f64)>);

impl Observer for Samples {
    fn attempt(&mut self, endpoint: &Endpoint, _: u32, _: u32, answer: &Answer) -> Result<()> {
        if let Some(rtt) = answer.rtt_sample() {
            self.0.push((endpoint.clone(), rtt.as_secs_f64()));
        }
        Ok(())
    }
}

async fn probe(job: Job, allow: &AllowList) -> Result<Probed, ProbeError> {
    let deadline = tokio::time::Instant::now() + job.budget;
    let module = Arc::clone(&job.module);
    let plan = resolve(&job).await?;
    if !allow.is_empty()
        && let Some(address) = plan
            .endpoints
            .iter()
            .filter_map(|e| e.address)
            .find(|a| !allow.permits(*a))
    {
        return Err(ProbeError::Refused(format!(
            "target {} resolves to {address}, outside --allow",
            escaped(&job.target.text)
        )));
    }
    let planned = plan.endpoints.clone();
    let mut engine = check_engine(&module.timing, PER_PROBE, 1);
    // The engine stops a little before the deadline, leaving time for the diagnosis.
    let margin = (job.budget / 5).min(DIAGNOSIS_MARGIN);
    engine.deadline = Some(deadline - margin);
    let mut samples = Samples::default();
    let failed = |e: Error| ProbeError::Failed(format!("the probe failed: {e}"));
    let results: Vec<(ProbeResult, Option<Diagnosis>)> = if module.doctor {
        let (found, seen) = doctor(plan, engine, &module, deadline).await?;
        samples = seen;
        match found {
            Some(found) => found
                .map_err(failed)?
                .into_iter()
                .map(|(r, d)| (r, Some(d)))
                .collect(),
            // The pings outlasted the scrape: what the port itself showed is not known.
            None => Vec::new(),
        }
    } else {
        let prober = SocketProber::new(module.payload.clone()).with_token(module.token.clone());
        // A module that expects no responder has no use for its banner: a scrape of an
        // open port then takes as long as the connect (the blackbox exporter's 2 ms on
        // loopback, not 2 ms plus the banner's 5 ms or more).
        let prober = if module.responder {
            prober.expecting_responder(true)
        } else {
            prober.without_banner()
        };
        let Plan {
            endpoints,
            unresolved,
        } = plan;
        let found = drive(
            endpoints,
            &unresolved,
            prober,
            engine,
            module.responder,
            &mut samples,
        )
        .await
        .map_err(failed)?;
        found.into_iter().map(|r| (r, None)).collect()
    };
    decide(&module, &planned, results, &samples)
}

/// What [`doctor`] found, when it ended before the deadline.
type DoctorFound = Option<Result<Vec<(ProbeResult, Diagnosis)>>>;

/// The `doctor` module: doctor's evidence within the deadline. Its pings report through a
/// callback that is not `Send`, so it runs on a blocking thread of its own, on this runtime.
async fn doctor(
    plan: Plan,
    engine: crate::probe::EngineConfig,
    module: &Module,
    deadline: tokio::time::Instant,
) -> Result<(DoctorFound, Samples), ProbeError> {
    let settings = (
        module.payload.clone(),
        module.responder,
        module.token.clone(),
    );
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut samples = Samples::default();
        let found = handle.block_on(tokio::time::timeout_at(
            deadline,
            super::doctor::diagnosed(plan, engine, settings, &mut samples),
        ));
        (found.ok(), samples)
    })
    .await
    .map_err(|e| ProbeError::Failed(format!("the doctor probe failed: {e}")))
}

/// The plan of one target, names looked up off the runtime's threads within the budget.
async fn resolve(job: &Job) -> Result<Plan, ProbeError> {
    let target = job.target.clone();
    let protocol = job.module.protocol;
    let budget = job.budget;
    let planned = tokio::task::spawn_blocking(move || {
        let options = PlanOptions {
            default_ports: Vec::new(),
            protocols: vec![protocol],
            family: None,
            allow_broadcast: false,
        };
        let resolver = TimedResolver::new(SystemResolver, budget);
        build_plan(std::slice::from_ref(&target), &options, &resolver)
    })
    .await
    .map_err(|e| ProbeError::Failed(format!("the name lookup failed: {e}")))?;
    planned.map_err(|e| ProbeError::BadTarget(e.to_string()))
}

/// The record of a probe: the most reachable address's result (as a client connecting by
/// name gets it), diagnosed with the others as evidence, judged against the module.
fn decide(
    module: &Module,
    planned: &[Endpoint],
    mut results: Vec<(ProbeResult, Option<Diagnosis>)>,
    samples: &Samples,
) -> Result<Probed, ProbeError> {
    if results.is_empty() {
        let first = planned
            .first()
            .ok_or_else(|| ProbeError::Failed("the target gave nothing to probe".to_owned()))?;
        results.push((timed_out(first.clone()), None));
    }
    let all: Vec<ProbeResult> = results.iter().map(|(r, _)| r.clone()).collect();
    let refs: Vec<&ProbeResult> = all.iter().collect();
    let chosen = most_reachable(&refs)
        .and_then(|best| results.iter().position(|(r, _)| r == best))
        .unwrap_or(0);
    let (result, diagnosis) = results.swap_remove(chosen);
    let diagnosis = diagnosis.unwrap_or_else(|| {
        let mut adviser = Adviser::new(CloudChoice::Auto, None);
        adviser.judge_names(&all);
        adviser.diagnose(&result, &HostIndex::new(&all), None)
    });
    let expect = module
        .expect
        .for_endpoint(result.endpoint.protocol, module.responder);
    let holds = judge(expect, Budget::default(), &result).holds;
    let mut metrics = ProbeMetrics::new(&result, &diagnosis, expect.as_str().to_owned(), holds);
    metrics.samples = Some(
        samples
            .0
            .iter()
            .filter(|(e, _)| *e == result.endpoint)
            .map(|(_, s)| *s)
            .collect(),
    );
    Ok(Probed {
        metrics,
        state: result.state,
        reason: result.reason,
        cause: diagnosis.cause.as_str(),
    })
}

/// The result of an endpoint the scrape's time ran out for before its first send.
fn timed_out(endpoint: Endpoint) -> ProbeResult {
    let mut r = Aggregate::default().finish(endpoint);
    r.state = State::Error;
    r.reason = Reason::LocalError;
    r.error = Some("the scrape timeout ran out before the probe was sent".to_owned());
    r
}
