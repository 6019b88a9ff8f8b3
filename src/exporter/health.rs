//! The exporter's own metrics (`/metrics`): requests by path and status, probes by module
//! and outcome, errors by kind, probes in flight and how long probes take. Registered with
//! the Prometheus client crate's registry, encoded in the negotiated format.

use crate::output::prometheus::{RTT_BUCKETS, TextFormat};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// The exporter's health metrics.
#[derive(Debug)]
pub struct Health {
    registry: Registry,
    requests: Family<Labels, Counter>,
    probes: Family<Labels, Counter>,
    errors: Family<Labels, Counter>,
    in_flight: Gauge,
    durations: Histogram,
}

impl Health {
    /// Registers every metric (at zero), with the concurrency bound as a constant gauge.
    pub fn new(max_concurrent: usize) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<Labels, Counter>::default();
        let probes = Family::<Labels, Counter>::default();
        let errors = Family::<Labels, Counter>::default();
        let in_flight = Gauge::default();
        let limit: Gauge = Gauge::default();
        limit.set(i64::try_from(max_concurrent).unwrap_or(i64::MAX));
        // Probe times run from loopback's microseconds to a scrape timeout of seconds.
        let durations = Histogram::new(RTT_BUCKETS.iter().copied().chain([2.5, 5.0, 10.0]));
        registry.register(
            "ipdiag_exporter_requests",
            "HTTP requests answered, by path and status code",
            requests.clone(),
        );
        registry.register(
            "ipdiag_exporter_probes",
            "Probes run, by module and whether probe_success was 1",
            probes.clone(),
        );
        registry.register(
            "ipdiag_exporter_errors",
            "Requests refused or failed, by kind (bad_request, forbidden, busy, failed)",
            errors.clone(),
        );
        registry.register(
            "ipdiag_exporter_probes_in_flight",
            "Probes running now",
            in_flight.clone(),
        );
        registry.register(
            "ipdiag_exporter_max_concurrent_probes",
            "Probes that may run at once (--max-concurrent)",
            limit,
        );
        registry.register(
            "ipdiag_exporter_probe_duration_seconds",
            "How long probes took, whole",
            durations.clone(),
        );
        Self {
            registry,
            requests,
            probes,
            errors,
            in_flight,
            durations,
        }
    }

    /// A request to `path` was answered with `code`.
    pub fn request(&self, path: &'static str, code: u16) {
        self.requests
            .get_or_create(&vec![("path", path.to_owned()), ("code", code.to_string())])
            .inc();
    }

    /// A probe ended.
    pub fn probe(&self, module: &str, success: bool, seconds: f64) {
        let result = if success { "success" } else { "failure" };
        self.probes
            .get_or_create(&vec![
                ("module", module.to_owned()),
                ("result", result.to_owned()),
            ])
            .inc();
        self.durations.observe(seconds);
    }

    /// A request was refused or failed.
    pub fn error(&self, kind: &'static str) {
        self.errors
            .get_or_create(&vec![("kind", kind.to_owned())])
            .inc();
    }

    /// A probe started (`true`) or ended.
    pub fn in_flight(&self, started: bool) {
        if started {
            self.in_flight.inc();
        } else {
            self.in_flight.dec();
        }
    }

    /// The metrics as text.
    pub fn render(&self, format: TextFormat) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        match format {
            TextFormat::Prometheus => {
                prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)?;
            }
            TextFormat::OpenMetrics => {
                prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_appear_in_both_formats() {
        let health = Health::new(8);
        health.request("/probe", 200);
        health.request("/probe", 200);
        health.probe("tcp", true, 0.002);
        health.error("busy");
        health.in_flight(true);
        let text = health.render(TextFormat::Prometheus).unwrap();
        for line in [
            "# TYPE ipdiag_exporter_requests_total counter",
            r#"ipdiag_exporter_requests_total{path="/probe",code="200"} 2"#,
            r#"ipdiag_exporter_probes_total{module="tcp",result="success"} 1"#,
            r#"ipdiag_exporter_errors_total{kind="busy"} 1"#,
            "ipdiag_exporter_probes_in_flight 1",
            "ipdiag_exporter_max_concurrent_probes 8",
            "ipdiag_exporter_probe_duration_seconds_count 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        let open = health.render(TextFormat::OpenMetrics).unwrap();
        assert!(
            open.contains("# TYPE ipdiag_exporter_requests counter\n"),
            "{open}"
        );
        assert!(open.ends_with("# EOF\n"));
    }
}
