//! Engine tests with a fake prober on paused time: retries, adaptive timeouts, the rate cap
//! (counted, not timed), the concurrency bound, back-pressure, repetition and stopping.
//! Deterministic, no sockets.

use super::*;
use crate::model::{Protocol, Reason, State};
use crate::probe::icmp_limit::ALLOWANCE;
use crate::probe::reason::IcmpReport;
use std::io;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use tokio::time::sleep;

#[path = "engine_stop_tests.rs"]
mod stop;

#[path = "engine_window_tests.rs"]
mod window;

#[path = "engine_extreme_tests.rs"]
mod extreme;

#[derive(Debug, Clone, Copy)]
enum Behaviour {
    Open(Duration),
    Closed(Duration),
    Silent,
    /// Silent to the first send of every attempt, then open.
    AnswersSecondSend(Duration),
    /// A closed UDP port: ICMP port unreachable from the target, while the target's ICMP
    /// ration (Linux's: a burst of 6, then one a second) lasts; silence when it has run out.
    UdpClosed(Duration),
}

/// A target's ICMP error allowance, as Linux keeps it per destination: a token bucket of
/// six, one token back a second.
#[derive(Debug)]
struct Ration {
    tokens: f64,
    at: Option<Instant>,
}

impl Ration {
    fn take(&mut self, now: Instant) -> bool {
        let refill = self.at.map_or(6.0, |at| (now - at).as_secs_f64());
        self.tokens = (self.tokens + refill).min(6.0);
        self.at = Some(now);
        let allowed = self.tokens >= 1.0;
        if allowed {
            self.tokens -= 1.0;
        }
        allowed
    }
}

#[derive(Clone, Default)]
struct Fake {
    behaviours: Arc<HashMap<u16, Behaviour>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    sends: Arc<Mutex<Vec<(Instant, u16, Duration)>>>,
    busy_left: Arc<AtomicU32>,
    seen: Arc<Mutex<HashMap<u16, u32>>>,
    ration: Arc<Mutex<Option<Ration>>>,
}

impl Fake {
    fn new(behaviours: &[(u16, Behaviour)]) -> Self {
        Self {
            behaviours: Arc::new(behaviours.iter().copied().collect()),
            ..Self::default()
        }
    }

    fn sends(&self) -> Vec<(Instant, u16, Duration)> {
        self.sends.lock().unwrap().clone()
    }

    fn icmp_allowed(&self) -> bool {
        self.ration
            .lock()
            .unwrap()
            .get_or_insert(Ration {
                tokens: 0.0,
                at: None,
            })
            .take(Instant::now())
    }
}

impl Prober for Fake {
    async fn attempt(&self, endpoint: &Endpoint, wait: Duration) -> Result<Answer, Busy> {
        if self.busy_left.load(Ordering::SeqCst) > 0 {
            self.busy_left.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy(io::Error::from_raw_os_error(
                crate::sys::code_of(crate::sys::Failure::Busy).unwrap(),
            )));
        }
        let port = endpoint.port;
        self.sends
            .lock()
            .unwrap()
            .push((Instant::now(), port, wait));
        let nth = {
            let mut seen = self.seen.lock().unwrap();
            let n = seen.entry(port).or_insert(0);
            *n += 1;
            *n
        };
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let (observation, rtt) = match self
            .behaviours
            .get(&port)
            .copied()
            .unwrap_or(Behaviour::Silent)
        {
            Behaviour::Open(rtt) => (Observation::Connected, rtt),
            Behaviour::Closed(rtt) => (Observation::Refused, rtt),
            Behaviour::AnswersSecondSend(rtt) if nth % 2 == 0 => (Observation::Connected, rtt),
            Behaviour::UdpClosed(rtt) if self.icmp_allowed() => (
                Observation::Icmp(IcmpReport {
                    v6: false,
                    kind: 3,
                    code: 3,
                    from: endpoint.address,
                }),
                rtt,
            ),
            Behaviour::Silent | Behaviour::AnswersSecondSend(_) | Behaviour::UdpClosed(_) => {
                (Observation::Silence, wait)
            }
        };
        let rtt = rtt.min(wait);
        sleep(rtt).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let observation = if rtt == wait {
            Observation::Silence
        } else {
            observation
        };
        Ok(Answer::new(observation, rtt))
    }
}

