//! A packet socket (`AF_PACKET`, `SOCK_DGRAM`, `ETH_P_ALL`) for `local --watch`: it sees
//! every packet of every interface of this network namespace, in both directions, as it
//! reaches or leaves the network card — before the host firewall on the way in. Cooked
//! (`SOCK_DGRAM`): the kernel strips the link header, so what arrives is the IP packet.
//! Needs `CAP_NET_RAW`.
//!
//! The sender's link address (`sockaddr_ll`, with the packet's direction) is not read:
//! the kernel returns it shorter than `struct sockaddr_ll` and nix refuses such addresses,
//! and reading it otherwise needs `unsafe`. The direction follows from the IP addresses
//! instead (`local::watch::packets`).

use super::super::Frame;
use nix::sys::socket::{
    AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, recv, setsockopt, socket,
    sockopt::ReceiveTimeout,
};
use nix::sys::time::{TimeVal, TimeValLike};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// An open packet socket.
#[derive(Debug)]
pub struct PacketSocket(OwnedFd);

impl PacketSocket {
    /// Opens it; each receive waits at most `tick` (so a caller can look at a stop flag).
    pub fn open(tick: Duration) -> io::Result<Self> {
        let fd = socket(
            AddressFamily::Packet,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::EthAll,
        )?;
        let millis = i64::try_from(tick.as_millis()).unwrap_or(i64::MAX);
        setsockopt(&fd, ReceiveTimeout, &TimeVal::milliseconds(millis))?;
        Ok(Self(fd))
    }

    /// The next packet into `buf` (its first bytes when longer), or `None` when the tick
    /// passed without one.
    pub fn next(&self, buf: &mut [u8]) -> io::Result<Option<Frame>> {
        // MSG_TRUNC: the packet's real length, though only the buffer's worth is copied.
        match recv(self.0.as_raw_fd(), buf, MsgFlags::MSG_TRUNC) {
            Ok(len) => Ok(Some(Frame {
                len: len.min(buf.len()),
                wire_len: len,
            })),
            Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}
