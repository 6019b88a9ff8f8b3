//! `--allow`: the networks the exporter may probe. An exporter probes whatever a request
//! names, so on a non-loopback address without an allow-list anyone who reaches it has a
//! prober inside the network; the exporter refuses to start that way. Pure.

use crate::classify::{Item, parse_item};
use crate::error::{InputError, Problem, Result};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// Networks probes may go to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllowList(Vec<IpNet>);

impl AllowList {
    /// Reads `--allow` values: addresses or networks (`10.0.0.0/8`, `::1`).
    pub fn parse(values: &[String]) -> Result<Self> {
        let mut nets = Vec::with_capacity(values.len());
        for text in values {
            nets.push(match parse_item(text)? {
                Item::Address(a) => IpNet::from(a),
                Item::Network(n) => n.trunc(),
                Item::Host(_) => {
                    return Err(InputError::new("--allow", text, Problem::NotAnAddress).into());
                }
            });
        }
        Ok(Self(nets))
    }

    /// No network given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `address` is inside one of the networks (an IPv4-mapped IPv6 address as its
    /// IPv4 address).
    pub fn permits(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|n| n.contains(&address))
    }

    /// The networks, for the start line and the page.
    pub fn networks(&self) -> &[IpNet] {
        &self.0
    }
}

/// Whether listening on `listen` needs an allow-list: anything but loopback is reachable
/// by others.
pub fn needs_allow(listen: SocketAddr) -> bool {
    !listen.ip().to_canonical().is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_and_addresses() {
        let allow =
            AllowList::parse(&["10.1.0.0/16".into(), "::1".into(), "192.0.2.7".into()]).unwrap();
        assert!(allow.permits("10.1.200.3".parse().unwrap()));
        assert!(!allow.permits("10.2.0.1".parse().unwrap()));
        assert!(allow.permits("::1".parse().unwrap()));
        assert!(allow.permits("::ffff:192.0.2.7".parse().unwrap()));
        assert!(!allow.permits("192.0.2.8".parse().unwrap()));
        assert_eq!(allow.networks().len(), 3);
        let e = AllowList::parse(&["example.com".into()]).unwrap_err();
        assert!(e.to_string().contains("--allow"), "{e}");
    }

    #[test]
    fn only_loopback_listens_without_an_allow_list() {
        assert!(!needs_allow("127.0.0.1:9799".parse().unwrap()));
        assert!(!needs_allow("[::1]:9799".parse().unwrap()));
        assert!(needs_allow("0.0.0.0:9799".parse().unwrap()));
        assert!(needs_allow("192.0.2.1:9799".parse().unwrap()));
    }
}
