//! The responder's UDP loop: each datagram is read with the address it was sent to
//! (`IP_PKTINFO` / `IPV6_RECVPKTINFO`, ip(7) and ipv6(7)) and its reply leaves from that
//! address (`sendmsg` with the same control message). A socket bound to 0.0.0.0 on a host
//! with a second address (a secondary IP, a VIP) would otherwise answer from the address
//! the routing table picks, which a client's connected socket drops as a stranger's.
//! Must not make replies itself: only `wire::responder::answer` does.

use super::{Action, Arrival, Counters, Shared, admit};
use crate::model::Protocol;
use crate::wire::responder::{self, Key, Refusal, Valid};
#[cfg(any(target_os = "linux", target_os = "macos"))]
use nix::libc;
#[cfg(any(target_os = "linux", target_os = "macos"))]
use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, sendmsg, setsockopt,
    sockopt,
};
use std::io;
#[cfg(any(target_os = "linux", target_os = "macos"))]
use std::io::{IoSlice, IoSliceMut};
use std::net::{IpAddr, SocketAddr};
#[cfg(any(target_os = "linux", target_os = "macos"))]
use std::net::{Ipv4Addr, Ipv6Addr};
#[cfg(any(target_os = "linux", target_os = "macos"))]
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};
#[cfg(any(target_os = "linux", target_os = "macos"))]
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Where a datagram was sent to: the destination address of its IP header and the
/// interface it came in on (which an IPv6 link-local reply must leave by).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Destination {
    /// The request's destination address.
    pub address: IpAddr,
    /// The interface index it arrived on.
    pub interface: u32,
}

#[cfg(any(target_os = "linux", target_os = "macos"))]
/// Asks the kernel to report each datagram's destination address.
pub fn enable(socket: &UdpSocket) -> io::Result<()> {
    let v6 = socket.local_addr()?.is_ipv6();
    if v6 {
        setsockopt(socket, sockopt::Ipv6RecvPacketInfo, &true)
    } else {
        setsockopt(socket, sockopt::Ipv4PacketInfo, &true)
    }
    .map_err(io::Error::from)
}

#[cfg(any(target_os = "linux", target_os = "macos"))]
/// Receives one datagram into `buf`: its size, its source and where it was sent to (`None`
/// when the kernel gave no packet info).
async fn receive(
    socket: &UdpSocket,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, Option<Destination>)> {
    socket
        .async_io(Interest::READABLE, || {
            let mut iov = [IoSliceMut::new(buf)];
            let mut control = nix::cmsg_space!(libc::in6_pktinfo);
            let message = recvmsg::<SockaddrStorage>(
                socket.as_raw_fd(),
                &mut iov,
                Some(&mut control),
                MsgFlags::MSG_DONTWAIT,
            )?;
            let source = message
                .address
                .as_ref()
                .and_then(socket_addr)
                .ok_or_else(|| io::Error::other("datagram without a source address"))?;
            let destination = message
                .cmsgs()
                .ok()
                .into_iter()
                .flatten()
                .find_map(|c| destination(&c));
            Ok((message.bytes, source, destination))
        })
        .await
}

#[cfg(any(target_os = "linux", target_os = "macos"))]
fn socket_addr(address: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = address.as_sockaddr_in() {
        return Some(SocketAddr::from((v4.ip(), v4.port())));
    }
    address
        .as_sockaddr_in6()
        .map(|v6| SocketAddr::from((v6.ip(), v6.port())))
}

#[cfg(any(target_os = "linux", target_os = "macos"))]
fn destination(cmsg: &ControlMessageOwned) -> Option<Destination> {
    match *cmsg {
        ControlMessageOwned::Ipv4PacketInfo(info) => Some(Destination {
            address: Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr)).into(),
            interface: index(info.ipi_ifindex),
        }),
        ControlMessageOwned::Ipv6PacketInfo(info) => Some(Destination {
            address: Ipv6Addr::from(info.ipi6_addr.s6_addr).into(),
            interface: info.ipi6_ifindex,
        }),
        _ => None,
    }
}

#[cfg(any(target_os = "linux", target_os = "macos"))]
/// Sends `reply` to `to` from the address the request was sent to.
async fn send(
    socket: &UdpSocket,
    reply: &[u8],
    to: SocketAddr,
    from: Option<Destination>,
) -> io::Result<usize> {
    // A request to a broadcast or multicast address is answered from a unicast one.
    let Some(from) = from.filter(|d| unicast(d.address)) else {
        return socket.send_to(reply, to).await;
    };
    let target = SockaddrStorage::from(to);
    // IPv4: the source address only, the routing table picks the interface (an address on
    // `lo` is answered out of the interface the route names); IPv6: the interface too, as
    // a link-local address means nothing without it.
    let v4 = match from.address {
        IpAddr::V4(a) => Some(libc::in_pktinfo {
            ipi_ifindex: 0,
            ipi_spec_dst: libc::in_addr {
                s_addr: u32::from(a).to_be(),
            },
            ipi_addr: libc::in_addr { s_addr: 0 },
        }),
        IpAddr::V6(_) => None,
    };
    let v6 = match from.address {
        IpAddr::V6(a) => Some(libc::in6_pktinfo {
            ipi6_addr: libc::in6_addr {
                s6_addr: a.octets(),
            },
            ipi6_ifindex: from.interface,
        }),
        IpAddr::V4(_) => None,
    };
    socket
        .async_io(Interest::WRITABLE, || {
            let iov = [IoSlice::new(reply)];
            let cmsg = match (&v4, &v6) {
                (Some(info), _) => [ControlMessage::Ipv4PacketInfo(info)],
                (None, Some(info)) => [ControlMessage::Ipv6PacketInfo(info)],
                (None, None) => return Err(io::Error::other("no packet info")),
            };
            Ok(sendmsg(
                socket.as_raw_fd(),
                &iov,
                &cmsg,
                MsgFlags::MSG_DONTWAIT,
                Some(&target),
            )?)
        })
        .await
}

