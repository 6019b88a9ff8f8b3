//! The SYN scan: each sending thread (one per core, up to four, sharing `--rate`: see
//! `pacing.rs`) sends paced SYNs and, between batches, reads the replies that queued up on
//! its raw sockets (non-blocking, so no reply wakes anybody: on loopback a
//! reply arrives inside our own `sendto`, and a receiver thread woken per packet cost more
//! than the scan), matching each by its cookie; retry rounds for the ports that stayed
//! silent.
//!
//! A round sends a SYN to every pending port, then waits one adaptive timeout (the
//! engine's `HostTiming`: srtt + 4·rttvar, clamped to `--timeout`) after the last send,
//! ending early once every port answered. The first retry round always runs; the others,
//! up to `--retries`, only once loss was seen (a port that answered only a retry), as nmap
//! adapts its retransmissions: on a clean path a silent port costs two tries, on a lossy
//! one every try allowed. A reply is timed from the try it answers, which its
//! destination port names (`tries.rs`); one whose try cannot be told gives no RTT sample
//! (Karn's algorithm). States and reasons come from
//! `probe::reason::judge`, the same table connect mode uses: SYN-ACK → open, RST →
//! closed, ICMP unreachable or time exceeded → filtered (naming the sender), silence →
//! filtered / no-response.

use super::SynConfig;
use super::cookie::Cookies;
use super::families::Families;
use super::handover::{self, Batch};
use super::pacing::{pace, paces, share};
use super::packet::{Reply, Said, icmp4_reply, icmp6_reply, ipv4_payload, syn, tcp_reply};
use super::sockets::{RawSockets, receive};
use super::split::Stride;
use super::tries::{Sends, arrival, try_of};
use crate::model::{Endpoint, Method, ProbeResult};
use crate::probe::aggregate::Aggregate;
use crate::probe::attempt::Answer;
use crate::probe::rate::Pacer;
use crate::probe::reason::{IcmpReport, Observation};
use crate::probe::timing::{HostTiming, LOSSY_FLOOR};
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Replies are taken in between sends every this many SYNs.
const DRAIN_EVERY: usize = 256;
/// Scans of this many endpoints are split among threads.
const PARALLEL_FROM: usize = 4096;
/// The most scan threads.
const MAX_WORKERS: usize = 4;
/// The longest sleep while waiting for replies (a Ctrl-C is seen this soon).
const TICK: Duration = Duration::from_millis(10);
/// A send buffer that stays full this long is an error, not congestion.
const SEND_STUCK: Duration = Duration::from_secs(5);
/// The longest a receive buffer is (IPv4 packets with options, ICMP quotes).
const PACKET_MAX: usize = 2048;
/// Results handed over at a time when a scan's last silent ports are decided together.
const FINAL_BATCH: usize = 512;

/// One endpoint's progress: when its tries left, how many of their rounds ended in
/// silence, and whether it is decided. Its [`Aggregate`] is built only when it is decided:
/// until then all it can have met is silence (its first answer or local failure decides
/// it), so the count is its whole history, in 48 bytes instead of an aggregate's 200.
#[derive(Default)]
struct Slot {
    sends: Sends,
    silent: u32,
    done: bool,
}

