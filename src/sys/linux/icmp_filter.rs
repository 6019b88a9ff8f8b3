//! Linux's per-socket ICMP type filters for raw ICMP sockets (`ICMP_FILTER` at `SOL_RAW`,
//! `ICMP6_FILTER` at `IPPROTO_ICMPV6`), declared with nix's own `sockopt_impl!` (so no
//! unsafe code of ours).
//!
//! Why: a raw ICMP socket receives a copy of every ICMP message the host gets. A UDP sweep
//! elsewhere on the host (thousands of port unreachables a second on loopback) fills its
//! receive buffer between two reads, and the kernel then drops the one echo reply ping
//! waits for (seen in CI: 4 of 5 loopback replies). With the filter the kernel keeps only
//! the types the reader wants, before they are queued.

use nix::libc;
use nix::setsockopt_impl;
use nix::sockopt_impl;
use nix::sys::socket::setsockopt;
use std::io;
use std::os::fd::AsFd;

/// `ICMP_FILTER` (linux/icmp.h): a bit set for type `t` (below 32) drops that type.
const ICMP_FILTER: libc::c_int = 1;
/// `ICMP6_FILTER` (linux/icmpv6.h): eight words, a bit set for type `t` drops it.
const ICMP6_FILTER: libc::c_int = 1;

sockopt_impl!(
    /// The IPv4 raw socket's type filter.
    Icmp4Filter,
    SetOnly,
    libc::SOL_RAW,
    ICMP_FILTER,
    u32
);

sockopt_impl!(
    /// The ICMPv6 raw socket's type filter.
    Icmp6Filter,
    SetOnly,
    libc::IPPROTO_ICMPV6,
    ICMP6_FILTER,
    [u32; 8]
);

/// The IPv4 mask that drops every type but `keep` (types from 32 up are never dropped by
/// the kernel's filter; none of ours is).
pub fn v4_mask(keep: &[u8]) -> u32 {
    keep.iter()
        .filter(|&&t| t < 32)
        .fold(u32::MAX, |mask, &t| mask & !(1 << t))
}

/// The ICMPv6 filter that blocks every type but `keep`.
pub fn v6_mask(keep: &[u8]) -> [u32; 8] {
    let mut words = [u32::MAX; 8];
    for &t in keep {
        if let Some(word) = words.get_mut(usize::from(t >> 5)) {
            *word &= !(1 << (t & 31));
        }
    }
    words
}

/// Lets only the ICMP types in `keep` reach this raw ICMP socket (ICMPv6 when `v6`).
pub fn keep_only<F: AsFd>(socket: &F, v6: bool, keep: &[u8]) -> io::Result<()> {
    if v6 {
        setsockopt(socket, Icmp6Filter, &v6_mask(keep))
    } else {
        setsockopt(socket, Icmp4Filter, &v4_mask(keep))
    }
    .map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_pass_only_what_is_kept() {
        // Echo reply (0) and time exceeded (11).
        assert_eq!(v4_mask(&[0, 11]), !(1 | 1 << 11));
        assert_eq!(v4_mask(&[]), u32::MAX);
        // ICMPv6 echo reply 129 = word 4, bit 1; time exceeded 3 = word 0, bit 3.
        let six = v6_mask(&[129, 3]);
        assert_eq!(six[4], !(1 << 1));
        assert_eq!(six[0], !(1 << 3));
        assert_eq!(six.iter().filter(|&&w| w == u32::MAX).count(), 6);
    }

    /// As root: a raw ICMP socket filtered to echo replies does not see a port unreachable
    /// that an unfiltered one sees.
    #[test]
    fn a_filtered_raw_socket_skips_other_types() {
        use socket2::{Domain, Protocol, Socket, Type};
        use std::time::Duration;
        let open = || Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4));
        let (Ok(filtered), Ok(plain)) = (open(), open()) else {
            eprintln!("skipped: a raw ICMP socket needs root");
            return;
        };
        keep_only(&filtered, false, &[0]).unwrap();
        // std's datagram calls read a raw socket as well.
        let filtered = std::net::UdpSocket::from(filtered);
        let plain = std::net::UdpSocket::from(plain);
        let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let target = closed.local_addr().unwrap();
        drop(closed);
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        probe.send_to(b"x", target).unwrap();
        plain
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        filtered
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut buf = [0u8; 1500];
        // Other processes' ICMP may arrive too; the plain socket sees at least ours.
        assert!(
            plain.recv(&mut buf).is_ok(),
            "the unfiltered socket sees it"
        );
        // IPv4 header (20 bytes), then the ICMP type.
        let mut types = Vec::new();
        while let Ok(n) = filtered.recv(&mut buf) {
            types.push(buf.get(20).copied().filter(|_| n > 20));
        }
        assert!(
            types.iter().all(|t| *t == Some(0)),
            "only echo replies: {types:?}"
        );
    }
}
