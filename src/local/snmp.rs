//! The host's UDP counters, from `/proc/net/snmp` (`Udp:`) and `/proc/net/snmp6` (`Udp6…`).
//!
//! These count for every socket of the reader's network namespace since boot. They matter
//! when the port's own socket cannot be seen (another namespace, a socket that closed):
//! `RcvbufErrors` rises by one for every datagram the kernel dropped because a socket's
//! receive buffer was full (`__udp_queue_rcv_skb` in `net/ipv4/udp.c`), and the same drop
//! also counts in `InErrors`. Readers and pure parsers only; what the numbers mean is
//! `overflow.rs`'s job.

use std::fs;
use std::iter::Zip;
use std::str::SplitWhitespace;

/// The UDP counters that tell a full receive buffer from other losses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpCounters {
    /// Datagrams applications have read (counted in `udp_recvmsg`: a socket that is never
    /// read adds nothing here, however much arrives for it).
    pub in_datagrams: u64,
    /// Datagrams for a port nothing listens on (answered with ICMP port unreachable).
    pub no_ports: u64,
    /// Datagrams dropped on the way in (full buffers, bad checksums, filters…).
    pub in_errors: u64,
    /// Datagrams dropped because the socket's receive buffer was full.
    pub rcvbuf_errors: u64,
}

impl UdpCounters {
    /// The increase since `before`. Saturating: a counter never runs backwards on one host,
    /// but a 32-bit kernel's counters wrap, and a wrap must not read as four billion drops.
    #[must_use]
    pub fn since(&self, before: &Self) -> Self {
        Self {
            in_datagrams: self.in_datagrams.saturating_sub(before.in_datagrams),
            no_ports: self.no_ports.saturating_sub(before.no_ports),
            in_errors: self.in_errors.saturating_sub(before.in_errors),
            rcvbuf_errors: self.rcvbuf_errors.saturating_sub(before.rcvbuf_errors),
        }
    }

    /// From (name, value) pairs; `None` unless all four counters are there (they are in
    /// every kernel since 2.6.18).
    fn from_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Option<Self> {
        let (mut in_datagrams, mut no_ports, mut in_errors, mut rcvbuf_errors) =
            (None, None, None, None);
        for (name, value) in pairs {
            let slot = match name {
                "InDatagrams" => &mut in_datagrams,
                "NoPorts" => &mut no_ports,
                "InErrors" => &mut in_errors,
                "RcvbufErrors" => &mut rcvbuf_errors,
                _ => continue,
            };
            *slot = Some(value.parse::<u64>().ok()?);
        }
        Some(Self {
            in_datagrams: in_datagrams?,
            no_ports: no_ports?,
            in_errors: in_errors?,
            rcvbuf_errors: rcvbuf_errors?,
        })
    }
}

/// The host's counters for both address families; `None` where a file is missing or
/// unreadable (no IPv6 in this kernel, no `/proc`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostUdp {
    /// `Udp:` in `/proc/net/snmp`.
    pub udp: Option<UdpCounters>,
    /// `Udp6…` in `/proc/net/snmp6`.
    pub udp6: Option<UdpCounters>,
}

impl HostUdp {
    /// The increase since `before`, per family (`None` where either sample lacks it).
    #[must_use]
    pub fn since(&self, before: &Self) -> Self {
        let delta = |now: Option<UdpCounters>, then: Option<UdpCounters>| Some(now?.since(&then?));
        Self {
            udp: delta(self.udp, before.udp),
            udp6: delta(self.udp6, before.udp6),
        }
    }

    /// `RcvbufErrors` of both families together.
    pub fn rcvbuf_errors(&self) -> u64 {
        [self.udp, self.udp6]
            .iter()
            .flatten()
            .map(|c| c.rcvbuf_errors)
            .fold(0, u64::saturating_add)
    }
}

/// Reads both files now.
pub fn host_udp() -> HostUdp {
    HostUdp {
        udp: fs::read_to_string("/proc/net/snmp")
            .ok()
            .and_then(|t| parse_snmp(&t)),
        udp6: fs::read_to_string("/proc/net/snmp6")
            .ok()
            .and_then(|t| parse_snmp6(&t)),
    }
}

/// `/proc/net/snmp`: per protocol a line of names and a line of values, both starting with
/// `Udp:` (`UdpLite:` is another protocol). The first such pair is taken.
pub fn parse_snmp(text: &str) -> Option<UdpCounters> {
    UdpCounters::from_pairs(named_values(text, "Udp:")?)
}

/// The first two lines starting with `prefix` (`/proc/net/snmp`'s and `/proc/net/netstat`'s
/// layout: a line of names, then a line of values), as `(name, value)` pairs.
fn named_values<'a>(
    text: &'a str,
    prefix: &str,
) -> Option<Zip<SplitWhitespace<'a>, SplitWhitespace<'a>>> {
    let mut lines = text
        .lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .map(str::split_whitespace);
    let (names, values) = (lines.next()?, lines.next()?);
    Some(names.zip(values))
}

/// The host's TCP listen-queue counters (`TcpExt:` in `/proc/net/netstat`):
/// `ListenOverflows` rises for every SYN or handshake-completing ACK dropped because a
/// listener's accept queue was full (`tcp_conn_request`, `tcp_v4_syn_recv_sock`), and
/// `ListenDrops` counts those and every other drop at a listener.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListenCounters {
    /// `ListenOverflows`.
    pub overflows: u64,
    /// `ListenDrops`.
    pub drops: u64,
}

