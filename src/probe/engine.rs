//! The probe engine: runs the attempts for many endpoints at once, within the limits.
//!
//! - **Concurrency**: at most `concurrency` endpoints in flight (a semaphore; a new endpoint
//!   starts only when one finishes, so memory stays bounded for a 65,535-port sweep).
//! - **Rate**: every send (retries included) takes a slot from one pacer, `rate` per second.
//!   Loopback is not paced unless asked: the cap protects networks, and loopback has none.
//! - **Timeouts and retries** adapt per host (`timing.rs`): silence is retried only as often
//!   as loss on that host justifies, and only when a single attempt decides the state
//!   (`count == 1`); with `--count N` each attempt is a measurement and is never retried.
//! - **Back-pressure**: an attempt that finds the host out of file descriptors, buffers or
//!   local ports waits for others to finish and tries again; it is never a result.
//! - **ICMP rationing** (`icmp_limit.rs`): once a host has answered UDP with port
//!   unreachable, a silent UDP port there always gets a retry, spaced so that the host's
//!   ICMP allowance has refilled; the silences such a retry explains are not loss.
//! - **Plan order, bounded**: no endpoint starts more than [`WINDOW`] places after the
//!   oldest one still in flight, so results come back at most that far out of plan order
//!   and a consumer that writes them in order holds at most that many (a filtered port
//!   waiting for its retries no longer lets a sweep's closed ports pile up behind it).
//! - **Deadline** (`check --wait`, `wait --timeout`): no wait lasts past it, no send starts
//!   after it; an endpoint that never got a send before it is not reported at all.
//!
//! The engine never prints: it sends [`Event`]s to one consumer that owns the output.

use super::aggregate::Aggregate;
use super::attempt::{Answer, Busy};
use super::icmp_limit::{IcmpLimits, Reservation};
use super::rate::Pacer;
use super::reason::{Observation, errno_text, judge};
use super::timing::{HostTiming, TimingConfig};
use crate::model::{Endpoint, ProbeResult, Protocol, Reason, State};
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};

/// How long an attempt that found the host out of resources waits before trying again.
const BUSY_BACKOFF: Duration = Duration::from_millis(10);
/// Beyond the longest wait for an answer: how long an attempt stays out of resources while
/// no other attempt finishes before it gives up. Attempts in flight end within their
/// timeout and free what they hold; when none did, none will (`ulimit -n` too small for
/// even one probe), and waiting longer would never end.
const BUSY_GRACE: Duration = Duration::from_secs(1);

/// How far past the oldest endpoint in flight the next one may start (see the module's
/// doc): 32,768 results of ~300 bytes, 10 MB at worst, and on loopback or a near network
/// never reached (the oldest finishes within its timeout while the rest go on).
pub const WINDOW: usize = 1 << 15;

/// Makes one attempt. The real one is [`super::SocketProber`]; tests use fakes.
pub trait Prober: Send + Sync + 'static {
    /// Probes `endpoint` once (its address is set), waiting at most `wait`.
    fn attempt(
        &self,
        endpoint: &Endpoint,
        wait: Duration,
    ) -> impl Future<Output = Result<Answer, Busy>> + Send;
}

/// The engine's limits and repetition.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Endpoints in flight at once.
    pub concurrency: usize,
    /// Sends per second across the run; `None`: unpaced.
    pub rate: Option<f64>,
    /// Pace loopback targets too (set when the user gave `--rate`).
    pub pace_loopback: bool,
    /// Attempts per endpoint; `None`: until stopped.
    pub count: Option<u32>,
    /// Pause between attempts to the same endpoint.
    pub interval: Duration,
    /// Timeouts and retries.
    pub timing: TimingConfig,
    /// The run ends here whatever is in flight: every wait for an answer is cut to the
    /// time left, so a caller's time limit is a hard one. `None`: no limit.
    pub deadline: Option<Instant>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            concurrency: 1000,
            rate: Some(20_000.0),
            pace_loopback: false,
            count: Some(1),
            interval: Duration::from_secs(1),
            timing: TimingConfig::default(),
            deadline: None,
        }
    }
}

