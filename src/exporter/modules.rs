//! The exporter's modules: how `/probe?module=NAME` probes, in the check file's words
//! (protocol, expect, count, interval, timeout, retries, responder, token, payload), read
//! as strictly as a check file (an unknown key is an error with its line and column). Four
//! are built in; a file may redefine them or add its own:
//!
//! ```toml
//! [module.dns]
//! protocol = "udp"
//! payload = "dns"
//! expect = "open"
//!
//! [module.admin_closed]
//! expect = "closed"
//! ```
//!
//! Pure: no I/O.

use crate::check::config::{ConfigError, locate, positive_timeout, toml_error};
use crate::check::fields::{DurationField, ProtocolField};
use crate::check::{CheckTiming, Expect};
use crate::model::Protocol;
use crate::wire::payloads::{PayloadChoice, parse_payload};
use crate::wire::responder::MIN_SECRET_LEN;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// How one module probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Its name in `?module=`.
    pub name: String,
    /// TCP or UDP.
    pub protocol: Protocol,
    /// What `probe_success` asks of the state.
    pub expect: Expect,
    /// Attempts, waits, retries (the check file's defaults).
    pub timing: CheckTiming,
    /// An ipdiag responder answers on the target: UDP silence is then filtered.
    pub responder: bool,
    /// The responder's secret.
    pub token: Option<Vec<u8>>,
    /// The UDP payload (`probe --payload`'s words).
    pub payload: PayloadChoice,
    /// Gather doctor's evidence too (control ports, ICMP echo) for a sharper cause.
    pub doctor: bool,
}

impl Module {
    fn builtin(name: &str, protocol: Protocol, expect: Expect) -> Self {
        Self {
            name: name.to_owned(),
            protocol,
            expect,
            timing: CheckTiming::default(),
            responder: false,
            token: None,
            payload: PayloadChoice::default(),
            doctor: false,
        }
    }
}

/// The built-in modules: `tcp` (open), `udp` (a UDP reply: silence is `open|filtered`,
/// which proves nothing), `tcp_closed` ("this port must stay closed": a RST or an ICMP
/// port unreachable), `doctor` (TCP open, diagnosed with doctor's evidence).
pub fn builtins() -> Vec<Module> {
    let mut doctor = Module::builtin("doctor", Protocol::Tcp, Expect::Open);
    doctor.doctor = true;
    doctor.timing.count = 3;
    vec![
        Module::builtin("tcp", Protocol::Tcp, Expect::Open),
        Module::builtin("udp", Protocol::Udp, Expect::Open),
        Module::builtin("tcp_closed", Protocol::Tcp, Expect::Closed),
        doctor,
    ]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    module: BTreeMap<String, Spanned<RawModule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModule {
    protocol: Option<ProtocolField>,
    expect: Option<Expect>,
    count: Option<Spanned<u32>>,
    interval: Option<DurationField>,
    timeout: Option<Spanned<DurationField>>,
    retries: Option<u32>,
    responder: Option<bool>,
    token: Option<Spanned<String>>,
    payload: Option<Spanned<String>>,
    doctor: Option<bool>,
}

/// The built-ins and the modules of a file (a file's module replaces a built-in of the
/// same name), sorted by name.
pub fn parse_modules(text: &str) -> Result<Vec<Module>, ConfigError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| toml_error(text, 0, &e))?;
    let mut modules: BTreeMap<String, Module> = builtins()
        .into_iter()
        .map(|m| (m.name.clone(), m))
        .collect();
    for (name, spanned) in raw.module {
        let at = |span: std::ops::Range<usize>, message: &str| locate(text, span.start, message);
        if !valid_name(&name) {
            return Err(at(
                spanned.span(),
                &format!("module name '{name}': use letters, digits, '_' and '-' only"),
            ));
        }
        let m = module(&name, spanned.get_ref()).map_err(|(span, msg)| at(span, &msg))?;
        modules.insert(name, m);
    }
    Ok(modules.into_values().collect())
}