fn udp_endpoints(address: &str, ports: impl IntoIterator<Item = u16>) -> Vec<Endpoint> {
    let mut all = endpoints(address, ports);
    for e in &mut all {
        e.protocol = Protocol::Udp;
    }
    all
}

fn endpoints(address: &str, ports: impl IntoIterator<Item = u16>) -> Vec<Endpoint> {
    ports
        .into_iter()
        .map(|port| Endpoint {
            target: format!("{address}:{port}"),
            host: address.to_owned(),
            address: Some(address.parse().unwrap()),
            port,
            protocol: Protocol::Tcp,
            scope_id: 0,
        })
        .collect()
}

/// Runs the engine to completion; results in input order.
async fn run_all(fake: &Fake, endpoints: Vec<Endpoint>, config: EngineConfig) -> Vec<ProbeResult> {
    let (tx, mut rx) = mpsc::channel(64);
    let (_stop_tx, stop) = watch::channel(false);
    let n = endpoints.len();
    let engine = tokio::spawn(run(endpoints, fake.clone(), config, tx, stop));
    let mut results = vec![None; n];
    while let Some(event) = rx.recv().await {
        if let Event::Done { index, result } = event {
            results[index] = Some(result);
        }
    }
    engine.await.unwrap();
    results.into_iter().map(Option::unwrap).collect()
}

const MS: fn(u64) -> Duration = Duration::from_millis;