/// Scans `endpoints` (TCP, with addresses) by SYN until done or `stop`; `on_done` gets
/// each result as it is decided, with its place in `endpoints` (after a stop, only the
/// endpoints decided by then). Nothing is kept after it: the caller takes the plan a
/// chunk at a time, so a scan holds one slot per endpoint of the chunk.
///
/// A large scan is split among a few threads, each with its own sockets and source port:
/// on a near network (loopback above all) the kernel's work for a SYN and its reply
/// happens inside `sendto`, on the sending core, so more senders use more cores. The rate
/// cap is shared out among them.
pub fn scan(
    endpoints: &[Endpoint],
    config: &SynConfig,
    stop: &AtomicBool,
    on_done: &mut dyn FnMut(usize, ProbeResult),
) -> io::Result<()> {
    let workers = workers(endpoints.len());
    let share = SynConfig {
        rate: share(config.rate, workers),
        ..config.clone()
    };
    let (tx, rx) = mpsc::channel::<Batch>();
    let shared = handover::Shared::new(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let tx = handover::Sender::new(tx.clone(), &shared, worker);
                let share = &share;
                let stride = Stride::new(worker, workers, endpoints.len());
                scope.spawn(move || scan_part(endpoints, stride, share, stop, &tx))
            })
            .collect();
        drop(tx);
        for batch in rx {
            shared.consumed(&batch);
            for (i, result) in batch {
                on_done(i, result);
            }
        }
        handles.into_iter().try_for_each(|h| {
            h.join()
                .unwrap_or_else(|_| Err(io::Error::other("a scan thread failed")))
        })
    })
}

/// Which endpoints a reply can be for: each target with its place, sorted, so a target's
/// places (a plan may name a port twice) sit together and a binary search finds them. 36
/// bytes a target: a hash map of 65,535 targets took twice that in empty buckets.
fn index_of(targets: impl Iterator<Item = Option<SocketAddr>>) -> Vec<(SocketAddr, u32)> {
    let mut index: Vec<(SocketAddr, u32)> = targets
        .zip(0u32..)
        .filter_map(|(t, j)| Some((t?, j)))
        .collect();
    index.sort_unstable();
    index
}

/// Threads for a scan of `n` endpoints: one for a small scan, else one per core (up to 4).
fn workers(n: usize) -> usize {
    if n < PARALLEL_FROM {
        return 1;
    }
    std::thread::available_parallelism().map_or(1, |c| c.get().min(MAX_WORKERS))
}

/// One thread's share of `endpoints`: the places `stride` gives it.
fn scan_part(
    endpoints: &[Endpoint],
    stride: Stride,
    config: &SynConfig,
    stop: &AtomicBool,
    tx: &handover::Sender<'_>,
) -> io::Result<()> {
    let tries = usize::try_from(config.timing.max_retries)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let mine = (0..stride.len()).filter_map(|j| endpoints[stride.place(j)].socket_addr());
    let families = Families::open(mine, tries)?;
    let mut run = Run::new(endpoints, stride, config, tx);
    let outcome = run.rounds(&families, stop);
    run.flush();
    outcome
}

/// A packet from one of the raw sockets, read as a reply to a SYN (pure).
fn parse(packet: &[u8], from: Option<IpAddr>, v6: bool, tcp: bool) -> Option<Reply> {
    if v6 {
        let IpAddr::V6(from) = from? else {
            return None;
        };
        return if tcp {
            tcp_reply(packet, from.into())
        } else {
            icmp6_reply(packet, from)
        };
    }
    let (from, protocol, payload) = ipv4_payload(packet)?;
    match (tcp, protocol) {
        (true, 6) => tcp_reply(payload, from.into()),
        (false, 1) => icmp4_reply(payload, from),
        _ => None,
    }
}

/// The scan's state, on the sending thread. Its endpoints are numbered 0.. in its share
/// (`stride` gives each one's place in `endpoints`).
struct Run<'a> {
    endpoints: &'a [Endpoint],
    stride: Stride,
    /// Each target with its endpoint's number, sorted (`index_of`).
    index: Vec<(SocketAddr, u32)>,
    slots: Vec<Slot>,
    hosts: HashMap<IpAddr, HostTiming>,
    config: &'a SynConfig,
    cookies: Cookies,
    buf: Vec<u8>,
    /// Results decided since the last hand-over (handed over in batches: one wake-up of
    /// the consumer per batch, not per port).
    decided: Batch,
    tx: &'a handover::Sender<'a>,
    /// Some reply answered a retry (or a try that cannot be told): loss.
    retry_answered: bool,
}

