//! The diagnosis under `probe`'s table, gathered as results come: ports of one address with
//! the same state, reason and most likely cause form a group, and only the first of each
//! group is diagnosed in full (a sweep has tens of thousands of ports and a handful of
//! groups).
//!
//! The cause needs the whole run (which other ports of the host answered), so results are
//! first gathered by what the cause depends on ([`Adviser::cause`]'s key: address,
//! protocol, state, reason, ICMP sender, attempts, answers), each such kind keeping its
//! first result and its ports as ranges; the causes are asked at the end, once per kind,
//! and kinds with the same cause merge. The groups, their order and their ports are those
//! a pass over every result in plan order would give.
//!
//! Advice (evidence, fix, other causes) is for the ports the user expects open: named one
//! by one on the command line (`HOST:8000`, `-p 22,8000`, a service name) or every port with
//! `--expect open`. In a sweep the other ports are mostly the security group doing its job,
//! so their groups get one summary line and no fix (issue 17: a sweep told the user to
//! open port 1).

use super::advise::{Adviser, CauseInputs, cause_inputs};
use crate::classify::port_spec::{PortSelection, PortSet};
use crate::diagnose::names::is_name;
use crate::diagnose::{Diagnosis, HostIndex};
use crate::model::{LocalFault, ProbeResult, State};
use crate::output::diagnosis_text::{self, Group};
use crate::plan::target::TargetSpec;
use std::collections::{BTreeSet, HashMap};

/// The ports the user expects open.
#[derive(Debug, Clone)]
pub(super) struct ExpectedOpen {
    /// `--expect` lists `open`: every port.
    every: bool,
    /// Ports named one by one (a single port or a service name, not a range).
    named: BTreeSet<u16>,
}

impl Default for ExpectedOpen {
    /// Every port (advice for all).
    fn default() -> Self {
        Self {
            every: true,
            named: BTreeSet::new(),
        }
    }
}

impl ExpectedOpen {
    /// From the targets' ports, `-p`'s and `--expect`'s text.
    pub(super) fn new(specs: &[TargetSpec], ports: &[PortSelection], expect: Option<&str>) -> Self {
        let every =
            expect.is_some_and(|e| e.split(',').any(|w| w.trim().eq_ignore_ascii_case("open")));
        let named = specs
            .iter()
            .flat_map(|s| s.ports.iter().flatten())
            .chain(ports)
            .filter_map(|sel| match &sel.ports {
                PortSet::Range(lo, hi) if lo == hi => Some(vec![*lo]),
                PortSet::Range(..) => None,
                PortSet::List(list) => Some(list.clone()),
            })
            .flatten()
            .collect();
        Self { every, named }
    }

    fn has(&self, port: u16) -> bool {
        self.every || self.named.contains(&port)
    }
}

/// What a result's cause depends on besides the run's index. An open port, and a name's
/// address without a route (a note when another address of the name answers that port),
/// are their own kind.
type Kind = (CauseInputs, Option<(String, u16)>, bool);

/// Results of one kind.
struct Gathered {
    first: ProbeResult,
    count: usize,
    /// The ports, as ranges in the order they came.
    ranges: Vec<(u16, u16)>,
}

/// The groups of a run, gathered as its results come in plan order.
#[derive(Default)]
pub(super) struct Hints {
    kinds: Vec<Gathered>,
    by_kind: HashMap<Kind, usize>,
    expected: ExpectedOpen,
}

impl Hints {
    /// No results yet; advice for the ports in `expected`.
    pub(super) fn new(expected: ExpectedOpen) -> Self {
        Self {
            expected,
            ..Self::default()
        }
    }

    /// Adds the next result in plan order.
    pub(super) fn add(&mut self, r: &ProbeResult) {
        let own = r.state == State::Open
            || (r.fault == Some(LocalFault::NoRoute) && is_name(&r.endpoint.host));
        let kind = (
            cause_inputs(r),
            own.then(|| (r.endpoint.target.clone(), r.endpoint.port)),
            self.expected.has(r.endpoint.port),
        );
        let port = r.endpoint.port;
        if let Some(&k) = self.by_kind.get(&kind) {
            let gathered = &mut self.kinds[k];
            gathered.count += 1;
            match gathered.ranges.last_mut() {
                Some((_, hi)) if u32::from(*hi) + 1 == u32::from(port) => *hi = port,
                _ => gathered.ranges.push((port, port)),
            }
            return;
        }
        self.by_kind.insert(kind, self.kinds.len());
        self.kinds.push(Gathered {
            first: r.clone(),
            count: 1,
            ranges: vec![(port, port)],
        });
    }

    /// The diagnosis text under the table, with the whole run's `index`: empty when there
    /// is nothing to say.
    pub(super) fn render(&self, index: &HostIndex, adviser: &mut Adviser) -> String {
        // Each group: its kinds (first one first) and its first result's diagnosis.
        let mut groups: Vec<(Vec<usize>, Diagnosis, Option<String>)> = Vec::new();
        // Each key with its group, or `None` for a group not worth showing.
        let mut keys: Vec<(_, Option<usize>)> = Vec::new();
        for (k, gathered) in self.kinds.iter().enumerate() {
            let r = &gathered.first;
            let key = (
                r.endpoint.address,
                r.endpoint.protocol,
                r.state,
                r.reason,
                adviser.cause(r, index),
                self.expected.has(r.endpoint.port),
            );
            if let Some((_, group)) = keys.iter().find(|(known, _)| *known == key) {
                if let Some(g) = *group {
                    let (members, _, _): &mut (Vec<usize>, _, _) = &mut groups[g];
                    members.push(k);
                }
                continue;
            }
            let first = adviser.diagnose(r, index, None);
            if !diagnosis_text::worth_showing(&first) {
                keys.push((key, None));
                continue;
            }
            keys.push((key, Some(groups.len())));
            let note = diagnosis_text::uses_provider(&first)
                .then(|| adviser.provider_note(r.endpoint.address));
            groups.push((vec![k], first, note));
        }
        let shown: Vec<Group<'_>> = groups
            .iter()
            .map(|(members, diagnosis, note)| Group {
                first: &self.kinds[members[0]].first,
                count: members.iter().map(|&k| self.kinds[k].count).sum(),
                ranges: members
                    .iter()
                    .flat_map(|&k| self.kinds[k].ranges.iter().copied())
                    .collect(),
                diagnosis,
                provider_note: note.clone(),
                advised: self
                    .expected
                    .has(self.kinds[members[0]].first.endpoint.port),
            })
            .collect();
        diagnosis_text::render(&shown)
    }
}