/// What the engine reports, in the order things happen.
#[derive(Debug, Clone)]
pub enum Event {
    /// One attempt finished (for live, tcping-style output).
    Attempt {
        /// The endpoint's index in the input.
        index: usize,
        /// Which of the `count` attempts (0-based).
        seq: u32,
        /// Which send of this attempt (0 = first, then retries).
        try_no: u32,
        /// What came back.
        answer: Answer,
    },
    /// An endpoint is finished.
    Done {
        /// The endpoint's index in the input.
        index: usize,
        /// Its result.
        result: ProbeResult,
    },
    /// A host rations its ICMP errors: its silent UDP ports are retried about one a second
    /// from now on (sent once per host, before the first such retry).
    IcmpRationed {
        /// The host.
        address: IpAddr,
    },
    /// The host's spaced retries are used up (`icmp_limit::BUDGET`): its other silent UDP
    /// ports are retried at once, and may stay `open|filtered` though closed.
    IcmpBudgetSpent {
        /// The host.
        address: IpAddr,
    },
}

/// What came of waiting for a rationing host's ICMP allowance.
enum Allowance {
    /// The host does not ration (or is loopback), or its budget is spent: retry at once.
    NotRationed,
    /// The allowance (or the deadline) came.
    Waited,
    /// Ctrl-C while waiting: no more sends.
    Stopped,
}

/// State shared by all endpoint tasks of a run.
struct Shared<P> {
    prober: P,
    config: EngineConfig,
    pacer: Option<Mutex<Pacer>>,
    hosts: Mutex<HashMap<IpAddr, HostTiming>>,
    icmp: Mutex<IcmpLimits>,
    /// The concurrency bound: one permit per endpoint in flight.
    permits: Arc<Semaphore>,
    /// Attempts finished so far: progress that frees local resources.
    finished: AtomicU64,
}

/// One endpoint's task: where its events go, the stop switch, and its place in the
/// concurrency bound (given back while a spaced retry waits, see `wait_for_icmp_allowance`).
struct Task<'a> {
    index: usize,
    events: &'a mpsc::Sender<Event>,
    stop: watch::Receiver<bool>,
    permit: Option<OwnedSemaphorePermit>,
}

/// Probes every endpoint; returns when all are done or `stop` turns true (then the
/// endpoints in flight finish their current attempt and report, the rest are skipped), or at
/// the deadline (the endpoints in flight report what they saw until then, the rest are
/// skipped). Endpoints are taken from `endpoints` one at a time as slots free up, so a plan
/// that generates them is never built whole.
pub async fn run<P: Prober>(
    endpoints: impl IntoIterator<Item = Endpoint>,
    prober: P,
    config: EngineConfig,
    events: mpsc::Sender<Event>,
    stop: watch::Receiver<bool>,
) {
    let pacer = config.rate.map(|rate| Mutex::new(Pacer::new(rate)));
    let shared = Arc::new(Shared {
        prober,
        pacer,
        hosts: Mutex::new(HashMap::new()),
        icmp: Mutex::new(IcmpLimits::default()),
        // tokio's semaphore panics above 2^61 - 1 permits: a library caller's `usize::MAX`.
        permits: Arc::new(Semaphore::new(
            config.concurrency.clamp(1, Semaphore::MAX_PERMITS),
        )),
        finished: AtomicU64::new(0),
        config,
    });
    let mut tasks = JoinSet::new();
    // The endpoints in flight, by index: the first is the oldest.
    let mut in_flight: BTreeSet<usize> = BTreeSet::new();
    for (index, endpoint) in endpoints.into_iter().enumerate() {
        while in_flight
            .first()
            .is_some_and(|&oldest| index >= oldest + WINDOW)
        {
            match tasks.join_next().await {
                Some(done) => finished(&mut in_flight, &done),
                None => break,
            }
        }
        let Ok(permit) = Arc::clone(&shared.permits).acquire_owned().await else {
            break;
        };
        if *stop.borrow() {
            break;
        }
        // Past the deadline nothing is sent; a name that did not resolve needs no send,
        // and its reason (a lookup that timed out, say) is worth reporting.
        if shared.past_deadline() && endpoint.address.is_some() {
            continue;
        }
        let (shared, events, stop) = (Arc::clone(&shared), events.clone(), stop.clone());
        tasks.spawn(async move {
            let mut task = Task {
                index,
                events: &events,
                stop,
                permit: Some(permit),
            };
            let result = shared.probe_endpoint(endpoint, &mut task).await;
            drop(task);
            // The consumer may have gone (closed pipe); then nobody needs the result.
            if let Some(result) = result {
                let _ = events.send(Event::Done { index, result }).await;
            }
            index
        });
        in_flight.insert(index);
        while let Some(done) = tasks.try_join_next() {
            finished(&mut in_flight, &done);
        }
    }
    while tasks.join_next().await.is_some() {}
}

