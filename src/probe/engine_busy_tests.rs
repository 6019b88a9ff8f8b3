//! Back-pressure that never ends: an attempt that stays out of resources while nothing else
//! finishes becomes a local error instead of a loop, and Ctrl-C ends its wait.

use super::*;
use crate::model::{Protocol, Reason, State};
use std::io;

/// Every attempt finds this host out of file descriptors.
struct Starved;

impl Prober for Starved {
    async fn attempt(&self, _endpoint: &Endpoint, _wait: Duration) -> Result<Answer, Busy> {
        #[cfg(unix)]
        let error = io::Error::from_raw_os_error(nix::libc::EMFILE);
        #[cfg(not(unix))]
        let error = io::Error::other("Too many open files");
        Err(Busy(error))
    }
}

fn endpoint() -> Vec<Endpoint> {
    vec![Endpoint {
        target: "198.51.100.7:1".into(),
        host: "198.51.100.7".into(),
        address: Some([198, 51, 100, 7].into()),
        port: 1,
        protocol: Protocol::Udp,
        scope_id: 0,
    }]
}

#[tokio::test(start_paused = true)]
async fn back_pressure_without_progress_is_a_local_error() {
    let (tx, mut rx) = mpsc::channel(8);
    let (_stop_tx, stop) = watch::channel(false);
    let start = Instant::now();
    run(endpoint(), Starved, EngineConfig::default(), tx, stop).await;
    let mut done = Vec::new();
    while let Ok(event) = rx.try_recv() {
        if let Event::Done { result, .. } = event {
            done.push(result);
        }
    }
    assert_eq!(done.len(), 1);
    let r = &done[0];
    assert_eq!(
        (r.state, r.reason, r.attempts, r.received),
        (State::Error, Reason::LocalError, 0, 0)
    );
    let error = r.error.as_deref().unwrap_or_default();
    // The errno's name on Unix; elsewhere the system's words.
    let words = if cfg!(unix) {
        "EMFILE: Too many open files"
    } else {
        "Too many open files"
    };
    assert!(error.contains(words), "{error}");
    // The timeout (1 s) plus the grace, on paused time: by then nothing in flight could
    // still free a descriptor.
    let limit = TimingConfig::default().max + BUSY_GRACE;
    let waited = start.elapsed();
    assert!(
        waited >= limit && waited <= limit + BUSY_BACKOFF,
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn ctrl_c_ends_a_wait_for_resources() {
    let (tx, mut rx) = mpsc::channel(8);
    let (stop_tx, stop) = watch::channel(false);
    let engine = tokio::spawn(run(endpoint(), Starved, EngineConfig::default(), tx, stop));
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop_tx.send(true).unwrap();
    engine.await.unwrap();
    assert!(
        rx.try_recv().is_err(),
        "nothing was sent, so nothing is reported"
    );
}
