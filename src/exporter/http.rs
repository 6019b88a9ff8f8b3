//! The exporter's HTTP routes (axum): `/probe` as `blackbox_exporter`'s, `/metrics` for the
//! exporter's own health, `/` a page of modules and recent probes. Every refusal is one
//! line of text with its status: 400 for a bad target, module or timeout header, 403 for
//! a target outside `--allow`, 503 when every probe slot stayed busy for the whole scrape.

use super::allow::AllowList;
use super::health::Health;
use super::modules::Module;
use super::negotiate::negotiate;
use super::page::{Recent, render_page};
use super::{Job, ProbeError, Runner};
use crate::classify::port_spec::refuse_port_zero;
use crate::output::prometheus::{TextFormat, render};
use crate::plan::target::{HostSpec, TargetSpec, parse_target};
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The header in which Prometheus sends its scrape timeout.
pub const SCRAPE_TIMEOUT_HEADER: &str = "x-prometheus-scrape-timeout-seconds";
/// The budget of a probe when the request names no scrape timeout (Prometheus' default
/// scrape timeout is 10 s).
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(10);
/// Recent probes kept for the page.
const RECENT: usize = 20;
/// The module a request without `module=` gets.
pub const DEFAULT_MODULE: &str = "tcp";

/// What the server is configured with.
pub struct Exporter {
    /// The modules, by name.
    pub modules: Vec<Arc<Module>>,
    /// Runs the probes.
    pub runner: Arc<dyn Runner>,
    /// Where probes may go (empty: anywhere).
    pub allow: AllowList,
    /// Probes at once at most.
    pub max_concurrent: usize,
    /// `--vantage`: the `vantage` label on every series of `/probe`.
    pub vantage: Option<String>,
}

struct Shared {
    exporter: Exporter,
    permits: Semaphore,
    health: Health,
    recent: Mutex<VecDeque<Recent>>,
}

/// The routes.
pub fn router(exporter: Exporter) -> Router {
    let shared = Arc::new(Shared {
        // `--max-concurrent 18446744073709551615` is "no limit"; tokio's semaphore panics
        // above its own maximum (2^61 - 1), which no host reaches in sockets anyway.
        permits: Semaphore::new(exporter.max_concurrent.clamp(1, Semaphore::MAX_PERMITS)),
        health: Health::new(exporter.max_concurrent.max(1)),
        recent: Mutex::new(VecDeque::with_capacity(RECENT)),
        exporter,
    });
    Router::new()
        .route("/probe", get(probe))
        .route("/metrics", get(metrics))
        .route("/", get(index))
        .fallback(not_found)
        .with_state(shared)
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The probe's budget from the scrape timeout: half a second less, so the answer reaches
/// Prometheus before it gives up (`blackbox_exporter`'s offset), or half of a timeout of a
/// second or less. `Err`: the header is not a positive number of seconds.
pub fn budget(header: Option<&str>) -> Result<Duration, String> {
    let Some(text) = header else {
        return Ok(DEFAULT_BUDGET);
    };
    match text.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 86_400.0 => {
            let left = if s > 1.0 { s - 0.5 } else { s / 2.0 };
            Ok(Duration::from_secs_f64(left))
        }
        _ => Err(format!(
            "bad X-Prometheus-Scrape-Timeout-Seconds '{}': expected seconds above 0",
            crate::error::escaped(text)
        )),
    }
}

/// The target of a request: `HOST:PORT` with one port, a host (not a network).
pub fn target(text: &str) -> Result<TargetSpec, String> {
    let spec = parse_target(text).map_err(|e| e.to_string())?;
    refuse_port_zero(spec.ports.as_deref().unwrap_or_default()).map_err(|e| e.to_string())?;
    let shown = crate::error::escaped(text);
    if matches!(spec.host, HostSpec::Network(_)) {
        return Err(format!("bad target '{shown}': a network; give one host"));
    }
    let ports: usize = spec.ports.iter().flatten().map(|s| s.ports.len()).sum();
    if ports != 1 {
        return Err(format!("bad target '{shown}': give one port, as HOST:PORT"));
    }
    Ok(spec)
}