/// An endpoint's task ended: it is no longer in flight. A task that panicked (a bug) has
/// lost its index; the oldest is let go in its place, so the window never waits for it.
fn finished(in_flight: &mut BTreeSet<usize>, done: &Result<usize, tokio::task::JoinError>) {
    match done {
        Ok(index) => {
            in_flight.remove(index);
        }
        Err(_) => {
            in_flight.pop_first();
        }
    }
}

impl<P: Prober> Shared<P> {
    /// The endpoint's result; `None` when the deadline came before its first send (a result
    /// without an attempt would claim a silence nobody waited for).
    async fn probe_endpoint(&self, endpoint: Endpoint, task: &mut Task<'_>) -> Option<ProbeResult> {
        let mut aggregate = Aggregate::default();
        let Some(address) = endpoint.address else {
            return Some(aggregate.finish(endpoint));
        };
        let mut seq = 0;
        loop {
            let went_on = self
                .attempt_with_retries(seq, &endpoint, address, &mut aggregate, task)
                .await;
            seq += 1;
            if !went_on
                || self.config.count.is_some_and(|count| seq >= count)
                || *task.stop.borrow()
            {
                break;
            }
            tokio::select! {
                () = self.sleep_at_most(self.config.interval) => {}
                _ = task.stop.changed() => break,
            }
        }
        (aggregate.attempts() > 0).then(|| aggregate.finish(endpoint))
    }

    /// One attempt; silence is retried while this host's observed loss justifies it, and a
    /// silent UDP port on a host that rations ICMP gets a spaced retry in any case. False
    /// when the deadline stopped it (nothing more may be sent).
    async fn attempt_with_retries(
        &self,
        seq: u32,
        endpoint: &Endpoint,
        address: IpAddr,
        aggregate: &mut Aggregate,
        task: &mut Task<'_>,
    ) -> bool {
        let udp = endpoint.protocol == Protocol::Udp;
        let (mut try_no, mut silences, mut spaced_any) = (0, 0, false);
        loop {
            let spaced = if try_no > 0 && udp {
                match self.wait_for_icmp_allowance(address, task).await {
                    Allowance::Stopped => return true,
                    Allowance::Waited => true,
                    Allowance::NotRationed => false,
                }
            } else {
                false
            };
            spaced_any |= spaced;
            // A spaced retry's answer is no evidence of loss: its try number is not learnt.
            let Some(answer) = self
                .send(
                    endpoint,
                    address,
                    if spaced { 0 } else { try_no },
                    &mut task.stop,
                )
                .await
            else {
                return false;
            };
            let unreachable = udp
                && judge(Protocol::Udp, address, &answer.observation)
                    == (State::Closed, Reason::PortUnreach);
            if unreachable {
                self.lock_icmp()
                    .answered_unreachable(address, Instant::now());
            }
            aggregate.record(&answer);
            let silent = answer.observation == Observation::Silence;
            let _ = task
                .events
                .send(Event::Attempt {
                    index: task.index,
                    seq,
                    try_no,
                    answer,
                })
                .await;
            let mut retries = self.retries(address);
            if silent && udp && self.lock_icmp().rations(address) {
                retries = retries.max(self.config.timing.max_retries.min(1));
            }
            let may_retry =
                self.config.count == Some(1) && try_no < retries && !*task.stop.borrow();
            if !(silent && may_retry) {
                if unreachable && spaced_any {
                    // The target was out of ICMP allowance, not the path out of luck.
                    aggregate.not_lost(silences);
                }
                return true;
            }
            silences += 1;
            try_no += 1;
        }
    }

    /// Before a UDP retry to a host that rations ICMP: waits for its next allowance, the
    /// deadline or Ctrl-C, whichever comes first (and says so, once per host). A rationing
    /// host can queue a retry for each of its silent ports, a second apart: while one waits
    /// it gives its concurrency permit back, so other hosts' ports go on meanwhile.
    async fn wait_for_icmp_allowance(&self, address: IpAddr, task: &mut Task<'_>) -> Allowance {
        let reservation = self.lock_icmp().reserve(address, Instant::now());
        let slot = match reservation {
            Reservation::Spaced(slot) => slot,
            Reservation::NotRationed => return Allowance::NotRationed,
            Reservation::Spent { first } => {
                if first {
                    let _ = task.events.send(Event::IcmpBudgetSpent { address }).await;
                }
                return Allowance::NotRationed;
            }
        };
        if slot.first {
            let _ = task.events.send(Event::IcmpRationed { address }).await;
        }
        task.permit = None;
        let until = self.config.deadline.map_or(slot.at, |d| d.min(slot.at));
        tokio::select! {
            () = sleep_until(until) => {}
            Ok(()) = task.stop.changed() => {}
        }
        if *task.stop.borrow() {
            return Allowance::Stopped;
        }
        task.permit = Arc::clone(&self.permits).acquire_owned().await.ok();
        Allowance::Waited
    }

