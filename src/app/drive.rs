//! Runs the probe engine for a command: the runtime, Ctrl-C, and the loop that hands each
//! event to the command's observer and collects the results in plan order.

use crate::error::{Error, Result};
use crate::model::{Endpoint, ProbeResult, State};
use crate::plan::endpoints::Endpoints;
use crate::probe::attempt::Answer;
use crate::probe::{EngineConfig, Event, SocketProber};
use std::net::IpAddr;
use std::time::Duration;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, watch};

/// Worker threads at most: beyond this, sockets contend in the kernel more than they gain.
const MAX_WORKERS: usize = 4;
/// Events queued between the engine and the consumer (a few ticks' worth of a sweep).
const EVENT_QUEUE: usize = 16 * 1024;
/// How long the consumer sleeps when no event is waiting: results appear at most this late.
const DRAIN_TICK: Duration = Duration::from_millis(5);
/// Plans up to this size are drained by waiting on the queue instead of by the tick: a wake
/// per event costs nothing there, while the tick added up to 5 ms to every result and woke
/// the thread 200 times a second while a silent port was waited on (the exporter's probes).
const PARKED_DRAIN: usize = 64;

/// What a command does with events as they come.
pub trait Observer {
    /// Whether [`Observer::attempt`] wants each attempt (each one's endpoint is rebuilt
    /// from the plan for it: a sweep that shows none says so).
    fn wants_attempts(&self) -> bool {
        true
    }
    /// One attempt finished.
    fn attempt(
        &mut self,
        _endpoint: &Endpoint,
        _seq: u32,
        _try_no: u32,
        _answer: &Answer,
    ) -> Result<()> {
        Ok(())
    }
    /// An endpoint is finished.
    fn done(&mut self, _result: &ProbeResult) -> Result<()> {
        Ok(())
    }
    /// An endpoint is finished: its result, handed over, and its place in the plan.
    fn take(&mut self, _index: usize, result: ProbeResult) -> Result<()> {
        self.done(&result)
    }
    /// The queue is drained for now (a moment to flush output).
    fn idle(&mut self) -> Result<()> {
        Ok(())
    }
    /// `address` rations its ICMP errors: its silent UDP ports are retried slowly now.
    fn icmp_rationed(&mut self, _address: IpAddr) -> Result<()> {
        Ok(())
    }
    /// `address`'s spaced retries are used up: its other silent UDP ports were not asked
    /// again slowly.
    fn icmp_budget_spent(&mut self, _address: IpAddr) -> Result<()> {
        Ok(())
    }
}

/// An observer that only collects.
pub struct Quiet;

impl Observer for Quiet {}

/// The I/O runtime: on loopback and near hosts a sweep is bound by the kernel's work in
/// `connect()` and `close()`; a worker per core (up to a few) spreads it.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    let cannot =
        |e: std::io::Error| Error::Environment(format!("cannot start the I/O runtime: {e}"));
    descriptors_for_runtime().map_err(cannot)?;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_WORKERS));
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .map_err(cannot)
}

/// Descriptors the runtime opens for itself: the epoll instance, its waker, the signal
/// socket pair (once per process) and the reactor's copy of it.
#[cfg(unix)]
const RUNTIME_DESCRIPTORS: usize = 5;

/// tokio panics when it cannot open its signal socket pair (`ulimit -n 6`: exit 101 and a
/// backtrace), so the runtime's descriptors are opened first, held at once and given back:
/// too few is then the usual one-line error (exit 3). Nothing else opens files meanwhile.
#[cfg_attr(
    not(unix),
    expect(
        clippy::unnecessary_wraps,
        reason = "Windows has no descriptor limit to meet"
    )
)]
fn descriptors_for_runtime() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let held = (0..RUNTIME_DESCRIPTORS)
            .map(|_| std::fs::File::open("/dev/null"))
            .collect::<std::io::Result<Vec<_>>>();
        if let Err(e) = held
            && matches!(
                e.raw_os_error(),
                Some(nix::libc::EMFILE | nix::libc::ENFILE)
            )
        {
            return Err(e);
        }
    }
    Ok(())
}

/// What a run came to: whether Ctrl-C ended it (the results went to the observer).
#[derive(Debug, Default, Clone, Copy)]
pub struct Driven {
    /// Ctrl-C ended the run.
    pub interrupted: bool,
}

