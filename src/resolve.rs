//! Host-name resolution behind a trait, so parsing and tests never touch DNS.
//!
//! The system resolver is getaddrinfo (through `ToSocketAddrs`): it honours /etc/hosts,
//! nsswitch and the system's DNS settings, which is what the user's other programs see.

use crate::plan::target::Zone;
use std::io;
use std::net::{IpAddr, ToSocketAddrs};

/// Turns a host name into its addresses.
pub trait Resolver {
    /// All addresses of `host`, in the resolver's order, without duplicates.
    fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>>;

    /// The index of the interface an IPv6 zone names (`eth0` or `2`); `None` when this
    /// host has no such interface. By default every zone is taken as written (a name as
    /// index 0: the expansion is only being checked).
    fn interface_index(&self, zone: &Zone) -> Option<u32> {
        Some(match zone {
            Zone::Index(index) => *index,
            Zone::Name(_) => 0,
        })
    }
}

/// Looks nothing up: every name stays unresolved. For checking what targets expand to
/// (broadcast addresses, too many hosts) before anything is sent, DNS included.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoLookup;

impl Resolver for NoLookup {
    fn resolve(&self, _host: &str) -> io::Result<Vec<IpAddr>> {
        Err(io::Error::other("not looked up"))
    }
}

/// The operating system's resolver.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        let mut addresses: Vec<IpAddr> = Vec::new();
        for socket in (host, 0).to_socket_addrs()? {
            if !addresses.contains(&socket.ip()) {
                addresses.push(socket.ip());
            }
        }
        if addresses.is_empty() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no addresses"));
        }
        Ok(addresses)
    }

    /// The system's interface list (`if_nameindex`), by name or by index.
    fn interface_index(&self, zone: &Zone) -> Option<u32> {
        let interfaces = nix::net::if_::if_nameindex().ok()?;
        interfaces
            .iter()
            .find(|i| match zone {
                Zone::Index(index) => i.index() == *index,
                Zone::Name(name) => i.name().to_bytes() == name.as_bytes(),
            })
            .map(nix::net::if_::Interface::index)
    }
}
