//! Probe results as Prometheus metrics: the exporter's `/probe` answer and `--format
//! prometheus` (`node_exporter`'s textfile collector) share these names. `blackbox_exporter`'s
//! names where they mean the same (`probe_success`, `probe_duration_seconds`,
//! `probe_ip_protocol`), ipdiag's own for what blackbox cannot say (the state, its reason,
//! the cause). Every record has every series, whatever failed: a name that does not
//! resolve still has its `ipdiag_port_state{state="error"} 1`, so no alert waits on an
//! absent metric.
//!
//! Pure: a [`ProbeMetrics`] is decided before it gets here (the expectation judged, the
//! diagnosis made); this only encodes it, through the Prometheus project's client crate in
//! the text format 0.0.4 or OpenMetrics 1.0.

use crate::diagnose::{Cause, Confidence, Diagnosis};
use crate::model::{ProbeResult, Reason, RttStats, State};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, MetricEncoder};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::fmt;

/// Upper bounds of the RTT histogram, in seconds: loopback's tens of microseconds up to a
/// path across the world and back twice.
pub const RTT_BUCKETS: [f64; 12] = [
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

/// The states, in the order their series are written.
const STATES: [State; 5] = [
    State::Open,
    State::Closed,
    State::Filtered,
    State::OpenFiltered,
    State::Error,
];

/// Which text format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    /// Prometheus' text exposition format 0.0.4 (what `node_exporter`'s textfile collector
    /// reads, and what a scraper gets unless it asks for OpenMetrics).
    Prometheus,
    /// OpenMetrics 1.0 text (ends with `# EOF`).
    OpenMetrics,
}

impl TextFormat {
    /// The `Content-Type` of a response in this format.
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Self::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// One probed endpoint, decided: what its series say.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeMetrics {
    /// Labels on every series of this record (for `/probe` none, where Prometheus adds
    /// the target's, or `vantage` with `exporter --vantage`; in a textfile
    /// [`endpoint_labels`], after `check` and `vantage` for `check`).
    pub labels: Vec<(String, String)>,
    /// The expectation in words: a module's or a check's word (`open`, `closed`), or
    /// `probe --expect`'s states (`closed,open`).
    pub expect: String,
    /// Whether `expect` holds.
    pub holds: bool,
    /// The whole probe, when it was timed (`/probe`).
    pub duration: Option<f64>,
    /// 4, 6, or 0 when the target had no address.
    pub ip_protocol: u8,
    /// nmap's state.
    pub state: State,
    /// Its evidence.
    pub reason: Reason,
    /// The causes the diagnosis ranks, the first being the diagnosis.
    pub causes: Vec<(Cause, Confidence)>,
    /// Unanswered attempts over attempts; `None` when nothing was sent.
    pub loss: Option<f64>,
    /// RTT statistics (milliseconds, as the model keeps them).
    pub rtt: Option<RttStats>,
    /// Each RTT sample, in seconds (the histogram); `None` where the samples were not
    /// kept (`check`): that record has no histogram rather than an empty one.
    pub samples: Option<Vec<f64>>,
}

impl ProbeMetrics {
    /// The record of `result`, diagnosed, judged against `expect`.
    pub fn new(result: &ProbeResult, diagnosis: &Diagnosis, expect: String, holds: bool) -> Self {
        Self {
            labels: Vec::new(),
            expect,
            holds,
            duration: None,
            ip_protocol: match result.endpoint.address {
                Some(std::net::IpAddr::V4(_)) => 4,
                Some(std::net::IpAddr::V6(a)) if a.to_ipv4_mapped().is_some() => 4,
                Some(std::net::IpAddr::V6(_)) => 6,
                None => 0,
            },
            state: result.state,
            reason: result.reason,
            causes: diagnosis
                .hints
                .iter()
                .map(|h| (h.cause, h.confidence))
                .collect(),
            loss: (result.attempts > 0).then(|| result.loss_pct() / 100.0),
            rtt: result.rtt,
            samples: Some(Vec::new()),
        }
    }
}

/// The labels naming a result's endpoint in a textfile, with the JSON record's field
/// names: `target` (as written), `address` (empty, so absent, when the name did not
/// resolve), `port`, `protocol`. Together they tell every record of a run apart.
pub fn endpoint_labels(result: &ProbeResult) -> Vec<(String, String)> {
    let e = &result.endpoint;
    vec![
        ("target".to_owned(), e.target.clone()),
        (
            "address".to_owned(),
            e.address.map(|a| a.to_string()).unwrap_or_default(),
        ),
        ("port".to_owned(), e.port.to_string()),
        ("protocol".to_owned(), e.protocol.as_str().to_owned()),
    ]
}

/// The records in the text format 0.0.4, for a file (`probe` and `check --format
/// prometheus`).
pub fn write_text(out: &mut dyn std::io::Write, records: Vec<ProbeMetrics>) -> std::io::Result<()> {
    let text = render(records, TextFormat::Prometheus)
        .map_err(|_| std::io::Error::other("cannot encode the metrics"))?;
    out.write_all(text.as_bytes())
}

/// The records in the chosen format: each metric family once, with every record's series.
pub fn render(records: Vec<ProbeMetrics>, format: TextFormat) -> Result<String, fmt::Error> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Records(records)));
    let mut out = String::new();
    match format {
        TextFormat::Prometheus => {
            prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)?;
        }
        TextFormat::OpenMetrics => prometheus_client::encoding::text::encode(&mut out, &registry)?,
    }
    Ok(out)
}

/// The records as the crate's collector: it writes families in a fixed order (the
/// crate's own metric families keep their series in a hash map, in no set order).
#[derive(Debug)]
struct Records(Vec<ProbeMetrics>);

