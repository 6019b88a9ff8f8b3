//! Gathers what the diagnosis needs from this machine (interfaces, the source address per
//! destination) once per run, and diagnoses results with it.

use crate::classify::{AddrInfo, classify};
use crate::diagnose::fixes::Source;
use crate::diagnose::names::{covers, family_without_route, is_name, judged_by};
use crate::diagnose::path::PathVerdict;
use crate::diagnose::ttl::Ttls;
use crate::diagnose::{
    Advice, Cause, CloudChoice, Diagnosis, Facts, Finding, HostIndex, PingSeen, diagnose_with,
    findings, pick_provider, pick_source,
};
use crate::local::interfaces;
use crate::model::{ProbeResult, Protocol, Reason, State};
use crate::probe::route::source_for;
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;

/// What is worked out once per probed address.
struct PerAddress {
    /// The address, classified.
    info: Option<AddrInfo>,
    /// Provider texts and the rule's source.
    advice: Advice,
    /// How the provider was chosen.
    note: String,
    /// This machine's source address towards it (a routing lookup in the kernel).
    sends_from: Option<IpAddr>,
}

/// What [`Adviser::cause`] depends on for a port that did not answer open: the index
/// (by identity) and the result's [`CauseInputs`].
type CauseKey = (usize, CauseInputs);

/// What [`Adviser::cause`] reads of a result that did not answer open, besides the index:
/// the address, protocol, state, reason, ICMP sender, attempts, answers. `probe_hints`
/// gathers results by the same fields, so the two cannot drift apart.
pub(super) type CauseInputs = (
    Option<IpAddr>,
    Protocol,
    State,
    Reason,
    Option<IpAddr>,
    u32,
    u32,
);

/// `result`'s [`CauseInputs`].
pub(super) fn cause_inputs(result: &ProbeResult) -> CauseInputs {
    (
        result.endpoint.address,
        result.endpoint.protocol,
        result.state,
        result.reason,
        result.icmp_from,
        result.attempts,
        result.received,
    )
}

/// Diagnoses results; caches the per-address facts (classification, provider, source).
pub struct Adviser {
    networks: Vec<IpNet>,
    cloud: CloudChoice,
    given_source: Option<IpNet>,
    per_address: HashMap<Option<IpAddr>, PerAddress>,
    /// [`Adviser::cause`]'s answers for results that did not answer open.
    causes: HashMap<CauseKey, Cause>,
    /// Trace verdicts by address and protocol (`doctor --trace`).
    paths: HashMap<(Option<IpAddr>, Protocol), PathVerdict>,
    /// TTLs heard from each address (`doctor` with `CAP_NET_RAW`).
    ttls: HashMap<IpAddr, Ttls>,
    /// Per name, port and protocol: the open address a client connecting by name uses
    /// (`names::judged_by`), unless every address is judged on its own.
    names: HashMap<(String, u16, Protocol), ProbeResult>,
}

impl Adviser {
    /// Reads this machine's interfaces.
    pub fn new(cloud: CloudChoice, given_source: Option<IpNet>) -> Self {
        Self {
            networks: interfaces::networks(),
            cloud,
            given_source,
            per_address: HashMap::new(),
            paths: HashMap::new(),
            ttls: HashMap::new(),
            causes: HashMap::new(),
            names: HashMap::new(),
        }
    }

    /// Learns which address each name answers on, so that an address family without a
    /// route is diagnosed as a note while the name answers (`names::family_without_route`).
    pub fn judge_names(&mut self, results: &[ProbeResult]) {
        for (r, best) in results.iter().zip(judged_by(results)) {
            let best = &results[best];
            if is_name(&r.endpoint.host) && best.state == State::Open {
                let e = &r.endpoint;
                self.names
                    .entry((e.target.clone(), e.port, e.protocol))
                    .or_insert_with(|| best.clone());
            }
        }
    }

    /// [`Adviser::judge_names`] one result at a time, in plan order: the first open
    /// address of a name's port is the one clients use (the most reachable, first of
    /// equals).
    pub fn learn_name(&mut self, r: &ProbeResult) {
        if r.state == State::Open && is_name(&r.endpoint.host) {
            let e = &r.endpoint;
            self.names
                .entry((e.target.clone(), e.port, e.protocol))
                .or_insert_with(|| r.clone());
        }
    }

    /// Makes a trace's verdict evidence for the results of that address and protocol.
    pub fn add_path(&mut self, address: IpAddr, protocol: Protocol, verdict: PathVerdict) {
        self.paths.insert((Some(address), protocol), verdict);
    }

    /// Makes the TTLs heard from each address evidence for its results (`diagnose::ttl`).
    pub fn add_ttls(&mut self, heard: std::collections::BTreeMap<IpAddr, Ttls>) {
        self.ttls.extend(heard);
    }

    /// The diagnosis of `result`, with the other ports of `index` and the ping as evidence.
    pub fn diagnose(
        &mut self,
        result: &ProbeResult,
        index: &HostIndex,
        ping: Option<PingSeen>,
    ) -> Diagnosis {
        self.diagnose_adjusted(result, index, ping, &|f| f)
    }

