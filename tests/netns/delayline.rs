//! A delay line: a TUN device whose every packet is written back `delay` later.
//!
//! This kernel has no `netem`; a TUN device gives the same effect for one direction. The
//! routing that sends packets into the device and forwards what comes back out is set up
//! by the bed. Order is kept (the delay is constant); nothing is dropped or reordered.

use crate::servers::enter;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `struct ifreq` as TUNSETIFF reads it: a name and the flags (40 bytes on 64-bit Linux).
#[repr(C)]
struct IfReq {
    name: [u8; 16],
    flags: i16,
    _pad: [u8; 22],
}

/// `_IOW('T', 202, int)` from `<linux/if_tun.h>`.
const TUNSETIFF: u64 = 0x4004_54ca;
const IFF_TUN: i16 = 0x0001;
const IFF_NO_PI: i16 = 0x1000;

nix::ioctl_write_ptr_bad!(tunsetiff, TUNSETIFF, IfReq);

/// Opens (creating) the TUN device `name` in the calling thread's namespace.
#[allow(unsafe_code)]
fn open_tun(name: &str) -> File {
    let tun = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
        .expect("/dev/net/tun opens as root");
    let mut req = IfReq {
        name: [0; 16],
        flags: IFF_TUN | IFF_NO_PI,
        _pad: [0; 22],
    };
    req.name[..name.len()].copy_from_slice(name.as_bytes());
    // SAFETY: `req` is a valid, initialised `struct ifreq` that outlives the call, and the
    // fd is an open /dev/net/tun; TUNSETIFF only reads the struct.
    unsafe { tunsetiff(tun.as_raw_fd(), &raw const req) }.expect("TUNSETIFF");
    tun
}

/// The running delay line; stops when dropped.
pub struct DelayLine {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl DelayLine {
    /// Creates TUN device `name` in namespace `ns` and delays every packet by `delay`.
    pub fn start(ns: &str, name: &str, delay: Duration) -> DelayLine {
        let stop = Arc::new(AtomicBool::new(false));
        let (ns, name) = (ns.to_owned(), name.to_owned());
        let (opened_tx, opened) = mpsc::channel();
        let (queue_tx, queue) = mpsc::channel::<(Instant, Vec<u8>)>();
        let reader_stop = Arc::clone(&stop);
        let reader = std::thread::spawn(move || {
            enter(&ns);
            let mut tun = open_tun(&name);
            opened_tx
                .send(tun.try_clone().expect("dup"))
                .expect("start waits");
            let mut buf = vec![0u8; 65_536];
            while !reader_stop.load(Ordering::Relaxed) {
                let mut fds = [PollFd::new(tun.as_fd(), PollFlags::POLLIN)];
                if poll(&mut fds, PollTimeout::from(10u8)).unwrap_or(0) == 0 {
                    continue;
                }
                if let Ok(n) = tun.read(&mut buf) {
                    let _ = queue_tx.send((Instant::now() + delay, buf[..n].to_vec()));
                }
            }
        });
        let mut tun = opened
            .recv_timeout(Duration::from_secs(5))
            .expect("the TUN device opens");
        let writer_stop = Arc::clone(&stop);
        let writer = std::thread::spawn(move || {
            while !writer_stop.load(Ordering::Relaxed) {
                let Ok((due, packet)) = queue.recv_timeout(Duration::from_millis(10)) else {
                    continue;
                };
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                let _ = tun.write(&packet);
            }
        });
        DelayLine {
            stop,
            threads: vec![reader, writer],
        }
    }
}

impl Drop for DelayLine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
