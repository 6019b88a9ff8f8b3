//! One JSON report of `ipdiag check` or `ipdiag probe` (or their JSON lines) read into what
//! `ipdiag merge` compares: where it ran, the endpoints it saw and their states.
//!
//! Pure: text in, [`Report`] out. Unknown fields are ignored (a newer ipdiag may add some);
//! a different `schema_version` is refused by the caller, which sees every file.

use crate::model::State;
use serde::Deserialize;
use serde::de::{Deserializer as _, IgnoredAny, SeqAccess, Visitor};
use serde_json::Value;
use std::net::IpAddr;

/// The endpoint a row is about, the same from every vantage: the check's name (empty for
/// `probe` records), the host as written (a name, not the address it resolved to, which
/// may differ between places), the port and the protocol.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EndpointKey {
    /// The check's name; empty for a `probe` record.
    pub name: String,
    /// The host as written; for a network target the address probed.
    pub host: String,
    /// The port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
}

impl EndpointKey {
    /// `host:port/protocol`, `[v6]:port/protocol` for an IPv6 literal.
    pub fn endpoint(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}/{}", self.host, self.port, self.protocol)
        } else {
            format!("{}:{}/{}", self.host, self.port, self.protocol)
        }
    }
}

/// One endpoint as one vantage saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// Which endpoint.
    pub key: EndpointKey,
    /// The state there.
    pub state: State,
    /// Its reason (`syn-ack`, `no-response`, `local-error`, ...).
    pub reason: String,
    /// The address probed (`None` when the name did not resolve).
    pub address: Option<IpAddr>,
    /// The check's expectation, for `check` reports.
    pub expect: Option<String>,
    /// Whether the check held for this port (`check` reports only).
    pub holds: Option<bool>,
    /// This vantage as a responder saw it (after any NAT).
    pub observed_source: Option<IpAddr>,
}

/// What one file holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// The vantage it names (`None`: the caller uses the file's stem).
    pub vantage: Option<String>,
    /// `schema_version`, when the report states one (`check --json` does).
    pub schema_version: Option<u32>,
    /// The vantage's source addresses towards the targets (`check --json`'s `sources`).
    pub sources: Vec<IpAddr>,
    /// Every endpoint it saw, in its order.
    pub seen: Vec<Seen>,
}

/// Why a text is not a report `merge` can read (the caller adds the file's name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// Not JSON, nor JSON lines.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// JSON, but not what `check --json` or `probe --json` write.
    #[error(
        "not an ipdiag report (expected the JSON of `ipdiag check --json` or `ipdiag probe --json`): {0}"
    )]
    NotReport(String),
}

/// A `check --json` report's top level.
#[derive(Deserialize)]
struct CheckRun {
    schema_version: Option<u32>,
    vantage: Option<String>,
    #[serde(default)]
    sources: Vec<String>,
    checks: Vec<CheckRecord>,
}

/// One check (also a line of `check --jsonl`).
#[derive(Deserialize)]
struct CheckRecord {
    vantage: Option<String>,
    name: String,
    expect: Option<String>,
    results: Vec<ProbeRecord>,
}

/// One probe record (`probe --json`, a check's result).
#[derive(Deserialize)]
struct ProbeRecord {
    vantage: Option<String>,
    host: String,
    address: Option<String>,
    port: u16,
    protocol: String,
    state: State,
    reason: String,
    holds: Option<bool>,
    observed_source: Option<String>,
}

/// Reads a report: one JSON value (a `check --json` object, a `probe --json` array), or
/// JSON lines (`check --jsonl`, `probe --jsonl`).
///
/// The text is checked to be JSON before any record is read, so a file that is neither
/// says "not JSON"; an array is then read one record at a time, never held as values (two
/// full-sweep reports of 135 MB each took 808 MB so).
pub fn parse_report(text: &str) -> Result<Report, ReportError> {
    let mut report = Report::default();
    match serde_json::from_str::<IgnoredAny>(text) {
        Ok(_) if text.trim_start().starts_with('[') => read_array(text, &mut report)?,
        Ok(_) => read_value(json(text)?, &mut report)?,
        Err(whole) => {
            let lines = || text.lines().filter(|l| !l.trim().is_empty());
            let valid = |l: &&str| serde_json::from_str::<IgnoredAny>(l).is_ok();
            if lines().count() < 2 || !lines().all(|l| valid(&l)) {
                return Err(ReportError::NotJson(whole.to_string()));
            }
            for line in lines() {
                read_value(json(line)?, &mut report)?;
            }
        }
    }
    if report.seen.is_empty() {
        return Err(ReportError::NotReport("it holds no probed endpoint".into()));
    }
    Ok(report)
}

