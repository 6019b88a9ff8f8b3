//! A server that accepts and resets at once (an overloaded server, a load balancer without
//! a backend): the SYN-ACK came, so the port is open, whether the reset arrives before
//! ipdiag looks at the socket or after; no loss (it once read as a local error in about a
//! third of the runs, with loss invented for it).

use super::{listening, records, tcp_listener};
use socket2::SockRef;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Accepts every connection and closes it with a RST (`SO_LINGER` 0) straight away, until
/// the flag turns false (polled, so the thread ends with the test).
fn resetting(listener: TcpListener, running: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        while running.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((stream, _)) => {
                    let _ = SockRef::from(&stream).set_linger(Some(Duration::ZERO));
                }
                Err(_) => std::thread::sleep(Duration::from_micros(200)),
            }
        }
    })
}

#[test]
fn a_reset_after_the_handshake_is_open_in_every_run() {
    let _guard = listening();
    let (listener, port) = tcp_listener();
    let running = Arc::new(AtomicBool::new(true));
    let server = resetting(listener, Arc::clone(&running));
    let target = format!("127.0.0.1:{port}");
    let mut states = Vec::new();
    for _ in 0..20 {
        let (code, recs) = records(&[&target]);
        let r = &recs[0];
        states.push((
            code,
            r["state"].as_str().unwrap_or_default().to_owned(),
            r["reason"].as_str().unwrap_or_default().to_owned(),
            r["received"].as_u64(),
            r["loss_pct"].as_f64(),
        ));
    }
    let open = (
        0,
        "open".to_owned(),
        "syn-ack".to_owned(),
        Some(1),
        Some(0.0),
    );
    assert_eq!(states.len(), 20);
    assert!(states.iter().all(|s| *s == open), "{states:?}");
    // Twenty attempts in one run: twenty answers, nothing lost.
    let (code, recs) = records(&[&target, "-c", "20", "-i", "10ms"]);
    let r = &recs[0];
    assert_eq!(
        (
            code,
            r["state"].as_str(),
            r["attempts"].as_u64(),
            r["received"].as_u64()
        ),
        (0, Some("open"), Some(20), Some(20))
    );
    assert_eq!(r["loss_pct"].as_f64(), Some(0.0));
    running.store(false, Ordering::Relaxed);
    server.join().unwrap();
}
