//! The responder's table of open TCP connections, pure: who holds a slot, since when it
//! was last active, and which slot goes when the table is full.
//!
//! Three rules keep a slow client (slowloris: one byte every few seconds on hundreds of
//! connections) from holding every slot: each source address holds a few slots at most
//! (`per_source`), a connection lives for a bounded time (enforced by its task, `tcp.rs`),
//! and when all slots are taken a new connection takes the slot of the connection idle
//! the longest, so a real client is served and an idle holder is the one dropped.
//! Must not do I/O: the caller closes what an eviction hands back.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

/// TCP connections one source address may hold at once, by default.
pub const PER_SOURCE: usize = 16;

/// A slot's number in the table.
pub type SlotId = u64;

#[derive(Debug)]
struct Slot<H> {
    source: IpAddr,
    last: Instant,
    handle: H,
}

/// What the table decided about a new connection.
#[derive(Debug, PartialEq, Eq)]
pub enum Admit<H> {
    /// It holds slot `id`; `evicted` is the handle of the idle connection it replaced,
    /// which the caller closes.
    Open {
        /// The new connection's slot.
        id: SlotId,
        /// The connection dropped to make room, if the table was full.
        evicted: Option<H>,
    },
    /// Its source already holds `per_source` connections: close it.
    SourceFull,
}

/// Open connections, at most `max` in all and `per_source` per address; `H` is what the
/// caller needs to close one (a notifier; `()` in tests).
#[derive(Debug)]
pub struct Conns<H> {
    max: usize,
    per_source: usize,
    next: SlotId,
    slots: HashMap<SlotId, Slot<H>>,
    by_source: HashMap<IpAddr, usize>,
}

impl<H> Conns<H> {
    /// A table of `max` slots (at least one), `per_source` (at least one) per address.
    pub fn new(max: usize, per_source: usize) -> Self {
        Self {
            max: max.max(1),
            per_source: per_source.max(1),
            next: 0,
            slots: HashMap::new(),
            by_source: HashMap::new(),
        }
    }

    /// Admits a connection from `source` at `now`, evicting the idlest one if full.
    pub fn admit(&mut self, source: IpAddr, now: Instant, handle: H) -> Admit<H> {
        if self.by_source.get(&source).copied().unwrap_or(0) >= self.per_source {
            return Admit::SourceFull;
        }
        let evicted = if self.slots.len() >= self.max {
            self.idlest().and_then(|id| self.close(id))
        } else {
            None
        };
        let id = self.next;
        self.next += 1;
        self.slots.insert(
            id,
            Slot {
                source,
                last: now,
                handle,
            },
        );
        *self.by_source.entry(source).or_insert(0) += 1;
        Admit::Open { id, evicted }
    }

    /// The connection in `id` was active at `now` (it sent something).
    pub fn touch(&mut self, id: SlotId, now: Instant) {
        if let Some(slot) = self.slots.get_mut(&id) {
            slot.last = now;
        }
    }

    /// Frees slot `id` (the connection closed, or was evicted); its handle, if it was open.
    pub fn close(&mut self, id: SlotId) -> Option<H> {
        let slot = self.slots.remove(&id)?;
        if let Some(count) = self.by_source.get_mut(&slot.source) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.by_source.remove(&slot.source);
            }
        }
        Some(slot.handle)
    }

    /// Connections open now.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The slot idle the longest (ties: the oldest slot). A scan, only when the table is
    /// full: cheaper than keeping an ordered index updated on every read.
    fn idlest(&self) -> Option<SlotId> {
        self.slots
            .iter()
            .min_by_key(|(id, slot)| (slot.last, **id))
            .map(|(id, _)| *id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    fn opened<H>(admit: Admit<H>) -> (SlotId, Option<H>) {
        match admit {
            Admit::Open { id, evicted } => (id, evicted),
            Admit::SourceFull => panic!("refused"),
        }
    }

    #[test]
    fn a_source_holds_per_source_slots_at_most() {
        let mut table = Conns::new(100, 3);
        let now = Instant::now();
        for _ in 0..3 {
            opened(table.admit(ip(1), now, ()));
        }
        assert_eq!(table.admit(ip(1), now, ()), Admit::SourceFull);
        assert_eq!(table.len(), 3);
        let (id, _) = opened(table.admit(ip(2), now, ()));
        table.close(id);
        table.close(0);
        opened(table.admit(ip(1), now, ()));
        assert_eq!(table.admit(ip(1), now, ()), Admit::SourceFull);
        assert_eq!(table.len(), 3);
    }

    #[test]
    fn when_full_the_connection_idle_longest_goes() {
        let mut table = Conns::new(3, 3);
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let a = opened(table.admit(ip(1), at(0), "a")).0;
        opened(table.admit(ip(2), at(1), "b"));
        opened(table.admit(ip(3), at(2), "c"));
        // `a` trickles a byte now: `b` has been idle the longest.
        table.touch(a, at(3));
        assert_eq!(opened(table.admit(ip(4), at(4), "d")).1, Some("b"));
        assert_eq!(opened(table.admit(ip(5), at(5), "e")).1, Some("c"));
        assert_eq!(opened(table.admit(ip(6), at(6), "f")).1, Some("a"));
        assert_eq!(table.len(), 3);
        // The evicted sources' counts went with them.
        for source in 1..=3 {
            assert!(!table.by_source.contains_key(&ip(source)));
        }
    }
}
