//! The check file of `ipdiag check`: TOML read strictly. An unknown key, a bad value or a
//! check that could never run is an error with the line and column where it is, because a
//! typo must not silently disable a check.
//!
//! ```toml
//! [defaults]
//! timeout = "1s"
//!
//! [[check]]
//! name = "web"
//! target = "203.0.113.10:443"
//! expect = "open"
//! max_rtt_ms = 150
//! ```

use super::duplicate;
use super::expect::{Budget, Expect};
use super::fields::{DurationField, NumberField, PortsField, ProtocolField, TargetField};
use super::split;
use crate::error::InputError;
use crate::model::Protocol;
use crate::plan::expand::{PlanOptions, build_plan};
use crate::plan::target::TargetSpec;
use crate::resolve::NoLookup;
use serde::Deserialize;
use std::collections::HashMap;
use std::ops::Range;
use std::time::Duration;
use toml::Spanned;

/// Attempts per check when a loss budget is given without a count: enough to measure loss.
pub const LOSS_BUDGET_COUNT: u32 = 10;

/// A check file, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckFile {
    /// The checks in file order.
    pub checks: Vec<Check>,
}

/// One `[[check]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Its name (the target when none is given); unique in the file.
    pub name: String,
    /// The line of its `[[check]]` header (for CI annotations).
    pub line: usize,
    /// What to probe; `ports` from the file are merged in.
    pub target: TargetSpec,
    /// TCP or UDP (ports written `53/udp` override it).
    pub protocol: Protocol,
    /// The state it expects.
    pub expect: Expect,
    /// Its loss and RTT budgets.
    pub budget: Budget,
    /// Its attempts and waits.
    pub timing: CheckTiming,
    /// An ipdiag responder runs on the target: UDP silence then means filtered.
    pub responder: bool,
}

/// Attempts and waits of a check (checks with equal timing are probed together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CheckTiming {
    /// The longest wait for an answer.
    pub timeout: Duration,
    /// The most retries for a silent port.
    pub retries: u32,
    /// Attempts per port.
    pub count: u32,
    /// The pause between attempts.
    pub interval: Duration,
}

impl Default for CheckTiming {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(1),
            retries: crate::probe::timing::DEFAULT_MAX_RETRIES,
            count: 1,
            interval: Duration::from_millis(200),
        }
    }
}

/// A problem in a check file, at a place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong and what was expected there.
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    check: Vec<Spanned<RawCheck>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    timeout: Option<Spanned<DurationField>>,
    retries: Option<u32>,
    count: Option<Spanned<u32>>,
    interval: Option<DurationField>,
    protocol: Option<ProtocolField>,
    expect: Option<Expect>,
    responder: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    name: Option<Spanned<String>>,
    target: Spanned<TargetField>,
    ports: Option<Spanned<PortsField>>,
    protocol: Option<ProtocolField>,
    expect: Option<Expect>,
    timeout: Option<Spanned<DurationField>>,
    retries: Option<u32>,
    count: Option<Spanned<u32>>,
    interval: Option<DurationField>,
    max_loss_pct: Option<Spanned<NumberField>>,
    max_rtt_ms: Option<Spanned<NumberField>>,
    responder: Option<bool>,
}

/// Reads a check file's text.
///
/// ```
/// use ipdiag::check::{Expect, parse_check_file};
/// use ipdiag::model::State;
///
/// let file = parse_check_file("[[check]]\nname = \"admin\"\ntarget = \"127.0.0.1:8443\"\nexpect = \"filtered\"\n").unwrap();
/// let check = &file.checks[0];
/// assert_eq!(check.expect, Expect::Filtered);
/// // A port that answered with a RST fails a check that wants it filtered (not reachable).
/// assert!(!check.expect.holds(State::Closed));
/// assert!(check.expect.holds(State::Filtered));
///
/// // A typo is an error with its place, never a check that silently does nothing.
/// let e = parse_check_file("[[check]]\ntarget = \"127.0.0.1:22\"\nexpct = \"open\"\n").unwrap_err();
/// assert_eq!((e.line, e.column), (3, 1));
/// ```
pub fn parse_check_file(text: &str) -> Result<CheckFile, ConfigError> {
    match split::split(text) {
        Some(split) if !split.checks.is_empty() => {
            by_table(text, &split).unwrap_or_else(|| whole(text))
        }
        _ => whole(text),
    }
}

