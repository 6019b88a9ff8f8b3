//! How a scan's threads hand their decided results to the consumer: batches on a
//! channel, with a count of the results sent and not yet consumed, and each thread's
//! lowest place it may still decide, so that threads with nothing left to read decide
//! their last ports side by side and no faster than the consumer writes them.
//!
//! Why: a scan's silent ports are decided together when its last wait ends (65,523
//! filtered ports of a firewalled host at once). Built all at once, their results were
//! alive together, in the channel and in the result stage, which emits in plan order and
//! so held one thread's share (its places interleave with the others') until the other
//! threads' came: 30 MB of a full sweep's peak where loopback's needs 16.

use crate::model::ProbeResult;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// Decided results with their places in the scan.
pub type Batch = Vec<(usize, ProbeResult)>;

/// How long a waiting thread sleeps between looks.
const NAP: Duration = Duration::from_micros(200);

/// What the threads of one scan and its consumer share.
pub struct Shared {
    /// Results sent and not yet consumed.
    unconsumed: AtomicUsize,
    /// Per thread: the lowest place it may still decide (0 until its last ports are
    /// decided in order; `usize::MAX` once it has ended).
    lows: Vec<AtomicUsize>,
}

impl Shared {
    /// For a scan of `workers` threads.
    pub fn new(workers: usize) -> Self {
        Self {
            unconsumed: AtomicUsize::new(0),
            lows: (0..workers).map(|_| AtomicUsize::new(0)).collect(),
        }
    }

    /// Counts a consumed batch down.
    pub fn consumed(&self, batch: &Batch) {
        self.unconsumed.fetch_sub(batch.len(), Ordering::Relaxed);
    }

    fn lowest_but(&self, worker: usize) -> usize {
        self.lows
            .iter()
            .enumerate()
            .filter(|&(w, _)| w != worker)
            .map(|(_, low)| low.load(Ordering::Relaxed))
            .min()
            .unwrap_or(usize::MAX)
    }
}

/// One scan thread's end of the hand-over; dropped when the thread ends, which frees the
/// others from waiting for it.
pub struct Sender<'a> {
    tx: mpsc::Sender<Batch>,
    shared: &'a Shared,
    worker: usize,
}

impl<'a> Sender<'a> {
    /// Thread `worker`'s end: sends on `tx`, counting in `shared`.
    pub const fn new(tx: mpsc::Sender<Batch>, shared: &'a Shared, worker: usize) -> Self {
        Self { tx, shared, worker }
    }

    /// Hands `batch` over (nothing when it is empty).
    pub fn send(&self, batch: Batch) {
        if batch.is_empty() {
            return;
        }
        self.shared
            .unconsumed
            .fetch_add(batch.len(), Ordering::Relaxed);
        // The receiver is gone only when the scan is being torn down.
        let _ = self.tx.send(batch);
    }

    /// Before this thread decides its last ports, in ascending places, one by one: says
    /// that `place` is the lowest it may still decide, and waits (unless `stop`) until no
    /// other thread may still decide a place more than `window` below it. Only for a
    /// thread with no replies left to read: while it waits, nothing reads its sockets.
    pub fn wait_for_place(&self, place: usize, window: usize, stop: &AtomicBool) {
        if let Some(low) = self.shared.lows.get(self.worker) {
            low.store(place, Ordering::Relaxed);
        }
        while self.shared.lowest_but(self.worker).saturating_add(window) < place
            && !stop.load(Ordering::Relaxed)
        {
            std::thread::sleep(NAP);
        }
    }

    /// Waits until at most `limit` results sent by any thread are unconsumed, or `stop`.
    /// Only for a thread with no replies left to read.
    pub fn wait_below(&self, limit: usize, stop: &AtomicBool) {
        while self.shared.unconsumed.load(Ordering::Relaxed) > limit
            && !stop.load(Ordering::Relaxed)
        {
            std::thread::sleep(NAP);
        }
    }
}

impl Drop for Sender<'_> {
    fn drop(&mut self) {
        if let Some(low) = self.shared.lows.get(self.worker) {
            low.store(usize::MAX, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(port: u16) -> (usize, ProbeResult) {
        let endpoint = crate::model::Endpoint {
            target: format!("127.0.0.1:{port}"),
            host: "127.0.0.1".into(),
            address: "127.0.0.1".parse().ok(),
            port,
            protocol: crate::model::Protocol::Tcp,
            scope_id: 0,
        };
        let aggregate = crate::probe::aggregate::Aggregate::default();
        (usize::from(port), aggregate.finish(endpoint))
    }

    #[test]
    fn a_sender_waits_until_the_consumer_catches_up() {
        let shared = Shared::new(1);
        let stop = AtomicBool::new(false);
        let (tx, rx) = mpsc::channel();
        let sender = Sender::new(tx, &shared, 0);
        sender.send(Vec::new());
        assert_eq!(shared.unconsumed.load(Ordering::Relaxed), 0, "nothing sent");
        sender.send(vec![result(1), result(2), result(3)]);
        assert_eq!(shared.unconsumed.load(Ordering::Relaxed), 3);
        std::thread::scope(|scope| {
            scope.spawn(|| sender.wait_below(0, &stop));
            let batch = rx.recv().unwrap();
            shared.consumed(&batch);
        });
        assert_eq!(shared.unconsumed.load(Ordering::Relaxed), 0);
        // A stop ends the wait whatever the count.
        sender.send(vec![result(4)]);
        stop.store(true, Ordering::Relaxed);
        sender.wait_below(0, &stop);
    }

    #[test]
    fn a_thread_ahead_waits_for_the_others_places_or_their_end() {
        let shared = Shared::new(2);
        let stop = AtomicBool::new(false);
        let (tx, _rx) = mpsc::channel();
        let (ahead, behind) = (
            Sender::new(tx.clone(), &shared, 0),
            Sender::new(tx, &shared, 1),
        );
        // Within the window of the other's lowest place (0): no wait.
        ahead.wait_for_place(10, 10, &stop);
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| ahead.wait_for_place(1000, 10, &stop));
            std::thread::sleep(Duration::from_millis(20));
            assert!(!waiter.is_finished(), "1000 is far ahead of 0");
            behind.wait_for_place(995, 10, &stop);
            waiter.join().unwrap();
        });
        // A thread that has ended holds no one back.
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| ahead.wait_for_place(5000, 10, &stop));
            drop(behind);
            waiter.join().unwrap();
        });
    }
}
