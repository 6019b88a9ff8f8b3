//! Linux: every capability ipdiag has. The error queue tells each ICMP error in full
//! (`errqueue.rs`), the path MTU is a socket option (`pmtu.rs`), port facts are in `/proc`,
//! sockets are made non-blocking and close-on-exec in the one `socket()` call, and the
//! socket table's memory comes from netlink `sock_diag`.

mod errqueue;
mod icmp_filter;
mod packet;
mod pmtu;

pub use super::unix::{hand_over, interfaces, is_superuser, raise_open_files, restore_open_files};
pub use icmp_filter::keep_only as keep_icmp_types;
pub use packet::PacketSocket;
pub use pmtu::{known_mtu, want_path_mtu_discovery};

use super::{Failure, System, failure};
use crate::classify::port::PortFacts;
use crate::model::Protocol as Transport;
use crate::probe::icmp::Delivery;
use crate::probe::reason::IcmpReport;
use nix::sys::socket::{
    AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, recv, send, setsockopt, socket,
    sockopt::ReceiveTimeout,
};
use nix::sys::time::{TimeVal, TimeValLike};
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::io;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::path::Path;

/// A non-blocking, close-on-exec socket in one system call (the sweep makes one per port).
pub fn new_socket(domain: Domain, kind: Type, protocol: Protocol) -> io::Result<Socket> {
    Socket::new(domain, kind.nonblocking().cloexec(), Some(protocol))
}

/// Asks the kernel to queue errors on this socket (`IP_RECVERR` / `IPV6_RECVERR`).
pub fn enable_error_queue(socket: &Socket, v6: bool) -> io::Result<()> {
    errqueue::enable(socket, v6)
}

/// Without the error queue (tests taking another system's part), nothing more to ask.
pub fn report_errors(_socket: &Socket) {}

/// Windows' `TCP_ICMP_ERROR_INFO`; the error queue says it here.
pub fn tcp_icmp_error(_socket: &SockRef<'_>, _v6: bool) -> Option<IcmpReport> {
    None
}

/// Takes the oldest queued error, if any (never blocks).
pub fn take_queued(socket: &SockRef<'_>) -> io::Result<Option<super::QueuedError>> {
    errqueue::take(&**socket)
}

/// The privileged-port limit and the ephemeral range, from `/proc`.
pub fn port_facts() -> PortFacts {
    crate::local::sysctl::port_facts_from(Path::new("/proc"))
}

/// An ICMP echo socket: the unprivileged ping socket (`net.ipv4.ping_group_range`), else a
/// raw one (the IPv4 header comes first, the identifier is ours to check) that the kernel
/// filters down to the ICMP types in `keep` (of `address`'s family), so other traffic on
/// the host cannot fill its buffer.
pub fn open_ping(address: IpAddr, keep: &[u8]) -> Result<(Socket, Delivery), String> {
    let (domain, protocol) = if address.is_ipv6() {
        (Domain::IPV6, Protocol::ICMPV6)
    } else {
        (Domain::IPV4, Protocol::ICMPV4)
    };
    match Socket::new(domain, Type::DGRAM, Some(protocol)) {
        Ok(s) => Ok((s, Delivery::Filtered)),
        Err(ping) => match Socket::new(domain, Type::RAW, Some(protocol)) {
            Ok(s) => {
                icmp_filter::keep_only(&s, address.is_ipv6(), keep)
                    .map_err(|e| format!("cannot filter the raw ICMP socket: {e}"))?;
                Ok((s, Delivery::Raw))
            }
            Err(raw) => {
                let range = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range");
                Err(no_socket(
                    &ping,
                    &raw,
                    nix::unistd::getgid().as_raw(),
                    range.ok().as_deref(),
                ))
            }
        },
    }
}

/// Why neither an ICMP socket could be opened, in one line that says how to fix it: the
/// ping socket refused for the user's group (`EACCES`: outside
/// `net.ipv4.ping_group_range`, which covers ICMPv6 ping sockets too; `range` is the
/// sysctl's text) and the raw socket for the missing capability (`EPERM`); any other
/// failure is named as it is.
fn no_socket(ping: &io::Error, raw: &io::Error, gid: u32, range: Option<&str>) -> String {
    let refused = |e: &io::Error| {
        e.raw_os_error()
            .is_some_and(|c| failure(System::Linux, Transport::Tcp, c) == Failure::Denied)
    };
    if !(refused(ping) && refused(raw)) {
        return format!("cannot open an ICMP socket: ping socket: {ping}; raw socket: {raw}");
    }
    let range = range.map_or_else(
        || "unreadable".to_owned(),
        |r| r.split_whitespace().collect::<Vec<_>>().join(" "),
    );
    format!(
        "ICMP echo needs a ping socket or a raw socket and this user may open neither: \
         none of its groups (gid {gid}) is in net.ipv4.ping_group_range ({range}) and it lacks \
         CAP_NET_RAW; allow ping sockets with: sudo sysctl -w \
         net.ipv4.ping_group_range='0 2147483647' (or run as root or with CAP_NET_RAW)"
    )
}

/// Sends one netlink `sock_diag` request for address family `v6` or IPv4 (built by
/// `local::skmem`) and hands each datagram of the answer to `each` until it says done
/// (`Some(true)`) or failed (`Some(false)`). `None`: the dump could not be made or read.
pub fn sock_diag_dump(
    request: impl Fn(u8) -> Vec<u8>,
    v6: bool,
    each: &mut dyn FnMut(&[u8]) -> Option<bool>,
) -> Option<()> {
    /// A dump of a busy host comes in many datagrams; this bounds the reading.
    const MAX_READS: usize = 10_000;
    let family = if v6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkSockDiag,
    )
    .ok()?;
    // The kernel answers at once; the timeout only guards against one that never does.
    setsockopt(&fd, ReceiveTimeout, &TimeVal::milliseconds(1000)).ok()?;
    let request = request(u8::try_from(family as i32).ok()?);
    send(fd.as_raw_fd(), &request, MsgFlags::empty()).ok()?;
    let mut buf = vec![0u8; 64 * 1024];
    for _ in 0..MAX_READS {
        let n = recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty()).ok()?;
        match each(buf.get(..n)?) {
            None => {}
            Some(true) => return Some(()),
            Some(false) => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_either_socket_the_message_says_what_is_missing_and_the_fix() {
        let (eacces, eperm, eafnosupport) = (
            io::Error::from_raw_os_error(nix::libc::EACCES),
            io::Error::from_raw_os_error(nix::libc::EPERM),
            io::Error::from_raw_os_error(nix::libc::EAFNOSUPPORT),
        );
        assert_eq!(
            no_socket(&eacces, &eperm, 65534, Some("1\t0\n")),
            "ICMP echo needs a ping socket or a raw socket and this user may open neither: \
             none of its groups (gid 65534) is in net.ipv4.ping_group_range (1 0) and it lacks \
             CAP_NET_RAW; allow ping sockets with: sudo sysctl -w \
             net.ipv4.ping_group_range='0 2147483647' (or run as root or with CAP_NET_RAW)"
        );
        assert!(no_socket(&eacces, &eperm, 1000, None).contains("ping_group_range (unreadable)"));
        let msg = no_socket(&eafnosupport, &eafnosupport, 0, Some("0 2147483647"));
        assert!(
            msg.starts_with(
                "cannot open an ICMP socket: ping socket: Address family not supported"
            ),
            "another failure is named as it is: {msg}"
        );
    }
}
