//! The sockets of a SYN scan: raw TCP (replies: SYN-ACK, RST) and raw ICMP (errors quoting
//! our SYN) per address family, and an ordinary TCP socket that holds our source port.

use socket2::{Domain, Protocol, SockFilter, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

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
        for socket in [&tcp, &icmp] {
            socket.set_nonblocking(true)?;
            socket.set_cloexec(true)?;
        }
        if nix::sys::socket::setsockopt(&tcp, nix::sys::socket::sockopt::RcvBufForce, &RECV_BUFFER)
            .is_err()
        {
            tcp.set_recv_buffer_size(RECV_BUFFER)?;
        }
        if !v6 {
            // IPv4 raw sockets see whole packets: let the kernel drop every segment that is
            // not for our ports (other programs' traffic, and on loopback our own SYNs).
            tcp.attach_filter(&to_ports_v4(&ports))?;
        }
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

/// The most source ports (tries) one scan thread reserves.
const MAX_PORTS: usize = 16;

/// Binds an ordinary TCP socket to a free port and keeps it (never listening), so replies
/// to that port find no socket and the kernel answers a SYN-ACK with RST, ending the
/// half-open handshake on the target.
fn reserve_port(v6: bool) -> io::Result<(Socket, u16)> {
    let (domain, any): (Domain, IpAddr) = if v6 {
        (Domain::IPV6, Ipv6Addr::UNSPECIFIED.into())
    } else {
        (Domain::IPV4, Ipv4Addr::UNSPECIFIED.into())
    };
    let socket = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_cloexec(true)?;
    socket.bind(&SocketAddr::new(any, 0).into())?;
    let port = socket
        .local_addr()?
        .as_socket()
        .map(|a| a.port())
        .ok_or_else(|| io::Error::other("the reserved socket has no port"))?;
    Ok((socket, port))
}

/// A classic BPF program: accept IPv4 packets whose TCP destination port is one of
/// `ports` (at most [`MAX_PORTS`]).
fn to_ports_v4(ports: &[u16]) -> Vec<SockFilter> {
    // Opcodes from linux/bpf_common.h.
    const LDX_B_MSH: u16 = 0x01 | 0x10 | 0xa0; // BPF_LDX | BPF_B | BPF_MSH
    const LD_H_IND: u16 = 0x08 | 0x40; // BPF_LD (0) | BPF_H | BPF_IND
    const JEQ_K: u16 = 0x05 | 0x10; // BPF_JMP | BPF_JEQ | BPF_K
    const RET_K: u16 = 0x06; // BPF_RET | BPF_K
    let ports = &ports[..ports.len().min(MAX_PORTS)];
    let n = ports.len();
    // X = IP header length; A = the 16 bits at X + 2 (TCP destination port); then one
    // comparison per port, each jumping over the rest and the drop to the accept.
    let mut program = vec![
        SockFilter::new(LDX_B_MSH, 0, 0, 0),
        SockFilter::new(LD_H_IND, 0, 0, 2),
    ];
    for (i, port) in ports.iter().enumerate() {
        let to_accept = u8::try_from(n - i).unwrap_or(u8::MAX);
        program.push(SockFilter::new(JEQ_K, to_accept, 0, u32::from(*port)));
    }
    program.push(SockFilter::new(RET_K, 0, 0, 0));
    program.push(SockFilter::new(RET_K, 0, 0, u32::MAX));
    program
}

/// Receives one packet: its length and sender; `None` when none is waiting.
pub fn receive(socket: &Socket, buf: &mut [u8]) -> io::Result<Option<(usize, Option<IpAddr>)>> {
    use nix::sys::socket::{SockaddrLike, SockaddrStorage};
    use std::os::fd::AsRawFd;
    match nix::sys::socket::recvfrom::<SockaddrStorage>(socket.as_raw_fd(), buf) {
        Ok((n, from)) => {
            let from = from.and_then(|a| match a.family() {
                Some(nix::sys::socket::AddressFamily::Inet) => {
                    a.as_sockaddr_in().map(|s| IpAddr::V4(s.ip()))
                }
                Some(nix::sys::socket::AddressFamily::Inet6) => {
                    a.as_sockaddr_in6().map(|s| IpAddr::V6(s.ip()))
                }
                _ => None,
            });
            Ok(Some((n, from)))
        }
        Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
