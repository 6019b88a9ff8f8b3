//! A path of three routers for `ipdiag trace`, built per test and deleted on drop.
//!
//! ```text
//!  client             r1 (the ISP)                 r2                     r3 (the provider's edge)        server
//!  c0 198.51.100.2 ─ a0 198.51.100.1 a1 192.0.2.1 ─ b0 192.0.2.2 b1 3.5.140.1 ─ d0 3.5.140.2 d1 3.5.141.1 ─ s0 3.5.141.10
//! ```
//!
//! 3.5.140.0/22 is in the embedded table as Amazon's (AS16509), so r3 and the server sit
//! "inside AWS"; the client and r1 use documentation addresses, r2's inner side too. The
//! addresses exist only inside these namespaces. Routers answer every expired TTL (ICMP
//! rate limits off). A drop is an nftables rule in one router's forward chain, which runs
//! after the TTL check, so the router still answers for its own hop.

use crate::bed::{ip, ipdiag_in, may_build, nft, run, sysctl};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The server's address, inside the provider's range.
pub const SERVER: &str = "3.5.141.10";

/// The namespaces: client, r1, r2, r3, server.
pub struct Chain {
    pub client: String,
    pub routers: [String; 3],
    pub server: String,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl Chain {
    /// Builds the chain, or `None` (with the reason printed) when namespaces cannot be made.
    pub fn new(test: &str) -> Option<Chain> {
        let [c, r1, r2, r3, s] = namespaces(test, "ipdt", ["c", "r1", "r2", "r3", "s"])?;
        let chain = Chain {
            client: c,
            routers: [r1, r2, r3],
            server: s,
        };
        chain.wire();
        Some(chain)
    }

    fn all(&self) -> [&String; 5] {
        let [r1, r2, r3] = &self.routers;
        [&self.client, r1, r2, r3, &self.server]
    }

    fn wire(&self) {
        let [c, r1, r2, r3, s] = self.all();
        veths(&[
            (c, "c0", r1, "a0"),
            (r1, "a1", r2, "b0"),
            (r2, "b1", r3, "d0"),
            (r3, "d1", s, "s0"),
        ]);
        for (ns, dev, addr) in [
            (c, "c0", "198.51.100.2/24"),
            (r1, "a0", "198.51.100.1/24"),
            (r1, "a1", "192.0.2.1/30"),
            (r2, "b0", "192.0.2.2/30"),
            (r2, "b1", "3.5.140.1/30"),
            (r3, "d0", "3.5.140.2/30"),
            (r3, "d1", "3.5.141.1/24"),
            (s, "s0", "3.5.141.10/24"),
        ] {
            ip(ns, &format!("addr add {addr} dev {dev}"));
            ip(ns, &format!("link set {dev} up"));
        }
        ip(c, "route add default via 198.51.100.1");
        ip(r1, "route add default via 192.0.2.2");
        ip(r2, "route add 198.51.100.0/24 via 192.0.2.1");
        ip(r2, "route add default via 3.5.140.2");
        ip(r3, "route add default via 3.5.140.1");
        ip(s, "route add default via 3.5.141.1");
        for r in &self.routers {
            sysctl(
                r,
                &[
                    "net.ipv4.ip_forward=1",
                    "net.ipv4.icmp_ratelimit=0",
                    "net.ipv4.icmp_msgs_per_sec=100000",
                ],
            );
        }
    }

    /// Drops what matches `rule` (an nftables match such as `tcp dport 7893`) in router
    /// `n`'s (1-3) forward chain.
    pub fn drop_at(&self, n: usize, rule: &str) {
        nft(
            &self.routers[n - 1],
            &format!(
                "table inet filter {{
                  chain forward {{
                    type filter hook forward priority filter; policy accept;
                    {rule} drop
                  }}
                }}"
            ),
        );
    }

    /// Runs ipdiag in the client namespace; returns (exit code, stdout, stderr).
    pub fn ipdiag(&self, args: &[&str]) -> (i32, String, String) {
        ipdiag_in(&self.client, args)
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        delete(&self.all());
    }
}

/// Makes one namespace per suffix, named `PREFIX-PID-N-SUFFIX`, or `None` (with the reason
/// printed) when namespaces cannot be made.
pub fn namespaces<const N: usize>(
    test: &str,
    prefix: &str,
    suffixes: [&str; N],
) -> Option<[String; N]> {
    if !may_build(test) {
        return None;
    }
    let id = format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let names = suffixes.map(|s| format!("{id}-{s}"));
    for ns in &names {
        run(&["ip", "netns", "add", ns]);
        ip(ns, "link set lo up");
    }
    Some(names)
}

/// A veth pair per `(namespace, device, namespace, device)`.
pub fn veths(pairs: &[(&String, &str, &String, &str)]) {
    for (a, a_dev, b, b_dev) in pairs {
        run(&[
            "ip", "link", "add", a_dev, "netns", a, "type", "veth", "peer", "name", b_dev, "netns",
            b,
        ]);
    }
}

/// Deletes the namespaces (best effort: one that was never made is not an error here).
pub fn delete(names: &[&String]) {
    for ns in names {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", ns])
            .stderr(std::process::Stdio::null())
            .status();
    }
}
