//! The sockets of a SYN scan: raw TCP (replies: SYN-ACK, RST) and raw ICMP (errors quoting
//! our SYN) per address family, and an ordinary TCP socket that holds our source port.

use super::filter::{sock_filters, to_ports};
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::IpAddr;
use std::time::Duration;

/// The receive buffer of the raw TCP socket: on loopback every reply arrives inside our
/// own `sendto`, faster than a reader wakes; 32 MiB holds tens of thousands of them.
const RECV_BUFFER: usize = 32 << 20;

/// Whether this process may open raw sockets (root or `CAP_NET_RAW`): tried, not guessed
/// from the user id, so capabilities and containers answer for themselves.
pub fn privileged() -> bool {
    Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::TCP)).is_ok()
}

/// The raw sockets of one address family.
pub struct RawSockets {
    /// Sends our SYNs; receives TCP segments.
    pub tcp: Socket,
    /// Receives ICMP (or ICMPv6) errors.
    pub icmp: Socket,
    /// IPv6 rather than IPv4.
    pub v6: bool,
    /// The TCP ports our SYNs come from, one per try (held by `_holders` so no other
    /// program gets them). A retry from a new port is a new connection request to the
    /// target: a retry from the same port would meet the target's half-open entry, whose
    /// SYN-ACK is resent at most every half second (Linux's `tcp_invalid_ratelimit`), so
    /// an open port whose first SYN-ACK was lost could stay silent for every retry.
    pub ports: Vec<u16>,
    _holders: Vec<Socket>,
}

impl RawSockets {
    /// Opens the sockets for `v6`'s family and reserves `tries` source ports.
    pub fn open(v6: bool, tries: usize) -> io::Result<Self> {
        let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
        let mut holders = Vec::new();
        let mut ports = Vec::new();
        for _ in 0..tries.clamp(1, MAX_PORTS) {
            let (holder, port) = reserve_port(v6)?;
            holders.push(holder);
            ports.push(port);
        }
        let tcp = Socket::new(domain, Type::RAW, Some(Protocol::TCP))?;
        let icmp_protocol = if v6 {
            Protocol::ICMPV6
        } else {
            Protocol::ICMPV4
        };
        let icmp = Socket::new(domain, Type::RAW, Some(icmp_protocol))?;
        // Only the errors that decide a SYN reach the socket: a raw ICMP socket gets every
        // ICMP message of the host, and another program's flood would crowd them out.
        crate::sys::keep_icmp_types(&icmp, v6, super::packet::syn_icmp_types(v6))?;
        for socket in [&tcp, &icmp] {
            socket.set_nonblocking(true)?;
            socket.set_cloexec(true)?;
            // The kernel's receive time of each reply (`SO_TIMESTAMPNS`): replies are read
            // between batches of sends, so the time of the read is not when they came.
            nix::sys::socket::setsockopt(
                socket,
                nix::sys::socket::sockopt::ReceiveTimestampns,
                &true,
            )?;
        }
        if nix::sys::socket::setsockopt(&tcp, nix::sys::socket::sockopt::RcvBufForce, &RECV_BUFFER)
            .is_err()
        {
            tcp.set_recv_buffer_size(RECV_BUFFER)?;
        }
        // Let the kernel drop every segment that is not for our ports (other programs'
        // traffic, and on loopback our own SYNs).
        tcp.attach_filter(&sock_filters(&to_ports(&ports, v6)))?;
        Ok(Self {
            tcp,
            icmp,
            v6,
            ports,
            _holders: holders,
        })
    }

    /// The source port of try number `try_no` (0 = first); the last one serves any later.
    pub fn port(&self, try_no: u32) -> u16 {
        let i = usize::try_from(try_no).unwrap_or(usize::MAX);
        self.ports
            .get(i)
            .or(self.ports.last())
            .copied()
            .unwrap_or_default()
    }

    /// Whether `port` is one of ours.
    pub fn owns(&self, port: u16) -> bool {
        self.ports.contains(&port)
    }
}

/// The most source ports (tries) one scan thread reserves: as many as the filter takes.
const MAX_PORTS: usize = super::filter::MAX_PORTS;

