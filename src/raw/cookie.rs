//! Stateless matching, as masscan does: our SYN's sequence number is a keyed hash of the
//! target and our port, so a reply (which carries it back, +1 in a SYN-ACK or RST, as-is
//! in an ICMP quote) proves itself without a table of what was sent, and a forged or stray
//! packet does not match.

use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;

/// The keyed hash (std's SipHash with per-process random keys; not for cryptography, but
/// unguessable to anyone who cannot see our packets).
#[derive(Debug, Default)]
pub struct Cookies {
    keys: std::hash::RandomState,
}

impl Cookies {
    /// The sequence number of our SYN to `target` from `our_port`.
    pub fn seq(&self, target: SocketAddr, our_port: u16) -> u32 {
        let mut hasher = self.keys.build_hasher();
        match target.ip() {
            std::net::IpAddr::V4(a) => hasher.write(&a.octets()),
            std::net::IpAddr::V6(a) => hasher.write(&a.octets()),
        }
        hasher.write_u16(target.port());
        hasher.write_u16(our_port);
        let hash = hasher.finish().to_be_bytes();
        let fold = |i: usize| hash[i] ^ hash[i + 4];
        u32::from_be_bytes([fold(0), fold(1), fold(2), fold(3)])
    }

    /// Whether `seq` is the cookie of a SYN to `target` from `our_port`.
    pub fn matches(&self, target: SocketAddr, our_port: u16, seq: u32) -> bool {
        self.seq(target, our_port) == seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_stable_and_specific() {
        let cookies = Cookies::default();
        let target: SocketAddr = "203.0.113.10:7890".parse().unwrap();
        let seq = cookies.seq(target, 40000);
        assert!(cookies.matches(target, 40000, seq));
        assert!(!cookies.matches(target, 40001, seq));
        assert!(!cookies.matches("203.0.113.10:7891".parse().unwrap(), 40000, seq));
        assert!(!cookies.matches("203.0.113.11:7890".parse().unwrap(), 40000, seq));
        assert_ne!(
            Cookies::default().seq(target, 40000),
            seq,
            "keys differ per scanner"
        );
    }
}
