//! Each TCP listener's accept queue, read as `ss -lt` does: one netlink `sock_diag` dump
//! per address family of the sockets in `LISTEN`. For a listener the kernel reports the
//! connections waiting for `accept()` as `idiag_rqueue` and the queue's limit (the
//! `listen()` backlog, capped by `net.core.somaxconn`) as `idiag_wqueue`
//! (`inet_diag_get_info`'s listener case in `net/ipv4/tcp_diag.c`); `/proc/net/tcp` has
//! the first but not the limit. Needs no privileges; anything unexpected gives an empty map.

use super::skmem::{INODE_AT, dump_map, request_for, u32_at};
use std::collections::HashMap;

/// One listener's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptQueue {
    /// Connections waiting for `accept()`.
    pub queued: u32,
    /// The limit.
    pub backlog: u32,
}

const IPPROTO_TCP: u8 = 6;
/// `TCP_LISTEN` (`include/net/tcp_states.h`).
const TCP_LISTEN: u32 = 10;
/// In `inet_diag_msg`: `idiag_rqueue`, `idiag_wqueue` (`idiag_inode` is `skmem.rs`'s).
const RQUEUE_AT: usize = 56;
const WQUEUE_AT: usize = 60;

/// Socket inode → accept queue, for the TCP listeners of this network namespace.
pub fn accept_queues() -> HashMap<u64, AcceptQueue> {
    dump_map(request, record)
}

/// Dump the TCP sockets of `family` in `LISTEN`.
fn request(family: u8) -> Vec<u8> {
    request_for(family, IPPROTO_TCP, 1 << TCP_LISTEN, 0)
}

fn record(message: &[u8]) -> Option<(u64, AcceptQueue)> {
    Some((
        u64::from(u32_at(message, INODE_AT)?),
        AcceptQueue {
            queued: u32_at(message, RQUEUE_AT)?,
            backlog: u32_at(message, WQUEUE_AT)?,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_record_and_refuses_short_ones() {
        let mut m = vec![0u8; 72];
        m[RQUEUE_AT..RQUEUE_AT + 4].copy_from_slice(&3u32.to_ne_bytes());
        m[WQUEUE_AT..WQUEUE_AT + 4].copy_from_slice(&128u32.to_ne_bytes());
        m[INODE_AT..INODE_AT + 4].copy_from_slice(&42u32.to_ne_bytes());
        assert_eq!(
            record(&m),
            Some((
                42,
                AcceptQueue {
                    queued: 3,
                    backlog: 128
                }
            ))
        );
        assert_eq!(record(&m[..70]), None);
        assert_eq!(request(2)[20..24], (1u32 << 10).to_ne_bytes());
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn finds_our_own_listener_with_its_backlog() {
        use std::os::fd::AsRawFd as _;
        use std::os::unix::fs::MetadataExt as _;
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        let addr: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
        socket.bind(&addr.into()).unwrap();
        socket.listen(7).unwrap();
        let inode = std::fs::metadata(format!("/proc/self/fd/{}", socket.as_raw_fd()))
            .map(|m| m.ino())
            .unwrap();
        let queues = accept_queues();
        if !queues.is_empty() {
            let q = queues.get(&inode).expect("our listener is in the dump");
            assert_eq!((q.queued, q.backlog), (0, 7));
        }
    }
}
