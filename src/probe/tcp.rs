//! One TCP connect attempt, with nmap's evidence: handshake, RST, or the ICMP error from the
//! socket error queue.
//!
//! The socket closes with `SO_LINGER` 0, so an open port gets a RST instead of a FIN and a
//! sweep leaves no `TIME_WAIT` pile-up. A loopback connect from ephemeral port P to port P
//! connects to itself (TCP simultaneous open) and would look open: compared local and peer
//! addresses catch it, and the attempt is made again from another port.

use super::attempt::{Answer, Busy, Outgoing, is_busy};
use super::in_flight::{InFlight, is_own_probe};
use super::reason::{Observation, SocketError, local_failure, socket_error};
use super::udp::{icmp_observation, unsent};
use crate::model::{LocalFault, Protocol as Transport};
use crate::sys::{self, AsSocket, Failure};
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

/// Linux's initial SYN retransmission timeout (`TCP_TIMEOUT_INIT`): an answer later than
/// this may be to the retransmitted SYN, so the first one was lost.
pub const KERNEL_SYN_RTO: Duration = Duration::from_secs(1);

/// Bounds of the wait for a responder banner on an open port.
const BANNER_WAIT_MIN: Duration = Duration::from_millis(5);
const BANNER_WAIT_MAX: Duration = Duration::from_millis(250);
/// Bytes of a banner kept (the responder's line is under 70).
const BANNER_HEAD: usize = 80;

/// How often a connect that met itself or another of our probes is made again.
const SELF_CONNECT_RETRIES: u32 = 16;

/// Connects to `target`, waiting at most `wait`. A connect that meets itself or another of
/// our probes is made again (from another port, after a growing pause that breaks up
/// probes meeting in step), never reported as the target's answer.
pub async fn attempt(target: SocketAddr, wait: Duration) -> Result<Answer, Busy> {
    attempt_out(target, wait, Outgoing::default()).await
}

/// Whether an open port is given time to send ipdiag's responder banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Banner {
    /// Wait about a round trip for it: the banner says how the server saw this client.
    Read,
    /// The user says a responder runs there (`--responder`): wait up to 250 ms for its
    /// banner whatever the round trip, so a busy server's late banner is still read.
    Expect,
    /// Stop at the handshake: a caller that expects no responder (an exporter module
    /// without `responder`) answers as soon as the connect does.
    Skip,
}

/// [`attempt`] that stops at the handshake when `banner` is [`Banner::Skip`].
pub async fn attempt_banner(
    target: SocketAddr,
    wait: Duration,
    banner: Banner,
) -> Result<Answer, Busy> {
    attempt_with(target, wait, Outgoing::default(), banner).await
}

/// [`attempt`] with the SYN's TTL (hop limit) and source port set: a router where the TTL
/// runs out answers with ICMP time exceeded, which the error queue reports (`ipdiag
/// trace`). The probes of a trace share one source port, one after another: the kernel
/// takes an ICMP error for the connection only when the sequence number it quotes is this
/// SYN's (`tcp_v4_err`), so a late error about an earlier probe is never this one's.
pub async fn attempt_out(
    target: SocketAddr,
    wait: Duration,
    out: Outgoing,
) -> Result<Answer, Busy> {
    attempt_with(target, wait, out, Banner::Read).await
}

async fn attempt_with(
    target: SocketAddr,
    wait: Duration,
    out: Outgoing,
    banner: Banner,
) -> Result<Answer, Busy> {
    for retry in 0..SELF_CONNECT_RETRIES {
        if let Some(answer) = connect_once(target, wait, out, banner).await? {
            return Ok(answer);
        }
        tokio::time::sleep(Duration::from_millis(u64::from(retry + 1))).await;
    }
    Ok(Answer::new(
        Observation::Local(
            "every connect met one of ipdiag's own probes (TCP simultaneous open)".into(),
        ),
        Duration::ZERO,
    ))
}

