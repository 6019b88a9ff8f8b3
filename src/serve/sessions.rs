//! Per-session counts for `probe --loss-split`: how many of a session's requests reached
//! the responder, and how many of those it did not answer because of its rate limit. With
//! the client's own counts this splits loss by direction (README "Troubleshooting: recv
//! loses packets").
//!
//! Sessions are keyed by (source address and port, id): a client's session is its own, and
//! another sender choosing the same id does not touch it. The table is bounded: a flood of
//! made-up session ids must not grow memory. A source holds [`PER_SOURCE`] sessions at
//! most, and a new one beyond that replaces one of the same source's, so a flood from one
//! socket churns only its own sessions. When the whole table is full the oldest session
//! goes, except that one used since it was last looked at gets a second chance (the clock
//! algorithm: amortised O(1), and a long measurement that is still running outlives a
//! burst of one-shot sessions). Counting happens before the rate limit, so requests the
//! limiter silences are still seen.

use crate::wire::responder::{Session, Tally};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

/// Sessions tracked at most.
pub const MAX_SESSIONS: usize = 4096;
/// Sessions one source (address and port) holds at most; `probe --loss-split` uses one.
pub const PER_SOURCE: usize = 16;

/// A session's key: who sent it and the id it chose.
type Key = (SocketAddr, u64);

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    tally: Tally,
    /// Used since the clock hand last passed it.
    recent: bool,
}

/// The responder's session table.
#[derive(Debug)]
pub struct Sessions {
    capacity: usize,
    entries: HashMap<Key, Entry>,
    /// Sessions in the order the clock hand visits them.
    order: VecDeque<Key>,
    /// Each source's session ids, oldest first (ids already evicted are skipped lazily).
    by_source: HashMap<SocketAddr, VecDeque<u64>>,
}

impl Default for Sessions {
    fn default() -> Self {
        Self::with_capacity(MAX_SESSIONS)
    }
}

impl Sessions {
    /// A table of at most `capacity` sessions (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            entries: HashMap::new(),
            order: VecDeque::new(),
            by_source: HashMap::new(),
        }
    }

    /// Records one request of `session` from `source` (`answered`: the rate limit let its
    /// reply go) and returns the session's tally after it. A tally request is not counted.
    pub fn record(&mut self, source: SocketAddr, session: Session, answered: bool) -> Tally {
        let key = (source, session.id);
        if !self.entries.contains_key(&key) {
            self.make_room(source);
            self.entries.insert(key, Entry::default());
            self.order.push_back(key);
            self.by_source
                .entry(source)
                .or_default()
                .push_back(session.id);
        }
        let Some(entry) = self.entries.get_mut(&key) else {
            return Tally::default();
        };
        entry.recent = true;
        if !session.tally_only {
            entry.tally.received = entry.tally.received.saturating_add(1);
            if !answered {
                entry.tally.withheld = entry.tally.withheld.saturating_add(1);
            }
        }
        entry.tally
    }

    /// Sessions tracked now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no session is tracked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Before a new session of `source`: its oldest session goes if it holds
    /// [`PER_SOURCE`], else the clock's pick if the table is full.
    fn make_room(&mut self, source: SocketAddr) {
        let entries = &self.entries;
        if let Some(ids) = self.by_source.get_mut(&source) {
            ids.retain(|id| entries.contains_key(&(source, *id)));
            if ids.len() >= PER_SOURCE
                && let Some(oldest) = ids.pop_front()
            {
                self.entries.remove(&(source, oldest));
                return;
            }
        }
        if self.entries.len() >= self.capacity {
            self.evict();
        }
        // Sources whose sessions all went are forgotten (the map stays bounded).
        if self.by_source.len() > self.capacity {
            let entries = &self.entries;
            self.by_source
                .retain(|s, ids| ids.iter().any(|id| entries.contains_key(&(*s, *id))));
        }
    }

    /// Removes one session: the first, in clock order, not used since the hand last passed.
    fn evict(&mut self) {
        // Each pass clears a bit, so the loop ends within two turns of the clock.
        for _ in 0..=2 * self.order.len() {
            let Some(id) = self.order.pop_front() else {
                return;
            };
            match self.entries.get_mut(&id) {
                Some(entry) if entry.recent => {
                    entry.recent = false;
                    self.order.push_back(id);
                }
                Some(_) => {
                    self.entries.remove(&id);
                    return;
                }
                None => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> SocketAddr {
        "198.51.100.2:40000".parse().unwrap()
    }

    fn request(id: u64) -> Session {
        Session {
            id,
            seq: 0,
            tally_only: false,
        }
    }

    #[test]
    fn counts_before_the_rate_limit_and_tally_requests_are_free() {
        let mut table = Sessions::default();
        assert_eq!(table.record(me(), request(1), true).received, 1);
        assert_eq!(
            table.record(me(), request(1), false),
            Tally {
                received: 2,
                withheld: 1
            }
        );
        let ask = Session {
            tally_only: true,
            ..request(1)
        };
        assert_eq!(
            table.record(me(), ask, false),
            Tally {
                received: 2,
                withheld: 1
            },
            "asking for the tally does not change it, even when the reply is withheld"
        );
        assert_eq!(
            table.record(me(), request(2), true).received,
            1,
            "per session"
        );
    }

    /// The churn of the issue: another socket floods made-up ids (one of them the
    /// client's own); the client's session keeps its count.
    #[test]
    fn a_flood_of_sessions_from_another_source_does_not_touch_a_clients_count() {
        let mut table = Sessions::default();
        let flood: SocketAddr = "198.51.100.2:50000".parse().unwrap();
        for seq in 0..200u64 {
            table.record(me(), request(7), true);
            for id in 0..200 {
                table.record(flood, request(seq * 1000 + id), true);
            }
            table.record(flood, request(7), true);
        }
        assert_eq!(table.record(me(), request(7), true).received, 201);
        assert!(table.len() <= PER_SOURCE + 1, "{}", table.len());
    }

    #[test]
    fn bounded_and_the_oldest_idle_session_goes() {
        let mut table = Sessions::with_capacity(3);
        for id in 1..=3 {
            table.record(me(), request(id), true);
        }
        // The clock passes all three (clearing their bits) and evicts session 1.
        table.record(me(), request(4), true);
        assert_eq!(table.len(), 3);
        // Session 2 is used again, so 3 (idle since the hand passed) goes next.
        table.record(me(), request(2), true);
        table.record(me(), request(5), true);
        assert_eq!(table.len(), 3);
        assert_eq!(table.record(me(), request(2), true).received, 3, "kept");
        assert_eq!(
            table.record(me(), request(1), true).received,
            1,
            "evicted first"
        );
        for id in 0..100_000 {
            table.record(me(), request(1000 + id), true);
        }
        assert!(table.len() <= 3 && table.order.len() <= 3);
    }
}
