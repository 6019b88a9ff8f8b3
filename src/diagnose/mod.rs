//! "Why can't I connect?": from probe results to ranked causes with evidence and fixes.
//!
//! Pure: the caller gathers the facts (other ports, ping, the client's interfaces and
//! source address) by I/O and passes them in; `rules` ranks the causes, `fixes` fills in
//! the provider's texts from `data/fixes.toml`.

pub mod cause;
pub mod fixes;
pub mod hops;
pub mod loss_bound;
pub mod names;
pub mod path;
pub mod rules;
mod silence;
pub mod stray;
pub mod ttl;
pub mod two_sided;

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

impl Diagnosis {
    /// The other causes the evidence ranks equal to the first: the ones a one-sided view
    /// cannot tell from it (a security group and the server's firewall both drop in
    /// silence). Empty when the first is `high` (it excludes the rest) or alone; notes about
    /// the address and "it may be fine" are not alternatives.
    pub fn alike(&self) -> Vec<Cause> {
        let Some(top) = self.hints.first() else {
            return Vec::new();
        };
        if top.confidence == Confidence::High {
            return Vec::new();
        }
        self.hints
            .iter()
            .skip(1)
            .take_while(|h| h.confidence == top.confidence)
            .map(|h| h.cause)
            .filter(|c| !matches!(c, Cause::Ok | Cause::SpecialAddress))
            .collect()
    }
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
    diagnose_with(result, facts, advice, |f| f)
}

/// Diagnoses one result, its findings changed by `adjust` before the fix texts are filled
/// in: the server's evidence (`two_sided::merge`), a reply seen from another address.
pub fn diagnose_with(
    result: &ProbeResult,
    facts: &Facts<'_>,
    advice: &Advice,
    adjust: impl FnOnce(Vec<Finding>) -> Vec<Finding>,
) -> Diagnosis {
    let params = FixParams {
        provider: advice.provider,
        protocol: result.endpoint.protocol,
        port: result.endpoint.port,
        address: result.endpoint.address,
        source: &advice.source,
        udp_silence: result.state == State::OpenFiltered,
        client: crate::sys::System::HERE,
    };
    let hints: Vec<Hint> = adjust(findings(result, facts))
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
        // A few samples per kind of state bound the index on a 65,535-port sweep; the
        // canaries always go in (they decide `answers_every_port`).
        if rules::CANARY_PORTS.contains(&seen.port)
            || samples
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
        let others: Vec<PortSeen> = result
            .endpoint
            .address
            .and_then(|a| self.by_address.get(&a))
            .into_iter()
            .flatten()
            .filter(|s| (s.port, s.protocol) != own)
            .copied()
            .collect();
        // The canaries always stay: whether they answered decides `answers_every_port`.
        let (canaries, mut others): (Vec<PortSeen>, Vec<PortSeen>) = others
            .into_iter()
            .partition(|s| rules::CANARY_PORTS.contains(&s.port));
        others.sort_by_key(|s| kind(s.state));
        others.truncate(SAMPLES);
        others.extend(canaries);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(cause: Cause, confidence: Confidence) -> Hint {
        Hint {
            cause,
            confidence,
            evidence: Vec::new(),
            fix: Vec::new(),
        }
    }

    fn diagnosis(hints: Vec<Hint>) -> Diagnosis {
        Diagnosis {
            cause: hints[0].cause,
            hints,
        }
    }

    #[test]
    fn causes_ranked_alike_are_named_together_but_never_beside_a_high_one() {
        let (h, m, l) = (Confidence::High, Confidence::Medium, Confidence::Low);
        let silent = diagnosis(vec![
            hint(Cause::SecurityGroup, m),
            hint(Cause::HostFirewall, m),
            hint(Cause::SpecialAddress, m),
            hint(Cause::Ok, l),
        ]);
        assert_eq!(silent.alike(), [Cause::HostFirewall]);
        let sure = diagnosis(vec![hint(Cause::HostFirewall, h), hint(Cause::Ok, h)]);
        assert!(sure.alike().is_empty());
        let alone = diagnosis(vec![hint(Cause::NotListening, m), hint(Cause::Ok, l)]);
        assert!(alone.alike().is_empty());
    }
}