/// A label set: the record's labels, then the series' own.
fn labels<'a>(r: &'a ProbeMetrics, own: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all: Vec<(&str, &str)> = r
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    all.extend_from_slice(own);
    all
}

fn gauge(m: &mut MetricEncoder<'_>, labels: &[(&str, &str)], value: f64) -> fmt::Result {
    m.encode_family(&labels)?.encode_gauge(&value)
}

fn bit(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

impl Records {
    /// One gauge family: `series` gives each record's series (own labels and value).
    fn family<F>(
        &self,
        encoder: &mut DescriptorEncoder<'_>,
        name: &str,
        help: &str,
        series: F,
    ) -> fmt::Result
    where
        F: Fn(&ProbeMetrics) -> Vec<(Vec<(&'static str, String)>, f64)>,
    {
        let mut m = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
        for r in &self.0 {
            for (own, value) in series(r) {
                let own: Vec<(&str, &str)> = own.iter().map(|(k, v)| (*k, v.as_str())).collect();
                gauge(&mut m, &labels(r, &own), value)?;
            }
        }
        Ok(())
    }

    fn histogram(&self, encoder: &mut DescriptorEncoder<'_>) -> fmt::Result {
        let mut m = encoder.encode_descriptor(
            "ipdiag_attempt_rtt_seconds",
            "Round-trip times of the answered attempts",
            None,
            MetricType::Histogram,
        )?;
        for (r, samples) in self.0.iter().filter_map(|r| Some((r, r.samples.as_ref()?))) {
            let mut buckets: Vec<(f64, u64)> = RTT_BUCKETS.iter().map(|&b| (b, 0)).collect();
            buckets.push((f64::INFINITY, 0));
            for &s in samples {
                if let Some(slot) = buckets.iter_mut().find(|(le, _)| s <= *le) {
                    slot.1 += 1;
                }
            }
            let own = labels(r, &[]);
            m.encode_family(&own)?
                .encode_histogram::<Vec<(&str, &str)>>(
                    samples.iter().fold(0.0, |a, b| a + b),
                    samples.len() as u64,
                    &buckets,
                    None,
                )?;
        }
        Ok(())
    }
}

/// Milliseconds as seconds, to the nanosecond (no `0.00011999999999999999`).
pub fn seconds(ms: f64) -> f64 {
    (ms * 1e6).round() / 1e9
}

fn none() -> Vec<(&'static str, String)> {
    Vec::new()
}

impl Collector for Records {
    fn encode(&self, mut e: DescriptorEncoder<'_>) -> fmt::Result {
        self.family(
            &mut e,
            "probe_success",
            "1 when the module's expectation holds (blackbox_exporter's name)",
            |r| vec![(none(), bit(r.holds))],
        )?;
        if self.0.iter().any(|r| r.duration.is_some()) {
            self.family(
                &mut e,
                "probe_duration_seconds",
                "How long the probe took",
                |r| r.duration.map(|d| (none(), d)).into_iter().collect(),
            )?;
        }
        self.family(
            &mut e,
            "probe_ip_protocol",
            "The probed address's IP version (0: the target had no address)",
            |r| vec![(none(), f64::from(r.ip_protocol))],
        )?;
        self.family(
            &mut e,
            "ipdiag_port_state",
            "The port's state in nmap's words: 1 for the one observed, 0 for the others",
            |r| {
                STATES
                    .iter()
                    .map(|s| (vec![("state", s.as_str().to_owned())], bit(*s == r.state)))
                    .collect()
            },
        )?;
        self.family(
            &mut e,
            "ipdiag_reason",
            "The evidence behind the state (nmap's --reason words)",
            |r| vec![(vec![("reason", r.reason.as_str().to_owned())], 1.0)],
        )?;
        self.family(
            &mut e,
            "ipdiag_cause",
            "The causes the diagnosis ranks: 1 for the diagnosis, 0 for the alternatives",
            |r| {
                r.causes
                    .iter()
                    .enumerate()
                    .map(|(i, (cause, confidence))| {
                        let own = vec![
                            ("cause", cause.as_str().to_owned()),
                            ("confidence", confidence.as_str().to_owned()),
                        ];
                        (own, bit(i == 0))
                    })
                    .collect()
            },
        )?;
        self.family(
            &mut e,
            "ipdiag_loss_ratio",
            "Unanswered attempts over attempts (NaN when nothing could be sent)",
            |r| vec![(none(), r.loss.unwrap_or(f64::NAN))],
        )?;
        self.family(
            &mut e,
            "ipdiag_rtt_seconds",
            "Round-trip time over the answered attempts (NaN when nothing answered)",
            |r| {
                let of =
                    |f: fn(&RttStats) -> f64| r.rtt.as_ref().map_or(f64::NAN, |s| seconds(f(s)));
                vec![
                    (vec![("stat", "min".to_owned())], of(|s| s.min)),
                    (vec![("stat", "avg".to_owned())], of(|s| s.avg)),
                    (vec![("stat", "max".to_owned())], of(|s| s.max)),
                ]
            },
        )?;
        if self.0.iter().any(|r| r.samples.is_some()) {
            self.histogram(&mut e)?;
        }
        self.family(
            &mut e,
            "ipdiag_expectation_holds",
            "1 when the state meets the module's expectation (the expect label)",
            |r| vec![(vec![("expect", r.expect.clone())], bit(r.holds))],
        )
    }
}

#[cfg(test)]
#[path = "prometheus_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "prometheus_textfile_tests.rs"]
mod textfile_tests;