/// The file read whole by the TOML reader: for the layouts [`by_table`] leaves to it and for
/// the exact message of a problem outside the `[[check]]` tables.
fn whole(text: &str) -> Result<CheckFile, ConfigError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| toml_error(text, 0, &e))?;
    if raw.check.is_empty() {
        return Err(locate(
            text,
            0,
            "no [[check]] tables: nothing to check (see `ipdiag check --help`)",
        ));
    }
    let d = &raw.defaults;
    let at = |span: Range<usize>, message: String| locate(text, span.start, &message);
    if let Some(timeout) = &d.timeout {
        positive_timeout(timeout).map_err(|m| at(timeout.span(), m))?;
    }
    if let Some(count) = &d.count {
        positive_count(count).map_err(|m| at(count.span(), m))?;
    }
    let mut checks = Reading::new(text, raw.check.len());
    for spanned in &raw.check {
        checks.add(text, 0, spanned, d)?;
    }
    Ok(CheckFile {
        checks: checks.read,
    })
}

/// The file read one `[[check]]` table at a time, so memory holds the checks and one
/// table's tokens, not every token of the file (a million checks: under a second and the
/// checks' own size instead of gigabytes). `None` when the rest of the file (top-level
/// keys, `[defaults]`) has a problem or defines checks too: [`whole`] then reads it, for
/// the same message as always. A problem in a check is reported at once, the first in
/// file order.
fn by_table(text: &str, split: &split::Split) -> Option<Result<CheckFile, ConfigError>> {
    let rest: String = split.rest.iter().map(|r| &text[r.clone()]).collect();
    let rest: RawFile = toml::from_str(&rest).ok()?;
    let d = &rest.defaults;
    let defaults_ok = d
        .timeout
        .as_ref()
        .is_none_or(|t| positive_timeout(t).is_ok())
        && d.count.as_ref().is_none_or(|n| positive_count(n).is_ok());
    if !rest.check.is_empty() || !defaults_ok {
        return None;
    }
    let mut checks = Reading::new(text, split.checks.len());
    for range in &split.checks {
        let table = &text[range.clone()];
        let raw = toml::from_str::<RawFile>(table).map_err(|e| toml_error(text, range.start, &e));
        let added = raw.and_then(|raw| match raw.check.as_slice() {
            [one] => checks.add(table, range.start, one, d),
            _ => Err(locate(text, range.start, "expected one [[check]] table")),
        });
        if let Err(e) = added {
            return Some(Err(e));
        }
    }
    Some(Ok(CheckFile {
        checks: checks.read,
    }))
}

/// The checks read so far: names unique, lines counted once through the file.
struct Reading<'a> {
    text: &'a str,
    lines: LineCounter<'a>,
    /// Each name and the line of its check.
    seen: HashMap<String, usize>,
    read: Vec<Check>,
}

impl<'a> Reading<'a> {
    fn new(text: &'a str, capacity: usize) -> Self {
        Self {
            text,
            lines: LineCounter::new(text),
            seen: HashMap::with_capacity(capacity),
            read: Vec::with_capacity(capacity),
        }
    }

