//! Two equal-cost paths for `ipdiag trace`, built per test and deleted on drop: the first
//! router balances flows by their layer-4 hash (addresses, protocol and ports), as ECMP
//! routers on the internet do.
//!
//! The hash is named field by field (`fib_multipath_hash_policy=3` with
//! `fib_multipath_hash_fields=0x37`: source and destination address, protocol, source and
//! destination port), the same five fields as policy 1. Policy 1 itself would not do here:
//! it takes a packet's existing layer-4 hash when it has one, and between namespaces the
//! packet keeps the hash its sending socket gave it (`sk_txhash`, random per socket), which
//! no wire carries; a real router computes it from the headers.
//!
//! ```text
//!                                 ┌ ra 192.0.2.2 / 192.0.2.9 ┐
//!  client 198.51.100.2 ─ r0 ──────┤                          ├── r9 ─ server 203.0.113.10
//!        (198.51.100.1)           └ rb 192.0.2.6 / 192.0.2.13┘  (192.0.2.10, .14; 203.0.113.1)
//! ```
//!
//! r0's route to 203.0.113.0/24 is `nexthop via 192.0.2.2 nexthop via 192.0.2.6`, so hop 2
//! of a trace is ra (192.0.2.2) for some flows and rb (192.0.2.6) for the others; r9 sends
//! its own ICMP back through ra alone, so hop 3 is 192.0.2.10 whichever way the probe came.
//! The addresses exist only inside these namespaces; routers answer every expired TTL.

use crate::bed::{ip, ipdiag_in, sysctl};
use crate::chain::{delete, namespaces, veths};

/// The server's address.
pub const SERVER: &str = "203.0.113.10";
/// Hop 2 through the first path.
pub const VIA_A: &str = "192.0.2.2";
/// Hop 2 through the second path.
pub const VIA_B: &str = "192.0.2.6";

/// The namespaces: client, r0 (the balancing router), ra, rb, r9, server.
pub struct Ecmp {
    pub client: String,
    pub routers: [String; 4],
    pub server: String,
}

impl Ecmp {
    /// Builds the lab, or `None` (with the reason printed) when namespaces cannot be made.
    pub fn new(test: &str) -> Option<Ecmp> {
        let [c, r0, ra, rb, r9, s] = namespaces(test, "ipde", ["c", "r0", "ra", "rb", "r9", "s"])?;
        let lab = Ecmp {
            client: c,
            routers: [r0, ra, rb, r9],
            server: s,
        };
        lab.wire();
        Some(lab)
    }

    fn all(&self) -> [&String; 6] {
        let [r0, ra, rb, r9] = &self.routers;
        [&self.client, r0, ra, rb, r9, &self.server]
    }

    fn wire(&self) {
        let [c, r0, ra, rb, r9, s] = self.all();
        veths(&[
            (c, "c0", r0, "i0"),
            (r0, "ta", ra, "fa"),
            (r0, "tb", rb, "fb"),
            (ra, "ga", r9, "ha"),
            (rb, "gb", r9, "hb"),
            (r9, "o0", s, "s0"),
        ]);
        for (ns, dev, addr) in [
            (c, "c0", "198.51.100.2/24"),
            (r0, "i0", "198.51.100.1/24"),
            (r0, "ta", "192.0.2.1/30"),
            (ra, "fa", "192.0.2.2/30"),
            (r0, "tb", "192.0.2.5/30"),
            (rb, "fb", "192.0.2.6/30"),
            (ra, "ga", "192.0.2.9/30"),
            (r9, "ha", "192.0.2.10/30"),
            (rb, "gb", "192.0.2.13/30"),
            (r9, "hb", "192.0.2.14/30"),
            (r9, "o0", "203.0.113.1/24"),
            (s, "s0", "203.0.113.10/24"),
        ] {
            ip(ns, &format!("addr add {addr} dev {dev}"));
            ip(ns, &format!("link set {dev} up"));
        }
        ip(c, "route add default via 198.51.100.1");
        ip(
            r0,
            "route add 203.0.113.0/24 nexthop via 192.0.2.2 nexthop via 192.0.2.6",
        );
        ip(ra, "route add default via 192.0.2.10");
        ip(ra, "route add 198.51.100.0/24 via 192.0.2.1");
        ip(rb, "route add default via 192.0.2.14");
        ip(rb, "route add 198.51.100.0/24 via 192.0.2.5");
        ip(r9, "route add default via 192.0.2.9");
        ip(s, "route add default via 203.0.113.1");
        sysctl(
            r0,
            &[
                "net.ipv4.fib_multipath_hash_policy=3",
                "net.ipv4.fib_multipath_hash_fields=0x37",
            ],
        );
        for r in &self.routers {
            sysctl(
                r,
                &[
                    "net.ipv4.ip_forward=1",
                    "net.ipv4.icmp_ratelimit=0",
                    "net.ipv4.icmp_msgs_per_sec=100000",
                    // The return path may come back through the other router.
                    "net.ipv4.conf.all.rp_filter=0",
                ],
            );
        }
    }

    /// Runs ipdiag in the client namespace; returns (exit code, stdout, stderr).
    pub fn ipdiag(&self, args: &[&str]) -> (i32, String, String) {
        ipdiag_in(&self.client, args)
    }
}

impl Drop for Ecmp {
    fn drop(&mut self) {
        delete(&self.all());
    }
}
