//! The responder's TCP loop: accept, give each connection a slot (`conns.rs`: a cap per
//! source address, the idlest connection dropped when all are taken), write the banner,
//! and with `tcp_reads` read what the client sends within a byte budget, an idle timeout
//! and a lifetime. Running out of file descriptors is back-pressure: `accept` failing
//! with EMFILE/ENFILE backs off instead of spinning on a listener that stays readable.
//! Must not send anything but the banner.

use super::conns::{Admit, SlotId};
use super::reads::{self, ReadBounds, ReadEnd};
use super::{Action, Arrival, Shared, allow};
use crate::model::Protocol;
use crate::wire::responder;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// The first pause after `accept` ran out of file descriptors; doubled up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(10);
/// The longest pause: a freed descriptor is used within this long.
const MAX_PAUSE: Duration = Duration::from_millis(500);

/// Whether an `accept` error means the process or the system is out of descriptors (or
/// memory for them): the pending connection stays queued, so retrying at once would spin.
#[cfg(unix)]
fn out_of_descriptors(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(nix::libc::EMFILE | nix::libc::ENFILE | nix::libc::ENOBUFS | nix::libc::ENOMEM)
    )
}

/// Elsewhere the platform layer knows the system's codes for running out of resources.
#[cfg(not(unix))]
fn out_of_descriptors(error: &io::Error) -> bool {
    crate::sys::is_busy(error)
}

/// Accepts connections on `listener` until the task is aborted.
pub(super) async fn serve_tcp(listener: TcpListener, shared: Arc<Shared>) {
    let bound = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    let mut writers = JoinSet::new();
    let mut pause = FIRST_PAUSE;
    loop {
        let (stream, source) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) if out_of_descriptors(&e) => {
                shared.counters.fd_pauses.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
                continue;
            }
            Err(_) => continue,
        };
        pause = FIRST_PAUSE;
        while writers.try_join_next().is_some() {}
        // The address the client dialled, not the listener's 0.0.0.0.
        let local = stream.local_addr().unwrap_or(bound);
        shared.counters.connections.fetch_add(1, Ordering::Relaxed);
        if !allow(&shared.limiter, source) {
            drop(stream);
            let _ = shared
                .log
                .try_send(tcp_arrival(source, local, Action::RateLimited));
            continue;
        }
        let stop = Arc::new(Notify::new());
        let admitted = {
            let mut conns = shared.conns.lock().unwrap_or_else(PoisonError::into_inner);
            let admitted = conns.admit(source.ip(), Instant::now(), Arc::clone(&stop));
            // Counted under the table's lock, so the figures never run ahead of it.
            shared
                .counters
                .open_connections
                .store(conns.len(), Ordering::Relaxed);
            shared
                .counters
                .peak_connections
                .fetch_max(conns.len(), Ordering::Relaxed);
            admitted
        };
        let slot = match admitted {
            Admit::Open { id, evicted } => {
                if let Some(evicted) = evicted {
                    shared.counters.evicted.fetch_add(1, Ordering::Relaxed);
                    evicted.notify_one();
                }
                id
            }
            Admit::SourceFull => {
                drop(stream);
                let _ = shared
                    .log
                    .try_send(tcp_arrival(source, local, Action::ConnectionLimit));
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        writers.spawn(async move {
            let arrival = connection(stream, source, local, &shared, slot, &stop).await;
            // The slot may be gone already (evicted): then closing it again does nothing.
            {
                let mut conns = shared.conns.lock().unwrap_or_else(PoisonError::into_inner);
                conns.close(slot);
                shared
                    .counters
                    .open_connections
                    .store(conns.len(), Ordering::Relaxed);
            }
            // Logged once the connection is closed and counted as such.
            let _ = shared.log.try_send(arrival);
        });
    }
}

/// One connection: the banner, then (`tcp_reads`) its reads; the arrival to log.
async fn connection(
    mut stream: TcpStream,
    source: SocketAddr,
    local: SocketAddr,
    shared: &Shared,
    slot: SlotId,
    stop: &Notify,
) -> Arrival {
    let config = &shared.config;
    let until = tokio::time::Instant::now() + config.lifetime;
    let line = responder::banner(source);
    let timeout = config.write_timeout;
    let written = tokio::select! {
        w = tokio::time::timeout(timeout, stream.write_all(line.as_bytes())) => matches!(w, Ok(Ok(()))),
        () = stop.notified() => false,
    };
    if !written {
        return tcp_arrival(source, local, Action::WriteFailed);
    }
    // Half-closed: the client reads the banner to its end and may still send.
    let _ = tokio::time::timeout(timeout, stream.shutdown()).await;
    if !config.tcp_reads {
        return tcp_arrival(source, local, Action::Banner(line.len()));
    }
    let sent = Action::BannerReading(line.len());
    let _ = shared.log.try_send(tcp_arrival(source, local, sent));
    let bounds = ReadBounds {
        limit: config.read_limit,
        idle: config.read_idle,
        until,
    };
    let touch = || {
        shared
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .touch(slot, Instant::now());
    };
    let reads = reads::read_all(&mut stream, bounds, stop, touch).await;
    if reads.end == ReadEnd::Lifetime {
        shared.counters.lifetimes.fetch_add(1, Ordering::Relaxed);
    }
    let mut arrival = tcp_arrival(source, local, Action::Reads(reads));
    arrival.bytes = reads.bytes;
    arrival
}

/// A TCP connection's log entry, stamped now.
fn tcp_arrival(source: SocketAddr, local: SocketAddr, action: Action) -> Arrival {
    Arrival {
        time: SystemTime::now(),
        protocol: Protocol::Tcp,
        source,
        local,
        bytes: 0,
        action,
    }
}
