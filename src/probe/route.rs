//! The source address this machine would use for a destination: a routing lookup by
//! `connect()` on a UDP socket, which sends nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

/// The local address packets to `destination` leave from; `None` without a route.
pub fn source_for(destination: IpAddr) -> Option<IpAddr> {
    let any: IpAddr = if destination.is_ipv4() {
        Ipv4Addr::UNSPECIFIED.into()
    } else {
        Ipv6Addr::UNSPECIFIED.into()
    };
    let socket = UdpSocket::bind(SocketAddr::new(any, 0)).ok()?;
    // Port 9 (discard) is arbitrary: a UDP connect only picks the route and source.
    socket.connect(SocketAddr::new(destination, 9)).ok()?;
    socket.local_addr().ok().map(|a| a.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_leaves_from_loopback() {
        assert_eq!(
            source_for(IpAddr::from([127, 0, 0, 1])),
            Some(IpAddr::from([127, 0, 0, 1]))
        );
    }
}