#[cfg(any(target_os = "linux", target_os = "macos"))]
fn unicast(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(a) => !(a.is_broadcast() || a.is_multicast() || a.is_unspecified()),
        IpAddr::V6(a) => !(a.is_multicast() || a.is_unspecified()),
    }
}

/// An interface index as the kernel's type gives it (signed on Linux, unsigned on macOS).
#[cfg(any(target_os = "linux", target_os = "macos"))]
fn index<T: TryInto<u32>>(index: T) -> u32 {
    index.try_into().unwrap_or(0)
}

/// Without packet info (Windows, FreeBSD for now) replies leave as the routing table
/// decides: the responder still answers every request it admits.
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub fn enable(_socket: &UdpSocket) -> io::Result<()> {
    Ok(())
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
async fn receive(
    socket: &UdpSocket,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, Option<Destination>)> {
    let (n, source) = socket.recv_from(buf).await?;
    Ok((n, source, None))
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
async fn send(
    socket: &UdpSocket,
    reply: &[u8],
    to: SocketAddr,
    _from: Option<Destination>,
) -> io::Result<usize> {
    socket.send_to(reply, to).await
}

/// Delayed replies waiting on one socket at most: each is a sleeping task holding its
/// bytes; past this, a delayed request is refused as over the rate.
const MAX_DELAYED: usize = 64;

/// Sends `reply` after `delay` on its own task, holding one of the socket's `permits`
/// meanwhile; counted as a reply when sent.
fn reply_later(
    socket: &Arc<UdpSocket>,
    reply: Vec<u8>,
    to: SocketAddr,
    from: Option<Destination>,
    delay: Duration,
    permit: OwnedSemaphorePermit,
    counters: &Arc<Counters>,
) {
    let (socket, counters) = (Arc::clone(socket), Arc::clone(counters));
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        if let Ok(sent) = send(&socket, &reply, to, from).await {
            counters.replies.fetch_add(1, Ordering::Relaxed);
            counters.bytes_out.fetch_add(sent as u64, Ordering::Relaxed);
        }
        drop(permit);
    });
}

/// Answers datagrams on `socket` until the task is aborted.
pub(super) async fn serve_udp(socket: UdpSocket, shared: &Shared) {
    let Shared {
        config,
        log,
        counters,
        ..
    } = shared;
    let bound = socket
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    // Without packet info (never on Linux or macOS) replies leave as the routing table decides.
    let _ = enable(&socket);
    let socket = Arc::new(socket);
    let delayed = Arc::new(Semaphore::new(MAX_DELAYED));
    let mut buf = vec![0u8; 65_536];
    loop {
        let Ok((n, source, to)) = receive(&socket, &mut buf).await else {
            continue;
        };
        let local = to.map_or(bound, |d| SocketAddr::new(d.address, bound.port()));
        counters.datagrams.fetch_add(1, Ordering::Relaxed);
        counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
        let data = buf.get(..n).unwrap_or_default();
        let now = responder::unix_now();
        let key = config.token.as_deref().map(|secret| Key { secret, now });
        let mut delay = None;
        let admit = |valid: Valid| {
            delay = valid.delay.filter(|d| !d.is_zero());
            admit(shared, source, valid, now)
        };
        let answered = responder::answer(data, source, key, admit);
        let action = match (answered, delay) {
            (Err(Refusal::RateLimited), _) => Action::RateLimited,
            (Err(why), _) => Action::Refused(why),
            (Ok(reply), Some(delay)) => match Arc::clone(&delayed).try_acquire_owned() {
                Ok(permit) => {
                    let len = reply.len();
                    reply_later(&socket, reply, source, to, delay, permit, counters);
                    Action::Delayed(len, delay)
                }
                Err(_) => Action::RateLimited,
            },
            (Ok(reply), None) => match send(&socket, &reply, source, to).await {
                Ok(sent) => {
                    counters.replies.fetch_add(1, Ordering::Relaxed);
                    counters.bytes_out.fetch_add(sent as u64, Ordering::Relaxed);
                    Action::Replied(sent)
                }
                Err(_) => Action::Refused(Refusal::NotAProbe),
            },
        };
        let _ = log.try_send(Arrival {
            time: SystemTime::now(),
            protocol: Protocol::Udp,
            source,
            local,
            bytes: n,
            action,
        });
    }
}