impl<'a> Run<'a> {
    /// The state of a scan of the share of `endpoints` that `stride` gives.
    fn new(
        endpoints: &'a [Endpoint],
        stride: Stride,
        config: &'a SynConfig,
        tx: &'a handover::Sender<'a>,
    ) -> Self {
        let index = index_of((0..stride.len()).map(|j| endpoints[stride.place(j)].socket_addr()));
        Run {
            endpoints,
            stride,
            index,
            slots: std::iter::repeat_with(Slot::default)
                .take(stride.len())
                .collect(),
            hosts: HashMap::new(),
            config,
            cookies: Cookies::default(),
            buf: vec![0u8; PACKET_MAX],
            decided: Vec::new(),
            tx,
            retry_answered: false,
        }
    }

    fn rounds(&mut self, families: &Families, stop: &AtomicBool) -> io::Result<()> {
        let mut pending: Vec<usize> = (0..self.slots.len()).collect();
        let mut pacer = self.config.rate.map(Pacer::new);
        let mut round = 0u32;
        while !pending.is_empty() && !stop.load(Ordering::Relaxed) {
            let last_send = self.send_round(&pending, families, pacer.as_mut(), stop)?;
            self.wait_round(&pending, families, last_send, stop)?;
            for &i in &pending {
                let slot = &mut self.slots[i];
                if !slot.done {
                    slot.silent += 1;
                }
            }
            pending.retain(|&i| !self.slots[i].done);
            round += 1;
            // Loss seen: some port answered only a retry (a late answer to its first try
            // is slowness, not loss). From then on the silent ports get as many rounds as
            // the loss measured on the hosts needs (`HostTiming::retries`), within
            // --retries, since each of their tries may have been lost too.
            if round > self.rounds_allowed() {
                break;
            }
        }
        if !stop.load(Ordering::Relaxed) {
            // Nothing is left to read: the threads decide their silent ports side by
            // side, in place order, no faster than the consumer takes them (the result
            // stage emits in plan order and would hold whatever comes early).
            self.flush();
            let window = FINAL_BATCH * self.stride.workers();
            for (n, i) in pending.into_iter().enumerate() {
                if n % FINAL_BATCH == 0 {
                    self.flush();
                    self.tx.wait_below(FINAL_BATCH, stop);
                    self.tx.wait_for_place(self.stride.place(i), window, stop);
                }
                self.decide(i, None);
            }
        }
        Ok(())
    }

    /// The retry rounds the scan may run: one while no retry was answered; then what the
    /// lossiest host's measured loss needs, at least `LOSSY_FLOOR`, within --retries.
    fn rounds_allowed(&self) -> u32 {
        let timing = &self.config.timing;
        if !self.retry_answered {
            return timing.max_retries.min(1);
        }
        let needed = self.hosts.values().map(|h| h.retries(timing)).max();
        needed.unwrap_or(0).max(LOSSY_FLOOR).min(timing.max_retries)
    }