    fn lock_icmp(&self) -> std::sync::MutexGuard<'_, IcmpLimits> {
        self.icmp.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends once, waiting out back-pressure; feeds the host's RTT estimate (`try_no` > 0:
    /// an answer on a retry, which is loss). The wait ends at the deadline at the latest;
    /// `None`: the deadline or Ctrl-C came first. Ctrl-C cuts the wait for a pacing slot
    /// (at `--rate 1` a hundred admitted probes wait up to a hundred seconds for theirs) and
    /// the wait for an answer: that attempt is not counted, nothing having been learnt.
    /// Back-pressure is waited out only while other attempts make progress (see
    /// [`BUSY_GRACE`]); then the attempt is a local error that names the resource.
    async fn send(
        &self,
        endpoint: &Endpoint,
        address: IpAddr,
        try_no: u32,
        stop: &mut watch::Receiver<bool>,
    ) -> Option<Answer> {
        let mut busy: Option<(Instant, u64)> = None;
        loop {
            let attempt = async {
                self.pace(address).await;
                let mut wait = self.with_host(address, |host| host.timeout(&self.config.timing));
                if let Some(deadline) = self.config.deadline {
                    wait = wait.min(deadline.saturating_duration_since(Instant::now()));
                    if wait.is_zero() {
                        return None;
                    }
                }
                Some(self.prober.attempt(endpoint, wait).await)
            };
            let outcome = tokio::select! {
                biased;
                () = stopped(stop) => return None,
                outcome = attempt => outcome?,
            };
            match outcome {
                Ok(answer) => {
                    self.finished.fetch_add(1, Ordering::Relaxed);
                    if answer.is_response() && !answer.late && !answer.untimed {
                        self.with_host(address, |host| host.observe(answer.rtt, try_no));
                    }
                    return Some(answer);
                }
                Err(Busy(error)) => {
                    let finished = self.finished.load(Ordering::Relaxed);
                    let (since, seen) = *busy.get_or_insert((Instant::now(), finished));
                    if seen != finished {
                        busy = Some((Instant::now(), finished));
                    } else if since.elapsed() >= self.config.timing.max + BUSY_GRACE {
                        return Some(out_of_resources(&error, since.elapsed()));
                    }
                    if *stop.borrow() {
                        return None;
                    }
                    self.sleep_at_most(BUSY_BACKOFF).await;
                }
            }
        }
    }

    /// Sleeps `pause`, or until the deadline if that comes first.
    async fn sleep_at_most(&self, pause: Duration) {
        let until = Instant::now() + pause;
        sleep_until(self.config.deadline.map_or(until, |d| until.min(d))).await;
    }

    fn past_deadline(&self) -> bool {
        self.config.deadline.is_some_and(|d| Instant::now() >= d)
    }

    async fn pace(&self, address: IpAddr) {
        let Some(pacer) = &self.pacer else { return };
        if address.is_loopback() && !self.config.pace_loopback {
            return;
        }
        let slot = pacer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reserve(Instant::now());
        sleep_until(self.config.deadline.map_or(slot, |d| slot.min(d))).await;
    }

    fn retries(&self, address: IpAddr) -> u32 {
        self.with_host(address, |host| host.retries(&self.config.timing))
    }

    fn with_host<T>(&self, address: IpAddr, f: impl FnOnce(&mut HostTiming) -> T) -> T {
        let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
        f(hosts.entry(address).or_default())
    }
}

/// Returns once Ctrl-C was pressed (at once if it already was); never, when nobody can
/// press it any more (the sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|stopped| *stopped).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The local error of an attempt that stayed out of resources while nothing else finished.
fn out_of_resources(error: &std::io::Error, waited: Duration) -> Answer {
    let message = format!(
        "this machine stayed out of a resource for {:.1} s while no other probe finished ({}): {} or lower --concurrency",
        waited.as_secs_f64(),
        errno_text(error),
        crate::sys::System::HERE.words().more_sockets
    );
    Answer::new(Observation::Local(message.into()), Duration::ZERO)
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "engine_busy_tests.rs"]
mod busy_tests;
