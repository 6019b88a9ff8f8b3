//! The endpoints of a run, generated when they are needed: each target's addresses (resolved
//! once) × its ports, in the order the user gave them. A plan of four million endpoints is a
//! few groups and their port lists, not four million records: it is counted without being
//! built, and the engine takes its endpoints one by one as slots free up.
//!
//! Each (address, port, protocol) is planned once, as nmap probes a port named twice once:
//! `-p 1-3,1-3` is three ports; `127.0.0.1:80 localhost:80` is one endpoint (the first).
//!
//! Pure: it must not resolve names or open sockets (`expand.rs` resolves, through `Resolver`).

use crate::model::{Endpoint, Protocol};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// A port and the protocol it is probed with.
pub type PortProtocol = (u16, Protocol);

/// The endpoints of a run; cheap to clone (shared), iterated without being built.
#[derive(Debug, Clone)]
pub struct Endpoints {
    inner: Arc<Inner>,
}

#[derive(Debug)]
enum Inner {
    /// Targets × addresses × ports, generated.
    Groups(Groups),
    /// An explicit list (a subset of a plan, a check's endpoints) and why each one that has
    /// no address has none.
    Listed(Vec<Endpoint>, Vec<Option<String>>),
}

/// The generated form: one group per address of a target.
#[derive(Debug, Default)]
struct Groups {
    targets: Vec<Target>,
    list: Vec<Group>,
    len: usize,
}

#[derive(Debug)]
struct Target {
    text: String,
    host: String,
    /// The resolver's message when the name has no address.
    failure: Option<String>,
    /// The interface index of a zone (`fe80::1%eth0`), else 0.
    scope_id: u32,
}

/// One address of a target (or none: a name that did not resolve) and its ports.
#[derive(Debug)]
struct Group {
    target: usize,
    address: Option<IpAddr>,
    ports: Arc<[PortProtocol]>,
    /// The plan index of its first endpoint.
    start: usize,
}

/// What makes two endpoints the same: the address probed (with its zone), or the name
/// that had none.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Key {
    Address(IpAddr, u32),
    Unresolved(String),
}

/// Builds [`Endpoints`] target by target.
#[derive(Debug, Default)]
pub struct Builder {
    groups: Groups,
    /// The groups planned so far for each address (a repeated one keeps only new ports).
    seen: HashMap<Key, Vec<usize>>,
}

impl Builder {
    /// Adds a target: its text, host, the resolver's message if it has no address and the
    /// zone's interface index (0 without one), its addresses and its ports (each once, in
    /// order: see [`distinct`]).
    pub fn target(
        &mut self,
        text: &str,
        host: String,
        (failure, scope_id): (Option<String>, u32),
        addresses: &[IpAddr],
        ports: &Arc<[PortProtocol]>,
    ) {
        let target = self.groups.targets.len();
        let keys: Vec<(Option<IpAddr>, Key)> = if addresses.is_empty() {
            vec![(None, Key::Unresolved(host.clone()))]
        } else {
            addresses
                .iter()
                .map(|a| (Some(*a), Key::Address(*a, scope_id)))
                .collect()
        };
        self.groups.targets.push(Target {
            text: text.to_owned(),
            host,
            failure,
            scope_id,
        });
        for (address, key) in keys {
            let earlier = self.seen.entry(key).or_default();
            let ports = if earlier.is_empty() {
                Arc::clone(ports)
            } else {
                let taken = PortBits::of(earlier.iter().map(|&g| &*self.groups.list[g].ports));
                ports.iter().copied().filter(|p| !taken.has(*p)).collect()
            };
            if ports.is_empty() {
                continue;
            }
            earlier.push(self.groups.list.len());
            self.groups.list.push(Group {
                target,
                address,
                start: self.groups.len,
                ports: Arc::clone(&ports),
            });
            self.groups.len += ports.len();
        }
    }

    /// How many endpoints are planned so far.
    pub fn len(&self) -> usize {
        self.groups.len
    }

    /// True when nothing is planned.
    pub fn is_empty(&self) -> bool {
        self.groups.len == 0
    }

    /// The plan.
    pub fn finish(self) -> Endpoints {
        Endpoints {
            inner: Arc::new(Inner::Groups(self.groups)),
        }
    }
}

/// Ports with their protocols, each once, in the order given: `-p 1-3,1-3` is 1, 2, 3.
pub fn distinct(ports: impl IntoIterator<Item = PortProtocol>) -> Arc<[PortProtocol]> {
    let mut kept: Vec<PortProtocol> = Vec::new();
    let mut seen: Option<PortBits> = None;
    for p in ports {
        // A few ports are compared directly; a sweep's go through a bit set (a check file
        // of a million one-port checks would otherwise clear 16 KiB per check).
        let new = match &mut seen {
            Some(bits) => bits.insert(p),
            None if kept.len() < SMALL => !kept.contains(&p),
            None => {
                let bits = seen.insert(PortBits::of(std::iter::once(kept.as_slice())));
                bits.insert(p)
            }
        };
        if new {
            kept.push(p);
        }
    }
    kept.into()
}

/// Port lists up to this long are de-duplicated without a bit set.
const SMALL: usize = 32;

/// A set of (port, protocol): one bit each, 16 KiB.
struct PortBits(Vec<u64>);

impl Default for PortBits {
    fn default() -> Self {
        Self(vec![0; 2 * 65_536 / 64])
    }
}

