//! This machine's interface addresses and their networks (`getifaddrs`, or Windows'
//! `GetAdaptersAddresses`, through `sys`).

use ipnet::IpNet;

/// The networks of every configured interface address (`192.168.1.5/24`, `::1/128`…);
/// empty when the system will not say.
pub fn networks() -> Vec<IpNet> {
    list().into_iter().map(|(_, net)| net).collect()
}

/// Every interface address with its interface's name, in the system's order.
pub fn list() -> Vec<(String, IpNet)> {
    crate::sys::interfaces()
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::net::IpAddr;

    #[test]
    fn loopback_is_among_the_networks() {
        let nets = networks();
        assert!(
            nets.iter()
                .any(|n| n.contains(&IpAddr::from([127, 0, 0, 1]))),
            "{nets:?}"
        );
    }
}
