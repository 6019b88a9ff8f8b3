//! Host names of a stream looked up concurrently (`classify --resolve`), their records
//! written in input order: a line waits only for the lookups above it, and at most
//! [`IN_FLIGHT`] lookups run at once (one after another, a file of names took as many
//! resolver timeouts as it had names).
//!
//! It must not look anything up unless asked: a stream is numeric by default, and only
//! `--resolve` hands names here.

use crate::classify::Classified;
use crate::output::classify_sink::ClassifySink;
use crate::resolve::{Resolver, SystemResolver};
use ipnet::IpNet;
use std::collections::VecDeque;
use std::io;
use std::net::IpAddr;
use std::thread::JoinHandle;

/// Lookups running at once at most.
pub const IN_FLIGHT: usize = 16;

type Lookup = JoinHandle<io::Result<Vec<IpAddr>>>;

/// A line waiting for the lookups above it.
enum Queued {
    Canonical(IpAddr),
    Address(String, IpAddr),
    Network(String, IpNet),
    Name(String, Lookup),
}

/// What came of one name: its addresses, or the resolver's message.
pub type Resolved = Result<Vec<IpAddr>, String>;

/// The lines since the oldest unfinished lookup, in input order.
#[derive(Default)]
pub struct Ordered {
    queue: VecDeque<Queued>,
    running: usize,
}

impl Ordered {
    /// True when no line waits: a record can be written at once.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Starts looking `name` up (waiting first for the oldest lookup when [`IN_FLIGHT`] run).
    pub fn lookup<S: ClassifySink>(
        &mut self,
        name: &str,
        sink: &mut S,
        failed: &mut dyn FnMut(&str, &str) -> io::Result<()>,
    ) -> io::Result<()> {
        if self.running >= IN_FLIGHT {
            self.write_ready(sink, failed, Wait::ForOne)?;
        }
        let owned = name.to_owned();
        let handle = std::thread::Builder::new()
            .name("lookup".into())
            .spawn(move || SystemResolver.resolve(&owned))?;
        self.queue.push_back(Queued::Name(name.to_owned(), handle));
        self.running += 1;
        self.write_ready(sink, failed, Wait::No)
    }

    /// Queues a record behind the lookups above it (`None`: the canonical text).
    pub fn address(&mut self, input: Option<&str>, address: IpAddr) {
        self.queue.push_back(match input {
            None => Queued::Canonical(address),
            Some(text) => Queued::Address(text.to_owned(), address),
        });
    }

    /// Queues a network's record behind the lookups above it.
    pub fn network(&mut self, input: &str, net: IpNet) {
        self.queue.push_back(Queued::Network(input.to_owned(), net));
    }

    /// Writes every line, waiting for every lookup.
    pub fn finish<S: ClassifySink>(
        &mut self,
        sink: &mut S,
        failed: &mut dyn FnMut(&str, &str) -> io::Result<()>,
    ) -> io::Result<()> {
        self.write_ready(sink, failed, Wait::All)
    }

    /// Writes the lines from the front whose lookups are done (or waited for).
    fn write_ready<S: ClassifySink>(
        &mut self,
        sink: &mut S,
        failed: &mut dyn FnMut(&str, &str) -> io::Result<()>,
        mut wait: Wait,
    ) -> io::Result<()> {
        while let Some(front) = self.queue.front() {
            if let Queued::Name(_, handle) = front
                && !handle.is_finished()
                && wait == Wait::No
            {
                return Ok(());
            }
            let Some(line) = self.queue.pop_front() else {
                break;
            };
            match line {
                Queued::Canonical(a) => sink.record(&Classified::canonical(a))?,
                Queued::Address(text, a) => sink.record(&Classified::address(&text, a))?,
                Queued::Network(text, net) => sink.record(&Classified::network(&text, net))?,
                Queued::Name(name, handle) => {
                    self.running -= 1;
                    if wait == Wait::ForOne {
                        wait = Wait::No;
                    }
                    let resolved: Resolved = match handle.join() {
                        Ok(Ok(addresses)) => Ok(addresses),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(_) => Err("the lookup failed".to_owned()),
                    };
                    match resolved {
                        Ok(addresses) => {
                            for a in addresses {
                                sink.record(&Classified::address(&name, a))?;
                            }
                        }
                        Err(e) => failed(&name, &e)?,
                    }
                }
            }
        }
        Ok(())
    }
}

/// Whether to wait for a lookup at the front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    No,
    /// For one (a slot is needed), then as `No`.
    ForOne,
    All,
}