fn json(text: &str) -> Result<Value, ReportError> {
    serde_json::from_str(text).map_err(|e| ReportError::NotJson(e.to_string()))
}

/// A JSON array (known to be valid JSON), each element read as it is parsed.
fn read_array(text: &str, report: &mut Report) -> Result<(), ReportError> {
    struct Records<'r> {
        report: &'r mut Report,
        problem: &'r mut Option<ReportError>,
    }
    impl<'de> Visitor<'de> for Records<'_> {
        type Value = ();

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of records")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(value) = seq.next_element::<Value>()? {
                if let Err(problem) = read_value(value, self.report) {
                    *self.problem = Some(problem);
                    return Err(serde::de::Error::custom("not a report"));
                }
            }
            Ok(())
        }
    }
    let mut problem = None;
    let mut de = serde_json::Deserializer::from_str(text);
    let read = (&mut de).deserialize_seq(Records {
        report,
        problem: &mut problem,
    });
    match (problem, read) {
        (Some(problem), _) => Err(problem),
        (None, read) => read.map_err(|e| ReportError::NotJson(e.to_string())),
    }
}

/// One JSON value: a whole check run, a check, a probe record, or the closing object of
/// an interrupted run (skipped).
fn read_value(value: Value, report: &mut Report) -> Result<(), ReportError> {
    let Value::Object(fields) = &value else {
        return Err(ReportError::NotReport(format!(
            "found {} where a report's object belongs",
            kind(&value)
        )));
    };
    let not_report = |e: serde_json::Error| ReportError::NotReport(e.to_string());
    if fields.contains_key("checks") {
        let run: CheckRun = serde_json::from_value(value).map_err(not_report)?;
        report.schema_version = run.schema_version;
        name_vantage(report, run.vantage);
        report.sources = run.sources.iter().filter_map(|s| s.parse().ok()).collect();
        for check in run.checks {
            add_check(report, check);
        }
    } else if fields.contains_key("results") {
        let check: CheckRecord = serde_json::from_value(value).map_err(not_report)?;
        add_check(report, check);
    } else if fields.contains_key("state") {
        let record: ProbeRecord = serde_json::from_value(value).map_err(not_report)?;
        name_vantage(report, record.vantage.clone());
        report.seen.push(seen(String::new(), None, record));
    } else if !fields.contains_key("interrupted") {
        return Err(ReportError::NotReport(
            "an object without `checks`, `results` or `state`".into(),
        ));
    }
    Ok(())
}

fn add_check(report: &mut Report, check: CheckRecord) {
    name_vantage(report, check.vantage);
    for record in check.results {
        report
            .seen
            .push(seen(check.name.clone(), check.expect.clone(), record));
    }
}

/// The first vantage a file names is its vantage.
fn name_vantage(report: &mut Report, vantage: Option<String>) {
    if report.vantage.is_none() {
        report.vantage = vantage.filter(|v| !v.is_empty());
    }
}

