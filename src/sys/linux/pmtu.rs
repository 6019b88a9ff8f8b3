//! Path-MTU socket options that nix has no wrapper for, declared with nix's own
//! `sockopt_impl!` (so no unsafe code of ours): the IPv6 path MTU of a connected socket, and
//! the path-MTU discovery mode of IPv4 and IPv6 sockets.

use nix::libc;
use nix::sys::socket::{getsockopt, setsockopt};
use nix::{getsockopt_impl, setsockopt_impl, sockopt_impl};
use std::io;
use std::os::fd::AsFd;

sockopt_impl!(
    /// `IPV6_MTU`: the path MTU the kernel knows for a connected IPv6 socket.
    Ipv6Mtu,
    GetOnly,
    libc::IPPROTO_IPV6,
    libc::IPV6_MTU,
    libc::c_int
);

sockopt_impl!(
    /// `IP_MTU_DISCOVER`: how an IPv4 socket treats the path MTU (DF bit, fragmentation).
    IpMtuDiscover,
    Both,
    libc::IPPROTO_IP,
    libc::IP_MTU_DISCOVER,
    libc::c_int
);

sockopt_impl!(
    /// `IPV6_MTU_DISCOVER`: the same for an IPv6 socket.
    Ipv6MtuDiscover,
    Both,
    libc::IPPROTO_IPV6,
    libc::IPV6_MTU_DISCOVER,
    libc::c_int
);

/// The path MTU the kernel knows for a connected socket to `v6` or IPv4.
pub fn known_mtu<F: AsFd>(socket: &F, v6: bool) -> io::Result<u32> {
    let mtu = if v6 {
        getsockopt(socket, Ipv6Mtu)
    } else {
        getsockopt(socket, nix::sys::socket::sockopt::IpMtu)
    }
    .map_err(io::Error::from)?;
    u32::try_from(mtu).map_err(|_| io::Error::other(format!("the kernel reports MTU {mtu}")))
}

/// Sets Linux's "want" mode explicitly (`IP_PMTUDISC_WANT` / `IPV6_PMTUDISC_WANT`): a
/// datagram that fits the known path MTU leaves with DF set (IPv6 never fragments on the
/// way), a larger one is fragmented by this host. The default mode comes from
/// `net.ipv4.ip_no_pmtu_disc`, which can turn DF off and so hide the path MTU.
pub fn want_path_mtu_discovery<F: AsFd>(socket: &F, v6: bool) -> io::Result<()> {
    if v6 {
        setsockopt(socket, Ipv6MtuDiscover, &libc::IPV6_PMTUDISC_WANT)
    } else {
        setsockopt(socket, IpMtuDiscover, &libc::IP_PMTUDISC_WANT)
    }
    .map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_mtus_are_read_for_both_families() {
        let v4 = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        v4.connect("127.0.0.1:9").unwrap();
        assert_eq!(
            known_mtu(&v4, false).unwrap(),
            65_535,
            "lo's 65,536, capped at IPv4's largest packet"
        );
        want_path_mtu_discovery(&v4, false).unwrap();
        assert_eq!(
            getsockopt(&v4, IpMtuDiscover).unwrap(),
            libc::IP_PMTUDISC_WANT
        );
        let Ok(v6) = std::net::UdpSocket::bind("[::1]:0") else {
            eprintln!("skipped: no IPv6 loopback");
            return;
        };
        v6.connect("[::1]:9").unwrap();
        assert_eq!(known_mtu(&v6, true).unwrap(), 65_536);
        want_path_mtu_discovery(&v6, true).unwrap();
        assert_eq!(
            getsockopt(&v6, Ipv6MtuDiscover).unwrap(),
            libc::IPV6_PMTUDISC_WANT
        );
    }
}
