//! Per-session counts for `probe --loss-split`: how many of a session's requests reached
//! the responder, and how many of those it did not answer because of its rate limit. With
//! the client's own counts this splits loss by direction (README "Troubleshooting: recv
//! loses packets").
//!
//! The table is bounded: a flood of made-up session ids must not grow memory, so when it
//! is full the oldest session goes, except that one used since it was last looked at gets
//! a second chance (the clock algorithm: amortised O(1), and a long measurement that is
//! still running outlives a burst of one-shot sessions). Counting happens before the rate
//! limit, so requests the limiter silences are still seen.

use crate::wire::responder::{Session, Tally};
use std::collections::{HashMap, VecDeque};

/// Sessions tracked at most.
pub const MAX_SESSIONS: usize = 4096;

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
    entries: HashMap<u64, Entry>,
    /// Session ids in the order the clock hand visits them.
    order: VecDeque<u64>,
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
        }
    }

    /// Records one request of `session` (`answered`: the rate limit let its reply go) and
    /// returns the session's tally after it. A tally request is not counted.
    pub fn record(&mut self, session: Session, answered: bool) -> Tally {
        if !self.entries.contains_key(&session.id) {
            if self.entries.len() >= self.capacity {
                self.evict();
            }
            self.entries.insert(session.id, Entry::default());
            self.order.push_back(session.id);
        }
        let Some(entry) = self.entries.get_mut(&session.id) else {
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
        assert_eq!(table.record(request(1), true).received, 1);
        assert_eq!(
            table.record(request(1), false),
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
            table.record(ask, false),
            Tally {
                received: 2,
                withheld: 1
            },
            "asking for the tally does not change it, even when the reply is withheld"
        );
        assert_eq!(table.record(request(2), true).received, 1, "per session");
    }

    #[test]
    fn bounded_and_the_oldest_idle_session_goes() {
        let mut table = Sessions::with_capacity(3);
        for id in 1..=3 {
            table.record(request(id), true);
        }
        // The clock passes all three (clearing their bits) and evicts session 1.
        table.record(request(4), true);
        assert_eq!(table.len(), 3);
        // Session 2 is used again, so 3 (idle since the hand passed) goes next.
        table.record(request(2), true);
        table.record(request(5), true);
        assert_eq!(table.len(), 3);
        assert_eq!(table.record(request(2), true).received, 3, "kept");
        assert_eq!(table.record(request(1), true).received, 1, "evicted first");
        for id in 0..100_000 {
            table.record(request(1000 + id), true);
        }
        assert!(table.len() <= 3 && table.order.len() <= 3);
    }
}
