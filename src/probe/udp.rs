//! One UDP attempt: send a datagram on a connected socket, then wait for a reply or for the
//! ICMP error the kernel queues about it.
//!
//! Connecting the UDP socket does two things: only datagrams from the target are delivered,
//! and ICMP errors about our datagrams are reported on this socket (with `IP_RECVERR`, in
//! full: type, code and sender). A fresh socket per attempt means a late reply to an earlier
//! attempt can never be mistaken for this one's.

use super::attempt::{Answer, Busy, Outgoing};
use super::reason::{
    IcmpReport, Observation, SocketError, local_failure, own_stack_failure, socket_error,
};
use crate::local::interfaces;
use crate::model::{LocalFault, Protocol as Transport};
use crate::sys::{self, Platform};
use socket2::{Domain, Protocol, Type};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

/// Bytes of a reply kept for the responder protocol (a reply is at most 37 bytes).
const REPLY_HEAD: usize = 64;

/// Sends `payload` to `target` and waits at most `wait` for what comes back.
pub async fn attempt(target: SocketAddr, payload: &[u8], wait: Duration) -> Result<Answer, Busy> {
    attempt_out(target, payload, wait, Outgoing::default()).await
}

/// [`attempt`] with the datagram's TTL (hop limit) and source port set (`ipdiag trace`).
/// An ICMP error is this datagram's only when it quotes this payload (as far as the
/// sender quoted it): the probes of a trace share one flow, so a late error about an
/// earlier probe reaches this socket too.
///
/// Every way it can end is bounded by `wait`: an error on the socket is a result (or
/// [`Busy`] for a local resource, which the engine retries a bounded time), and an error
/// readiness without a queued error is cleared by reading `SO_ERROR`, so the loop never
/// spins.
pub async fn attempt_out(
    target: SocketAddr,
    payload: &[u8],
    wait: Duration,
    out: Outgoing,
) -> Result<Answer, Busy> {
    attempt_via(sys::HERE, target, payload, wait, out).await
}

/// [`attempt_out`] as `platform` reports errors (tests take another system's part).
pub(crate) async fn attempt_via(
    platform: Platform,
    target: SocketAddr,
    payload: &[u8],
    wait: Duration,
    out: Outgoing,
) -> Result<Answer, Busy> {
    let start = Instant::now();
    // A failed connect() is the routing lookup saying no (ENETUNREACH): a result.
    let socket = match socket_via(platform, target, out) {
        Ok(socket) => socket,
        Err(e) => return unsent(target, e),
    };
    attempt_on(platform, &socket, target, payload, wait, start).await
}

/// One attempt on a socket already connected to `target`, started at `start`.
pub(crate) async fn attempt_on(
    platform: Platform,
    socket: &UdpSocket,
    target: SocketAddr,
    payload: &[u8],
    wait: Duration,
    start: Instant,
) -> Result<Answer, Busy> {
    let deadline = start + wait;
    match timeout_at(deadline, socket.send(payload)).await {
        Err(_) => {
            return Ok(Answer::new(
                Observation::Local("the datagram could not be sent in time".into()),
                wait,
            ));
        }
        Ok(Err(e)) => return failed(platform, socket, (target, payload), e, start.elapsed()),
        Ok(Ok(_)) => {}
    }
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok(ready) =
            timeout_at(deadline, socket.ready(Interest::READABLE | Interest::ERROR)).await
        else {
            return Ok(Answer::new(Observation::Silence, wait));
        };
        if let Err(e) = ready {
            return failed(platform, socket, (target, payload), e, start.elapsed());
        }
        if let Some(observation) = queued(platform, socket, (target, payload), None) {
            return Ok(Answer::new(observation, start.elapsed()));
        }
        match socket.try_recv(&mut buf) {
            Ok(n) => {
                let rtt = start.elapsed();
                return Ok(Answer {
                    reply_bytes: Some(n),
                    reply_head: buf.get(..n.min(REPLY_HEAD)).map(<[u8]>::to_vec),
                    ..Answer::new(Observation::UdpReply, rtt)
                });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return failed(platform, socket, (target, payload), e, start.elapsed()),
        }
        if let Some(e) = take_socket_error(socket) {
            return failed(platform, socket, (target, payload), e, start.elapsed());
        }
    }
}

/// A connected, non-blocking UDP socket with the error queue on (and the TTL, if given).
pub(crate) fn new_socket(target: SocketAddr, ttl: Option<u8>) -> io::Result<UdpSocket> {
    let out = Outgoing {
        ttl,
        source_port: None,
    };
    socket_via(sys::HERE, target, out)
}

fn socket_via(platform: Platform, target: SocketAddr, out: Outgoing) -> io::Result<UdpSocket> {
    let socket = sys::new_socket(Domain::for_address(target), Type::DGRAM, Protocol::UDP)?;
    platform.report_errors(&socket, target)?;
    out.apply(&socket, target)?;
    socket.connect(&target.into())?;
    UdpSocket::from_std(socket.into())
}

