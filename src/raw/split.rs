//! How a scan's endpoints are shared among its sending threads (pure): thread `w` of `n`
//! takes places `w`, `w + n`, `w + 2n`, … so the threads move through the plan side by
//! side and their results come nearly in plan order. Halves taken end to end made the
//! result stage hold the second half's results until the first half was done: 7 MB of a
//! 65,535-port sweep's peak.

/// One thread's share of a scan of `total` endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stride {
    worker: usize,
    workers: usize,
    len: usize,
}

impl Stride {
    /// The share of thread `worker` of `workers` (at least one) in a scan of `total`.
    pub fn new(worker: usize, workers: usize, total: usize) -> Self {
        let workers = workers.max(1);
        Self {
            worker,
            workers,
            len: total.saturating_sub(worker).div_ceil(workers),
        }
    }

    /// How many endpoints the share holds.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// How many threads share the scan.
    pub const fn workers(&self) -> usize {
        self.workers
    }

    /// Whether the share is empty.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The place in the scan of the share's endpoint number `j` (`j < len()`).
    pub const fn place(&self, j: usize) -> usize {
        j * self.workers + self.worker
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places(s: Stride) -> Vec<usize> {
        (0..s.len()).map(|j| s.place(j)).collect()
    }

    #[test]
    fn the_shares_cover_every_place_once() {
        for total in [0, 1, 2, 3, 7, 4096, 32_767] {
            for workers in 1..=4 {
                let mut all: Vec<usize> = (0..workers)
                    .flat_map(|w| places(Stride::new(w, workers, total)))
                    .collect();
                all.sort_unstable();
                assert_eq!(all, (0..total).collect::<Vec<_>>(), "{total} by {workers}");
            }
        }
    }

    #[test]
    fn threads_take_alternate_places() {
        assert_eq!(places(Stride::new(0, 2, 5)), [0, 2, 4]);
        assert_eq!(places(Stride::new(1, 2, 5)), [1, 3]);
        assert_eq!(places(Stride::new(0, 1, 3)), [0, 1, 2]);
        assert!(
            Stride::new(3, 4, 3).is_empty(),
            "more threads than endpoints"
        );
        assert_eq!(Stride::new(0, 0, 2).len(), 2, "no division by zero");
    }
}
