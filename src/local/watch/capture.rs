//! The capture thread of a watch: a packet socket read until told to stop, every packet
//! for (or from) the port tallied. I/O only; what a packet says is `packets.rs`.

use super::packets::{Tally, read};
use crate::model::Transport;
use crate::sys::PacketSocket;
use std::collections::BTreeSet;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the thread looks at its stop flag.
const TICK: Duration = Duration::from_millis(100);

/// A capture running on its own thread.
pub struct Capture {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Tally>,
}

impl Capture {
    /// Opens the packet socket (`CAP_NET_RAW`) and starts tallying (`mine`: this host's
    /// addresses, which tell a packet it sent from one it received); the error is the
    /// socket's (`EPERM` without the capability).
    pub fn start(protocol: Transport, port: u16, mine: BTreeSet<IpAddr>) -> io::Result<Self> {
        let socket = PacketSocket::open(TICK)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut tally = Tally::default();
            // The IP and transport headers are all a packet is read for.
            let mut buf = [0u8; 128];
            while !flag.load(Ordering::Relaxed) {
                match socket.next(&mut buf) {
                    Ok(Some(frame)) => {
                        if let Some(seen) =
                            buf.get(..frame.len).and_then(|b| read(b, frame.wire_len))
                        {
                            tally.count(&seen, &mine, protocol, port);
                        }
                    }
                    Ok(None) => {}
                    Err(_) => break,
                }
            }
            tally
        });
        Ok(Self { stop, thread })
    }

    /// Stops it; the tally so far.
    pub fn stop(self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}
