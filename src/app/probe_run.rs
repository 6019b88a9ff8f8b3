//! Running a probe: the SYN scan for the TCP endpoints it can take and the engine for the
//! rest (`syn_then_connect`), and the `Sink` that receives their results as they come
//! (live lines, the progress bar, streamed JSON lines, notes on stderr).

use super::advise::Adviser;
use super::drive::{Observer, drive};
use super::probe::takes_syn;
use super::progress::Progress;
use crate::diagnose::HostIndex;
use crate::error::{Error, Result};
use crate::model::{Endpoint, ProbeResult};
use crate::output::json_stream::JsonStream;
use crate::output::probe_json::ProbeRecord;
use crate::output::probe_live;
use crate::probe::attempt::Answer;
use crate::probe::icmp_limit::{ALLOWANCE, BUDGET};
use crate::probe::{EngineConfig, SocketProber};
use crate::raw::{self, SynConfig};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// JSON-lines output is written out at least every this many bytes.
const STREAM_BATCH: usize = 64 * 1024;

/// TCP endpoints by SYN scan, the rest (UDP, unresolved names) by the engine; the results
/// in plan order. With `fallback` (the scan was picked, not demanded by `--raw`), a scan
/// that fails before its first result is a note, and every endpoint goes by ordinary
/// sockets instead.
pub(super) async fn syn_then_connect(
    endpoints: Vec<Endpoint>,
    unresolved: &[Option<String>],
    (prober, engine, responder): (SocketProber, EngineConfig, bool),
    sink: &mut Sink<'_>,
    fallback: bool,
) -> Result<Vec<ProbeResult>> {
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
        .map(|&i| unresolved.get(i).cloned().flatten())
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
                && let Err(e) = sink.done(r)
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
            sink.note(&format!(
                "the SYN scan could not start ({e}); probing with ordinary connects"
            ))?;
            drop(raw_endpoints);
            return drive(endpoints, unresolved, prober, engine, responder, sink).await;
        }
        Err(e) => return Err(Error::Environment(format!("raw mode: {e}"))),
    };
    if rest_at.is_empty() {
        // Sized up front: a sweep's results are megabytes, copied once.
        let mut results = Vec::with_capacity(scanned.len());
        results.extend(scanned.into_iter().flatten());
        return Ok(results);
    }
    let mut merged: Vec<Option<ProbeResult>> = vec![None; endpoints.len()];
    for (i, r) in raw_at.into_iter().zip(scanned) {
        merged[i] = r;
    }
    if !stop.load(Ordering::Relaxed) && !rest.is_empty() {
        let others = drive(rest, &rest_unresolved, prober, engine, responder, sink).await?;
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
    Ok(merged.into_iter().flatten().collect())
}

/// Where the engine's events go while a run lasts.
pub(super) struct Sink<'a> {
    pub(super) out: &'a mut dyn std::io::Write,
    /// Notes go here (`None` with `-q`).
    pub(super) err: Option<&'a mut dyn std::io::Write>,
    pub(super) live: bool,
    pub(super) progress: Progress,
    pub(super) stream: Option<JsonStream<Vec<u8>>>,
    pub(super) adviser: Adviser,
    /// Results so far, for diagnosing streamed results with what is known at that moment.
    pub(super) index: HostIndex,
}

impl Sink<'_> {
    /// `ipdiag: note: TEXT` on stderr, above the progress bar (nothing with `-q`).
    fn note(&mut self, text: &str) -> Result<()> {
        let Some(err) = self.err.as_mut() else {
            return Ok(());
        };
        self.progress
            .suspend(|| writeln!(err, "ipdiag: note: {text}"))?;
        Ok(())
    }
}

impl Observer for Sink<'_> {
    fn icmp_rationed(&mut self, address: IpAddr) -> Result<()> {
        self.progress.slow(&format!(
            "{address} rations ICMP (retries {:.1} s apart)",
            ALLOWANCE.as_secs_f64()
        ));
        self.note(&format!(
            "{address} rations its ICMP port unreachable messages (Linux: about one a second \
             after a burst of 6), so its silent UDP ports are asked again, one every {:.1} s, \
             lest closed ports pass for open|filtered (--retries 0 skips this)",
            ALLOWANCE.as_secs_f64()
        ))
    }

    fn icmp_budget_spent(&mut self, address: IpAddr) -> Result<()> {
        self.note(&format!(
            "{address}: {BUDGET} silent UDP ports were asked again (about {:.0} s); the rest \
             were not, and some may be closed rather than open|filtered: probe fewer ports \
             at a time, or with --rate 1 (a probe a second stays within the ration)",
            (ALLOWANCE * BUDGET).as_secs_f64()
        ))
    }

    fn attempt(
        &mut self,
        endpoint: &Endpoint,
        seq: u32,
        try_no: u32,
        answer: &Answer,
    ) -> Result<()> {
        if self.live {
            writeln!(
                self.out,
                "{}",
                probe_live::attempt_line(endpoint, seq, try_no, answer)
            )?;
            self.out.flush()?;
        }
        Ok(())
    }

    fn done(&mut self, result: &ProbeResult) -> Result<()> {
        self.progress.done(result.state);
        let Some(stream) = self.stream.as_mut() else {
            return Ok(());
        };
        // Streamed results are diagnosed with the other ports finished so far: filtered
        // ports finish last, so the ports that answered are usually known by then.
        self.index.add(result);
        let diagnosis = self.adviser.diagnose(result, &self.index, None);
        stream.record(&ProbeRecord::new(result, &diagnosis))?;
        if stream.buffer().len() >= STREAM_BATCH {
            self.idle()?;
        }
        Ok(())
    }

    /// Writes out the JSON lines gathered so far.
    fn idle(&mut self) -> Result<()> {
        self.progress.tick();
        if let Some(stream) = self.stream.as_mut()
            && !stream.buffer().is_empty()
        {
            self.out.write_all(&std::mem::take(stream.buffer()))?;
            self.out.flush()?;
        }
        Ok(())
    }
}