impl ListenCounters {
    /// The increase since `before` (saturating, as [`UdpCounters::since`]).
    #[must_use]
    pub fn since(&self, before: &Self) -> Self {
        Self {
            overflows: self.overflows.saturating_sub(before.overflows),
            drops: self.drops.saturating_sub(before.drops),
        }
    }
}

/// Reads `/proc/net/netstat` now; `None` when it is missing or lacks the counters.
pub fn listen_counters() -> Option<ListenCounters> {
    parse_netstat(&fs::read_to_string("/proc/net/netstat").ok()?)
}

/// `/proc/net/netstat`: like `/proc/net/snmp`, a line of names and one of values per
/// prefix; the `TcpExt:` pair holds the listen counters.
pub fn parse_netstat(text: &str) -> Option<ListenCounters> {
    let (mut overflows, mut drops) = (None, None);
    for (name, value) in named_values(text, "TcpExt:")? {
        match name {
            "ListenOverflows" => overflows = value.parse().ok(),
            "ListenDrops" => drops = value.parse().ok(),
            _ => {}
        }
    }
    Some(ListenCounters {
        overflows: overflows?,
        drops: drops?,
    })
}

/// `/proc/net/snmp6`: a `Udp6InDatagrams  12` line per counter (`UdpLite6…` is another
/// protocol, and its names do not start with `Udp6`).
pub fn parse_snmp6(text: &str) -> Option<UdpCounters> {
    UdpCounters::from_pairs(text.lines().filter_map(|line| {
        let mut words = line.split_whitespace();
        let name = words.next()?.strip_prefix("Udp6")?;
        Some((name, words.next()?))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Captured from a 6.18 kernel (Ip, Icmp and Tcp lines shortened).
    const SNMP: &str = "\
Ip: Forwarding DefaultTTL InReceives
Ip: 2 64 16612575
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn
Tcp: 1 200 120000 -1
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 228436 261 19338 248449 19338 0 0 0 0
UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
UdpLite: 7 7 7 7 7 7 7 7 7
";
    const SNMP6: &str = "\
Ip6InReceives                   \t1234
Udp6InDatagrams                 \t5
Udp6NoPorts                     \t43
Udp6InErrors                    \t2
Udp6OutDatagrams                \t43
Udp6RcvbufErrors                \t1
Udp6SndbufErrors                \t0
UdpLite6InDatagrams             \t9
UdpLite6RcvbufErrors            \t9
";

    #[test]
    fn parses_udp_and_ignores_udplite() {
        assert_eq!(
            parse_snmp(SNMP),
            Some(UdpCounters {
                in_datagrams: 228_436,
                no_ports: 261,
                in_errors: 19_338,
                rcvbuf_errors: 19_338,
            })
        );
        assert_eq!(
            parse_snmp6(SNMP6),
            Some(UdpCounters {
                in_datagrams: 5,
                no_ports: 43,
                in_errors: 2,
                rcvbuf_errors: 1,
            })
        );
    }

    #[test]
    fn incomplete_or_garbled_files_give_none() {
        assert_eq!(parse_snmp(""), None);
        assert_eq!(parse_snmp("Udp: InDatagrams NoPorts\nUdp: 1 2\n"), None);
        assert_eq!(
            parse_snmp(&SNMP.replace("228436", "-1")),
            None,
            "a negative counter"
        );
        assert_eq!(parse_snmp6("Udp6InDatagrams 1\nUdp6NoPorts\n"), None);
        // Without the values line.
        let names = SNMP.lines().find(|l| l.starts_with("Udp:")).unwrap_or("");
        assert_eq!(parse_snmp(names), None);
    }

    #[test]
    fn deltas_saturate_and_sum() {
        let now = HostUdp {
            udp: parse_snmp(SNMP),
            udp6: parse_snmp6(SNMP6),
        };
        let before = HostUdp {
            udp: Some(UdpCounters {
                rcvbuf_errors: 19_000,
                in_datagrams: 300_000,
                ..UdpCounters::default()
            }),
            udp6: None,
        };
        let delta = now.since(&before);
        let udp = delta.udp.unwrap_or_default();
        assert_eq!((udp.rcvbuf_errors, udp.in_datagrams), (338, 0));
        assert_eq!(delta.udp6, None, "no earlier IPv6 sample");
        assert_eq!(now.rcvbuf_errors(), 19_339);
    }

    #[test]
    fn reads_this_hosts_files() {
        // /proc/net/snmp exists wherever the tests run (Linux); the values are the host's.
        if std::path::Path::new("/proc/net/snmp").exists() {
            assert!(host_udp().udp.is_some());
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = parse_snmp(&s);
            let _ = parse_snmp6(&s);
        }

        #[test]
        fn never_panics_on_counter_like_text(s in "(Udp6?: ?[A-Za-z]{0,12} [0-9]{0,22}\n){0,6}") {
            let _ = parse_snmp(&s);
            let _ = parse_snmp6(&s);
        }
    }

    #[test]
    fn reads_the_listen_counters() {
        let text = "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPBacklogDrop\nTcpExt: 0 17 19 0\nIpExt: InNoRoutes\nIpExt: 0\n";
        let c = parse_netstat(text).unwrap();
        assert_eq!((c.overflows, c.drops), (17, 19));
        let before = ListenCounters {
            overflows: 20,
            drops: 0,
        };
        assert_eq!(c.since(&before).overflows, 0);
        assert_eq!(parse_netstat("TcpExt: ListenDrops\nTcpExt: 1\n"), None);
        assert_eq!(parse_netstat(""), None);
        #[cfg(target_os = "linux")]
        assert!(listen_counters().is_some());
    }
}