/// A name that needs no escaping in a URL, a label or a page.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn module(name: &str, raw: &RawModule) -> Result<Module, (std::ops::Range<usize>, String)> {
    let defaults = CheckTiming::default();
    let doctor = raw.doctor.unwrap_or(false);
    let mut timing = CheckTiming {
        timeout: raw
            .timeout
            .as_ref()
            .map_or(defaults.timeout, |t| t.get_ref().0),
        retries: raw.retries.unwrap_or(defaults.retries),
        count: raw.count.as_ref().map_or(defaults.count, |n| *n.get_ref()),
        interval: raw.interval.map_or(defaults.interval, |i| i.0),
    };
    if let Some(t) = &raw.timeout {
        positive_timeout(t).map_err(|m| (t.span(), m))?;
    }
    if let Some(n) = &raw.count
        && timing.count == 0
    {
        return Err((n.span(), "count must be at least 1".into()));
    }
    if doctor && raw.count.is_none() {
        timing.count = 3;
    }
    let token = match &raw.token {
        Some(t) if t.get_ref().len() < MIN_SECRET_LEN => {
            return Err((
                t.span(),
                format!(
                    "the token is {} bytes; give at least {MIN_SECRET_LEN}",
                    t.get_ref().len()
                ),
            ));
        }
        Some(t) => Some(t.get_ref().as_bytes().to_vec()),
        None => None,
    };
    let payload = match &raw.payload {
        Some(p) => parse_payload(p.get_ref()).map_err(|e| (p.span(), e.to_string()))?,
        None => PayloadChoice::default(),
    };
    Ok(Module {
        name: name.to_owned(),
        protocol: raw.protocol.map_or(Protocol::Tcp, Into::into),
        expect: raw.expect.unwrap_or_default(),
        timing,
        responder: raw.responder.unwrap_or(false),
        token,
        payload,
        doctor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn names(modules: &[Module]) -> Vec<&str> {
        modules.iter().map(|m| m.name.as_str()).collect()
    }

    #[test]
    fn an_empty_file_gives_the_builtins() {
        let modules = parse_modules("").unwrap();
        assert_eq!(names(&modules), ["doctor", "tcp", "tcp_closed", "udp"]);
        let closed = &modules[2];
        assert_eq!(
            (closed.protocol, closed.expect),
            (Protocol::Tcp, Expect::Closed)
        );
        assert!(modules[0].doctor);
        assert_eq!(modules[0].timing.count, 3);
    }

    #[test]
    fn a_module_in_the_check_files_words() {
        let text = "[module.dns]\nprotocol = \"udp\"\npayload = \"dns\"\ncount = 5\ninterval = \"100ms\"\ntimeout = \"2s\"\nretries = 1\nresponder = true\ntoken = \"s3cret-token\"\nexpect = \"open|filtered\"\n";
        let modules = parse_modules(text).unwrap();
        assert_eq!(
            names(&modules),
            ["dns", "doctor", "tcp", "tcp_closed", "udp"]
        );
        let dns = &modules[0];
        assert_eq!(dns.protocol, Protocol::Udp);
        assert_eq!(dns.expect, Expect::OpenOrFiltered);
        assert_eq!(
            dns.timing,
            CheckTiming {
                timeout: Duration::from_secs(2),
                retries: 1,
                count: 5,
                interval: Duration::from_millis(100),
            }
        );
        assert!(dns.responder);
        assert_eq!(dns.token.as_deref(), Some(&b"s3cret-token"[..]));
        assert_ne!(dns.payload, PayloadChoice::default());
    }

    #[test]
    fn a_file_may_redefine_a_builtin() {
        let modules = parse_modules("[module.tcp]\ncount = 4\n").unwrap();
        assert_eq!(modules.len(), 4);
        let tcp = modules.iter().find(|m| m.name == "tcp").unwrap();
        assert_eq!(tcp.timing.count, 4);
    }

    #[test]
    fn problems_have_their_place() {
        let e = parse_modules("[module.web]\nexpct = \"open\"\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("unknown field `expct`"), "{}", e.message);
        let e = parse_modules("[module.web]\ncount = 0\n").unwrap_err();
        assert_eq!(
            (e.line, e.column, e.message.as_str()),
            (2, 9, "count must be at least 1")
        );
        let e = parse_modules("[module.web]\ntoken = \"short\"\n").unwrap_err();
        assert_eq!(e.message, "the token is 5 bytes; give at least 8");
        let e = parse_modules("[module.\"a b\"]\n").unwrap_err();
        assert_eq!(
            e.message,
            "module name 'a b': use letters, digits, '_' and '-' only"
        );
        let e = parse_modules("[module.web]\ntimeout = \"0s\"\n").unwrap_err();
        assert_eq!(e.line, 2);
    }
}
