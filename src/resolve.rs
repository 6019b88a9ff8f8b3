//! Host-name resolution behind a trait, so parsing and tests never touch DNS.
//!
//! The system resolver is getaddrinfo (through `ToSocketAddrs`): it honours /etc/hosts,
//! nsswitch and the system's DNS settings, which is what the user's other programs see.

use crate::plan::target::Zone;
use std::io;
use std::net::{IpAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

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
    #[cfg(unix)]
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

    /// Elsewhere a zone is taken by its index only (Windows names interfaces otherwise).
    #[cfg(not(unix))]
    fn interface_index(&self, zone: &Zone) -> Option<u32> {
        match zone {
            Zone::Index(index) => Some(*index),
            Zone::Name(_) => None,
        }
    }
}

/// A resolver with a time limit, so that a lookup cannot outlast a run's deadline (`wait
/// --timeout`, `check --wait`). getaddrinfo cannot be cancelled: the lookup runs on a
/// thread of its own, and past the limit it is left to finish unseen (the run goes on, or
/// ends, without it).
#[derive(Debug, Clone, Copy)]
pub struct TimedResolver<R> {
    inner: R,
    limit: Duration,
}

impl<R> TimedResolver<R> {
    /// `inner`, answering within `limit` or failing with `TimedOut`.
    pub const fn new(inner: R, limit: Duration) -> Self {
        Self { inner, limit }
    }
}

impl<R: Resolver + Clone + Send + 'static> Resolver for TimedResolver<R> {
    fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        let (tx, rx) = mpsc::channel();
        let (inner, name) = (self.inner.clone(), host.to_owned());
        std::thread::Builder::new()
            .name("resolve".into())
            .spawn(move || {
                // The receiver may have given up: then nobody wants the answer.
                let _ = tx.send(inner.resolve(&name));
            })?;
        rx.recv_timeout(self.limit).unwrap_or_else(|_| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "no answer from the resolver within {} ms",
                    self.limit.as_millis()
                ),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers after `delay`.
    #[derive(Debug, Clone, Copy)]
    struct Slow(Duration);

    impl Resolver for Slow {
        fn resolve(&self, _host: &str) -> io::Result<Vec<IpAddr>> {
            std::thread::sleep(self.0);
            Ok(vec![IpAddr::from([192, 0, 2, 1])])
        }
    }

    #[test]
    fn a_lookup_that_outlasts_the_limit_fails_with_a_timeout() {
        let hanging = TimedResolver::new(Slow(Duration::from_secs(30)), Duration::from_millis(50));
        let error = hanging.resolve("web").unwrap_err();
        assert_eq!(
            (error.kind(), error.to_string().as_str()),
            (
                io::ErrorKind::TimedOut,
                "no answer from the resolver within 50 ms"
            )
        );
        let quick = TimedResolver::new(Slow(Duration::ZERO), Duration::from_secs(30));
        assert_eq!(
            quick.resolve("web").unwrap(),
            [IpAddr::from([192, 0, 2, 1])]
        );
    }
}