    /// Sends a SYN to each pending endpoint; returns when the last one left.
    fn send_round(
        &mut self,
        pending: &[usize],
        families: &Families,
        mut pacer: Option<&mut Pacer>,
        stop: &AtomicBool,
    ) -> io::Result<Instant> {
        let mut last = Instant::now();
        for (n, &i) in pending.iter().enumerate() {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            if n % DRAIN_EVERY == 0 {
                self.drain(families)?;
            }
            if self.slots[i].done {
                continue;
            }
            let Some(target) = self.target(i) else {
                self.fail(i, "no address".into());
                continue;
            };
            let (Some(sockets), Some(Some(source))) =
                (families.of(target), families.sources.get(&target.ip()))
            else {
                self.fail(i, "no route to host".into());
                continue;
            };
            let our_port = sockets.port(self.slots[i].sends.count());
            let from = SocketAddr::new(*source, our_port);
            let Some(packet) = syn(from, target, self.cookies.seq(target, our_port)) else {
                self.fail(i, "no source address of the target's family".into());
                continue;
            };
            if let Some(p) = pacer.as_deref_mut()
                && paces(self.config.pace_loopback, target.ip())
            {
                pace(p, tokio::time::Instant::now, |pause| {
                    sleep_unless(stop, pause);
                });
                if stop.load(Ordering::Relaxed) {
                    break;
                }
            }
            match self.send(families, sockets, &packet, target.ip()) {
                Ok(at) => {
                    last = at;
                    self.slots[i].sends.record(at);
                }
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                    self.fail(i, format!("sending refused by this host's firewall: {e}"));
                }
                Err(e) => self.fail(i, e.to_string()),
            }
        }
        Ok(last)
    }

    /// Sends one SYN and returns when it left; when the socket's send buffer is full (a
    /// fast sweep out of a slow link), takes replies and waits for room, then sends again.
    ///
    /// The time is read right before the `sendto` that sends it (the one after any wait
    /// for room: timed from the first try, a SYN that waited looked that much slower),
    /// after everything else the send needs: on loopback the reply arrives inside that
    /// call, so nothing of ours may sit between the two.
    fn send(
        &mut self,
        families: &Families,
        sockets: &RawSockets,
        packet: &[u8],
        to: IpAddr,
    ) -> io::Result<Instant> {
        let to = SocketAddr::new(to, 0).into();
        let mut full_since: Option<Instant> = None;
        loop {
            let at = Instant::now();
            match sockets.tcp.send_to(packet, &to) {
                Ok(_) => return Ok(at),
                Err(e) if is_full(&e) => {
                    let since = *full_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > SEND_STUCK {
                        return Err(e);
                    }
                    self.drain(families)?;
                    wait_writable(&sockets.tcp, TICK)?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Takes replies until every pending endpoint answered or the timeout after the last
    /// send passed.
    fn wait_round(
        &mut self,
        pending: &[usize],
        families: &Families,
        last_send: Instant,
        stop: &AtomicBool,
    ) -> io::Result<()> {
        loop {
            self.drain(families)?;
            let deadline = last_send + self.round_timeout(pending);
            let now = Instant::now();
            if now >= deadline
                || stop.load(Ordering::Relaxed)
                || pending.iter().all(|&i| self.slots[i].done)
            {
                return Ok(());
            }
            families.wait((deadline - now).min(TICK))?;
        }
    }

    /// The longest adaptive timeout among the round's hosts.
    fn round_timeout(&self, pending: &[usize]) -> Duration {
        let timing = &self.config.timing;
        pending
            .iter()
            .filter_map(|&i| self.target(i))
            .map(|t| {
                self.hosts
                    .get(&t.ip())
                    .map_or(timing.initial, |h| h.timeout(timing))
            })
            .max()
            .unwrap_or(timing.min)
    }

    /// Reads every packet waiting on the raw sockets and handles the replies to our SYNs.
    fn drain(&mut self, families: &Families) -> io::Result<()> {
        // Both clocks read together: each reply's kernel time is placed against them.
        let (now, now_real) = (Instant::now(), real_time());
        for (sockets, tcp) in families.receivers() {
            let socket = if tcp { &sockets.tcp } else { &sockets.icmp };
            while let Some(received) = receive(socket, &mut self.buf)? {
                let at = match (received.at, now_real) {
                    (Some(kernel), Some(real)) => arrival(now, real, kernel),
                    _ => Instant::now(),
                };
                let Some(packet) = self.buf.get(..received.len) else {
                    continue;
                };
                if let Some(reply) = parse(packet, received.from, sockets.v6, tcp).filter(|r| {
                    sockets.owns(r.our_port) && self.cookies.matches(r.target, r.our_port, r.seq)
                }) {
                    self.handle(at, &reply, &sockets.ports);
                }
            }
        }
        self.flush();
        Ok(())
    }

    /// A reply that came at `at` on the sockets whose source ports (one per try) are
    /// `ports` decides every endpoint with its target that has been sent to.
    fn handle(&mut self, at: Instant, reply: &Reply, ports: &[u16]) {
        let first = self.index.partition_point(|(t, _)| *t < reply.target);
        for k in first..self.index.len() {
            let (target, j) = self.index[k];
            if target != reply.target {
                break;
            }
            self.answer(j as usize, at, reply, ports);
        }
    }

    /// The address of endpoint `i` of this share.
    fn target(&self, i: usize) -> Option<SocketAddr> {
        self.endpoints[self.stride.place(i)].socket_addr()
    }

    /// Decides endpoint `i` by `reply`, timed from the try it answers.
    fn answer(&mut self, i: usize, at: Instant, reply: &Reply, ports: &[u16]) {
        let slot = &mut self.slots[i];
        if slot.done || slot.sends.count() == 0 {
            return;
        }
        let answered = try_of(ports, reply.our_port, slot.sends.count());
        let sent_at = answered.and_then(|t| slot.sends.sent_at(t));
        let rtt = sent_at.map_or(Duration::ZERO, |s| at.saturating_duration_since(s));
        let observation = match reply.said {
            Said::SynAck => Observation::Connected,
            Said::Rst => Observation::Refused,
            Said::Icmp { v6, kind, code } => Observation::Icmp(IcmpReport {
                v6,
                kind,
                code,
                from: Some(reply.from),
            }),
        };
        let mut answer = Answer::new(observation, rtt);
        // Karn: without the send time the RTT is unknown; the answer proves the state but
        // is no sample, for the result or for the timeouts.
        answer.untimed = sent_at.is_none();
        // An answer to a try whose wait already ended (its silence is recorded) is late:
        // it decides the port and is no loss.
        let late = answered.filter(|&try_no| try_no < slot.silent);
        if let (Some(try_no), Some(_)) = (answered, sent_at) {
            self.hosts
                .entry(reply.target.ip())
                .or_default()
                .observe(rtt, try_no);
        }
        self.retry_answered |= answered != Some(0);
        self.decide(i, Some((&answer, late)));
    }

    /// A local failure decides the endpoint as an error.
    fn fail(&mut self, i: usize, message: String) {
        let failure = Answer::new(Observation::Local(message.into()), Duration::ZERO);
        self.decide(i, Some((&failure, None)));
    }

    /// Decides endpoint `i`: its silent rounds, then `last` (its answer, late to the try
    /// it names, or its local failure), if any.
    fn decide(&mut self, i: usize, last: Option<(&Answer, Option<u32>)>) {
        let slot = &mut self.slots[i];
        slot.done = true;
        let mut aggregate = Aggregate::default();
        let silence = Answer::new(Observation::Silence, Duration::ZERO);
        for _ in 0..slot.silent {
            aggregate.record(&silence);
        }
        match last {
            Some((answer, Some(try_no))) => aggregate.record_late(answer, try_no),
            Some((answer, None)) => aggregate.record(answer),
            None => {}
        }
        let place = self.stride.place(i);
        let mut result = aggregate.finish(self.endpoints[place].clone());
        result.method = Method::Syn;
        self.decided.push((place, result));
    }

    /// Hands the decided results over.
    fn flush(&mut self) {
        self.tx.send(std::mem::take(&mut self.decided));
    }
}

/// The real-time clock since the Unix epoch, the kernel's receive timestamps' clock.
fn real_time() -> Option<Duration> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
}

/// Sleeps `pause` a tick at a time, ending at Ctrl-C (at `--rate 1` a pause is a second).
fn sleep_unless(stop: &AtomicBool, pause: Duration) {
    let until = Instant::now() + pause;
    while !stop.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(TICK));
    }
}

/// The send buffer is full for now.
fn is_full(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock || e.raw_os_error() == Some(nix::libc::ENOBUFS)
}

/// Sleeps until `socket` has room to send, or `timeout`.
fn wait_writable(socket: &socket2::Socket, timeout: Duration) -> io::Result<()> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let mut fds = [PollFd::new(socket.as_fd(), PollFlags::POLLOUT)];
    let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
    match poll(&mut fds, timeout) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
#[path = "syn_tests.rs"]
mod tests;
