//! The local addresses of this process's TCP probes to its own host, while they are in
//! flight. Two probes can meet: P→Q and Q→P at the same moment complete a handshake with
//! each other (like a self-connect, TCP simultaneous open), and each would look open. A
//! peer that is one of our own probe sockets is therefore never a listener.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// How long an address is remembered after its probe ended: the probe it met may look a
/// moment later (the two finish at once but run in either order), and may see our reset.
const GRACE: Duration = Duration::from_secs(2);

/// Address → `None` while in flight, or when its probe ended; and the ended ones in the
/// order they ended, so expired entries leave in O(1) each (a sweep registers 65,535).
#[derive(Default)]
struct Registry {
    addresses: HashMap<SocketAddr, Option<Instant>>,
    ended: VecDeque<(Instant, SocketAddr)>,
}

impl Registry {
    fn expire(&mut self, now: Instant) {
        while let Some(&(at, address)) = self.ended.front() {
            if now.duration_since(at) < GRACE {
                break;
            }
            self.ended.pop_front();
            if self.addresses.get(&address) == Some(&Some(at)) {
                self.addresses.remove(&address);
            }
        }
    }
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(Registry::default()))
}

/// Holds one probe's local address in the registry until dropped.
#[derive(Debug)]
pub struct InFlight(Option<SocketAddr>);

impl InFlight {
    /// Registers `local` when the probe goes to this host (`local` and `target` share an
    /// address); other probes cannot meet each other and cost nothing here.
    pub fn register(local: Option<SocketAddr>, target: SocketAddr) -> Self {
        let local = local.filter(|l| l.ip() == target.ip());
        if let Some(l) = local {
            let mut registry = registry().lock().unwrap_or_else(PoisonError::into_inner);
            registry.expire(Instant::now());
            registry.addresses.insert(l, None);
        }
        Self(local)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(l) = self.0 {
            let mut registry = registry().lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            registry.addresses.insert(l, Some(now));
            registry.ended.push_back((now, l));
        }
    }
}

/// Whether `peer` is (or was, a moment ago) another probe socket of this process.
pub fn is_own_probe(peer: SocketAddr) -> bool {
    let registry = registry().lock().unwrap_or_else(PoisonError::into_inner);
    registry
        .addresses
        .get(&peer)
        .is_some_and(|ended| ended.is_none_or(|t| t.elapsed() < GRACE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_while_held() {
        let a: SocketAddr = "127.0.0.1:40001".parse().unwrap();
        let guard = InFlight::register(Some(a), "127.0.0.1:40002".parse().unwrap());
        assert!(is_own_probe(a));
        drop(guard);
        assert!(is_own_probe(a), "remembered a moment after the probe ended");
        let _remote = InFlight::register(
            Some("192.0.2.1:40003".parse().unwrap()),
            "198.51.100.1:80".parse().unwrap(),
        );
        assert!(
            !is_own_probe("192.0.2.1:40003".parse().unwrap()),
            "not to this host: not tracked"
        );
    }
}
