//! `ipdiag serve`: a responder that makes probes definitive and tells the client how the
//! server saw it — and is never an amplifier (README "The responder protocol").
//!
//! UDP: a valid request (with the right tag when a token is set) from a source within its
//! rate gets one reply no larger than the request; anything else gets nothing, and a tag
//! already answered (a replay) gets nothing either (`replay.rs`). Requests of
//! a measurement session are counted (before the rate limit) and the reply carries the
//! count (`sessions.rs`). TCP: each accepted connection gets one line and is closed, or
//! with `tcp_reads` is read first and the size of every read reported (`reads.rs`);
//! connections are capped in all and per source, the idlest dropped for a new one when
//! all slots are taken (`conns.rs`), and each lives for a bounded time (`tcp.rs`). Every
//! arrival is reported to the caller, who logs it.

pub mod bind;
pub mod conns;
pub mod limiter;
pub mod reads;
pub mod replay;
pub mod sessions;
pub mod tcp;
pub mod udp;

use crate::model::Protocol;
use crate::wire::responder::{Admission, Refusal, Valid};
use conns::Conns;
use limiter::Limiter;
use reads::ReadLog;
use replay::Replays;
use sessions::Sessions;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::Notify;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

/// How the responder behaves.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Requests must carry this token's HMAC tag.
    pub token: Option<Vec<u8>>,
    /// Replies (and banners) per second per source address.
    pub rate: f64,
    /// Burst per source address.
    pub burst: f64,
    /// TCP connections open at once at most.
    pub max_connections: usize,
    /// TCP connections open at once from one source address at most.
    pub per_source: usize,
    /// A TCP connection is closed this long after it was accepted.
    pub lifetime: Duration,
    /// How long writing a banner may take before the connection is dropped.
    pub write_timeout: Duration,
    /// TCP: after the banner, read what the client sends and log each read's size.
    pub tcp_reads: bool,
    /// TCP reads: bytes per connection at most.
    pub read_limit: usize,
    /// TCP reads: close a connection quiet for this long.
    pub read_idle: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            token: None,
            rate: 10.0,
            burst: 20.0,
            max_connections: 256,
            per_source: conns::PER_SOURCE,
            lifetime: reads::LIFETIME,
            write_timeout: Duration::from_secs(2),
            tcp_reads: false,
            read_limit: reads::READ_LIMIT,
            read_idle: reads::READ_IDLE,
        }
    }
}

/// What happened to one arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A reply of this many bytes was sent.
    Replied(usize),
    /// A reply of this many bytes will be sent after the delay the request asked for
    /// (`probe --idle-test`).
    Delayed(usize, std::time::Duration),
    /// No reply: not a valid request.
    Refused(Refusal),
    /// No reply: this source is over its rate.
    RateLimited,
    /// TCP: the banner (this many bytes) was sent and the connection closed.
    Banner(usize),
    /// TCP (`tcp_reads`): the banner was sent; what the client sends is read next.
    BannerReading(usize),
    /// TCP: closed at once, its source holds as many connections as it may.
    ConnectionLimit,
    /// TCP: the banner could not be written in time.
    WriteFailed,
    /// TCP (`tcp_reads`): what the client sent, read by read; then closed.
    Reads(ReadLog),
}

impl Action {
    /// The words in the log.
    pub fn text(self) -> String {
        match self {
            Self::Replied(n) => format!("replied ({n} bytes)"),
            Self::Delayed(n, delay) => {
                format!(
                    "reply ({n} bytes) in {:.1} s, as asked",
                    delay.as_secs_f64()
                )
            }
            Self::Refused(why) => format!("no reply: {}", why.as_str()),
            Self::RateLimited => "no reply: rate limit for this source".into(),
            Self::Banner(n) => format!("banner sent ({n} bytes), closed"),
            Self::BannerReading(n) => format!("banner sent ({n} bytes), reading"),
            Self::ConnectionLimit => "closed: connection limit for this source".into(),
            Self::WriteFailed => "closed: banner not written in time".into(),
            Self::Reads(log) => log.text(),
        }
    }
}

