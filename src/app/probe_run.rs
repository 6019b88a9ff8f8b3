//! Running a probe: the SYN scan for the TCP endpoints it can take and the engine for the
//! rest (`syn_then_connect`); both hand every result, once, with its place in the plan,
//! to the run's result stage (`probe_stage.rs`).

use super::drive::{Driven, drive_run};
use super::probe::takes_syn;
use super::probe_stage::Stage;
use crate::error::{Error, Result};
use crate::model::Endpoint;
use crate::plan::endpoints::Endpoints;
use crate::probe::{EngineConfig, SocketProber, WINDOW};
use crate::raw::{self, SynConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::watch;

/// The plan is scanned this many endpoints at a time: a scan keeps a slot per endpoint,
/// and the stage holds a chunk's results at most while it puts them in plan order (the
/// engine's window, so both paths hold as much).
const CHUNK: usize = WINDOW;

/// TCP endpoints by SYN scan, the rest (UDP, unresolved names) by the engine, a chunk of
/// the plan at a time (a 4,000,000-endpoint plan is never built whole). With `fallback`
/// (the scan was picked, not demanded by `--raw`), a scan that fails before its first
/// result is a note, and every endpoint goes by ordinary sockets instead. `prober` makes
/// the engine's prober for each chunk.
pub(super) async fn syn_then_connect(
    plan: &Endpoints,
    (prober, engine, responder): (&dyn Fn() -> SocketProber, EngineConfig, bool),
    stage: &mut Stage<'_, '_>,
    fallback: bool,
) -> Result<Driven> {
    let config = SynConfig {
        rate: engine.rate,
        pace_loopback: engine.pace_loopback,
        timing: engine.timing,
    };
    // One Ctrl-C watch for the whole run: the scan reads the flag, the engine the channel.
    let stop = Arc::new(AtomicBool::new(false));
    let (stop_tx, stop_rx) = watch::channel(false);
    let interrupt = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::Relaxed);
                let _ = stop_tx.send(true);
            }
        })
    };
    let mut endpoints = plan.iter().enumerate();
    let mut delivered = 0_usize;
    // Places of the plan taken into chunks so far.
    let mut taken = 0_usize;
    let mut interrupted = false;
    while !interrupted {
        // Sized for the whole chunk at once: grown push by push, a 32,768-endpoint chunk
        // held its old and new buffers together (1.3 MB of a sweep's peak). Pages a
        // UDP-only chunk never fills are never touched.
        let size = CHUNK.min(plan.len().saturating_sub(taken));
        let (mut raw, mut rest) = (Chunk::with_capacity(size), Chunk::default());
        for (i, e) in endpoints.by_ref().take(CHUNK) {
            taken = i + 1;
            let part = if takes_syn(&e) { &mut raw } else { &mut rest };
            part.places.push(i);
            part.endpoints.push(e);
        }
        if raw.places.is_empty() && rest.places.is_empty() {
            break;
        }
        let mut sink_error = None;
        let scanned = tokio::task::block_in_place(|| {
            raw::scan(&raw.endpoints, &config, &stop, &mut |i, r| {
                delivered += 1;
                if sink_error.is_none()
                    && let Err(e) = stage.take_scanned(raw.places[i], r)
                {
                    sink_error = Some(e);
                }
            })
        });
        if let Some(e) = sink_error {
            interrupt.abort();
            return Err(e);
        }
        match scanned {
            Ok(()) => {}
            Err(e) if fallback && delivered == 0 => {
                interrupt.abort();
                stage.note(&format!(
                    "the SYN scan could not start ({e}); probing with ordinary connects"
                ))?;
                return drive_run(plan, &[], None, (prober(), engine, responder), stage).await;
            }
            Err(e) => {
                interrupt.abort();
                return Err(Error::Environment(format!("raw mode: {e}")));
            }
        }
        interrupted = stop.load(Ordering::Relaxed);
        if !interrupted && !rest.places.is_empty() {
            let unresolved = rest
                .places
                .iter()
                .map(|&i| plan.unresolved(i).map(str::to_owned))
                .collect();
            let others = Endpoints::listed(rest.endpoints, unresolved);
            let probers = (prober(), engine.clone(), responder);
            let run = drive_run(&others, &rest.places, Some(stop_rx.clone()), probers, stage);
            interrupted = run.await?.interrupted;
        }
    }
    interrupt.abort();
    Ok(Driven { interrupted })
}

/// Endpoints of one chunk of the plan and their places in it.
#[derive(Default)]
struct Chunk {
    endpoints: Vec<Endpoint>,
    places: Vec<usize>,
}

impl Chunk {
    fn with_capacity(n: usize) -> Self {
        Self {
            endpoints: Vec::with_capacity(n),
            places: Vec::with_capacity(n),
        }
    }
}
