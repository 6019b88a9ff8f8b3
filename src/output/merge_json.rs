//! The JSON of `ipdiag merge` (README.md "Many vantage points"): the vantages, the verdict
//! counts and one object per endpoint with what each vantage saw.

use crate::merge::{Judged, Merged, Seen};
use serde::Serialize;

/// The version of this report's shape (as `check --json`'s).
pub const MERGE_SCHEMA_VERSION: u32 = 1;

/// The whole merge.
#[derive(Debug, Serialize)]
pub struct MergeRecord<'a> {
    /// [`MERGE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The vantages, in the order the files were given.
    pub vantages: &'a [String],
    /// Every endpoint holds.
    pub ok: bool,
    /// Endpoints.
    pub total: usize,
    /// Endpoints that hold from every vantage.
    pub passed: usize,
    /// `{verdict, count}`, the commonest first.
    pub verdicts: Vec<CountRecord>,
    /// The endpoints, in the order first seen.
    pub endpoints: Vec<EndpointRecord<'a>>,
}

/// How many endpoints got a verdict.
#[derive(Debug, Serialize)]
pub struct CountRecord {
    /// The verdict's word.
    pub verdict: &'static str,
    /// Endpoints with it.
    pub count: usize,
}

/// One endpoint across vantages (also a line of `--jsonl`).
#[derive(Debug, Serialize)]
pub struct EndpointRecord<'a> {
    /// The check's name (`null` for `probe` reports).
    pub name: Option<&'a str>,
    /// `host:port/protocol`.
    pub endpoint: String,
    /// The host as written.
    pub host: &'a str,
    /// The port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub protocol: &'a str,
    /// The check's expectation (`null` for `probe` reports).
    pub expect: Option<&'a str>,
    /// The verdict across vantages.
    pub verdict: &'static str,
    /// It in one sentence.
    pub why: &'a str,
    /// The facts behind it.
    pub evidence: &'a [String],
    /// Holds from every vantage.
    pub holds: bool,
    /// What each vantage saw (vantages that did not probe it are left out).
    pub seen: Vec<SeenRecord<'a>>,
}

/// One vantage's view of an endpoint.
#[derive(Debug, Serialize)]
pub struct SeenRecord<'a> {
    /// The vantage.
    pub vantage: &'a str,
    /// nmap's state.
    pub state: &'static str,
    /// The evidence.
    pub reason: &'a str,
    /// The address it probed.
    pub address: Option<String>,
    /// Its check held there (`null` for `probe` reports).
    pub holds: Option<bool>,
}

/// The record of a merge.
pub fn merge_record(merged: &Merged) -> MergeRecord<'_> {
    MergeRecord {
        schema_version: MERGE_SCHEMA_VERSION,
        vantages: &merged.vantages,
        ok: merged.holds(),
        total: merged.endpoints.len(),
        passed: merged.endpoints.iter().filter(|e| e.holds).count(),
        verdicts: merged
            .counts()
            .into_iter()
            .map(|(v, count)| CountRecord {
                verdict: v.as_str(),
                count,
            })
            .collect(),
        endpoints: merged
            .endpoints
            .iter()
            .map(|e| endpoint_record(e, &merged.vantages))
            .collect(),
    }
}

/// The record of one endpoint.
pub fn endpoint_record<'a>(e: &'a Judged, vantages: &'a [String]) -> EndpointRecord<'a> {
    EndpointRecord {
        name: (!e.key.name.is_empty()).then_some(e.key.name.as_str()),
        endpoint: e.key.endpoint(),
        host: &e.key.host,
        port: e.key.port,
        protocol: &e.key.protocol,
        expect: e.expect.as_deref(),
        verdict: e.verdict.as_str(),
        why: &e.why,
        evidence: &e.evidence,
        holds: e.holds,
        seen: vantages
            .iter()
            .zip(&e.cells)
            .filter_map(|(v, cell)| cell.as_ref().map(|s| seen_record(v, s)))
            .collect(),
    }
}

fn seen_record<'a>(vantage: &'a str, s: &'a Seen) -> SeenRecord<'a> {
    SeenRecord {
        vantage,
        state: s.state.as_str(),
        reason: &s.reason,
        address: s.address.map(|a| a.to_string()),
        holds: s.holds,
    }
}