    /// [`Adviser::diagnose`], the findings changed by `adjust` before the fix texts are
    /// filled in (`doctor`: the server's report, a reply from another address).
    pub fn diagnose_adjusted(
        &mut self,
        result: &ProbeResult,
        index: &HostIndex,
        ping: Option<PingSeen>,
        adjust: &dyn Fn(Vec<Finding>) -> Vec<Finding>,
    ) -> Diagnosis {
        let entry = learn(
            &mut self.per_address,
            self.cloud,
            self.given_source,
            result.endpoint.address,
        );
        let others = index.others(result);
        let facts = Facts {
            target: entry.info.as_ref(),
            local_networks: &self.networks,
            others: &others,
            ping,
            path: self
                .paths
                .get(&(result.endpoint.address, result.endpoint.protocol)),
            ttls: result.endpoint.address.and_then(|a| self.ttls.get(&a)),
        };
        if let Some(best) = covered_by(&self.names, result) {
            let diagnosis = diagnose_with(result, &facts, &entry.advice, adjust);
            return family_without_route(&diagnosis, result, best).unwrap_or(diagnosis);
        }
        let Some(observed) = result.observed_source else {
            return diagnose_with(result, &facts, &entry.advice, adjust);
        };
        // The responder saw this client: its address is the exact source for a rule, and
        // a difference from our own sending address shows the NAT in between.
        let mut advice = entry.advice.clone();
        if self.given_source.is_none() {
            advice.source = Source::Observed(observed.ip());
        }
        let mut diagnosis = diagnose_with(result, &facts, &advice, adjust);
        let seen = match entry.sends_from {
            Some(local) if local != observed.ip() => format!(
                "the responder saw this client as {observed}; this machine sends from {local}: a NAT rewrote the address"
            ),
            _ => format!("the responder saw this client as {observed} (no NAT in between)"),
        };
        if let Some(top) = diagnosis.hints.first_mut() {
            top.evidence.push(seen);
        }
        diagnosis
    }

    /// The most likely cause only (no fix texts): cheaper, for grouping and CSV.
    ///
    /// For a port that did not answer open, the rules read nothing port-specific: its
    /// state and evidence, the address's facts, and which other ports of the host answered
    /// (the same set for every such port). So the cause is looked up once per kind of
    /// result and index: a 65,535-port sweep asks the rules a handful of times.
    pub fn cause(&mut self, result: &ProbeResult, index: &HostIndex) -> Cause {
        if covered_by(&self.names, result).is_some() {
            return Cause::Ok;
        }
        if result.state == State::Open {
            return self.cause_uncached(result, index);
        }
        let key = (std::ptr::from_ref(index) as usize, cause_inputs(result));
        if let Some(cause) = self.causes.get(&key) {
            return *cause;
        }
        let cause = self.cause_uncached(result, index);
        self.causes.insert(key, cause);
        cause
    }

    fn cause_uncached(&mut self, result: &ProbeResult, index: &HostIndex) -> Cause {
        let entry = learn(
            &mut self.per_address,
            self.cloud,
            self.given_source,
            result.endpoint.address,
        );
        let others = index.others(result);
        let facts = Facts {
            target: entry.info.as_ref(),
            local_networks: &self.networks,
            others: &others,
            ping: None,
            path: None,
            ttls: None,
        };
        findings(result, &facts)
            .first()
            .map_or(Cause::Ok, |f| f.cause)
    }

    /// How the provider was chosen for `address` (for the verdict's text).
    pub fn provider_note(&mut self, address: Option<IpAddr>) -> String {
        learn(
            &mut self.per_address,
            self.cloud,
            self.given_source,
            address,
        )
        .note
        .clone()
    }

    /// This machine's source address towards `address`.
    pub fn sends_from(&mut self, address: Option<IpAddr>) -> Option<IpAddr> {
        learn(
            &mut self.per_address,
            self.cloud,
            self.given_source,
            address,
        )
        .sends_from
    }
}

/// The open address of `result`'s name that makes its failure a note, if any.
fn covered_by<'a>(
    names: &'a HashMap<(String, u16, Protocol), ProbeResult>,
    result: &ProbeResult,
) -> Option<&'a ProbeResult> {
    if names.is_empty() {
        return None;
    }
    let e = &result.endpoint;
    let best = names.get(&(e.target.clone(), e.port, e.protocol))?;
    covers(best, result).then_some(best)
}

/// The per-address facts, worked out the first time an address is seen (the source lookup
/// asks the kernel).
fn learn(
    cache: &mut HashMap<Option<IpAddr>, PerAddress>,
    cloud: CloudChoice,
    given: Option<IpNet>,
    address: Option<IpAddr>,
) -> &PerAddress {
    cache.entry(address).or_insert_with(|| {
        let info = address.map(classify);
        let (provider, note) = pick_provider(cloud, info.as_ref());
        let sends_from = address.and_then(source_for);
        let source = pick_source(given, sends_from);
        PerAddress {
            info,
            advice: Advice { provider, source },
            note,
            sends_from,
        }
    })
}