/// Binds an ordinary TCP socket to a free port and keeps it (never listening), so replies
/// to that port find no socket and the kernel answers a SYN-ACK with RST, ending the
/// half-open handshake on the target.
fn reserve_port(v6: bool) -> io::Result<(Socket, u16)> {
    crate::probe::trace::hold_port(v6, Type::STREAM, false)
}

/// One packet read from a raw socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Its length.
    pub len: usize,
    /// Who sent it.
    pub from: Option<IpAddr>,
    /// When the kernel received it (`SO_TIMESTAMPNS`, the real-time clock since the Unix
    /// epoch), when it said.
    pub at: Option<Duration>,
}

/// Receives one packet; `None` when none is waiting.
pub fn receive(socket: &Socket, buf: &mut [u8]) -> io::Result<Option<Received>> {
    use nix::sys::socket::{
        AddressFamily, ControlMessageOwned, MsgFlags, SockaddrLike, SockaddrStorage, recvmsg,
    };
    use nix::sys::time::TimeSpec;
    use std::io::IoSliceMut;
    use std::os::fd::AsRawFd;
    let mut iov = [IoSliceMut::new(buf)];
    let mut control = nix::cmsg_space!(TimeSpec);
    let message = match recvmsg::<SockaddrStorage>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut control),
        MsgFlags::empty(),
    ) {
        Ok(message) => message,
        Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let from = message.address.and_then(|a| match a.family() {
        Some(AddressFamily::Inet) => a.as_sockaddr_in().map(|s| IpAddr::V4(s.ip())),
        Some(AddressFamily::Inet6) => a.as_sockaddr_in6().map(|s| IpAddr::V6(s.ip())),
        _ => None,
    });
    let at = message.cmsgs().ok().and_then(|mut cmsgs| {
        cmsgs.find_map(|c| match c {
            ControlMessageOwned::ScmTimestampns(t) => {
                let secs = u64::try_from(t.tv_sec()).ok()?;
                let nanos = u32::try_from(t.tv_nsec()).ok()?;
                Some(Duration::new(secs, nanos))
            }
            _ => None,
        })
    });
    Ok(Some(Received {
        len: message.bytes,
        from,
        at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv6Addr, SocketAddr};
    use std::time::Instant;

    /// On IPv6 loopback a SYN from our reserved port to a closed port puts two segments on
    /// the wire: our SYN and the RST answering it. The raw socket's kernel filter lets
    /// only the RST (to our port) through. Needs raw sockets; sends only to `::1`.
    #[test]
    fn the_ipv6_filter_passes_replies_to_our_port_only() {
        if !privileged() {
            eprintln!("skipping: raw sockets need root or CAP_NET_RAW");
            return;
        }
        if std::net::TcpListener::bind("[::1]:0").is_err() {
            eprintln!("skipping: no IPv6 loopback here");
            return;
        }
        // Bound, never listening: a SYN to it is answered with RST.
        let (_holder, closed) = reserve_port(true).unwrap();
        let closed = SocketAddr::new(Ipv6Addr::LOCALHOST.into(), closed);
        let sockets = RawSockets::open(true, 1).unwrap();
        let ours = SocketAddr::new(closed.ip(), sockets.port(0));
        let syn = super::super::packet::syn(ours, closed, 7).unwrap();
        sockets
            .tcp
            .send_to(&syn, &SocketAddr::new(closed.ip(), 0).into())
            .unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 2048];
        let until = Instant::now() + Duration::from_millis(500);
        while Instant::now() < until && seen.len() < 2 {
            match receive(&sockets.tcp, &mut buf).unwrap() {
                Some(r) => {
                    assert!(r.at.is_some(), "the kernel's receive time comes with it");
                    seen.push(buf[..r.len].to_vec());
                }
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        let ports: Vec<(u16, u16, u8)> = seen
            .iter()
            .map(|s| {
                let port = |at: usize| u16::from_be_bytes([s[at], s[at + 1]]);
                (port(0), port(2), s[13])
            })
            .collect();
        assert_eq!(
            ports,
            [(closed.port(), ours.port(), 0x14)],
            "the RST|ACK to our port, and not our SYN"
        );
    }
}