    /// Adds one check whose spans are offsets in `table`, which starts at `offset` in the file.
    fn add(
        &mut self,
        table: &str,
        offset: usize,
        spanned: &Spanned<RawCheck>,
        d: &RawDefaults,
    ) -> Result<(), ConfigError> {
        let at =
            |span: Range<usize>, message: String| locate(self.text, offset + span.start, &message);
        let line = self.lines.line_of(offset + spanned.span().start);
        let check = one_check(table, spanned.get_ref(), d, line).map_err(|(s, m)| at(s, m))?;
        if let Some(first) = self.seen.get(&check.name) {
            let span = spanned
                .get_ref()
                .name
                .as_ref()
                .map_or_else(|| spanned.get_ref().target.span(), Spanned::span);
            return Err(at(
                span,
                format!(
                    "duplicate check name '{}' (first at line {first}): names must be unique",
                    check.name
                ),
            ));
        }
        self.seen.insert(check.name.clone(), line);
        self.read.push(check);
        Ok(())
    }
}

/// The TOML reader's error in a piece of the file that starts at `offset`.
pub(crate) fn toml_error(text: &str, offset: usize, e: &toml::de::Error) -> ConfigError {
    let span = e
        .span()
        .map_or(offset..offset, |s| offset + s.start..offset + s.end);
    if e.message() == "duplicate key" {
        locate(text, span.start, &duplicate::message(text, &span))
    } else {
        locate(text, span.start, e.message())
    }
}

/// Whether a check's target can be probed at all: a broadcast address, or more hosts than
/// one run probes, is an input error. Names are not looked up (no DNS while a file is read).
pub fn validate(check: &Check) -> Result<(), InputError> {
    let options = PlanOptions {
        default_ports: Vec::new(),
        protocols: vec![check.protocol],
        family: None,
        allow_broadcast: false,
    };
    build_plan(std::slice::from_ref(&check.target), &options, &NoLookup).map(|_| ())
}

fn one_check(
    text: &str,
    c: &RawCheck,
    d: &RawDefaults,
    line: usize,
) -> Result<Check, (Range<usize>, String)> {
    let mut target = c.target.get_ref().0.clone();
    match (&target.ports, &c.ports) {
        (Some(_), Some(ports)) => {
            return Err((
                ports.span(),
                format!(
                    "the target '{}' already has a port: remove `ports` or the target's :PORT",
                    target.text
                ),
            ));
        }
        (None, Some(ports)) => target.ports = Some(ports.get_ref().0.clone()),
        (Some(_), None) => {}
        (None, None) => {
            return Err((
                c.target.span(),
                format!(
                    "no port for '{}': write HOST:PORT or add `ports = [...]`",
                    target.text
                ),
            ));
        }
    }
    let name = match &c.name {
        Some(n) if n.get_ref().trim().is_empty() => {
            return Err((n.span(), "the check's name is empty".into()));
        }
        Some(n) => n.get_ref().clone(),
        None => target.text.clone(),
    };
    let timeout = c.timeout.as_ref().or(d.timeout.as_ref());
    if let Some(t) = timeout {
        positive_timeout(t).map_err(|m| (t.span(), m))?;
    }
    let count = c.count.as_ref().or(d.count.as_ref());
    if let Some(n) = count {
        positive_count(n).map_err(|m| (n.span(), m))?;
    }
    let budget = Budget {
        max_loss_pct: c
            .max_loss_pct
            .as_ref()
            .map(|v| in_range(v, 0.0, 100.0, "a percentage (0-100)"))
            .transpose()?,
        max_rtt_ms: c
            .max_rtt_ms
            .as_ref()
            .map(|v| in_range(v, f64::MIN_POSITIVE, 3_600_000.0, "milliseconds above 0"))
            .transpose()?,
    };
    let expect = c.expect.or(d.expect).unwrap_or_default();
    budgets_apply(text, c, expect)?;
    let defaults = CheckTiming::default();
    let default_count = if budget.max_loss_pct.is_some() {
        LOSS_BUDGET_COUNT
    } else {
        defaults.count
    };
    let check = Check {
        name,
        line,
        target,
        protocol: c.protocol.or(d.protocol).map_or(Protocol::Tcp, Into::into),
        expect,
        budget,
        timing: CheckTiming {
            timeout: timeout.map_or(defaults.timeout, |t| t.get_ref().0),
            retries: c.retries.or(d.retries).unwrap_or(defaults.retries),
            count: count.map_or(default_count, |n| *n.get_ref()),
            interval: c.interval.or(d.interval).map_or(defaults.interval, |i| i.0),
        },
        responder: c.responder.or(d.responder).unwrap_or(false),
    };
    validate(&check).map_err(|e| (c.target.span(), e.to_string()))?;
    Ok(check)
}

