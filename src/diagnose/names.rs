//! A host name the way clients use it: a client's connect tries the name's addresses in
//! turn (happy eyeballs, RFC 8305) and is served by the first that answers, so a name is
//! reachable when one of its addresses is. Pure: groups results of one name and port,
//! picks the one each group is judged by, and turns the failure of an address family this
//! machine has no route for into a note. `--all-addresses` (or `-4`/`-6`) keeps the strict
//! view, where every address counts on its own.

use super::{Cause, Confidence, Diagnosis, Hint};
use crate::check::{most_reachable, reachability};
use crate::model::{LocalFault, ProbeResult, State};
use std::collections::HashMap;
use std::net::IpAddr;

/// Whether a host as written is a name (not an address or a network).
pub fn is_name(host: &str) -> bool {
    // A zone id (`fe80::1%eth0`) is part of an address, not a name.
    let address = host.split('%').next().unwrap_or(host);
    !host.contains('/') && address.parse::<IpAddr>().is_err()
}

/// For each result, the index of the result its name and port are judged by: the most
/// reachable address of the same target, port and protocol when the host is a name, the
/// result itself otherwise.
pub fn judged_by(results: &[ProbeResult]) -> Vec<usize> {
    fn key(r: &ProbeResult) -> (&str, u16, crate::model::Protocol) {
        (
            r.endpoint.target.as_str(),
            r.endpoint.port,
            r.endpoint.protocol,
        )
    }
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    // A sweep of a name has a group per port: found by key, not by a search.
    let mut by_key: HashMap<(&str, u16, crate::model::Protocol), usize> = HashMap::new();
    let mut group_of = Vec::with_capacity(results.len());
    for (i, r) in results.iter().enumerate() {
        let g = if is_name(&r.endpoint.host) {
            *by_key.entry(key(r)).or_insert(groups.len())
        } else {
            groups.len()
        };
        if g == groups.len() {
            groups.push((i, Vec::new()));
        }
        groups[g].1.push(i);
        group_of.push(g);
    }
    let best: Vec<usize> = groups
        .iter()
        .map(|(first, members)| {
            let list: Vec<&ProbeResult> = members.iter().map(|&i| &results[i]).collect();
            most_reachable(&list)
                .and_then(|b| list.iter().position(|r| std::ptr::eq(*r, b)))
                .map_or(*first, |p| members[p])
        })
        .collect();
    group_of.into_iter().map(|g| best[g]).collect()
}

/// Whether every name and address of the run is as expected: each result judged by the
/// best address of its name, or (`strict`) every address on its own.
pub fn all_as_expected(
    results: &[ProbeResult],
    expected: impl Fn(State) -> bool,
    strict: bool,
) -> bool {
    if results.is_empty() {
        return false;
    }
    if strict {
        return results.iter().all(|r| expected(r.state));
    }
    judged_by(results)
        .into_iter()
        .all(|best| expected(results[best].state))
}

/// [`all_as_expected`] worked out as results come, so a sweep's results need not be kept:
/// each literal address counts on its own, and each name, port and protocol by its most
/// reachable address (the first of equals, as [`judged_by`] picks).
#[derive(Debug, Default)]
pub struct Expectation {
    /// Some result was added.
    seen: bool,
    /// Some result judged on its own was not as expected.
    failed: bool,
    /// Per name as written, port and protocol: the most reachable state so far.
    names: HashMap<String, HashMap<(u16, crate::model::Protocol), State>>,
}

impl Expectation {
    /// Adds a result (in plan order); `strict`: every address judged on its own.
    pub fn add(&mut self, r: &ProbeResult, expected: impl Fn(State) -> bool, strict: bool) {
        self.seen = true;
        if strict || !is_name(&r.endpoint.host) {
            self.failed |= !expected(r.state);
            return;
        }
        let ports = match self.names.get_mut(&r.endpoint.target) {
            Some(ports) => ports,
            None => self.names.entry(r.endpoint.target.clone()).or_default(),
        };
        let best = ports
            .entry((r.endpoint.port, r.endpoint.protocol))
            .or_insert(r.state);
        if reachability(r.state) > reachability(*best) {
            *best = r.state;
        }
    }

    /// Whether the run so far is as expected (false when nothing was added).
    pub fn holds(&self, expected: impl Fn(State) -> bool) -> bool {
        self.seen
            && !self.failed
            && self
                .names
                .values()
                .flat_map(HashMap::values)
                .all(|s| expected(*s))
    }
}

/// Whether `best` (open) makes `result` a family without a route that clients of the name
/// never need: `result` failed for want of a route, `best` is of the other family.
pub fn covers(best: &ProbeResult, result: &ProbeResult) -> bool {
    let (Some(address), Some(best_address)) = (result.endpoint.address, best.endpoint.address)
    else {
        return false;
    };
    result.fault == Some(LocalFault::NoRoute)
        && best.state == State::Open
        && address.is_ipv6() != best_address.is_ipv6()
}

