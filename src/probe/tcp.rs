//! One TCP connect attempt, with nmap's evidence: handshake, RST, or the ICMP error from the
//! socket error queue.
//!
//! The socket closes with `SO_LINGER` 0, so an open port gets a RST instead of a FIN and a
//! sweep leaves no `TIME_WAIT` pile-up. A loopback connect from ephemeral port P to port P
//! connects to itself (TCP simultaneous open) and would look open: compared local and peer
//! addresses catch it, and the attempt is made again from another port.

use super::attempt::{Answer, Busy, is_busy};
use super::errqueue;
use super::reason::Observation;
use nix::libc;
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

/// Linux's initial SYN retransmission timeout (`TCP_TIMEOUT_INIT`): an answer later than
/// this may be to the retransmitted SYN, so the first one was lost.
pub const KERNEL_SYN_RTO: Duration = Duration::from_secs(1);

/// How often a self-connect is retried before giving up on that attempt.
const SELF_CONNECT_RETRIES: u32 = 3;

/// Connects to `target`, waiting at most `wait`.
pub async fn attempt(target: SocketAddr, wait: Duration) -> Result<Answer, Busy> {
    for _ in 0..SELF_CONNECT_RETRIES {
        if let Some(answer) = connect_once(target, wait).await? {
            return Ok(answer);
        }
    }
    Ok(Answer::new(
        Observation::Local("the port connected to itself (TCP simultaneous open)".into()),
        Duration::ZERO,
    ))
}

/// One connect; `None` when it connected to itself.
async fn connect_once(target: SocketAddr, wait: Duration) -> Result<Option<Answer>, Busy> {
    let socket = new_socket(target).map_err(Busy)?;
    let start = Instant::now();
    let deadline = start + wait;
    match socket.connect(&target.into()) {
        Ok(()) => return Ok(connected(&SockRef::from(&socket), target, start.elapsed())),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) if is_busy(&e) => return Err(Busy(e)),
        Err(e) => return Ok(Some(failed(&socket, &e, start.elapsed()))),
    }
    // Loopback and near hosts often answer within the connect() call itself: look before
    // registering with the reactor, which saves two epoll_ctl calls per port of a sweep.
    match socket.take_error() {
        Ok(Some(e)) => return Ok(Some(failed(&socket, &e, start.elapsed()))),
        Ok(None) if socket.peer_addr().is_ok() => {
            return Ok(connected(&SockRef::from(&socket), target, start.elapsed()));
        }
        _ => {}
    }
    // A connecting socket may be handed to tokio (mio's own connect does the same).
    let stream = TcpStream::from_std(socket.into()).map_err(Busy)?;
    let Ok(ready) = timeout_at(deadline, stream.ready(Interest::WRITABLE | Interest::ERROR)).await
    else {
        return Ok(Some(Answer::new(Observation::Silence, wait)));
    };
    let rtt = start.elapsed();
    ready.map_err(Busy)?;
    Ok(match stream.take_error() {
        Ok(None) => connected(&SockRef::from(&stream), target, rtt),
        Ok(Some(e)) | Err(e) => Some(failed(&stream, &e, rtt)),
    })
}

fn new_socket(target: SocketAddr) -> io::Result<Socket> {
    let socket = Socket::new(
        Domain::for_address(target),
        Type::STREAM.nonblocking().cloexec(),
        Some(Protocol::TCP),
    )?;
    errqueue::enable(&socket, target.is_ipv6())?;
    Ok(socket)
}

/// A completed handshake: unless it is a self-connect, close with RST (`SO_LINGER` 0) so the
/// server sees an aborted connection and no `TIME_WAIT` is left behind.
fn connected(socket: &SockRef<'_>, target: SocketAddr, rtt: Duration) -> Option<Answer> {
    if socket.local_addr().ok().and_then(|a| a.as_socket()) == Some(target) {
        return None;
    }
    // Best effort: if it fails, the close is an ordinary FIN.
    let _ = socket.set_linger(Some(Duration::ZERO));
    Some(Answer {
        late: rtt >= KERNEL_SYN_RTO,
        ..Answer::new(Observation::Connected, rtt)
    })
}

/// A failed connect: an ICMP error if one is queued, a RST if refused, else a local error.
fn failed(socket: &impl AsRawFd, error: &io::Error, rtt: Duration) -> Answer {
    let queued = errqueue::take(socket).ok().flatten();
    let observation = match queued.and_then(|q| q.icmp) {
        Some(report) => Observation::Icmp(report),
        None if error.raw_os_error() == Some(libc::ECONNREFUSED) => Observation::Refused,
        None if error.raw_os_error() == Some(libc::ETIMEDOUT) => Observation::Silence,
        None => Observation::Local(error.to_string()),
    };
    Answer {
        late: rtt >= KERNEL_SYN_RTO,
        ..Answer::new(observation, rtt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[tokio::test]
    async fn open_and_closed_on_loopback() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        let answer = attempt(open, Duration::from_secs(1)).await.unwrap();
        assert_eq!(answer.observation, Observation::Connected);
        assert!(!answer.late);
        // A port that was just free: bind, note it, close.
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let answer = attempt(closed, Duration::from_secs(1)).await.unwrap();
        assert_eq!(answer.observation, Observation::Refused);
    }

    #[tokio::test]
    async fn ipv6_loopback() {
        let Ok(listener) = TcpListener::bind("[::1]:0") else {
            return;
        };
        let answer = attempt(listener.local_addr().unwrap(), Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(answer.observation, Observation::Connected);
    }
}
