//! Tags the responder has answered, so each tagged request is answered once: a copy
//! captured on the path and sent again, from any address, inside the time window is
//! refused here; outside it, its clock is (`wire::responder`: [`WINDOW_SECS`]). A tag is
//! kept until no copy of it can pass the clock check any more (two windows after it was
//! seen). Only requests whose tag verified are recorded, so without the secret nobody can
//! fill the table; it is bounded all the same, and when full the oldest tag goes first.
//! Must not do I/O: the caller gives the clock.

use crate::wire::responder::{TAG_LEN, WINDOW_SECS};
use std::collections::{HashSet, VecDeque};

/// Tags remembered at most (about 3 MB): over 1,000 tagged requests a second for a minute.
pub const MAX_TAGS: usize = 65_536;

/// The answered tags of the last two windows.
#[derive(Debug)]
pub struct Replays {
    capacity: usize,
    seen: HashSet<[u8; TAG_LEN]>,
    /// Tags in the order they were seen, with when (Unix seconds).
    order: VecDeque<(u64, [u8; TAG_LEN])>,
}

impl Default for Replays {
    fn default() -> Self {
        Self::with_capacity(MAX_TAGS)
    }
}

impl Replays {
    /// A table of at most `capacity` tags (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            seen: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// Whether `tag` is seen for the first time at `now` (Unix seconds); it is remembered.
    pub fn first_time(&mut self, tag: [u8; TAG_LEN], now: u64) -> bool {
        while let Some(&(when, old)) = self.order.front() {
            let expired = now.saturating_sub(when) > 2 * WINDOW_SECS;
            if !expired && self.order.len() < self.capacity {
                break;
            }
            self.order.pop_front();
            self.seen.remove(&old);
        }
        if !self.seen.insert(tag) {
            return false;
        }
        self.order.push_back((now, tag));
        true
    }

    /// Tags remembered now.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_answered_once_within_the_windows_and_forgotten_after() {
        let mut replays = Replays::default();
        let tag = [7; TAG_LEN];
        assert!(replays.first_time(tag, 1000));
        assert!(!replays.first_time(tag, 1000));
        assert!(!replays.first_time(tag, 1000 + 2 * WINDOW_SECS));
        // Past two windows its clock check refuses it anyway; the memory is freed.
        assert!(replays.first_time([8; TAG_LEN], 1001 + 2 * WINDOW_SECS));
        assert_eq!(replays.len(), 1);
    }

    #[test]
    fn bounded() {
        let mut replays = Replays::with_capacity(100);
        for i in 0..10_000u32 {
            let mut tag = [0; TAG_LEN];
            tag[..4].copy_from_slice(&i.to_be_bytes());
            assert!(replays.first_time(tag, 5));
        }
        assert_eq!(replays.len(), 100);
        assert_eq!(replays.order.len(), 100);
    }
}
