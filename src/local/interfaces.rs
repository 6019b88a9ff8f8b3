//! This machine's interface addresses and their networks (`getifaddrs`).

use ipnet::IpNet;
use nix::sys::socket::SockaddrStorage;
use std::net::IpAddr;

/// The networks of every configured interface address (`192.168.1.5/24`, `::1/128`…);
/// empty when the system will not say.
pub fn networks() -> Vec<IpNet> {
    list().into_iter().map(|(_, net)| net).collect()
}

/// Every interface address with its interface's name, in the system's order.
pub fn list() -> Vec<(String, IpNet)> {
    let Ok(addresses) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    addresses
        .filter_map(|a| {
            let address = ip_of(a.address.as_ref()?)?;
            let prefix = a
                .netmask
                .as_ref()
                .and_then(ip_of)
                .map_or(if address.is_ipv4() { 32 } else { 128 }, prefix_len);
            Some((a.interface_name, IpNet::new(address, prefix).ok()?))
        })
        .collect()
}

fn ip_of(storage: &SockaddrStorage) -> Option<IpAddr> {
    storage
        .as_sockaddr_in()
        .map(|s| IpAddr::V4(s.ip()))
        .or_else(|| storage.as_sockaddr_in6().map(|s| IpAddr::V6(s.ip())))
}

/// The prefix length of a netmask (its leading one bits).
fn prefix_len(mask: IpAddr) -> u8 {
    let ones = match mask {
        IpAddr::V4(m) => u32::from(m).leading_ones(),
        IpAddr::V6(m) => u128::from(m).leading_ones(),
    };
    u8::try_from(ones).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_among_the_networks() {
        let nets = networks();
        assert!(
            nets.iter()
                .any(|n| n.contains(&IpAddr::from([127, 0, 0, 1]))),
            "{nets:?}"
        );
    }

    #[test]
    fn netmask_to_prefix() {
        assert_eq!(prefix_len("255.255.255.0".parse().unwrap()), 24);
        assert_eq!(prefix_len("ffff:ffff:ffff:ffff::".parse().unwrap()), 64);
    }
}