/// Probes `endpoints` (`unresolved[i]`: why endpoint i has no address) until done or
/// Ctrl-C; returns the results in plan order (those finished, after a Ctrl-C). With
/// `responder`, the user vouches that an ipdiag responder answers on the target, so UDP
/// silence can only mean filtered. For the few endpoints of a command that needs them all
/// at once (`doctor`, a round of `check`); `probe` streams through [`drive_run`].
pub async fn drive(
    endpoints: Vec<Endpoint>,
    unresolved: &[Option<String>],
    prober: SocketProber,
    engine: EngineConfig,
    responder: bool,
    observer: &mut impl Observer,
) -> Result<Vec<ProbeResult>> {
    let plan = Endpoints::listed(endpoints, unresolved.to_vec());
    let mut collect = Collect {
        inner: observer,
        results: Vec::new(),
    };
    drive_run(&plan, &[], None, (prober, engine, responder), &mut collect).await?;
    let mut results = collect.results;
    results.sort_unstable_by_key(|(index, _)| *index);
    Ok(results.into_iter().map(|(_, r)| r).collect())
}

/// An observer that keeps every result beside handing it on (for [`drive`]).
struct Collect<'o, O: ?Sized> {
    inner: &'o mut O,
    results: Vec<(usize, ProbeResult)>,
}

impl<O: Observer + ?Sized> Observer for Collect<'_, O> {
    fn wants_attempts(&self) -> bool {
        self.inner.wants_attempts()
    }
    fn attempt(
        &mut self,
        endpoint: &Endpoint,
        seq: u32,
        try_no: u32,
        answer: &Answer,
    ) -> Result<()> {
        self.inner.attempt(endpoint, seq, try_no, answer)
    }
    fn take(&mut self, index: usize, result: ProbeResult) -> Result<()> {
        self.inner.done(&result)?;
        self.results.push((index, result));
        Ok(())
    }
    fn idle(&mut self) -> Result<()> {
        self.inner.idle()
    }
    fn icmp_rationed(&mut self, address: IpAddr) -> Result<()> {
        self.inner.icmp_rationed(address)
    }
    fn icmp_budget_spent(&mut self, address: IpAddr) -> Result<()> {
        self.inner.icmp_budget_spent(address)
    }
}

/// Probes a plan that generates its endpoints (the engine takes them one by one as slots
/// free up, and an event's endpoint is rebuilt from its index: a plan of millions of
/// endpoints is never built, nor copied) until done or Ctrl-C, handing each result to the
/// observer as it comes ([`Observer::take`]), with its place: `places[i]` for endpoint i
/// of `plan` (a part of a larger plan), or i itself when `places` is empty. `stop`: the
/// caller's Ctrl-C switch; without one, the run watches for Ctrl-C itself.
pub async fn drive_run(
    plan: &Endpoints,
    places: &[usize],
    stop: Option<watch::Receiver<bool>>,
    (prober, engine, responder): (SocketProber, EngineConfig, bool),
    observer: &mut (impl Observer + ?Sized),
) -> Result<Driven> {
    let (events_tx, mut events) = mpsc::channel(EVENT_QUEUE);
    let (stop, interrupt) = if let Some(stop) = stop {
        (stop, None)
    } else {
        let (stop_tx, stop) = watch::channel(false);
        let interrupt = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = stop_tx.send(true);
            }
        });
        (stop, Some(interrupt))
    };
    let stopped = stop.clone();
    let engine = tokio::spawn(crate::probe::run(
        plan.iter(),
        prober,
        engine,
        events_tx,
        stop,
    ));
    let attempts = observer.wants_attempts();
    // The consumer of a sweep polls rather than parks: with results arriving from several
    // worker threads, waking it for each one costs more than the probes themselves on
    // loopback. A small plan's consumer parks ([`PARKED_DRAIN`]).
    let parks = plan.len() <= PARKED_DRAIN;
    loop {
        let event = match events.try_recv() {
            Ok(event) => event,
            Err(TryRecvError::Empty) => {
                observer.idle()?;
                if !parks {
                    tokio::time::sleep(DRAIN_TICK).await;
                    continue;
                }
                match events.recv().await {
                    Some(event) => event,
                    None => break,
                }
            }
            Err(TryRecvError::Disconnected) => break,
        };
        match event {
            Event::Attempt {
                index,
                seq,
                try_no,
                answer,
            } => {
                if attempts && let Some(endpoint) = plan.get(index) {
                    observer.attempt(&endpoint, seq, try_no, &answer)?;
                }
            }
            Event::Done { index, mut result } => {
                if let Some(message) = plan.unresolved(index) {
                    result.error = Some(message.to_owned());
                }
                if responder && result.state == State::OpenFiltered {
                    result.state = State::Filtered;
                }
                observer.take(places.get(index).copied().unwrap_or(index), result)?;
            }
            Event::IcmpRationed { address } => observer.icmp_rationed(address)?,
            Event::IcmpBudgetSpent { address } => observer.icmp_budget_spent(address)?,
        }
    }
    observer.idle()?;
    // The engine has ended (its events channel closed); a join error is a bug in a task,
    // reported rather than hidden.
    engine
        .await
        .map_err(|e| Error::Environment(format!("the probe engine failed: {e}")))?;
    if let Some(interrupt) = interrupt {
        interrupt.abort();
    }
    let interrupted = *stopped.borrow();
    Ok(Driven { interrupted })
}