fn seen(name: String, expect: Option<String>, record: ProbeRecord) -> Seen {
    let address: Option<IpAddr> = record.address.as_deref().and_then(|a| a.parse().ok());
    // A network target (`10.0.0.0/30:22`) is a row per address: the address is the host.
    let host = match address {
        Some(a) if record.host.contains('/') => a.to_string(),
        _ => record.host,
    };
    Seen {
        key: EndpointKey {
            name,
            host,
            port: record.port,
            protocol: record.protocol,
        },
        state: record.state,
        reason: record.reason,
        address,
        expect,
        holds: record.holds,
        observed_source: record
            .observed_source
            .as_deref()
            .and_then(|s| s.parse::<std::net::SocketAddr>().ok())
            .map(|s| s.ip()),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHECK: &str = r#"{"schema_version": 1, "vantage": "eu", "sources": ["198.51.100.2"],
      "file": "f.toml", "ok": false, "checks": [
        {"vantage": "eu", "name": "web", "line": 1, "target": "web.example:80,443", "protocol": "tcp",
         "expect": "open", "holds": false, "message": "x", "results": [
          {"target": "web.example:80", "host": "web.example", "address": "203.0.113.10", "port": 80,
           "protocol": "tcp", "state": "open", "reason": "syn-ack", "holds": true, "why": null,
           "observed_source": null},
          {"target": "web.example:443", "host": "web.example", "address": "203.0.113.10", "port": 443,
           "protocol": "tcp", "state": "filtered", "reason": "no-response", "holds": false,
           "why": "expected open", "observed_source": "198.51.100.7:40000"}]}]}"#;

    #[test]
    fn a_check_report_is_read_with_its_vantage_and_rows() {
        let r = parse_report(CHECK).unwrap();
        assert_eq!(r.vantage.as_deref(), Some("eu"));
        assert_eq!(r.schema_version, Some(1));
        assert_eq!(r.sources, ["198.51.100.2".parse::<IpAddr>().unwrap()]);
        assert_eq!(r.seen.len(), 2);
        assert_eq!(r.seen[1].key.endpoint(), "web.example:443/tcp");
        assert_eq!(r.seen[1].key.name, "web");
        assert_eq!(r.seen[1].state, State::Filtered);
        assert_eq!(r.seen[1].holds, Some(false));
        assert_eq!(r.seen[1].expect.as_deref(), Some("open"));
        assert_eq!(
            r.seen[1].observed_source,
            Some("198.51.100.7".parse().unwrap())
        );
    }

    #[test]
    fn probe_arrays_and_json_lines_are_read() {
        let probe = r#"[{"target": "[2001:db8::1]:22", "host": "2001:db8::1", "address": "2001:db8::1",
            "port": 22, "protocol": "tcp", "state": "closed", "reason": "conn-refused"},
            {"interrupted": true, "probed": 1, "not_probed": 3}]"#;
        let r = parse_report(probe).unwrap();
        assert_eq!(r.vantage, None);
        assert_eq!(r.schema_version, None);
        assert_eq!(r.seen.len(), 1);
        assert_eq!(r.seen[0].key.endpoint(), "[2001:db8::1]:22/tcp");
        assert_eq!(r.seen[0].key.name, "");
        let lines = "{\"vantage\": \"a\", \"name\": \"n\", \"results\": []}\n{\"vantage\": \"a\", \"name\": \"m\", \"expect\": \"closed\", \"results\": [{\"host\": \"h\", \"address\": null, \"port\": 1, \"protocol\": \"udp\", \"state\": \"error\", \"reason\": \"dns-error\"}]}\n";
        let r = parse_report(lines).unwrap();
        assert_eq!(r.vantage.as_deref(), Some("a"));
        assert_eq!(r.seen.len(), 1);
        assert_eq!(r.seen[0].state, State::Error);
    }

    #[test]
    fn a_network_target_is_an_endpoint_per_address() {
        let probe = r#"[{"host": "10.0.0.0/30", "address": "10.0.0.1", "port": 22, "protocol": "tcp", "state": "open", "reason": "syn-ack"},
            {"host": "10.0.0.0/30", "address": "10.0.0.2", "port": 22, "protocol": "tcp", "state": "open", "reason": "syn-ack"}]"#;
        let r = parse_report(probe).unwrap();
        assert_eq!(r.seen[0].key.endpoint(), "10.0.0.1:22/tcp");
        assert_eq!(r.seen[1].key.endpoint(), "10.0.0.2:22/tcp");
    }

    #[test]
    fn what_is_not_a_report_says_why() {
        let not_json = parse_report("hello").unwrap_err();
        assert!(matches!(not_json, ReportError::NotJson(_)), "{not_json}");
        // Broken JSON is "not JSON" although a record before the break is no report's:
        // the whole text is checked before any record is read.
        assert_eq!(
            parse_report("[1, }").unwrap_err().to_string(),
            "not JSON: expected value at line 1 column 5"
        );
        assert_eq!(
            parse_report("{\"state\": 1}\n{\"a\": 2}\nnot json\n")
                .unwrap_err()
                .to_string(),
            "not JSON: trailing characters at line 2 column 1"
        );
        assert_eq!(
            parse_report("[1]").unwrap_err().to_string(),
            "not an ipdiag report (expected the JSON of `ipdiag check --json` or `ipdiag probe --json`): found a number where a report's object belongs"
        );
        assert_eq!(
            parse_report(r#"{"nftables": []}"#).unwrap_err().to_string(),
            "not an ipdiag report (expected the JSON of `ipdiag check --json` or `ipdiag probe --json`): an object without `checks`, `results` or `state`"
        );
        assert_eq!(
            parse_report("[]").unwrap_err().to_string(),
            "not an ipdiag report (expected the JSON of `ipdiag check --json` or `ipdiag probe --json`): it holds no probed endpoint"
        );
        let bad_state = parse_report(
            r#"[{"host": "h", "address": null, "port": 1, "protocol": "tcp", "state": "up", "reason": "x"}]"#,
        )
        .unwrap_err();
        assert!(
            bad_state.to_string().contains("unknown variant `up`"),
            "{bad_state}"
        );
    }
}
