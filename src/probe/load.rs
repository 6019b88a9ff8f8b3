//! `probe --loss-split`: a paced stream of responder requests from one socket, the replies
//! counted as they come, then the responder's tally of what reached it. The split into
//! directions is pure (`load_split.rs`); this file only sends, receives and counts.
//!
//! Requests are pipelined (sent at the rate whether or not replies come back), as iperf3
//! -u does, because loss as a function of rate is the question. One socket for the whole
//! run, so the server's per-source rate limit and any NAT see a single flow. Its receive
//! buffer is enlarged and drained after every send, so that the client's own buffer does
//! not pass for the network; what it still dropped is read from the kernel's socket table
//! and reported on its own.

use super::load_split::ClientCounts;
use crate::local::sockets::{self, SocketEntry};
use crate::model::Transport;
use crate::wire::responder::{Session, Tally, parse_session_reply, session_request};
use socket2::{Domain, Protocol, Type};
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::time::{Instant, sleep_until};

/// Tally requests at most per run: a few, in case one or its reply is lost.
const TALLY_TRIES: u32 = 5;
/// The receive buffer asked for (the kernel caps it at `net.core.rmem_max`).
const RECEIVE_BUFFER: usize = 4 << 20;

/// One run's settings.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// The responder.
    pub target: SocketAddr,
    /// Counted requests to send.
    pub count: u32,
    /// Requests per second.
    pub rate: f64,
    /// How long replies are awaited after the last send (and between tally requests).
    pub wait: Duration,
    /// The responder's token (`serve --token`).
    pub token: Option<Vec<u8>>,
}

/// What one run saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadRun {
    /// The requested rate.
    pub rate: f64,
    /// The rate achieved: sends per second from the first send to the last.
    pub achieved: f64,
    /// The client's counts.
    pub counts: ClientCounts,
    /// The responder's final tally (`None`: no tally reply came).
    pub tally: Option<Tally>,
    /// Whether any reply carried a tally: `false` with replies means an older responder.
    pub sessions_known: bool,
    /// Sends that failed on this host (not counted as sent).
    pub send_errors: u32,
    /// The target port answered with ICMP port unreachable: no responder runs there.
    pub refused: bool,
    /// Datagrams this host's receive buffer dropped during the run (`None`: unknown).
    pub client_drops: Option<u64>,
}

