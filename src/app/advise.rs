//! Gathers what the diagnosis needs from this machine (interfaces, the source address per
//! destination) once per run, and diagnoses results with it.

use crate::classify::classify;
use crate::diagnose::fixes::Source;
use crate::diagnose::{
    Advice, Cause, CloudChoice, Diagnosis, Facts, HostIndex, PingSeen, diagnose, findings,
    pick_provider, pick_source,
};
use crate::local::interfaces;
use crate::model::ProbeResult;
use crate::probe::route::source_for;
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;

/// Diagnoses results; caches the per-address facts (provider, source address).
pub struct Adviser {
    networks: Vec<IpNet>,
    cloud: CloudChoice,
    given_source: Option<IpNet>,
    per_address: HashMap<Option<IpAddr>, (Advice, String)>,
}

impl Adviser {
    /// Reads this machine's interfaces.
    pub fn new(cloud: CloudChoice, given_source: Option<IpNet>) -> Self {
        Self {
            networks: interfaces::networks(),
            cloud,
            given_source,
            per_address: HashMap::new(),
        }
    }

    /// The diagnosis of `result`, with the other ports of `index` and the ping as evidence.
    pub fn diagnose(
        &mut self,
        result: &ProbeResult,
        index: &HostIndex,
        ping: Option<PingSeen>,
    ) -> Diagnosis {
        let address = result.endpoint.address;
        let info = address.map(classify);
        let others = index.others(result);
        let facts = Facts {
            target: info.as_ref(),
            local_networks: &self.networks,
            others: &others,
            ping,
        };
        let (advice, _) = advice_for(
            &mut self.per_address,
            self.cloud,
            self.given_source,
            address,
        );
        let Some(observed) = result.observed_source else {
            return diagnose(result, &facts, advice);
        };
        // The responder saw this client: its address is the exact source for a rule, and
        // a difference from our own sending address shows the NAT in between.
        let mut advice = advice.clone();
        if self.given_source.is_none() {
            advice.source = Source::Observed(observed.ip());
        }
        let mut diagnosis = diagnose(result, &facts, &advice);
        let sends_from = address.and_then(source_for);
        let seen = match sends_from {
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
    pub fn cause(&self, result: &ProbeResult, index: &HostIndex) -> Cause {
        let info = result.endpoint.address.map(classify);
        let others = index.others(result);
        let facts = Facts {
            target: info.as_ref(),
            local_networks: &self.networks,
            others: &others,
            ping: None,
        };
        findings(result, &facts)
            .first()
            .map_or(Cause::Ok, |f| f.cause)
    }

    /// How the provider was chosen for `address` (for the verdict's text).
    pub fn provider_note(&mut self, address: Option<IpAddr>) -> String {
        advice_for(
            &mut self.per_address,
            self.cloud,
            self.given_source,
            address,
        )
        .1
        .clone()
    }
}

/// The advice for `address`, worked out once (the source lookup asks the kernel).
fn advice_for(
    cache: &mut HashMap<Option<IpAddr>, (Advice, String)>,
    cloud: CloudChoice,
    given: Option<IpNet>,
    address: Option<IpAddr>,
) -> &(Advice, String) {
    cache.entry(address).or_insert_with(|| {
        let info = address.map(classify);
        let (provider, note) = pick_provider(cloud, info.as_ref());
        let source = pick_source(given, address.and_then(source_for));
        (Advice { provider, source }, note)
    })
}
