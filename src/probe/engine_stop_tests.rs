//! Engine tests of Ctrl-C: probes admitted but waiting for their pacing slot, and probes
//! waiting for an answer, end at once and are not counted (fake prober, paused time).

use super::*;

#[tokio::test(start_paused = true)]
async fn ctrl_c_ends_probes_waiting_for_their_pacing_slot() {
    // `--rate 1` on 100 ports: all are admitted at once and their slots are up to 99 s
    // away. Ctrl-C after the third result ends the run without another send.
    let open: Vec<_> = (1..=100).map(|p| (p, Behaviour::Open(MS(5)))).collect();
    let fake = Fake::new(&open);
    let config = EngineConfig {
        rate: Some(1.0),
        ..EngineConfig::default()
    };
    let (tx, mut rx) = mpsc::channel(256);
    let (stop_tx, stop) = watch::channel(false);
    let started = Instant::now();
    let engine = tokio::spawn(run(
        endpoints("198.51.100.7", 1..=100),
        fake.clone(),
        config,
        tx,
        stop,
    ));
    let mut done = Vec::new();
    tokio::time::timeout(MS(10_000), async {
        while let Some(event) = rx.recv().await {
            if let Event::Done { index, .. } = event {
                done.push(index);
                if done.len() == 3 {
                    stop_tx.send(true).unwrap();
                }
            }
        }
    })
    .await
    .expect("the run ends soon after Ctrl-C");
    engine.await.unwrap();
    assert_eq!(done.len(), 3, "{done:?}");
    assert_eq!(fake.sends().len(), 3, "no send after Ctrl-C");
    assert!(started.elapsed() < MS(4000), "{:?}", started.elapsed());
}

#[tokio::test(start_paused = true)]
async fn ctrl_c_cuts_the_wait_for_an_answer_and_counts_no_attempt() {
    // Silent ports waiting up to 1 s for an answer: Ctrl-C at 300 ms ends them at once;
    // having had no answer nor a whole wait, they are not probed (no result).
    let fake = Fake::new(&[(1, Behaviour::Silent), (2, Behaviour::Silent)]);
    let (tx, mut rx) = mpsc::channel(64);
    let (stop_tx, stop) = watch::channel(false);
    let started = Instant::now();
    let engine = tokio::spawn(run(
        endpoints("198.51.100.7", [1, 2]),
        fake.clone(),
        EngineConfig::default(),
        tx,
        stop,
    ));
    sleep(MS(300)).await;
    stop_tx.send(true).unwrap();
    let mut done = 0;
    while let Some(event) = rx.recv().await {
        done += usize::from(matches!(event, Event::Done { .. }));
    }
    engine.await.unwrap();
    assert_eq!(done, 0);
    assert_eq!(started.elapsed(), MS(300));
    assert_eq!(fake.sends().len(), 2);
}