fn line(code: StatusCode, text: &str) -> Response {
    let mut body = text.replace('\n', " ");
    body.push('\n');
    (code, [(CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

fn text(format: TextFormat, body: String) -> Response {
    ([(CONTENT_TYPE, format.content_type())], body).into_response()
}

impl Shared {
    fn refuse(&self, code: StatusCode, kind: &'static str, message: &str) -> Response {
        self.health.error(kind);
        self.health.request("/probe", code.as_u16());
        line(code, message)
    }

    /// Keeps a probe for the page (the last [`RECENT`]).
    fn remember(&self, probe: Recent) {
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() == RECENT {
                recent.pop_back();
            }
            recent.push_front(probe);
        }
    }

    fn module(&self, name: &str) -> Option<Arc<Module>> {
        self.exporter
            .modules
            .iter()
            .find(|m| m.name == name)
            .cloned()
    }
}

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// A request's probe, checked: the target, the module, the time it may take.
struct Asked {
    target: TargetSpec,
    module: Arc<Module>,
    budget: Duration,
}

/// Reads a `/probe` request; `Err` is the one-line 400 (or 403) to answer.
fn asked(s: &Shared, headers: &HeaderMap, params: Params) -> Result<Asked, Response> {
    let bad = |message: &str| s.refuse(StatusCode::BAD_REQUEST, "bad_request", message);
    let Ok(Query(params)) = params else {
        return Err(bad(
            "bad query string: expected target=HOST:PORT&module=NAME",
        ));
    };
    let one = |key: &str| -> Result<Option<&str>, Response> {
        let mut values = params.iter().filter(|(k, _)| k == key).map(|(_, v)| v);
        match (values.next(), values.next()) {
            (Some(_), Some(_)) => Err(bad(&format!("{key} given twice: give it once"))),
            (first, _) => Ok(first.map(String::as_str)),
        }
    };
    let Some(target_text) = one("target")? else {
        return Err(bad("no target: ask /probe?target=HOST:PORT&module=NAME"));
    };
    let module_name = one("module")?.unwrap_or(DEFAULT_MODULE);
    let target = target(target_text).map_err(|e| bad(&e))?;
    let Some(module) = s.module(module_name) else {
        let names: Vec<&str> = s.exporter.modules.iter().map(|m| m.name.as_str()).collect();
        return Err(bad(&format!(
            "unknown module '{}': expected one of {}",
            crate::error::escaped(module_name),
            names.join(", ")
        )));
    };
    let header = headers
        .get(SCRAPE_TIMEOUT_HEADER)
        .map(|v| v.to_str().unwrap_or("(not text)"));
    let budget = budget(header).map_err(|e| bad(&e))?;
    if let HostSpec::Address(address) = target.host
        && !s.exporter.allow.is_empty()
        && !s.exporter.allow.permits(address)
    {
        return Err(s.refuse(
            StatusCode::FORBIDDEN,
            "forbidden",
            &format!("target {address} is outside --allow"),
        ));
    }
    Ok(Asked {
        target,
        module,
        budget,
    })
}

async fn probe(State(s): State<Arc<Shared>>, headers: HeaderMap, params: Params) -> Response {
    let Asked {
        target,
        module,
        budget,
    } = match asked(&s, &headers, params) {
        Ok(a) => a,
        Err(refusal) => return refusal,
    };
    let started = Instant::now();
    let Ok(Ok(_permit)) = tokio::time::timeout(budget, s.permits.acquire()).await else {
        return s.refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            &format!(
                "busy: {} probes running for the whole scrape timeout",
                s.exporter.max_concurrent
            ),
        );
    };
    let format = negotiate(headers.get(ACCEPT).and_then(|v| v.to_str().ok()));
    let budget = budget.saturating_sub(started.elapsed());
    s.health.in_flight(true);
    let job = Job {
        target: target.clone(),
        module: Arc::clone(&module),
        budget,
    };
    // The runner keeps to the budget; this bound only catches a bug in it.
    let ran = tokio::time::timeout(
        budget + Duration::from_secs(2),
        s.exporter.runner.probe(job),
    );
    let probed = ran.await;
    s.health.in_flight(false);
    let mut probed = match probed {
        Ok(Ok(p)) => p,
        Ok(Err(ProbeError::BadTarget(e))) => {
            return s.refuse(StatusCode::BAD_REQUEST, "bad_request", &e);
        }
        Ok(Err(ProbeError::Refused(e))) => return s.refuse(StatusCode::FORBIDDEN, "forbidden", &e),
        Ok(Err(ProbeError::Failed(e))) => {
            return s.refuse(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e);
        }
        Err(_) => {
            return s.refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "failed",
                "the probe overran its deadline",
            );
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    probed.metrics.duration = Some(seconds);
    if let Some(vantage) = &s.exporter.vantage {
        let label = ("vantage".to_owned(), vantage.clone());
        probed.metrics.labels.insert(0, label);
    }
    s.health.probe(&module.name, probed.metrics.holds, seconds);
    s.remember(Recent {
        at: started,
        target: target.text.clone(),
        module: module.name.clone(),
        state: probed.state,
        reason: probed.reason,
        cause: probed.cause,
        success: probed.metrics.holds,
        seconds,
    });
    match render(vec![probed.metrics], format) {
        Ok(body) => {
            s.health.request("/probe", 200);
            text(format, body)
        }
        Err(_) => s.refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "failed",
            "cannot encode the metrics",
        ),
    }
}

async fn metrics(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let format = negotiate(headers.get(ACCEPT).and_then(|v| v.to_str().ok()));
    s.health.request("/metrics", 200);
    match s.health.render(format) {
        Ok(body) => text(format, body),
        Err(_) => line(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot encode the metrics",
        ),
    }
}

async fn index(State(s): State<Arc<Shared>>) -> Response {
    s.health.request("/", 200);
    let recent: Vec<Recent> = s
        .recent
        .lock()
        .map(|r| r.iter().cloned().collect())
        .unwrap_or_default();
    let page = render_page(
        &s.exporter.modules,
        &recent,
        &s.exporter.allow,
        Instant::now(),
    );
    ([(CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

async fn not_found(State(s): State<Arc<Shared>>) -> Response {
    s.health.request("other", 404);
    line(
        StatusCode::NOT_FOUND,
        "not found: the paths are /probe?target=HOST:PORT&module=NAME, /metrics and /",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_leaves_time_to_answer() {
        assert_eq!(budget(None), Ok(DEFAULT_BUDGET));
        assert_eq!(budget(Some("10")), Ok(Duration::from_millis(9500)));
        assert_eq!(budget(Some("0.8")), Ok(Duration::from_millis(400)));
        assert_eq!(
            budget(Some("soon")),
            Err("bad X-Prometheus-Scrape-Timeout-Seconds 'soon': expected seconds above 0".into())
        );
        assert!(budget(Some("0")).is_err());
        assert!(budget(Some("NaN")).is_err());
    }

    struct NeverRuns;

    impl Runner for NeverRuns {
        fn probe(&self, _: Job) -> super::super::ProbeFuture {
            Box::pin(async { Err(ProbeError::Failed("not in this test".into())) })
        }
    }

    /// `exporter --max-concurrent 18446744073709551615` once panicked at start: tokio's
    /// semaphore takes at most 2^61 - 1 permits.
    #[test]
    fn any_max_concurrent_makes_a_router() {
        for max_concurrent in [1, Semaphore::MAX_PERMITS + 1, usize::MAX] {
            let _ = router(Exporter {
                modules: Vec::new(),
                runner: Arc::new(NeverRuns),
                allow: AllowList::default(),
                max_concurrent,
                vantage: None,
            });
        }
    }

    #[test]
    fn a_target_is_one_host_and_one_port() {
        assert_eq!(target("127.0.0.1:22").unwrap().text, "127.0.0.1:22");
        assert_eq!(target("localhost:53").unwrap().text, "localhost:53");
        assert_eq!(
            target("127.0.0.1").unwrap_err(),
            "bad target '127.0.0.1': give one port, as HOST:PORT"
        );
        assert_eq!(
            target("127.0.0.1:22,80").unwrap_err(),
            "bad target '127.0.0.1:22,80': give one port, as HOST:PORT"
        );
        assert_eq!(
            target("10.0.0.0/30:22").unwrap_err(),
            "bad target '10.0.0.0/30:22': a network; give one host"
        );
        assert!(target("127.0.0.1:99999").is_err());
        // Counted by range, not port by port: 2,000 full ranges in a 16 KB query once took
        // 9 s of the exporter's CPU (debug build) before the answer.
        let many = format!("127.0.0.1:{}", vec!["1-65535"; 2000].join(","));
        assert!(
            target(&many)
                .unwrap_err()
                .ends_with("': give one port, as HOST:PORT")
        );
    }
}
