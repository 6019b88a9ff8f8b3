//! The Linux socket error queue: how an ordinary (unprivileged) socket learns the ICMP type,
//! code and sender of an error about its own packets.
//!
//! With `IP_RECVERR` / `IPV6_RECVERR` set, the kernel queues each ICMP error about the
//! socket's traffic as a `sock_extended_err` plus the offender's address (`SO_EE_OFFENDER`),
//! read with `recvmsg(MSG_ERRQUEUE)` (ip(7), `IP_RECVERR(2const)`). For TCP this works while
//! the connection is in `SYN_SENT`, which is exactly a connect probe. nix wraps the calls, so
//! there is no `unsafe` here.

use crate::probe::reason::IcmpReport;
use crate::sys::QueuedError;
use nix::errno::Errno;
use nix::libc;
use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, setsockopt, sockopt,
};
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsFd, AsRawFd};

const ORIGIN_ICMP: u8 = 2;
const ORIGIN_ICMP6: u8 = 3;

/// Asks the kernel to queue errors on this socket.
pub fn enable(socket: &impl AsFd, v6: bool) -> io::Result<()> {
    let result = if v6 {
        setsockopt(socket, sockopt::Ipv6RecvErr, &true)
    } else {
        setsockopt(socket, sockopt::Ipv4RecvErr, &true)
    };
    result.map_err(io::Error::from)
}

/// Takes the oldest queued error, if any (never blocks).
pub fn take(socket: &impl AsRawFd) -> io::Result<Option<QueuedError>> {
    // The data is what the error quotes of our packet past its transport header (for UDP
    // the payload: which datagram it was about).
    let mut data = [0u8; crate::sys::Quote::MAX];
    let mut iov = [IoSliceMut::new(&mut data)];
    let mut control = nix::cmsg_space!(libc::sock_extended_err, libc::sockaddr_in6);
    let flags = MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT;
    let message =
        match recvmsg::<SockaddrStorage>(socket.as_raw_fd(), &mut iov, Some(&mut control), flags) {
            Ok(message) => message,
            Err(Errno::EAGAIN) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
    let quoted = message.bytes;
    for cmsg in message.cmsgs().map_err(io::Error::from)? {
        let (ee, from) = match cmsg {
            ControlMessageOwned::Ipv4RecvErr(ee, addr) => (
                ee,
                addr.map(|a| IpAddr::V4(Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)))),
            ),
            ControlMessageOwned::Ipv6RecvErr(ee, addr) => (
                ee,
                addr.map(|a| IpAddr::V6(Ipv6Addr::from(a.sin6_addr.s6_addr))),
            ),
            _ => continue,
        };
        let icmp = matches!(ee.ee_origin, ORIGIN_ICMP | ORIGIN_ICMP6).then_some(IcmpReport {
            v6: ee.ee_origin == ORIGIN_ICMP6,
            kind: ee.ee_type,
            code: ee.ee_code,
            from: from.map(|a| a.to_canonical()),
        });
        #[expect(clippy::cast_possible_wrap, reason = "errno values are small")]
        let errno = ee.ee_errno as i32;
        return Ok(Some(QueuedError {
            errno,
            icmp,
            info: ee.ee_info,
            quote: crate::sys::Quote::new(data.get(..quoted).unwrap_or_default()),
        }));
    }
    Ok(None)
}
