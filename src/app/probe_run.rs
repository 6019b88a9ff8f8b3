//! Running a probe: the SYN scan for the TCP endpoints it can take and the engine for the
//! rest (`syn_then_connect`); both hand every result, once, to the run's result stage
//! (`probe_stage.rs`).

use super::drive::{Driven, Observer, drive_run};
use super::probe::takes_syn;
use super::probe_stage::Stage;
use crate::error::{Error, Result};
use crate::model::{Endpoint, ProbeResult};
use crate::plan::endpoints::Endpoints;
use crate::probe::{EngineConfig, SocketProber};
use crate::raw::{self, SynConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// TCP endpoints by SYN scan, the rest (UDP, unresolved names) by the engine; the results
/// in plan order. With `fallback` (the scan was picked, not demanded by `--raw`), a scan
/// that fails before its first result is a note, and every endpoint goes by ordinary
/// sockets instead.
pub(super) async fn syn_then_connect(
    plan: &Endpoints,
    (prober, engine, responder): (SocketProber, EngineConfig, bool),
    stage: &mut Stage<'_, '_>,
    fallback: bool,
) -> Result<Driven> {
    // The SYN scan keeps a slot per endpoint: it takes the plan as a list.
    let endpoints: Vec<Endpoint> = plan.iter().collect();
    let (raw_at, rest_at): (Vec<usize>, Vec<usize>) =
        (0..endpoints.len()).partition(|&i| takes_syn(&endpoints[i]));
    let pick = |at: &[usize]| at.iter().map(|&i| endpoints[i].clone()).collect::<Vec<_>>();
    // The usual sweep is TCP only: no copy of its endpoints then.
    let (raw_endpoints, rest) = if rest_at.is_empty() {
        (std::borrow::Cow::Borrowed(endpoints.as_slice()), Vec::new())
    } else {
        (std::borrow::Cow::Owned(pick(&raw_at)), pick(&rest_at))
    };
    let rest_unresolved: Vec<Option<String>> = rest_at
        .iter()
        .map(|&i| plan.unresolved(i).map(str::to_owned))
        .collect();
    let config = SynConfig {
        rate: engine.rate,
        pace_loopback: engine.pace_loopback,
        timing: engine.timing,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let interrupt = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::Relaxed);
            }
        })
    };
    let mut sink_error = None;
    let mut delivered = 0_usize;
    let scanned = tokio::task::block_in_place(|| {
        raw::scan(&raw_endpoints, &config, &stop, &mut |r| {
            delivered += 1;
            if sink_error.is_none()
                && let Err(e) = stage.done(r)
            {
                sink_error = Some(e);
            }
        })
    });
    interrupt.abort();
    if let Some(e) = sink_error {
        return Err(e);
    }
    let scanned = match scanned {
        Ok(scanned) => scanned,
        Err(e) if fallback && delivered == 0 => {
            stage.note(&format!(
                "the SYN scan could not start ({e}); probing with ordinary connects"
            ))?;
            drop(raw_endpoints);
            drop(endpoints);
            return drive_run(plan, prober, engine, responder, stage).await;
        }
        Err(e) => return Err(Error::Environment(format!("raw mode: {e}"))),
    };
    let mut interrupted = stop.load(Ordering::Relaxed);
    if rest_at.is_empty() {
        // Sized up front: a sweep's results are megabytes, copied once.
        let mut results = Vec::with_capacity(scanned.len());
        results.extend(scanned.into_iter().flatten());
        return Ok(Driven {
            results,
            interrupted,
        });
    }
    let mut merged: Vec<Option<ProbeResult>> = vec![None; endpoints.len()];
    for (i, r) in raw_at.into_iter().zip(scanned) {
        merged[i] = r;
    }
    if !interrupted && !rest.is_empty() {
        let rest = Endpoints::listed(rest, rest_unresolved);
        let others = drive_run(&rest, prober, engine, responder, stage).await?;
        interrupted = others.interrupted;
        let others = others.results;
        // `drive` returns its results in plan order, so they pair up with their places
        // (after a Ctrl-C it returns fewer, and the rest stay out).
        let mut others = others.into_iter().peekable();
        for i in rest_at {
            if others.peek().is_some_and(|r| {
                r.endpoint.target == endpoints[i].target
                    && r.endpoint.port == endpoints[i].port
                    && r.endpoint.protocol == endpoints[i].protocol
            }) {
                merged[i] = others.next();
            }
        }
    }
    Ok(Driven {
        results: merged.into_iter().flatten().collect(),
        interrupted,
    })
}
