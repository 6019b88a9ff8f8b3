//! Engine tests at the edges of what a caller may ask: `--rate 1e-300` (a send a year:
//! its interval once panicked converting to a `Duration`) and a concurrency above what
//! tokio's semaphore takes (fake prober, paused time).

use super::*;

#[tokio::test(start_paused = true)]
async fn a_rate_of_almost_nothing_and_unbounded_concurrency_run() {
    let fake = Fake::new(&[(1, Behaviour::Open(MS(1))), (2, Behaviour::Open(MS(1)))]);
    let config = EngineConfig {
        concurrency: usize::MAX,
        rate: Some(1e-300),
        ..EngineConfig::default()
    };
    let results = run_all(&fake, endpoints("198.51.100.7", 1..=2), config).await;
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|r| r.state == State::Open));
    let sends = fake.sends();
    assert_eq!(sends.len(), 2);
    assert_eq!(
        sends[1].0 - sends[0].0,
        Duration::from_secs(366 * 86_400),
        "the second send waits the longest interval, a year"
    );
}