impl PortBits {
    fn of<'a>(lists: impl Iterator<Item = &'a [PortProtocol]>) -> Self {
        let mut bits = Self::default();
        for p in lists.flatten() {
            bits.insert(*p);
        }
        bits
    }

    fn at((port, protocol): PortProtocol) -> (usize, u64) {
        let bit = usize::from(port) + if protocol == Protocol::Udp { 65_536 } else { 0 };
        (bit / 64, 1 << (bit % 64))
    }

    fn has(&self, p: PortProtocol) -> bool {
        let (word, mask) = Self::at(p);
        self.0[word] & mask != 0
    }

    /// Adds `p`; false when it was there.
    fn insert(&mut self, p: PortProtocol) -> bool {
        let (word, mask) = Self::at(p);
        let new = self.0[word] & mask == 0;
        self.0[word] |= mask;
        new
    }
}

impl Endpoints {
    /// An explicit list; `unresolved[i]`: why endpoint i has no address.
    pub fn listed(endpoints: Vec<Endpoint>, unresolved: Vec<Option<String>>) -> Self {
        Self {
            inner: Arc::new(Inner::Listed(endpoints, unresolved)),
        }
    }

    /// How many endpoints there are (counted, not built).
    pub fn len(&self) -> usize {
        match &*self.inner {
            Inner::Groups(g) => g.len,
            Inner::Listed(list, _) => list.len(),
        }
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Endpoint `index` (in plan order).
    pub fn get(&self, index: usize) -> Option<Endpoint> {
        match &*self.inner {
            Inner::Groups(g) => {
                let (group, port) = g.at(index)?;
                Some(g.endpoint(group, port))
            }
            Inner::Listed(list, _) => list.get(index).cloned(),
        }
    }

    /// Why endpoint `index` has no address (the resolver's message).
    pub fn unresolved(&self, index: usize) -> Option<&str> {
        match &*self.inner {
            Inner::Groups(g) => {
                let (group, _) = g.at(index)?;
                if group.address.is_some() {
                    return None;
                }
                g.targets[group.target].failure.as_deref()
            }
            Inner::Listed(_, unresolved) => unresolved.get(index)?.as_deref(),
        }
    }

    /// Every endpoint in plan order, built one at a time (the iterator owns a share of the
    /// plan, so it can go to another task).
    pub fn iter(&self) -> Iter {
        Iter {
            inner: Arc::clone(&self.inner),
            group: 0,
            next: 0,
            batch: Vec::new().into_iter(),
        }
    }

    /// How many endpoints satisfy `keep`, looking only at address, port and protocol
    /// (nothing is built).
    pub fn count_where(&self, keep: impl Fn(Option<IpAddr>, PortProtocol) -> bool) -> usize {
        match &*self.inner {
            Inner::Groups(g) => g
                .list
                .iter()
                .map(|group| {
                    group
                        .ports
                        .iter()
                        .filter(|p| keep(group.address, **p))
                        .count()
                })
                .sum(),
            Inner::Listed(list, _) => list
                .iter()
                .filter(|e| keep(e.address, (e.port, e.protocol)))
                .count(),
        }
    }
}

impl Groups {
    /// The group of endpoint `index` and its port (a binary search over the groups).
    fn at(&self, index: usize) -> Option<(&Group, PortProtocol)> {
        let group = &self.list[self
            .list
            .partition_point(|x| x.start <= index)
            .checked_sub(1)?];
        Some((group, *group.ports.get(index - group.start)?))
    }

    fn endpoint(&self, group: &Group, (port, protocol): PortProtocol) -> Endpoint {
        let target = &self.targets[group.target];
        Endpoint {
            target: target.text.clone(),
            host: target.host.clone(),
            address: group.address,
            port,
            protocol,
            scope_id: target.scope_id,
        }
    }
}

impl IntoIterator for &Endpoints {
    type Item = Endpoint;
    type IntoIter = Iter;

    fn into_iter(self) -> Iter {
        self.iter()
    }
}

/// The endpoints of a plan in order, one at a time.
///
/// They are built `BATCH` at a time: built one by one between the engine's task
/// allocations, each endpoint's small strings split a freed task's block and memory grew by
/// about 3 KB an endpoint (a 65,535-port sweep peaked at 200 MB instead of 60).
#[derive(Debug)]
pub struct Iter {
    inner: Arc<Inner>,
    group: usize,
    /// The next index: into the group's ports, or into the list.
    next: usize,
    /// Endpoints built and not yet taken.
    batch: std::vec::IntoIter<Endpoint>,
}

/// Endpoints built at once by [`Iter`].
const BATCH: usize = 4096;

impl Iter {
    /// The next endpoint, built.
    fn build(&mut self) -> Option<Endpoint> {
        match &*self.inner {
            Inner::Groups(g) => loop {
                let group = g.list.get(self.group)?;
                if let Some(port) = group.ports.get(self.next) {
                    self.next += 1;
                    return Some(g.endpoint(group, *port));
                }
                (self.group, self.next) = (self.group + 1, 0);
            },
            Inner::Listed(list, _) => {
                let e = list.get(self.next)?.clone();
                self.next += 1;
                Some(e)
            }
        }
    }
}

impl Iterator for Iter {
    type Item = Endpoint;

    fn next(&mut self) -> Option<Endpoint> {
        if let Some(e) = self.batch.next() {
            return Some(e);
        }
        let mut batch = Vec::with_capacity(BATCH);
        while batch.len() < BATCH {
            let Some(e) = self.build() else { break };
            batch.push(e);
        }
        self.batch = batch.into_iter();
        self.batch.next()
    }
}

#[cfg(test)]
#[path = "endpoints_tests.rs"]
mod tests;