/// A budget on a check whose expectation no service answer proves is refused at its key
/// (it would be skipped, or fail every time): the first such key in the file.
fn budgets_apply(text: &str, c: &RawCheck, expect: Expect) -> Result<(), (Range<usize>, String)> {
    let Some(reason) = expect.budget_refusal() else {
        return Ok(());
    };
    let budgets = [
        ("max_loss_pct", &c.max_loss_pct),
        ("max_rtt_ms", &c.max_rtt_ms),
    ];
    let first = budgets
        .iter()
        .filter_map(|(key, value)| Some((*key, value.as_ref()?.span())))
        .min_by_key(|(_, span)| span.start);
    let Some((key, value)) = first else {
        return Ok(());
    };
    // The key's place: the last occurrence of its name before the value.
    let at = text
        .get(..value.start)
        .and_then(|before| before.rfind(key))
        .map_or(value, |start| start..start + key.len());
    let from = if c.expect.is_none() {
        " (from [defaults])"
    } else {
        ""
    };
    Err((
        at,
        format!(
            "{key} applies only to checks expecting open or reachable, and this one expects {expect}{from}: {reason}"
        ),
    ))
}

/// Refuses a zero timeout (also `exporter`'s modules file).
pub(crate) fn positive_timeout(t: &Spanned<DurationField>) -> Result<(), String> {
    if t.get_ref().0.is_zero() {
        Err("the timeout must be greater than zero".into())
    } else {
        Ok(())
    }
}

fn positive_count(n: &Spanned<u32>) -> Result<(), String> {
    if *n.get_ref() == 0 {
        Err("count must be at least 1 (a check ends; `ipdiag probe -c 0` runs until Ctrl-C)".into())
    } else {
        Ok(())
    }
}

fn in_range(
    v: &Spanned<NumberField>,
    min: f64,
    max: f64,
    what: &str,
) -> Result<f64, (Range<usize>, String)> {
    let n = v.get_ref().0;
    if n.is_finite() && (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err((v.span(), format!("{n} is out of range: expected {what}")))
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    LineCounter::new(text).line_of(offset)
}

/// Lines of offsets asked in file order, counted from the previous offset: the checks'
/// headers come in file order, so a file of a million checks is read once, not once per
/// check (counting from the start for each was quadratic: 80,000 checks took 11 s).
struct LineCounter<'a> {
    text: &'a [u8],
    /// The last offset asked and its 1-based line.
    offset: usize,
    line: usize,
    /// Bytes read so far (tests: each once).
    #[cfg(test)]
    scanned: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
            #[cfg(test)]
            scanned: 0,
        }
    }

    /// The 1-based line of `offset`; an offset before the previous one counts from the start.
    fn line_of(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        if offset < self.offset {
            (self.offset, self.line) = (0, 1);
        }
        let between = self.text.get(self.offset..offset).unwrap_or_default();
        #[cfg(test)]
        {
            self.scanned += between.len();
        }
        self.line += memchr::memchr_iter(b'\n', between).count();
        self.offset = offset;
        self.line
    }
}

pub(crate) fn locate(text: &str, offset: usize, message: &str) -> ConfigError {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    ConfigError {
        line: line_of(text, offset),
        column: before[line_start..].chars().count() + 1,
        // One line on stderr, whatever the TOML reader's message looks like.
        message: message.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