/// One probe that arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// When.
    pub time: SystemTime,
    /// TCP or UDP.
    pub protocol: Protocol,
    /// Who sent it, as this host sees it.
    pub source: SocketAddr,
    /// The local address and port it arrived on.
    pub local: SocketAddr,
    /// Bytes received: the datagram's (UDP); for TCP 0, or with `tcp_reads` all that was read.
    pub bytes: usize,
    /// What the responder did.
    pub action: Action,
}

/// Counters for the summary and for tests (which assert with counts, never with time).
#[derive(Debug, Default)]
pub struct Counters {
    /// Datagrams received.
    pub datagrams: AtomicU64,
    /// Bytes received in datagrams.
    pub bytes_in: AtomicU64,
    /// Bytes sent in UDP replies.
    pub bytes_out: AtomicU64,
    /// Replies sent.
    pub replies: AtomicU64,
    /// TCP connections accepted.
    pub connections: AtomicU64,
    /// TCP connections open now.
    pub open_connections: AtomicUsize,
    /// The most TCP connections ever open at once.
    pub peak_connections: AtomicUsize,
    /// TCP connections dropped, idle the longest, to make room for a new one.
    pub evicted: AtomicU64,
    /// TCP connections closed at their lifetime.
    pub lifetimes: AtomicU64,
    /// Pauses of `accept` because file descriptors ran out.
    pub fd_pauses: AtomicU64,
}

/// The bound sockets.
#[derive(Debug, Default)]
pub struct Sockets {
    /// UDP sockets.
    pub udp: Vec<std::net::UdpSocket>,
    /// TCP listeners.
    pub tcp: Vec<std::net::TcpListener>,
}

/// Serves until `stop` turns true; every arrival goes to `log` (dropped if the logger
/// lags: the responder never waits for its log).
pub async fn serve(
    sockets: Sockets,
    config: ServeConfig,
    log: mpsc::Sender<Arrival>,
    mut stop: watch::Receiver<bool>,
    counters: Arc<Counters>,
) -> std::io::Result<()> {
    let shared = Arc::new(Shared {
        limiter: Mutex::new(Limiter::new(config.rate, config.burst)),
        sessions: Mutex::new(Sessions::default()),
        replays: Mutex::new(Replays::default()),
        conns: Mutex::new(Conns::new(config.max_connections, config.per_source)),
        config,
        log,
        counters,
    });
    let mut tasks = JoinSet::new();
    for socket in sockets.udp {
        let socket = UdpSocket::from_std(socket)?;
        let shared = Arc::clone(&shared);
        tasks.spawn(async move { udp::serve_udp(socket, &shared).await });
    }
    for listener in sockets.tcp {
        let listener = TcpListener::from_std(listener)?;
        tasks.spawn(tcp::serve_tcp(listener, Arc::clone(&shared)));
    }
    drop(shared);
    loop {
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
            next = tasks.join_next() => {
                if next.is_none() {
                    break;
                }
            }
        }
    }
    tasks.abort_all();
    Ok(())
}

fn allow(limiter: &Mutex<Limiter>, source: SocketAddr) -> bool {
    limiter
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .allow(source.ip(), Instant::now())
}

/// The rate limit's decision about a valid request, after counting it in its session:
/// counted first, so a request the limit silences still shows as received.
fn admit(shared: &Shared, source: SocketAddr, valid: Valid, now: u64) -> Admission {
    // A replay is refused before it is counted or charged to a rate.
    if let Some(tag) = valid.tag {
        let first = shared
            .replays
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first_time(tag, now);
        if !first {
            return Admission::Replayed;
        }
    }
    let answered = allow(&shared.limiter, source);
    let tally = valid.session.map(|s| {
        shared
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(source, s, answered)
    });
    if answered {
        Admission::Answer(tally)
    } else {
        Admission::Withhold
    }
}

/// What every serving task shares.
struct Shared {
    config: ServeConfig,
    limiter: Mutex<Limiter>,
    sessions: Mutex<Sessions>,
    replays: Mutex<Replays>,
    conns: Mutex<Conns<Arc<Notify>>>,
    log: mpsc::Sender<Arrival>,
    counters: Arc<Counters>,
}

#[cfg(test)]
#[path = "serve_tests.rs"]
mod tests;
