//! A UDP attempt that also listens, unconnected, on its own port: a server that answers
//! from another of its addresses (a second IP, a VIP, the private address behind a public
//! one routed to it) sends a reply the probe's connected socket never sees, as most
//! clients' sockets do not. Linux's UDP lookup gives a datagram to the socket whose
//! connected peer matches its source, and only otherwise to an unconnected socket bound
//! to the same port (both with `SO_REUSEADDR`), so the sibling takes exactly the replies
//! from elsewhere and the probe itself is unchanged: no extra datagram is sent.

use super::attempt::{Answer, Busy};
use super::udp;
use crate::sys;
use socket2::{Domain, Protocol, Type};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::time::Instant;

/// Where replies from other addresses are collected (shared by every attempt of a run).
pub type Strays = Arc<Mutex<Vec<SocketAddr>>>;

/// Different stray sources kept at most: a flood to the probe's port (from one address
/// or many spoofed ones) must not grow the list for as long as the attempt waits.
const MAX_STRAYS: usize = 16;

/// [`udp::attempt`], with replies from any address but `target` to the probe's port put in
/// `strays`. Where the system cannot share the port this way, a plain attempt.
pub async fn attempt(
    target: SocketAddr,
    payload: &[u8],
    wait: Duration,
    strays: &Strays,
) -> Result<Answer, Busy> {
    let start = Instant::now();
    let Some((probe, sibling)) = sys::SIBLING_UDP.then(|| pair(target).ok()).flatten() else {
        return udp::attempt(target, payload, wait).await;
    };
    let listen = async {
        let mut buf = [0u8; 2048];
        loop {
            if let Ok((_, from)) = sibling.recv_from(&mut buf).await
                && from.ip().to_canonical() != target.ip().to_canonical()
                && let Ok(mut seen) = strays.lock()
                && seen.len() < MAX_STRAYS
                && !seen.contains(&from)
            {
                seen.push(from);
            }
        }
    };
    tokio::select! {
        answer = udp::attempt_on(sys::HERE, &probe, target, payload, wait, start) => answer,
        () = listen => unreachable!("the listening loop never ends"),
    }
}

/// The probe socket (connected to `target`) and its unconnected sibling on the same port.
fn pair(target: SocketAddr) -> io::Result<(UdpSocket, UdpSocket)> {
    let domain = Domain::for_address(target);
    let any = SocketAddr::new(
        if target.is_ipv4() {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        },
        0,
    );
    let probe = sys::new_socket(domain, Type::DGRAM, Protocol::UDP)?;
    probe.set_reuse_address(true)?;
    sys::HERE.report_errors(&probe, target)?;
    probe.bind(&any.into())?;
    probe.connect(&target.into())?;
    let port = probe.local_addr()?.as_socket().map_or(0, |a| a.port());
    let sibling = sys::new_socket(domain, Type::DGRAM, Protocol::UDP)?;
    sibling.set_reuse_address(true)?;
    sibling.bind(&SocketAddr::new(any.ip(), port).into())?;
    Ok((
        UdpSocket::from_std(probe.into())?,
        UdpSocket::from_std(sibling.into())?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::reason::Observation;

    /// A server on 127.0.0.1 that answers from 127.0.0.2 (a second address of its own):
    /// the probe's connected socket hears nothing, the sibling hears the reply.
    /// A server on 127.0.0.1 that answers once from `replier`, in a thread of its own.
    fn answer_once(replier: Option<&str>) -> (SocketAddr, SocketAddr, std::thread::JoinHandle<()>) {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let other = replier.map(|r| std::net::UdpSocket::bind(r).unwrap());
        let from = other.as_ref().map_or(addr, |o| o.local_addr().unwrap());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            if let Ok((n, peer)) = server.recv_from(&mut buf) {
                other
                    .as_ref()
                    .unwrap_or(&server)
                    .send_to(&buf[..n], peer)
                    .ok();
            }
        });
        (addr, from, thread)
    }

    /// A server on 127.0.0.1 that answers from 127.0.0.2 (a second address of its own):
    /// the probe's connected socket hears nothing, the sibling hears the reply.
    /// A flood from elsewhere to the probe's port is one stray per source, not one entry
    /// per datagram (the list once grew with every datagram for the whole wait).
    #[tokio::test]
    async fn a_flood_from_another_address_is_one_stray() {
        if !sys::SIBLING_UDP {
            return;
        }
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let other = std::net::UdpSocket::bind("127.0.0.2:0").unwrap();
        let from = other.local_addr().unwrap();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            if let Ok((n, peer)) = server.recv_from(&mut buf) {
                for _ in 0..200 {
                    other.send_to(&buf[..n], peer).ok();
                }
            }
        });
        let strays = Strays::default();
        let answer = attempt(addr, b"ping", Duration::from_millis(500), &strays)
            .await
            .unwrap();
        thread.join().unwrap();
        assert_eq!(answer.observation, Observation::Silence);
        assert_eq!(*strays.lock().unwrap(), [from]);
    }

    #[tokio::test]
    async fn a_reply_from_another_address_is_seen_and_only_it() {
        if !sys::SIBLING_UDP {
            return;
        }
        let wait = Duration::from_millis(500);
        let (addr, from, thread) = answer_once(Some("127.0.0.2:0"));
        let strays = Strays::default();
        let answer = attempt(addr, b"ping", wait, &strays).await.unwrap();
        thread.join().unwrap();
        assert_eq!(answer.observation, Observation::Silence);
        assert_eq!(*strays.lock().unwrap(), [from]);
        // A reply from the target itself reaches the probe, and no stray is recorded.
        let (addr, _, thread) = answer_once(None);
        let strays = Strays::default();
        let answer = attempt(addr, b"ping", wait, &strays).await.unwrap();
        thread.join().unwrap();
        assert_eq!(answer.observation, Observation::UdpReply);
        assert!(strays.lock().unwrap().is_empty());
    }
}
