//! The egress rule's evidence, worked out once for all endpoints: where a failing vantage is
//! blocked too while another vantage gets an answer. Looked up per endpoint it was
//! quadratic, and each endpoint's evidence listed every other one: two vantages of 4,000
//! endpoints made a 318 MB report. Now a few are named and the rest counted.

use super::judge::{Class, Row, Verdict, class};
use std::collections::HashMap;

/// How many other endpoints the evidence names before it counts the rest.
pub(super) const LISTED: usize = 3;

/// Other endpoints where the failing vantages are blocked and others reach.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Others {
    /// How many.
    pub count: usize,
    /// The first [`LISTED`] of them, in table order.
    pub first: Vec<usize>,
}

pub(super) struct Elsewhere {
    /// Per endpoint, the vantages blocked there while another vantage gets an answer (open
    /// or closed), none where the plain verdict is IPv6: a vantage without an IPv6 route is
    /// blocked on every IPv6 endpoint, whatever its egress.
    blocked: Vec<Vec<usize>>,
    /// Per vantage, on how many endpoints it is so blocked.
    count: Vec<usize>,
    /// Per set of failing vantages: on how many endpoints one of them is so blocked, and
    /// the first [`LISTED`] + 1 (one may be the endpoint asking).
    unions: HashMap<Vec<usize>, Others>,
}

impl Elsewhere {
    /// From the table and each endpoint's verdict without the egress rule.
    pub(super) fn new(table: &[Row], vantages: usize, plain: &[Verdict]) -> Self {
        let mut count = vec![0; vantages];
        let blocked = table
            .iter()
            .zip(plain)
            .map(|((_, _, cells), verdict)| {
                let answered = cells
                    .iter()
                    .flatten()
                    .any(|s| matches!(class(s), Class::Open | Class::Closed));
                if *verdict == Verdict::Ipv6 || !answered {
                    return Vec::new();
                }
                let here: Vec<usize> = cells
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.as_ref().is_some_and(|s| class(s) == Class::Blocked))
                    .map(|(v, _)| v)
                    .collect();
                for &v in &here {
                    count[v] += 1;
                }
                here
            })
            .collect();
        Self {
            blocked,
            count,
            unions: HashMap::new(),
        }
    }

    /// The endpoints other than `at` where one of `failing` (vantages, ascending) is
    /// blocked while another vantage gets an answer; `None` unless each failing vantage
    /// has such an endpoint.
    pub(super) fn others(&mut self, failing: &[usize], at: usize) -> Option<Others> {
        let here = &self.blocked[at];
        if failing
            .iter()
            .any(|v| self.count[*v] == usize::from(here.contains(v)))
        {
            return None;
        }
        let blocked = &self.blocked;
        let union = self.unions.entry(failing.to_vec()).or_insert_with(|| {
            let mut union = Others {
                count: 0,
                first: Vec::new(),
            };
            for (e, vantages) in blocked.iter().enumerate() {
                if vantages.iter().any(|v| failing.contains(v)) {
                    union.count += 1;
                    if union.first.len() <= LISTED {
                        union.first.push(e);
                    }
                }
            }
            union
        });
        let counted_here = here.iter().any(|v| failing.contains(v));
        Some(Others {
            count: union.count - usize::from(counted_here),
            first: union
                .first
                .iter()
                .copied()
                .filter(|&e| e != at)
                .take(LISTED)
                .collect(),
        })
    }
}
