//! Servers inside a namespace: a thread enters the namespace (`setns` changes only the
//! calling thread), binds, and serves until the guard is dropped.

use std::fs::File;
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often a server looks at its stop flag.
const TICK: Duration = Duration::from_millis(10);

/// Moves the calling thread into the named network namespace.
pub fn enter(ns: &str) {
    let file = File::open(format!("/run/netns/{ns}")).expect("the namespace exists");
    nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns works as root");
}

/// Servers that stop (and are joined) when dropped.
#[derive(Default)]
pub struct Servers {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Servers {
    /// A TCP listener on `addr` in `ns` that accepts and closes every connection.
    pub fn tcp(&mut self, ns: &str, addr: &str) -> &mut Self {
        let addr: SocketAddr = addr.parse().expect("a socket address");
        self.spawn(ns, move |stop, ready| {
            let listener = TcpListener::bind(addr).expect("bind in the namespace");
            listener.set_nonblocking(true).expect("non-blocking");
            ready.send(()).expect("the test waits");
            while !stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => drop(stream),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(TICK),
                    Err(_) => {}
                }
            }
        })
    }

    /// A UDP echo server on `addr` in `ns` (empty datagrams are echoed too).
    pub fn udp_echo(&mut self, ns: &str, addr: &str) -> &mut Self {
        self.udp(ns, addr, true);
        self
    }

    /// A UDP socket on `addr` in `ns` that takes every datagram and never answers (a DNS
    /// server that hangs).
    pub fn udp_silent(&mut self, ns: &str, addr: &str) -> &mut Self {
        self.udp(ns, addr, false);
        self
    }

    /// The tutorial's UDP server (`recvfrom`, never `sendto`), with the count of datagrams
    /// it received.
    pub fn udp_silent_counting(&mut self, ns: &str, addr: &str) -> Arc<AtomicU64> {
        self.udp(ns, addr, false)
    }

    /// A UDP server on `addr` in `ns`; returns the count of datagrams it received.
    fn udp(&mut self, ns: &str, addr: &str, echo: bool) -> Arc<AtomicU64> {
        let addr: SocketAddr = addr.parse().expect("a socket address");
        let got = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&got);
        self.spawn(ns, move |stop, ready| {
            let socket = UdpSocket::bind(addr).expect("bind in the namespace");
            socket.set_read_timeout(Some(TICK)).expect("timeout");
            ready.send(()).expect("the test waits");
            let mut buf = vec![0u8; 65_536];
            while !stop.load(Ordering::Relaxed) {
                if let Ok((n, from)) = socket.recv_from(&mut buf) {
                    counter.fetch_add(1, Ordering::Relaxed);
                    if echo {
                        let _ = socket.send_to(&buf[..n], from);
                    }
                }
            }
        });
        got
    }

    fn spawn(
        &mut self,
        ns: &str,
        serve: impl FnOnce(Arc<AtomicBool>, mpsc::Sender<()>) + Send + 'static,
    ) -> &mut Self {
        let (ns, stop) = (ns.to_owned(), Arc::clone(&self.stop));
        let (ready_tx, ready) = mpsc::channel();
        self.threads.push(std::thread::spawn(move || {
            enter(&ns);
            serve(stop, ready_tx);
        }));
        ready
            .recv_timeout(Duration::from_secs(5))
            .expect("the server binds");
        self
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