/// One connect; `None` when it connected to itself.
async fn connect_once(
    target: SocketAddr,
    wait: Duration,
    out: Outgoing,
    banner: Banner,
) -> Result<Option<Answer>, Busy> {
    let socket = match new_socket(target, out) {
        Ok(socket) => socket,
        Err(e) => return unsent(target, e).map(Some),
    };
    let start = Instant::now();
    let deadline = start + wait;
    let connecting = socket.connect(&target.into());
    // The local port exists from here on; until this attempt ends, another of our probes
    // that reaches it has met a probe, not a listener.
    let _in_flight =
        InFlight::register(socket.local_addr().ok().and_then(|a| a.as_socket()), target);
    match connecting {
        Ok(()) => return open_now(socket, target, start.elapsed(), banner).await,
        Err(e) if meaning(&e) == Failure::InProgress => {}
        Err(e) if is_busy(&e) => return Err(Busy(e)),
        Err(e) => return Ok(Some(failed(&socket, &e, start.elapsed(), target))),
    }
    // Loopback and near hosts often answer within the connect() call itself: look before
    // registering with the reactor, which saves two epoll_ctl calls per port of a sweep.
    match socket.take_error() {
        Ok(Some(e)) if reset_by_own_probe(&e, target) => return Ok(None),
        Ok(Some(e)) => return Ok(Some(failed(&socket, &e, start.elapsed(), target))),
        Ok(None) if socket.peer_addr().is_ok() => {
            return open_now(socket, target, start.elapsed(), banner).await;
        }
        _ => {}
    }
    // A connecting socket may be handed to tokio (mio's own connect does the same).
    let stream = TcpStream::from_std(socket.into()).map_err(Busy)?;
    connect_wait(stream, target, start, deadline, (wait, banner)).await
}

/// A reset from one of our own probes that this one had met (it saw the meeting first and
/// closed): not the target's answer; the attempt is made again. A refusal (RST to a SYN)
/// is always the target's.
fn reset_by_own_probe(error: &io::Error, target: SocketAddr) -> bool {
    meaning(error) == Failure::Reset && is_own_probe(target)
}

/// What a TCP socket error means on this system.
fn meaning(error: &io::Error) -> Failure {
    error.raw_os_error().map_or(Failure::Other, |code| {
        sys::failure(sys::HERE.system, Transport::Tcp, code)
    })
}

/// A connect that completed at once: check for a self-connect, then read the banner.
async fn open_now(
    socket: Socket,
    target: SocketAddr,
    rtt: Duration,
    banner: Banner,
) -> Result<Option<Answer>, Busy> {
    let Some(answer) = connected(&SockRef::from(&socket), target, rtt) else {
        return Ok(None);
    };
    let stream = TcpStream::from_std(socket.into()).map_err(Busy)?;
    Ok(Some(with_banner(answer, &stream, banner).await))
}

/// Waits for a connect in progress, then reads a responder's banner if one comes.
async fn connect_wait(
    stream: TcpStream,
    target: SocketAddr,
    start: Instant,
    deadline: Instant,
    (wait, banner): (Duration, Banner),
) -> Result<Option<Answer>, Busy> {
    let Ok(ready) = timeout_at(deadline, stream.ready(Interest::WRITABLE | Interest::ERROR)).await
    else {
        return Ok(Some(Answer::new(Observation::Silence, wait)));
    };
    let rtt = start.elapsed();
    if let Err(e) = ready {
        return Ok(Some(failed(&stream, &e, rtt, target)));
    }
    match stream.take_error() {
        Ok(None) => {
            let answer = connected(&SockRef::from(&stream), target, rtt);
            Ok(match answer {
                Some(answer) => Some(with_banner(answer, &stream, banner).await),
                None => None,
            })
        }
        Ok(Some(e)) | Err(e) if reset_by_own_probe(&e, target) => Ok(None),
        Ok(Some(e)) | Err(e) => Ok(Some(failed(&stream, &e, rtt, target))),
    }
}

/// How long an open port is given to send ipdiag's responder banner: about one round trip
/// after the handshake, so twice the connect time, within bounds.
fn banner_wait(rtt: Duration) -> Duration {
    (rtt * 2).clamp(BANNER_WAIT_MIN, BANNER_WAIT_MAX)
}