/// The diagnosis of an address of a name whose family has no route from this machine,
/// while another address of the name (`best`) answers open: clients connect by the other
/// one, so the failure is a note (ranked first, `ok`), and its causes stay listed below.
/// `None` when the result is not such an address.
pub fn family_without_route(
    diagnosis: &Diagnosis,
    result: &ProbeResult,
    best: &ProbeResult,
) -> Option<Diagnosis> {
    if !covers(best, result) {
        return None;
    }
    let (address, best_address) = (result.endpoint.address?, best.endpoint.address?);
    let family = if address.is_ipv6() { "IPv6" } else { "IPv4" };
    let e = &best.endpoint;
    let note = Hint {
        cause: Cause::Ok,
        confidence: Confidence::Medium,
        evidence: vec![format!(
            "{address} is {host}'s {family} address and this machine has no {family} route; a client connecting to {host} uses {best_address} ({}/{} open), as every client's connect does (happy eyeballs)",
            e.port,
            e.protocol.as_str(),
            host = e.host,
        )],
        fix: vec![format!(
            "Nothing to do for clients like this one. For {family} clients, probe from a machine with {family} (or add -{} to test only that family; --all-addresses judges every address).",
            if address.is_ipv6() { 6 } else { 4 }
        )],
    };
    let mut hints = vec![note];
    hints.extend(diagnosis.hints.iter().cloned().map(|mut h| {
        h.confidence = Confidence::Low;
        h
    }));
    Some(Diagnosis {
        cause: Cause::Ok,
        hints,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Reason};

    fn named(address: &str, state: State) -> ProbeResult {
        let mut r = ProbeResult::sample(address, 8000, state, Reason::SynAck);
        r.endpoint = Endpoint {
            target: "myvm:8000".into(),
            host: "myvm".into(),
            ..r.endpoint
        };
        r
    }

    fn no_route(address: &str) -> ProbeResult {
        let mut r = named(address, State::Error);
        (r.reason, r.fault, r.attempts, r.received) =
            (Reason::LocalError, Some(LocalFault::NoRoute), 0, 0);
        r
    }

    #[test]
    fn names_and_literals() {
        assert!(is_name("myvm") && is_name("db.example.com"));
        assert!(!is_name("203.0.113.10") && !is_name("::1") && !is_name("fe80::1%eth0"));
        assert!(!is_name("10.0.0.0/30"));
    }

    #[test]
    fn a_name_is_judged_by_its_best_address() {
        let results = [no_route("2001:db8::10"), named("203.0.113.10", State::Open)];
        assert_eq!(judged_by(&results), [1, 1]);
        assert!(all_as_expected(&results, |s| s == State::Open, false));
        assert!(
            !all_as_expected(&results, |s| s == State::Open, true),
            "--all-addresses"
        );
        assert!(!all_as_expected(&[], |s| s == State::Open, false));
        // Literal addresses each count on their own, even with the same target text.
        let mut a = ProbeResult::sample("203.0.113.10", 80, State::Open, Reason::SynAck);
        let mut b = ProbeResult::sample("203.0.113.11", 80, State::Closed, Reason::ConnRefused);
        a.endpoint.target = "203.0.113.8/30:80".into();
        a.endpoint.host = "203.0.113.8/30".into();
        b.endpoint.target.clone_from(&a.endpoint.target);
        b.endpoint.host.clone_from(&a.endpoint.host);
        assert_eq!(judged_by(&[a.clone(), b.clone()]), [0, 1]);
        assert!(!all_as_expected(&[a, b], |s| s == State::Open, false));
    }

    #[test]
    fn expectation_as_results_come_agrees_with_the_whole_run() {
        let open = |s: State| s == State::Open;
        let mut literal =
            ProbeResult::sample("203.0.113.11", 80, State::Closed, Reason::ConnRefused);
        literal.endpoint.target = "203.0.113.11:80".into();
        let runs: [Vec<ProbeResult>; 4] = [
            vec![no_route("2001:db8::10"), named("203.0.113.10", State::Open)],
            vec![
                named("203.0.113.10", State::Filtered),
                no_route("2001:db8::10"),
            ],
            vec![named("203.0.113.10", State::Open), literal.clone()],
            Vec::new(),
        ];
        for results in &runs {
            for strict in [false, true] {
                let mut e = Expectation::default();
                for r in results {
                    e.add(r, open, strict);
                }
                assert_eq!(
                    e.holds(open),
                    all_as_expected(results, open, strict),
                    "{results:?} strict {strict}"
                );
            }
        }
    }

    #[test]
    fn a_family_without_a_route_is_a_note() {
        let v6 = no_route("2001:db8::10");
        let v4 = named("203.0.113.10", State::Open);
        let failure = Diagnosis {
            cause: Cause::NoRoute,
            hints: vec![Hint {
                cause: Cause::NoRoute,
                confidence: Confidence::High,
                evidence: vec!["8000/tcp local-error".into()],
                fix: Vec::new(),
            }],
        };
        let d = family_without_route(&failure, &v6, &v4).unwrap();
        let ranked: Vec<_> = d.hints.iter().map(|h| (h.cause, h.confidence)).collect();
        assert_eq!(
            (d.cause, ranked),
            (
                Cause::Ok,
                vec![
                    (Cause::Ok, Confidence::Medium),
                    (Cause::NoRoute, Confidence::Low)
                ]
            )
        );
        assert_eq!(
            d.hints[0].evidence,
            [
                "2001:db8::10 is myvm's IPv6 address and this machine has no IPv6 route; a client connecting to myvm uses 203.0.113.10 (8000/tcp open), as every client's connect does (happy eyeballs)"
            ]
        );
        // Not when the other address fails too, or the failure is not a missing route.
        assert_eq!(
            family_without_route(&failure, &v6, &named("203.0.113.10", State::Filtered)),
            None
        );
        assert_eq!(
            family_without_route(&failure, &named("2001:db8::10", State::Filtered), &v4),
            None
        );
    }
}