/// A UDP socket connected to `target` with a large receive buffer.
pub fn socket(target: SocketAddr) -> io::Result<UdpSocket> {
    let socket = crate::sys::new_socket(Domain::for_address(target), Type::DGRAM, Protocol::UDP)?;
    // Best effort: without the privilege to exceed rmem_max the kernel caps it.
    let _ = socket.set_recv_buffer_size(RECEIVE_BUFFER);
    let any: IpAddr = match target {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    socket.bind(&SocketAddr::new(any, 0).into())?;
    socket.connect(&target.into())?;
    UdpSocket::from_std(socket.into())
}

/// Counts of one run as they come in.
struct Counting {
    /// Replies per counted request (saturating).
    replies: Vec<u8>,
    duplicates: u32,
    tally: Option<Tally>,
    sessions_known: bool,
    /// An answer to a tally request without a tally: an older responder.
    old_responder: bool,
    refused: bool,
    /// The high half of every nonce of this run.
    run: u64,
}

impl Counting {
    fn take(&mut self, data: &[u8]) {
        let Some(reply) = parse_session_reply(data) else {
            return;
        };
        let nonce = reply.reply.nonce;
        if nonce & !0xffff_ffff != self.run {
            return; // an earlier run's straggler
        }
        let seq = usize::try_from(nonce & 0xffff_ffff).unwrap_or(usize::MAX);
        self.sessions_known |= reply.tally.is_some();
        if reply.tally_only {
            // Counts only grow: the largest tally is the latest.
            let key = |t: Option<Tally>| t.map(|t| (t.received, t.withheld));
            if key(reply.tally) > key(self.tally) {
                self.tally = reply.tally;
            }
        } else if let Some(count) = self.replies.get_mut(seq) {
            if *count > 0 {
                self.duplicates = self.duplicates.saturating_add(1);
            }
            *count = count.saturating_add(1);
        } else {
            self.old_responder |= reply.tally.is_none();
        }
    }

    fn drain(&mut self, socket: &UdpSocket, buf: &mut [u8]) {
        loop {
            match socket.try_recv(buf) {
                Ok(n) => self.take(buf.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => self.refused = true,
                Err(_) => return,
            }
        }
    }

    /// Receives until `deadline`, or until `done` says so.
    async fn until(
        &mut self,
        socket: &UdpSocket,
        buf: &mut [u8],
        deadline: Instant,
        done: impl Fn(&Self) -> bool,
    ) {
        while !done(self) {
            tokio::select! {
                received = socket.recv(buf) => match received {
                    Ok(n) => self.take(buf.get(..n).unwrap_or_default()),
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => self.refused = true,
                    Err(_) => {}
                },
                () = sleep_until(deadline) => return,
            }
        }
    }
}

/// Sends `config.count` counted requests at `config.rate`, collects replies until
/// `config.wait` after the last, then asks for the tally. Errors only when the socket
/// itself fails; everything the network does is in the counts.
pub async fn run(socket: &UdpSocket, config: &LoadConfig) -> LoadRun {
    let keys = RandomState::new();
    let session = keys.hash_one(("session", config.target, config.rate.to_bits()));
    let count = config.count;
    let run = keys.hash_one("run") << 32;
    let mut counting = Counting {
        replies: vec![0; usize::try_from(count).unwrap_or(0)],
        duplicates: 0,
        tally: None,
        sessions_known: false,
        old_responder: false,
        refused: false,
        run,
    };
    let token = config.token.as_deref();
    // The run in the nonce's high half, the sequence number in the low half.
    let request = |seq: u32, tally_only: bool| {
        session_request(
            run | u64::from(seq),
            token,
            Some(Session {
                id: session,
                seq,
                tally_only,
            }),
        )
    };
    let drops_before = client_drops(socket);
    let mut buf = vec![0u8; 2048];
    let interval = Duration::from_secs_f64(1.0 / config.rate.max(f64::MIN_POSITIVE));
    let (mut sent, mut send_errors) = (0u32, 0u32);
    let start = Instant::now();
    let mut last = start;
    for seq in 0..count {
        let due = start + interval.mul_f64(f64::from(seq));
        counting.until(socket, &mut buf, due, |_| false).await;
        match socket.send(&request(seq, false)).await {
            Ok(_) => sent += 1,
            Err(e) => {
                counting.refused |= e.kind() == io::ErrorKind::ConnectionRefused;
                send_errors += 1;
            }
        }
        last = Instant::now();
        counting.drain(socket, &mut buf);
    }
    let all_in = |c: &Counting| c.replies.iter().all(|n| *n > 0);
    counting
        .until(socket, &mut buf, last + config.wait, all_in)
        .await;
    let gap = (config.wait / 4).clamp(Duration::from_millis(50), Duration::from_millis(500));
    for attempt in 0..TALLY_TRIES {
        if counting.tally.is_some() || counting.old_responder {
            break;
        }
        let _ = socket
            .send(&request(count.saturating_add(attempt), true))
            .await;
        let asked = Instant::now();
        counting
            .until(socket, &mut buf, asked + gap, |c| {
                c.tally.is_some() || c.old_responder
            })
            .await;
    }
    counting.drain(socket, &mut buf);
    let achieved = match (last - start).as_secs_f64() {
        secs if sent > 1 && secs > 0.0 => f64::from(sent - 1) / secs,
        _ => config.rate,
    };
    let answered = counting.replies.iter().filter(|n| **n > 0).count();
    LoadRun {
        rate: config.rate,
        achieved,
        counts: ClientCounts {
            sent,
            answered: u32::try_from(answered).unwrap_or(u32::MAX),
            duplicates: counting.duplicates,
        },
        tally: counting.tally,
        sessions_known: counting.sessions_known,
        send_errors,
        refused: counting.refused,
        client_drops: drops_before
            .zip(client_drops(socket))
            .map(|(before, after)| after.saturating_sub(before)),
    }
}

/// This socket's drop counter from `/proc/thread-self/net/udp{,6}` (`None` when it cannot
/// be found). The calling thread's view, not `/proc/net`'s: that one is the process's, and
/// a thread may have entered another network namespace (`setns`).
fn client_drops(socket: &UdpSocket) -> Option<u64> {
    let local = socket.local_addr().ok()?;
    let (file, v6) = if local.is_ipv6() {
        ("udp6", true)
    } else {
        ("udp", false)
    };
    let text = ["/proc/thread-self/net", "/proc/net"]
        .iter()
        .find_map(|dir| sockets::read_table(format!("{dir}/{file}")).ok())?;
    let found: Vec<SocketEntry> = sockets::parse_proc_net(&text, Transport::Udp, v6)
        .into_iter()
        .filter(|s| s.local.port() == local.port())
        .collect();
    match found.as_slice() {
        [one] => one.drops,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Protocol as Transport;
    use crate::probe::load_split::split;
    use crate::serve::{Counters, ServeConfig, Sockets, bind, serve};
    use crate::wire::responder::reply;
    use std::sync::Arc;
    use tokio::sync::{mpsc, watch};

    /// A responder on 127.0.0.1 with this rate limit; returns its address and stop switch.
    fn responder(rate: f64, burst: f64) -> (SocketAddr, watch::Sender<bool>) {
        let udp = bind::bind(Transport::Udp, "127.0.0.1:0".parse().unwrap()).unwrap();
        let target = udp.local_addr().unwrap().as_socket().unwrap();
        let config = ServeConfig {
            rate,
            burst,
            ..ServeConfig::default()
        };
        let (stop_tx, stop) = watch::channel(false);
        let (log_tx, _) = mpsc::channel(1);
        let sockets = Sockets {
            udp: vec![udp.into()],
            tcp: Vec::new(),
        };
        tokio::spawn(serve(
            sockets,
            config,
            log_tx,
            stop,
            Arc::new(Counters::default()),
        ));
        (target, stop_tx)
    }

    fn config(target: SocketAddr, count: u32) -> LoadConfig {
        LoadConfig {
            target,
            count,
            rate: 2000.0,
            wait: Duration::from_millis(300),
            token: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nothing_lost_on_loopback() {
        if crate::sys::skip_under_wine(
            "wine relays datagrams through its own server: on a loaded machine some of 200 back-to-back replies were lost (175 in one run)",
        ) {
            return;
        }
        let (target, stop) = responder(1e9, 1e9);
        let socket = socket(target).unwrap();
        let run = run(&socket, &config(target, 200)).await;
        assert_eq!(run.counts.sent, 200);
        assert_eq!((run.counts.answered, run.counts.duplicates), (200, 0));
        assert_eq!(
            run.tally,
            Some(Tally {
                received: 200,
                withheld: 0
            })
        );
        assert!(run.sessions_known && !run.refused);
        // The client's drops are read from Linux's socket table; elsewhere they are unknown.
        assert_eq!(run.client_drops, cfg!(target_os = "linux").then_some(0));
        let d = split(run.counts, run.tally).directions.unwrap();
        assert_eq!((d.to_server_lost, d.to_client_lost), (0, 0));
        // A second run on the same socket is a new session: its counts start at zero.
        let again = super::run(&socket, &config(target, 20)).await;
        assert_eq!(again.tally.map(|t| t.received), Some(20));
        stop.send(true).unwrap();
    }

    /// The rate limit silences most of the run and the tally requests too: the tally is
    /// unknown, and only the overall loss is known.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rate_limited_responder_without_a_token_left_for_the_tally() {
        let (target, stop) = responder(0.001, 10.0);
        let socket = socket(target).unwrap();
        let run = run(&socket, &config(target, 50)).await;
        assert_eq!((run.counts.sent, run.counts.answered), (50, 10));
        assert!(run.sessions_known);
        assert_eq!(run.tally, None);
        assert_eq!(split(run.counts, run.tally).loss_pct, Some(80.0));
        stop.send(true).unwrap();
    }

    /// A responder from before sessions answers without a tally: the run says so at the
    /// first tally reply instead of asking again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_older_responder() {
        let old = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let target = old.local_addr().unwrap();
        old.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let server = std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            let mut answered = 0;
            while let Ok((n, from)) = old.recv_from(&mut buf) {
                let nonce = u64::from_be_bytes(buf[8..16].try_into().unwrap());
                let _ = old.send_to(&reply(nonce, from, u16::try_from(n).unwrap()), from);
                answered += 1;
            }
            answered
        });
        let socket = socket(target).unwrap();
        let run = run(&socket, &config(target, 10)).await;
        assert_eq!((run.counts.answered, run.tally), (10, None));
        assert!(!run.sessions_known);
        drop(socket);
        assert_eq!(server.join().unwrap(), 11, "ten counted, one tally request");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nothing_listening_is_seen_as_refused() {
        if crate::sys::skip_under_wine("wine never reports a UDP port unreachable") {
            return;
        }
        let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let target = closed.local_addr().unwrap();
        drop(closed);
        let socket = socket(target).unwrap();
        let run = run(&socket, &config(target, 5)).await;
        assert!(run.refused);
        assert_eq!((run.counts.answered, run.tally), (0, None));
    }
}
