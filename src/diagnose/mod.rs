//! "Why can't I connect?": from probe results to ranked causes with evidence and fixes.
//!
//! Pure: the caller gathers the facts (other ports, ping, the client's interfaces and
//! source address) by I/O and passes them in; `rules` ranks the causes, `fixes` fills in
//! the provider's texts from `data/fixes.toml`.

pub mod cause;
pub mod fixes;
pub mod names;
pub mod path;
pub mod rules;

pub use cause::{Cause, Confidence, Finding, Hint};
pub use fixes::{FixParams, Source};
pub use rules::{Facts, PingSeen, PortSeen, findings};

use crate::classify::{AddrInfo, classify};
use crate::model::{ProbeResult, Scope, State};
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;

/// The diagnosis of one result: the most likely cause first, then the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// The most likely cause (`hints[0].cause`).
    pub cause: Cause,
    /// Every cause the evidence allows, ranked, with its fix.
    pub hints: Vec<Hint>,
}

/// The user's side of the advice: which cloud's texts, and the source for rules.
#[derive(Debug, Clone)]
pub struct Advice {
    /// Provider key (`aws`, …, `generic`).
    pub provider: &'static str,
    /// The client's address for a rule's source.
    pub source: Source,
}

/// Diagnoses one result.
pub fn diagnose(result: &ProbeResult, facts: &Facts<'_>, advice: &Advice) -> Diagnosis {
    let params = FixParams {
        provider: advice.provider,
        protocol: result.endpoint.protocol,
        port: result.endpoint.port,
        address: result.endpoint.address,
        source: &advice.source,
        udp_silence: result.state == State::OpenFiltered,
    };
    let hints: Vec<Hint> = findings(result, facts)
        .into_iter()
        .map(|f| Hint {
            fix: fixes::fix(f.cause, &params),
            cause: f.cause,
            confidence: f.confidence,
            evidence: f.evidence,
        })
        .collect();
    Diagnosis {
        cause: hints.first().map_or(Cause::Ok, |h| h.cause),
        hints,
    }
}

/// `--cloud`: a provider, or `auto` (from the target's address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudChoice {
    /// Pick from the embedded prefix table.
    Auto,
    /// This provider's texts (`aws`, …, `generic`).
    Named(&'static str),
}

/// The provider whose texts to use, and a line saying how it was chosen.
pub fn pick_provider(choice: CloudChoice, target: Option<&AddrInfo>) -> (&'static str, String) {
    match choice {
        CloudChoice::Named(key) => (key, format!("{} (--cloud)", fixes::provider_name(key))),
        CloudChoice::Auto => {
            let found = target.and_then(|t| t.cloud.map(|c| (t.address, c)));
            match found {
                Some((address, m)) => {
                    let key = fixes::PROVIDERS
                        .iter()
                        .find(|k| **k == m.provider.id)
                        .copied()
                        .unwrap_or("generic");
                    let note = format!(
                        "{} (auto: {address} is likely theirs, announced by AS{})",
                        m.provider.name, m.asn
                    );
                    (key, note)
                }
                None => (
                    "generic",
                    "generic (auto: no cloud provider known for this address; choose one with --cloud)"
                        .to_owned(),
                ),
            }
        }
    }
}

/// The source for a security-group rule: `--source`, else this machine's sending address
/// when it is public (no NAT between), else unknown with the reason.
pub fn pick_source(given: Option<IpNet>, local: Option<IpAddr>) -> Source {
    if let Some(net) = given {
        return Source::Given(net);
    }
    let Some(local) = local else {
        return Source::Unknown("this machine's sending address is not known".into());
    };
    match classify(local).scope {
        scope @ (Scope::Private
        | Scope::Shared
        | Scope::LinkLocal
        | Scope::Loopback
        | Scope::Unspecified) => Source::Unknown(format!(
            "this machine sends from {local}, a {} address, so a NAT rewrites it",
            scope.as_str()
        )),
        _ => Source::Local(local),
    }
}

/// What else was seen on each address, kept small: a few open, a few closed and a few
/// silent ports per address are all the evidence a diagnosis quotes, and a 65,535-port
/// sweep must not make each result's diagnosis look at every other result.
#[derive(Debug, Default)]
pub struct HostIndex {
    by_address: HashMap<IpAddr, Vec<PortSeen>>,
}

/// Samples kept per address and state kind.
const SAMPLES: usize = 4;

impl HostIndex {
    /// Indexes finished results.
    pub fn new(results: &[ProbeResult]) -> Self {
        let mut index = Self::default();
        for r in results {
            index.add(r);
        }
        index
    }

    /// Adds one result (results may arrive one at a time).
    pub fn add(&mut self, result: &ProbeResult) {
        let Some(address) = result.endpoint.address else {
            return;
        };
        let seen = PortSeen::of(result);
        let samples = self.by_address.entry(address).or_default();
        if samples
            .iter()
            .filter(|s| kind(s.state) == kind(seen.state))
            .count()
            < SAMPLES
        {
            samples.push(seen);
        }
    }

    /// The other ports seen on `result`'s address (open ones first).
    pub fn others(&self, result: &ProbeResult) -> Vec<PortSeen> {
        let own = (result.endpoint.port, result.endpoint.protocol);
        let mut others: Vec<PortSeen> = result
            .endpoint
            .address
            .and_then(|a| self.by_address.get(&a))
            .into_iter()
            .flatten()
            .filter(|s| (s.port, s.protocol) != own)
            .copied()
            .collect();
        others.sort_by_key(|s| kind(s.state));
        others.truncate(SAMPLES);
        others
    }
}

/// Sort key: open, closed, then everything else.
fn kind(state: State) -> u8 {
    match state {
        State::Open => 0,
        State::Closed => 1,
        _ => 2,
    }
}