#[tokio::test(start_paused = true)]
async fn states_with_one_retry_for_silence_on_a_clean_host() {
    let fake = Fake::new(&[
        (1, Behaviour::Open(MS(10))),
        (2, Behaviour::Closed(MS(10))),
        (3, Behaviour::Silent),
    ]);
    let config = EngineConfig {
        concurrency: 1,
        ..EngineConfig::default()
    };
    let r = run_all(&fake, endpoints("198.51.100.7", [1, 2, 3]), config).await;
    let summary: Vec<_> = r.iter().map(|r| (r.state, r.reason, r.attempts)).collect();
    assert_eq!(
        summary,
        [
            (State::Open, Reason::SynAck, 1),
            (State::Closed, Reason::ConnRefused, 1),
            (State::Filtered, Reason::NoResponse, 2)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn observed_loss_buys_more_retries() {
    // Port 1 answers only on the second send: the host has shown loss (one send in two,
    // by so small a sample), so the silent port 2 probed after it gets as many retries as
    // that loss needs within --retries (3 here), not the one of a clean host.
    let fake = Fake::new(&[
        (1, Behaviour::AnswersSecondSend(MS(10))),
        (2, Behaviour::Silent),
    ]);
    let mut config = EngineConfig {
        concurrency: 1,
        ..EngineConfig::default()
    };
    config.timing.max_retries = 3;
    let r = run_all(&fake, endpoints("198.51.100.7", [1, 2]), config).await;
    assert_eq!(
        (r[0].state, r[0].attempts, r[0].received),
        (State::Open, 2, 1)
    );
    assert_eq!((r[1].state, r[1].attempts), (State::Filtered, 4));
}

#[tokio::test(start_paused = true)]
async fn timeouts_adapt_to_the_host() {
    let fake = Fake::new(&[(1, Behaviour::Open(MS(10))), (2, Behaviour::Silent)]);
    let config = EngineConfig {
        concurrency: 1,
        ..EngineConfig::default()
    };
    run_all(&fake, endpoints("198.51.100.7", [1, 2]), config).await;
    let waits: Vec<_> = fake.sends().iter().map(|s| (s.1, s.2)).collect();
    // First contact waits the initial 1 s; after a 10 ms answer the floor (100 ms) applies.
    assert_eq!(waits, [(1, MS(1000)), (2, MS(100)), (2, MS(100))]);
}

#[tokio::test(start_paused = true)]
async fn never_more_in_flight_than_the_concurrency() {
    let fake = Fake::new(&[]);
    let config = EngineConfig {
        concurrency: 8,
        rate: None,
        ..EngineConfig::default()
    };
    let r = run_all(&fake, endpoints("198.51.100.7", 1..=50), config).await;
    assert_eq!(r.len(), 50);
    assert_eq!(fake.max_in_flight.load(Ordering::SeqCst), 8);
}

#[tokio::test(start_paused = true)]
async fn never_more_sends_per_second_than_the_rate() {
    let behaviours: Vec<_> = (1..=300).map(|p| (p, Behaviour::Open(MS(1)))).collect();
    let fake = Fake::new(&behaviours);
    let config = EngineConfig {
        rate: Some(100.0),
        ..EngineConfig::default()
    };
    run_all(&fake, endpoints("198.51.100.7", 1..=300), config).await;
    let times: Vec<Instant> = fake.sends().iter().map(|s| s.0).collect();
    assert_eq!(times.len(), 300);
    for (i, t) in times.iter().enumerate() {
        let window = times[i..]
            .iter()
            .take_while(|u| **u < *t + Duration::from_secs(1))
            .count();
        assert!(window <= 100, "{window} sends in one second");
    }
    assert!(*times.last().unwrap() - times[0] >= MS(2990));
}

#[tokio::test(start_paused = true)]
async fn loopback_is_not_paced_unless_asked() {
    let fake = Fake::new(
        &(1..=100)
            .map(|p| (p, Behaviour::Closed(MS(1))))
            .collect::<Vec<_>>(),
    );
    let start = Instant::now();
    let config = EngineConfig {
        rate: Some(10.0),
        ..EngineConfig::default()
    };
    run_all(&fake, endpoints("127.0.0.1", 1..=100), config).await;
    assert!(Instant::now() - start < MS(100), "loopback went unpaced");
    let fake = Fake::new(
        &(1..=20)
            .map(|p| (p, Behaviour::Closed(MS(1))))
            .collect::<Vec<_>>(),
    );
    let start = Instant::now();
    let config = EngineConfig {
        rate: Some(10.0),
        pace_loopback: true,
        ..EngineConfig::default()
    };
    run_all(&fake, endpoints("127.0.0.1", 1..=20), config).await;
    assert!(
        Instant::now() - start >= MS(1900),
        "an explicit --rate paces loopback too"
    );
}

#[tokio::test(start_paused = true)]
async fn busy_hosts_wait_instead_of_failing() {
    let fake = Fake::new(&[(1, Behaviour::Open(MS(5)))]);
    fake.busy_left.store(7, Ordering::SeqCst);
    let r = run_all(
        &fake,
        endpoints("198.51.100.7", [1]),
        EngineConfig::default(),
    )
    .await;
    assert_eq!(
        (r[0].state, r[0].attempts, r[0].received),
        (State::Open, 1, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn count_repeats_without_retries_and_measures() {
    let fake = Fake::new(&[(1, Behaviour::Open(MS(20))), (2, Behaviour::Silent)]);
    let config = EngineConfig {
        count: Some(5),
        interval: MS(200),
        ..EngineConfig::default()
    };
    let r = run_all(&fake, endpoints("198.51.100.7", [1, 2]), config).await;
    assert_eq!((r[0].attempts, r[0].received), (5, 5));
    let rtt = r[0].rtt.unwrap();
    assert!((rtt.avg - 20.0).abs() < 0.5 && rtt.stddev < 0.5, "{rtt:?}");
    assert_eq!(
        (r[1].attempts, r[1].received),
        (5, 0),
        "statistics mode never retries"
    );
    assert!((r[1].loss_pct() - 100.0).abs() < 1e-9);
}

#[tokio::test(start_paused = true)]
async fn stop_ends_an_endless_run_with_a_summary() {
    let fake = Fake::new(&[(1, Behaviour::Open(MS(10)))]);
    let config = EngineConfig {
        count: None,
        interval: MS(1000),
        ..EngineConfig::default()
    };
    let (tx, mut rx) = mpsc::channel(64);
    let (stop_tx, stop) = watch::channel(false);
    let engine = tokio::spawn(run(
        endpoints("198.51.100.7", [1]),
        fake.clone(),
        config,
        tx,
        stop,
    ));
    sleep(MS(3500)).await;
    stop_tx.send(true).unwrap();
    let mut done = None;
    while let Some(event) = rx.recv().await {
        if let Event::Done { result, .. } = event {
            done = Some(result);
        }
    }
    engine.await.unwrap();
    let result = done.unwrap();
    assert_eq!(
        (result.attempts, result.received, result.state),
        (4, 4, State::Open)
    );
}

/// Runs the engine to completion; results in input order, and the hosts said to ration.
async fn run_noting(
    fake: &Fake,
    endpoints: Vec<Endpoint>,
    config: EngineConfig,
) -> (Vec<ProbeResult>, Vec<IpAddr>) {
    let (tx, mut rx) = mpsc::channel(64);
    let (_stop_tx, stop) = watch::channel(false);
    let n = endpoints.len();
    let engine = tokio::spawn(run(endpoints, fake.clone(), config, tx, stop));
    let (mut results, mut rationed) = (vec![None; n], Vec::new());
    while let Some(event) = rx.recv().await {
        match event {
            Event::Done { index, result } => results[index] = Some(result),
            Event::IcmpRationed { address } => rationed.push(address),
            Event::Attempt { .. } | Event::IcmpBudgetSpent { .. } => {}
        }
    }
    engine.await.unwrap();
    (results.into_iter().map(Option::unwrap).collect(), rationed)
}

#[tokio::test(start_paused = true)]
async fn closed_udp_ports_stay_closed_behind_an_icmp_ration() {
    // Twenty closed UDP ports on a host that sends six port unreachables, then one a second,
    // and one port whose datagrams are dropped.
    let mut behaviours: Vec<_> = (1..=20).map(|p| (p, Behaviour::UdpClosed(MS(5)))).collect();
    behaviours.push((21, Behaviour::Silent));
    let fake = Fake::new(&behaviours);
    let (r, rationed) = run_noting(
        &fake,
        udp_endpoints("198.51.100.7", 1..=21),
        EngineConfig::default(),
    )
    .await;
    for closed in &r[..20] {
        // The silences before the answer were the ration, not loss.
        let got = (
            closed.state,
            closed.reason,
            closed.attempts,
            closed.received,
        );
        assert_eq!(
            got,
            (State::Closed, Reason::PortUnreach, 1, 1),
            "{closed:?}"
        );
    }
    assert_eq!((r[20].state, r[20].attempts), (State::OpenFiltered, 2));
    assert_eq!(rationed, ["198.51.100.7".parse::<IpAddr>().unwrap()]);
    // The retries (second sends to a port) left one allowance apart at least.
    let mut seen = HashMap::new();
    let retries: Vec<Instant> = fake
        .sends()
        .into_iter()
        .filter(|(_, port, _)| *seen.entry(*port).and_modify(|n| *n += 1).or_insert(1) > 1)
        .map(|(at, _, _)| at)
        .collect();
    assert_eq!(
        retries.len(),
        15,
        "six answered at once, the rest asked again"
    );
    assert!(
        retries.windows(2).all(|w| w[1] - w[0] >= ALLOWANCE),
        "{retries:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_host_gets_its_budget_of_spaced_retries_and_no_more() {
    // Fifty closed ports: six answer at once, thirty more on spaced retries (the budget),
    // and the other fourteen stay open|filtered after a plain retry; said once.
    let behaviours: Vec<_> = (1..=50).map(|p| (p, Behaviour::UdpClosed(MS(5)))).collect();
    let fake = Fake::new(&behaviours);
    let (tx, mut rx) = mpsc::channel(64);
    let (_stop_tx, stop) = watch::channel(false);
    let config = EngineConfig::default();
    let engine = tokio::spawn(run(
        udp_endpoints("198.51.100.7", 1..=50),
        fake.clone(),
        config,
        tx,
        stop,
    ));
    let (mut closed, mut silent, mut spent) = (0, 0, 0);
    while let Some(event) = rx.recv().await {
        match event {
            Event::Done { result, .. } if result.state == State::Closed => closed += 1,
            Event::Done { result, .. } if result.state == State::OpenFiltered => silent += 1,
            Event::IcmpBudgetSpent { .. } => spent += 1,
            _ => {}
        }
    }
    engine.await.unwrap();
    let budget = usize::try_from(crate::probe::icmp_limit::BUDGET).unwrap();
    assert_eq!((closed, silent, spent), (6 + budget, 44 - budget, 1));
}

#[tokio::test(start_paused = true)]
async fn without_retries_a_rationed_host_is_not_asked_again() {
    let behaviours: Vec<_> = (1..=10).map(|p| (p, Behaviour::UdpClosed(MS(5)))).collect();
    let fake = Fake::new(&behaviours);
    let mut config = EngineConfig::default();
    config.timing.max_retries = 0;
    let (r, rationed) = run_noting(&fake, udp_endpoints("198.51.100.7", 1..=10), config).await;
    let closed = r.iter().filter(|r| r.state == State::Closed).count();
    assert_eq!((closed, fake.sends().len()), (6, 10));
    assert!(rationed.is_empty());
}

#[tokio::test(start_paused = true)]
async fn tcp_and_hosts_without_port_unreachable_are_not_slowed() {
    // A silent UDP port and a silent TCP port on a host that never sent port unreachable:
    // one plain retry each, with the host's waits, and nothing spaced.
    let fake = Fake::new(&[(1, Behaviour::Silent), (2, Behaviour::Silent)]);
    let started = Instant::now();
    let mut both = udp_endpoints("198.51.100.7", [1]);
    both.extend(endpoints("198.51.100.7", [2]));
    let config = EngineConfig {
        concurrency: 1,
        ..EngineConfig::default()
    };
    let (r, rationed) = run_noting(&fake, both, config).await;
    let got: Vec<_> = r.iter().map(|r| (r.state, r.attempts)).collect();
    assert_eq!(got, [(State::OpenFiltered, 2), (State::Filtered, 2)]);
    assert!(rationed.is_empty());
    // Four one-second waits, nothing more.
    assert_eq!(started.elapsed(), MS(4000));
}

#[tokio::test(start_paused = true)]
async fn a_spaced_retry_gives_way_to_other_hosts_and_to_ctrl_c() {
    // One port at a time. Host A sends six port unreachables, then its ports 7 and 8 fall
    // silent and wait for spaced retries (about 1.1 s on); meanwhile host B's port is probed,
    // and Ctrl-C then ends the run at once, with no retry sent.
    let mut behaviours: Vec<_> = (1..=8).map(|p| (p, Behaviour::UdpClosed(MS(5)))).collect();
    behaviours.push((9, Behaviour::Open(MS(5))));
    let fake = Fake::new(&behaviours);
    let mut plan = udp_endpoints("198.51.100.7", 1..=8);
    plan.extend(endpoints("198.51.100.8", [9]));
    let config = EngineConfig {
        concurrency: 1,
        ..EngineConfig::default()
    };
    let (tx, mut rx) = mpsc::channel(64);
    let (stop_tx, stop) = watch::channel(false);
    let started = Instant::now();
    let engine = tokio::spawn(run(plan, fake.clone(), config, tx, stop));
    let mut done = Vec::new();
    // Bounded: an engine that kept the waiting ports' permits would never get to host B.
    tokio::time::timeout(MS(60_000), async {
        while let Some(event) = rx.recv().await {
            if let Event::Done { index, result } = event {
                done.push((index, result.state));
                if index == 8 {
                    stop_tx.send(true).unwrap();
                }
            }
        }
    })
    .await
    .expect("the run ends");
    engine.await.unwrap();
    assert!(started.elapsed() < ALLOWANCE, "{:?}", started.elapsed());
    assert_eq!(fake.sends().len(), 9, "no retry after Ctrl-C");
    assert_eq!(done.iter().filter(|d| d.1 == State::Closed).count(), 6);
    assert!(done.contains(&(8, State::Open)), "{done:?}");
}

#[tokio::test(start_paused = true)]
async fn the_deadline_cuts_waits_and_skips_what_it_did_not_start() {
    // One at a time: port 1 answers in 10 ms (its 1 s wait cut to the 300 ms left; then the
    // host's waits drop to the 100 ms floor); silent port 2 gets its retry; port 3's wait is
    // cut to the 90 ms left, and its retry is never sent; port 4 never starts.
    let fake = Fake::new(&[(1, Behaviour::Open(MS(10))), (2, Behaviour::Silent)]);
    let start = Instant::now();
    let config = EngineConfig {
        concurrency: 1,
        deadline: Some(start + MS(300)),
        ..EngineConfig::default()
    };
    let (tx, mut rx) = mpsc::channel(64);
    let (_stop_tx, stop) = watch::channel(false);
    let engine = tokio::spawn(run(
        endpoints("198.51.100.7", [1, 2, 3, 4]),
        fake.clone(),
        config,
        tx,
        stop,
    ));
    let mut done = Vec::new();
    while let Some(event) = rx.recv().await {
        if let Event::Done { index, result } = event {
            done.push((index, result.state, result.attempts));
        }
    }
    engine.await.unwrap();
    assert_eq!(
        Instant::now() - start,
        MS(300),
        "the run ends at the deadline"
    );
    assert_eq!(
        done,
        [
            (0, State::Open, 1),
            (1, State::Filtered, 2),
            (2, State::Filtered, 1)
        ]
    );
    let waits: Vec<_> = fake.sends().iter().map(|s| (s.1, s.2)).collect();
    assert_eq!(
        waits,
        [(1, MS(300)), (2, MS(100)), (2, MS(100)), (3, MS(90))]
    );
}
