//! Engine test of the plan-order window: a port waiting for its retries holds back the
//! start of endpoints more than `WINDOW` places after it, so results come back at most
//! that far out of plan order (fake prober, paused time).

use super::*;

#[tokio::test(start_paused = true)]
async fn no_endpoint_starts_a_window_past_the_oldest_in_flight() {
    // Port 1 is silent (a timeout and a retry); the WINDOW + 100 ports after it close at
    // once. Those within the window go on meanwhile; the others wait for port 1.
    let last = u16::try_from(WINDOW + 101).unwrap();
    let mut behaviours: Vec<_> = (2..=last).map(|p| (p, Behaviour::Closed(MS(1)))).collect();
    behaviours.push((1, Behaviour::Silent));
    let fake = Fake::new(&behaviours);
    let (tx, mut rx) = mpsc::channel(1024);
    let (_stop_tx, stop) = watch::channel(false);
    let engine = tokio::spawn(run(
        endpoints("198.51.100.7", 1..=last),
        fake.clone(),
        EngineConfig {
            rate: None,
            ..EngineConfig::default()
        },
        tx,
        stop,
    ));
    let (mut done, mut first_done_at, mut beyond_before_first) = (0_usize, None, 0_usize);
    while let Some(event) = rx.recv().await {
        if let Event::Done { index, .. } = event {
            done += 1;
            if index == 0 {
                first_done_at = Some(done);
            } else if index >= WINDOW && first_done_at.is_none() {
                beyond_before_first += 1;
            }
        }
    }
    engine.await.unwrap();
    assert_eq!(done, usize::from(last), "every endpoint once");
    assert_eq!(beyond_before_first, 0, "started past the window");
    // Everything within the window finished while port 1 waited.
    assert_eq!(first_done_at, Some(WINDOW));
}
