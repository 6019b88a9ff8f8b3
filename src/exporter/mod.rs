//! `ipdiag exporter`: a Prometheus exporter that answers `blackbox_exporter`'s
//! `/probe?target=HOST:PORT&module=NAME` with ipdiag's states, reasons and causes.
//!
//! This layer is the HTTP side (axum on the tokio runtime the probes run on): routing,
//! validation, content negotiation, the allow-list, the scrape timeout, the concurrency
//! bound, the exporter's own metrics and its page. The probing itself is handed in as a
//! [`Runner`] by `app::exporter`, which runs the library's engine and diagnosis; nothing
//! here opens a probe socket or decides a state.

pub mod allow;
mod health;
pub mod http;
pub mod modules;
pub mod negotiate;
mod page;

use crate::model::{Reason, State};
use crate::output::prometheus::ProbeMetrics;
use crate::plan::target::TargetSpec;
use modules::Module;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// One probe asked for by a request, checked.
#[derive(Debug, Clone)]
pub struct Job {
    /// The target, with exactly one port.
    pub target: TargetSpec,
    /// How to probe it.
    pub module: Arc<Module>,
    /// The time it may take, all included (name lookup, attempts, diagnosis).
    pub budget: Duration,
}

/// What a probe found, decided: its metrics and the words for the page.
#[derive(Debug, Clone)]
pub struct Probed {
    /// The record to render (its duration is set by the server).
    pub metrics: ProbeMetrics,
    /// The state, for the page.
    pub state: State,
    /// The reason, for the page.
    pub reason: Reason,
    /// The diagnosis's cause, for the page.
    pub cause: &'static str,
}

/// Why a probe was not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeError {
    /// The target cannot be probed as given (a broadcast address, ...): HTTP 400.
    BadTarget(String),
    /// The target resolved to an address outside `--allow` (HTTP 403).
    Refused(String),
    /// The exporter itself failed (HTTP 500).
    Failed(String),
}

/// A probe under way.
pub type ProbeFuture = Pin<Box<dyn Future<Output = Result<Probed, ProbeError>> + Send>>;

/// Runs a probe for the server (the library's probe and diagnosis, not a subprocess).
pub trait Runner: Send + Sync + 'static {
    /// Probes `job` within its budget.
    fn probe(&self, job: Job) -> ProbeFuture;
}
