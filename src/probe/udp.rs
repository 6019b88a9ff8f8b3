//! One UDP attempt: send a datagram on a connected socket, then wait for a reply or for the
//! ICMP error the kernel queues about it.
//!
//! Connecting the UDP socket does two things: only datagrams from the target are delivered,
//! and ICMP errors about our datagrams are reported on this socket (with `IP_RECVERR`, in
//! full: type, code and sender). A fresh socket per attempt means a late reply to an earlier
//! attempt can never be mistaken for this one's.

use super::attempt::{Answer, Busy, is_busy};
use super::reason::Observation;
use crate::model::Protocol as Transport;
use crate::sys::{self, AsSocket, Platform};
use socket2::{Domain, Protocol, Type};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

/// Bytes of a reply kept for the responder protocol (a reply is at most 37 bytes).
const REPLY_HEAD: usize = 64;

/// Sends `payload` to `target` and waits at most `wait` for what comes back.
pub async fn attempt(target: SocketAddr, payload: &[u8], wait: Duration) -> Result<Answer, Busy> {
    attempt_with_ttl(target, payload, wait, None).await
}

/// [`attempt`] with the datagram's TTL (hop limit) set (`ipdiag trace`).
pub async fn attempt_with_ttl(
    target: SocketAddr,
    payload: &[u8],
    wait: Duration,
    ttl: Option<u8>,
) -> Result<Answer, Busy> {
    attempt_via(sys::HERE, target, payload, wait, ttl).await
}

/// [`attempt_with_ttl`] as `platform` reports errors (tests take another system's part).
pub(crate) async fn attempt_via(
    platform: Platform,
    target: SocketAddr,
    payload: &[u8],
    wait: Duration,
    ttl: Option<u8>,
) -> Result<Answer, Busy> {
    let socket = socket_via(platform, target, ttl).map_err(Busy)?;
    let start = Instant::now();
    let deadline = start + wait;
    match timeout_at(deadline, socket.send(payload)).await {
        Err(_) => {
            return Ok(Answer::new(
                Observation::Local("the datagram could not be sent in time".into()),
                wait,
            ));
        }
        Ok(Err(e)) if is_busy(&e) => return Err(Busy(e)),
        Ok(Err(e)) => return Ok(failed(platform, &socket, target, &e, start.elapsed())),
        Ok(Ok(_)) => {}
    }
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok(ready) =
            timeout_at(deadline, socket.ready(Interest::READABLE | Interest::ERROR)).await
        else {
            return Ok(Answer::new(Observation::Silence, wait));
        };
        ready.map_err(Busy)?;
        if let Some(report) = platform.icmp_report(&socket, Transport::Udp, target, None) {
            return Ok(Answer::new(Observation::Icmp(report), start.elapsed()));
        }
        // Without an error queue the error waits in SO_ERROR; reading it clears the readiness.
        if let Some(e) = platform.take_error(&socket) {
            return Ok(failed(platform, &socket, target, &e, start.elapsed()));
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
            Err(e) => return Ok(failed(platform, &socket, target, &e, start.elapsed())),
        }
    }
}

/// A connected, non-blocking UDP socket with the error queue on (and the TTL, if given).
pub(crate) fn new_socket(target: SocketAddr, ttl: Option<u8>) -> io::Result<UdpSocket> {
    socket_via(sys::HERE, target, ttl)
}

fn socket_via(platform: Platform, target: SocketAddr, ttl: Option<u8>) -> io::Result<UdpSocket> {
    let socket = sys::new_socket(Domain::for_address(target), Type::DGRAM, Protocol::UDP)?;
    platform.report_errors(&socket, target)?;
    if let Some(ttl) = ttl {
        super::tcp::set_ttl(&socket, target, ttl)?;
    }
    socket.connect(&target.into())?;
    UdpSocket::from_std(socket.into())
}

/// A send or receive error: the queued ICMP error if there is one, else the system's words.
fn failed(
    platform: Platform,
    socket: &impl AsSocket,
    target: SocketAddr,
    error: &io::Error,
    rtt: Duration,
) -> Answer {
    let observation = match platform.icmp_report(socket, Transport::Udp, target, Some(error)) {
        Some(report) => Observation::Icmp(report),
        None => Observation::Local(error.to_string()),
    };
    Answer::new(observation, rtt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Protocol as P, Reason, State};
    use crate::probe::reason::{IcmpReport, judge};

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