/// Reads what an open port sends first (an `ipdiag serve` banner, or anything else).
async fn with_banner(mut answer: Answer, stream: &TcpStream, banner: Banner) -> Answer {
    let wait = match banner {
        Banner::Skip => return answer,
        Banner::Read => banner_wait(answer.rtt),
        Banner::Expect => BANNER_WAIT_MAX,
    };
    let mut buf = [0u8; BANNER_HEAD];
    let read = tokio::time::timeout(wait, async {
        loop {
            stream.readable().await?;
            match stream.try_read(&mut buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    })
    .await;
    if let Ok(Ok(n)) = read
        && n > 0
    {
        answer.reply_head = buf.get(..n).map(<[u8]>::to_vec);
    }
    answer
}

fn new_socket(target: SocketAddr, out: Outgoing) -> io::Result<Socket> {
    let socket = sys::new_socket(Domain::for_address(target), Type::STREAM, Protocol::TCP)?;
    sys::HERE.report_errors(&socket, target)?;
    out.apply(&socket, target)?;
    Ok(socket)
}

/// A completed handshake: unless it is a self-connect, close with RST (`SO_LINGER` 0) so the
/// server sees an aborted connection and no `TIME_WAIT` is left behind.
fn connected(socket: &SockRef<'_>, target: SocketAddr, rtt: Duration) -> Option<Answer> {
    if socket.local_addr().ok().and_then(|a| a.as_socket()) == Some(target) || is_own_probe(target)
    {
        return None;
    }
    // Best effort: if it fails, the close is an ordinary FIN.
    let _ = socket.set_linger(Some(Duration::ZERO));
    Some(Answer {
        late: rtt >= KERNEL_SYN_RTO,
        ..Answer::new(Observation::Connected, rtt)
    })
}

/// A failed connect: an ICMP error if one is queued (this host's own stack's is a local
/// failure), a RST if refused, a reset after the handshake (the port is open), else what
/// the error means.
fn failed(socket: &impl AsSocket, error: &io::Error, rtt: Duration, target: SocketAddr) -> Answer {
    let queued = sys::HERE.icmp_report(socket, Transport::Tcp, target, Some(error));
    if let Some(report) = queued {
        let source = || {
            let local = SockRef::from(socket).local_addr().ok()?;
            local.as_socket().map(|a| a.ip())
        };
        return Answer {
            late: rtt >= KERNEL_SYN_RTO,
            ..Answer::new(icmp_observation(report, target.ip(), source), rtt)
        };
    }
    let observation = match socket_error(error) {
        SocketError::Refused => Observation::Refused,
        SocketError::TimedOut => Observation::Silence,
        SocketError::ResetAfterHandshake => {
            // The SYN-ACK came; the RST followed. Its time includes the server's accept
            // and close, so it is no RTT sample, but it is an answer, not loss.
            return Answer {
                untimed: true,
                reset: true,
                ..Answer::new(Observation::Connected, rtt)
            };
        }
        SocketError::Local(fault) => Observation::Local(local_failure(fault, error, target.ip())),
        SocketError::Busy => {
            Observation::Local(local_failure(LocalFault::Other, error, target.ip()))
        }
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

    /// A loopback server that writes `greeting` to each connection `after` its accept;
    /// abort the task to stop it.
    async fn greeter(
        greeting: &'static [u8],
        after: Duration,
    ) -> (SocketAddr, tokio::task::JoinHandle<()>) {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = listener.local_addr().unwrap();
        // An accept error must not end the loop: Windows (and wine) fail `accept` for a
        // connection the client reset before it was taken, as `attempt` does when it skips
        // the banner, and a dropped listener would make every later attempt "refused".
        let server = tokio::spawn(async move {
            loop {
                let Ok((mut conn, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let _ = conn.write_all(greeting).await;
                });
            }
        });
        (open, server)
    }

    /// A server that greets at once: read, its greeting is the answer's head; skipped,
    /// the attempt ends at the handshake with no head.
    #[tokio::test]
    async fn a_banner_is_read_or_skipped() {
        let (open, server) = greeter(b"hello\n", Duration::ZERO).await;
        // The greeting can miss the 5 ms floor on a loaded machine: tried up to 20 times.
        let mut head = None;
        for _ in 0..20 {
            let answer = attempt_banner(open, Duration::from_secs(1), Banner::Read)
                .await
                .unwrap();
            assert_eq!(answer.observation, Observation::Connected);
            head = answer.reply_head;
            if head.is_some() {
                break;
            }
        }
        assert_eq!(head.as_deref(), Some(&b"hello\n"[..]));
        let answer = attempt_banner(open, Duration::from_secs(1), Banner::Skip)
            .await
            .unwrap();
        assert_eq!(answer.observation, Observation::Connected);
        assert_eq!(answer.reply_head, None);
        server.abort();
    }

    /// A server that greets 60 ms after the handshake (a loaded one): about a round trip
    /// on loopback misses it; expecting a responder reads it.
    #[tokio::test]
    async fn an_expected_responder_is_given_time_for_a_late_banner() {
        let (open, server) = greeter(b"late\n", Duration::from_millis(60)).await;
        let read = attempt_banner(open, Duration::from_secs(1), Banner::Read)
            .await
            .unwrap();
        let expected = attempt_banner(open, Duration::from_secs(1), Banner::Expect)
            .await
            .unwrap();
        assert_eq!(expected.reply_head.as_deref(), Some(&b"late\n"[..]));
        // Unless the machine was so loaded that the handshake itself took 30 ms.
        if banner_wait(read.rtt) < Duration::from_millis(50) {
            assert_eq!(read.reply_head, None);
        }
        server.abort();
    }
}