/// Takes the socket's pending error (`SO_ERROR`), clearing tokio's error readiness when
/// there is none: a readiness left set would wake the loop again at once, for ever.
pub(crate) fn take_socket_error(socket: &UdpSocket) -> Option<io::Error> {
    let taken = socket.try_io(Interest::ERROR, || match socket.take_error() {
        Ok(None) => Err(io::ErrorKind::WouldBlock.into()),
        Ok(Some(e)) | Err(e) => Ok(Some(e)),
    });
    taken.ok().flatten()
}

/// The ICMP error behind our datagram, as much as the system says (Linux's error queue in
/// full; elsewhere what `error` tells): an answer from the path, or this host's own stack
/// reporting a local failure (no ARP reply, its own firewall).
fn queued(
    platform: Platform,
    socket: &UdpSocket,
    (target, sent): (SocketAddr, &[u8]),
    error: Option<&io::Error>,
) -> Option<Observation> {
    let report = platform.icmp_report_of(socket, Transport::Udp, target, error, sent)?;
    Some(icmp_observation(report, target.ip(), || {
        socket.local_addr().ok().map(|a| a.ip())
    }))
}

/// An ICMP report as an observation: a local failure when this host's own stack sent it
/// (its sender is our `source` address, which is asked only then).
pub(crate) fn icmp_observation(
    report: IcmpReport,
    target: IpAddr,
    source: impl FnOnce() -> Option<IpAddr>,
) -> Observation {
    // The target's own answer (every closed port of a loopback sweep) needs no more
    // system calls: neither the socket's address nor the interfaces are read.
    let Some(from) = report
        .from
        .filter(|f| f.to_canonical() != target.to_canonical())
    else {
        return Observation::Icmp(report);
    };
    let own = source().filter(|s| s.to_canonical() == from.to_canonical());
    match own.and_then(|s| own_stack_failure(&report, target, s, &interfaces::list())) {
        Some(failure) => Observation::Local(failure),
        None => Observation::Icmp(report),
    }
}

/// The attempt could not start: out of a resource ([`Busy`]), or a result.
pub(crate) fn unsent(target: SocketAddr, error: io::Error) -> Result<Answer, Busy> {
    match socket_error(&error) {
        SocketError::Busy => Err(Busy(error)),
        SocketError::Local(fault) => Ok(Answer::new(
            Observation::Local(local_failure(fault, &error, target.ip())),
            Duration::ZERO,
        )),
        _ => Ok(Answer::new(
            Observation::Local(local_failure(LocalFault::Other, &error, target.ip())),
            Duration::ZERO,
        )),
    }
}

/// A send or receive error: the queued ICMP error if there is one, else what the error
/// means (a port unreachable without details where the system has no error queue).
fn failed(
    platform: Platform,
    socket: &UdpSocket,
    (target, sent): (SocketAddr, &[u8]),
    error: io::Error,
    rtt: Duration,
) -> Result<Answer, Busy> {
    if let Some(observation) = queued(platform, socket, (target, sent), Some(&error)) {
        return Ok(Answer::new(observation, rtt));
    }
    if socket_error(&error) == SocketError::Refused {
        let (kind, code) = if target.is_ipv6() { (1, 4) } else { (3, 3) };
        let report = IcmpReport {
            v6: target.is_ipv6(),
            kind,
            code,
            from: None,
        };
        return Ok(Answer::new(Observation::Icmp(report), rtt));
    }
    unsent(target, error).map(|answer| Answer { rtt, ..answer })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Protocol as P, Reason, State};
    use crate::probe::reason::judge;

    #[tokio::test]
    async fn echo_reply_and_port_unreachable_on_loopback() {
        let echo = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = echo.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            if let Ok((n, from)) = echo.recv_from(&mut buf) {
                echo.send_to(&buf[..n], from).ok();
            }
        });
        let answer = attempt(addr, b"ping", Duration::from_secs(2))
            .await
            .unwrap();
        assert_eq!(
            (answer.observation, answer.reply_bytes),
            (Observation::UdpReply, Some(4))
        );
        server.join().unwrap();
        if crate::sys::skip_under_wine("wine never reports a UDP port unreachable") {
            return;
        }
        // Nothing listens there now: the loopback stack answers ICMP port unreachable.
        let answer = attempt(addr, b"ping", Duration::from_secs(2))
            .await
            .unwrap();
        let Observation::Icmp(IcmpReport {
            kind: 3,
            code: 3,
            from,
            ..
        }) = answer.observation
        else {
            panic!("expected ICMP port unreachable, got {answer:?}");
        };
        // The error queue names the sender; elsewhere the error code alone cannot.
        assert_eq!(from, crate::sys::HERE.error_queue.then_some(addr.ip()));
        assert_eq!(
            judge(P::Udp, addr.ip(), &answer.observation),
            (State::Closed, Reason::PortUnreach)
        );
    }
}
