//! The `/proc/net/{tcp,tcp6,udp,udp6}` reader (`ipdiag::local::sockets::parse_proc_net`)
//! on arbitrary text, read as each of the four files: never a panic; at most one socket a
//! line; the address family is the file's, and UDP lines (only they) carry a drop count.
//! Run: `cargo +nightly fuzz run proc_net -- -max_total_time=60`.

use ipdiag::local::sockets::parse_proc_net;
use ipdiag::model::Transport;

/// The target's assertions on one input.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count();
    for protocol in [Transport::Tcp, Transport::Udp] {
        for v6 in [false, true] {
            let entries = parse_proc_net(text, protocol, v6);
            assert!(entries.len() <= lines);
            for e in entries {
                assert_eq!(e.protocol, protocol);
                assert_eq!(e.local.is_ipv6(), v6, "{e:?}");
                assert_eq!(e.drops.is_some(), protocol == Transport::Udp, "{e:?}");
            }
        }
    }
}
