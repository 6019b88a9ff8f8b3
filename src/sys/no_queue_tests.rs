//! A UDP probe without an error queue (as on macOS and Windows), run on this system: a
//! closed port ends with its port unreachable, told by the error code alone, and a silent
//! port waits out its timeout asleep. CPU time is this thread's own (the probe runs on the
//! test's current-thread runtime), so other tests and the machine's load do not count.

use super::{HERE, Platform};
use crate::model::{Protocol, Reason, State};
use crate::probe::attempt::Outgoing;
use crate::probe::reason::{IcmpReport, Observation, judge};
use crate::probe::udp::attempt_via;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

const NO_QUEUE: Platform = Platform {
    system: HERE.system,
    error_queue: false,
};

/// This thread's CPU time (user + system), where the system tells it per thread.
#[cfg(target_os = "linux")]
fn thread_cpu() -> Option<Duration> {
    use nix::sys::resource::{UsageWho, getrusage};
    let usage = getrusage(UsageWho::RUSAGE_THREAD).ok()?;
    let micros = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(u64::try_from(t.tv_sec()).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec()).unwrap_or(0))
    };
    Some(micros(usage.user_time()) + micros(usage.system_time()))
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu() -> Option<Duration> {
    None
}

/// Runs one attempt and returns its observation with the CPU time it took.
async fn probe(target: SocketAddr, wait: Duration) -> (Observation, Option<Duration>) {
    let before = thread_cpu();
    let answer = attempt_via(NO_QUEUE, target, b"ipdiag", wait, Outgoing::default())
        .await
        .expect("a socket is available");
    let used = thread_cpu()
        .zip(before)
        .map(|(after, before)| after.saturating_sub(before));
    (answer.observation, used)
}

#[tokio::test]
async fn a_closed_port_is_closed_by_the_error_code_alone() {
    if super::skip_under_wine("wine never reports WSAECONNRESET for a UDP port unreachable") {
        return;
    }
    let target = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (observation, used) = probe(target, Duration::from_secs(5)).await;
    assert_eq!(
        observation,
        Observation::Icmp(IcmpReport {
            v6: false,
            kind: 3,
            code: 3,
            from: None
        })
    );
    assert_eq!(
        judge(Protocol::Udp, target.ip(), &observation),
        (State::Closed, Reason::PortUnreach)
    );
    if let Some(used) = used {
        assert!(used < Duration::from_millis(200), "{used:?} of CPU");
    }
}

#[tokio::test]
async fn a_silent_port_waits_asleep() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let wait = Duration::from_millis(600);
    let (observation, used) = probe(silent.local_addr().unwrap(), wait).await;
    assert_eq!(observation, Observation::Silence);
    match used {
        // A spinning loop would burn about the whole wait.
        Some(used) => assert!(used < wait / 4, "{used:?} of CPU in a {wait:?} wait"),
        None => eprintln!("this system does not tell a thread's CPU time: not measured"),
    }
}

#[tokio::test]
async fn error_readiness_is_cleared_before_waiting_again() {
    // A closed port first: its port unreachable leaves an error on a socket that then waits
    // for a reply from a silent one. Each attempt uses a fresh socket, so the error must end
    // the first attempt and never leak into the second.
    let closed = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let wait = Duration::from_millis(400);
    let before = thread_cpu();
    let (first, _) = probe(closed, wait).await;
    let (second, _) = probe(silent.local_addr().unwrap(), wait).await;
    let used = thread_cpu()
        .zip(before)
        .map(|(after, before)| after.saturating_sub(before));
    assert!(
        matches!(first, Observation::Icmp(_) | Observation::Silence),
        "{first:?}"
    );
    assert_eq!(second, Observation::Silence);
    if let Some(used) = used {
        assert!(used < wait / 2, "{used:?} of CPU in two waits of {wait:?}");
    }
}
