//! Each UDP socket's receive buffer size (`SO_RCVBUF` as granted), read as `ss -uam` does:
//! one netlink `sock_diag` dump per address family asking for `INET_DIAG_SKMEMINFO`.
//!
//! `/proc/net/udp` has the queue and the drops but not the buffer they overflow, and the
//! buffer is the number a fix changes. The dump needs no privileges. Anything unexpected
//! (no `udp_diag` module, a kernel that answers differently, a timeout) gives an empty map:
//! the caller then shows the host's defaults instead. The byte layouts are the kernel's
//! UAPI (`linux/netlink.h`, `linux/inet_diag.h`, `linux/sock_diag.h`), in host byte order.

use std::collections::HashMap;

/// One socket's memory, from `SK_MEMINFO_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkMem {
    /// Bytes the receive queue holds now (`SK_MEMINFO_RMEM_ALLOC`; `ss`'s `r`).
    pub rmem_alloc: u64,
    /// The receive buffer: the most the queue may hold (`SK_MEMINFO_RCVBUF`; `ss`'s `rb`).
    pub rcvbuf: u64,
    /// Datagrams dropped (`SK_MEMINFO_DROPS`; `ss`'s `d`, the same as `/proc/net/udp`'s).
    pub drops: u64,
}

const NLMSG_HDR: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const IPPROTO_UDP: u8 = 17;
/// `struct inet_diag_msg`: 4 bytes of family/state/timer/retrans, the 48-byte socket id,
/// then expires, rqueue, wqueue, uid and inode (u32 each).
const INET_DIAG_MSG: usize = 72;
/// In `inet_diag_msg`: `idiag_inode` (shared with `backlog.rs`).
pub(crate) const INODE_AT: usize = 68;
const INET_DIAG_SKMEMINFO: u16 = 7;
/// Indices into the `SK_MEMINFO` array.
const RMEM_ALLOC: usize = 0;
const RCVBUF: usize = 1;
const DROPS: usize = 8;

/// Socket inode → memory, for the UDP sockets of this network namespace (IPv4 and IPv6).
pub fn udp_buffers() -> HashMap<u64, SkMem> {
    dump_map(request, socket_record)
}

/// Socket inode → what `record` reads of its socket record, over a [`dump`] of `request`;
/// shared with `backlog.rs`.
pub fn dump_map<T>(
    request: fn(u8) -> Vec<u8>,
    record: fn(&[u8]) -> Option<(u64, T)>,
) -> HashMap<u64, T> {
    let mut out = HashMap::new();
    dump(request, &mut |message| out.extend(record(message)));
    out
}

/// Runs a dump for IPv4, then IPv6, handing each socket record to `each`; a family that
/// fails (no IPv6) leaves what the other one found.
pub fn dump(request: fn(u8) -> Vec<u8>, each: &mut dyn FnMut(&[u8])) {
    for v6 in [false, true] {
        let _ = crate::sys::sock_diag_dump(request, v6, &mut |datagram| match messages(
            datagram, each,
        ) {
            Step::More => None,
            Step::Done => Some(true),
            Step::Failed => Some(false),
        });
    }
}

/// `nlmsghdr` + `inet_diag_req_v2`: dump every UDP socket of `family`, in every state, with
/// its memory.
fn request(family: u8) -> Vec<u8> {
    request_for(
        family,
        IPPROTO_UDP,
        u32::MAX,
        1 << (INET_DIAG_SKMEMINFO - 1),
    )
}

/// A dump request for the sockets of `family` and `protocol` in `states` (a bit per
/// `TCP_*` state), with the attributes `ext` asks for.
pub fn request_for(family: u8, protocol: u8, states: u32, ext: u8) -> Vec<u8> {
    let mut r = vec![0u8; NLMSG_HDR + 56];
    let len = u32::try_from(r.len()).unwrap_or(u32::MAX);
    r[0..4].copy_from_slice(&len.to_ne_bytes());
    r[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    r[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    r[8..12].copy_from_slice(&1u32.to_ne_bytes());
    r[16] = family;
    r[17] = protocol;
    r[18] = ext;
    r[20..24].copy_from_slice(&states.to_ne_bytes());
    r
}

/// What one datagram of the answer said.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Socket records; more datagrams follow.
    More,
    /// `NLMSG_DONE`: the dump is complete.
    Done,
    /// `NLMSG_ERROR` or bytes that are not netlink messages.
    Failed,
}

/// One datagram of the dump: netlink messages, each a socket record with attributes.
/// Bytes from the kernel, but read as if from anyone: any input is safe (fuzzed).
pub fn parse(bytes: &[u8], out: &mut impl Extend<(u64, SkMem)>) -> Step {
    messages(bytes, &mut |message| out.extend(socket_record(message)))
}

/// The socket records (`inet_diag_msg` and its attributes) of one datagram of a
/// `sock_diag` dump, each handed to `each`; shared with `backlog.rs`.
pub fn messages(mut bytes: &[u8], each: &mut dyn FnMut(&[u8])) -> Step {
    while bytes.len() >= NLMSG_HDR {
        let (Some(len), Some(kind)) = (u32_at(bytes, 0), u16_at(bytes, 4)) else {
            return Step::Failed;
        };
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let Some(message) = bytes.get(NLMSG_HDR..len) else {
            return Step::Failed;
        };
        match kind {
            NLMSG_DONE => return Step::Done,
            NLMSG_ERROR => return Step::Failed,
            SOCK_DIAG_BY_FAMILY => each(message),
            _ => {}
        }
        bytes = bytes.get(align(len)..).unwrap_or_default();
    }
    Step::More
}

/// `inet_diag_msg` followed by `rtattr`s; the record of a socket without the memory
/// attribute (an old kernel) is skipped.
fn socket_record(message: &[u8]) -> Option<(u64, SkMem)> {
    let inode = u64::from(u32_at(message, INODE_AT)?);
    let mut attrs = message.get(INET_DIAG_MSG..)?;
    while attrs.len() >= 4 {
        let len = usize::from(u16_at(attrs, 0)?);
        let kind = u16_at(attrs, 2)?;
        let payload = attrs.get(4..len)?;
        if kind == INET_DIAG_SKMEMINFO {
            let at = |i: usize| u32_at(payload, i * 4).map(u64::from);
            return Some((
                inode,
                SkMem {
                    rmem_alloc: at(RMEM_ALLOC)?,
                    rcvbuf: at(RCVBUF)?,
                    drops: at(DROPS)?,
                },
            ));
        }
        attrs = attrs.get(align(len)..).unwrap_or_default();
    }
    None
}

/// Netlink pads messages and attributes to 4 bytes (`NLMSG_ALIGN`, `RTA_ALIGN`).
const fn align(len: usize) -> usize {
    len.saturating_add(3) & !3
}

pub(crate) fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

pub(crate) fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A netlink message of `kind` around `payload`, padded.
    fn message(kind: u16, payload: &[u8]) -> Vec<u8> {
        let len = u32::try_from(NLMSG_HDR + payload.len()).unwrap();
        let mut m = Vec::new();
        m.extend_from_slice(&len.to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend_from_slice(payload);
        m.resize(align(m.len()), 0);
        m
    }

    /// A socket record as the kernel sends it: a 9-value `SK_MEMINFO` and a padded
    /// attribute before it that must be stepped over.
    fn record(inode: u32, meminfo: [u32; 9]) -> Vec<u8> {
        let mut p = vec![0u8; INET_DIAG_MSG];
        p[0] = 2;
        p[INODE_AT..INODE_AT + 4].copy_from_slice(&inode.to_ne_bytes());
        // INET_DIAG_SHUTDOWN (8): one byte, padded to four.
        p.extend_from_slice(&5u16.to_ne_bytes());
        p.extend_from_slice(&8u16.to_ne_bytes());
        p.extend_from_slice(&[0, 0, 0, 0]);
        let len = u16::try_from(4 + meminfo.len() * 4).unwrap();
        p.extend_from_slice(&len.to_ne_bytes());
        p.extend_from_slice(&INET_DIAG_SKMEMINFO.to_ne_bytes());
        for v in meminfo {
            p.extend_from_slice(&v.to_ne_bytes());
        }
        message(SOCK_DIAG_BY_FAMILY, &p)
    }

    #[test]
    fn parses_records_until_done() {
        let mut bytes = record(6_073_247, [2304, 4608, 0, 212_992, 0, 0, 0, 0, 1900]);
        bytes.extend(record(42, [0, 212_992, 0, 212_992, 0, 0, 0, 0, 0]));
        let mut out = HashMap::new();
        assert_eq!(parse(&bytes, &mut out), Step::More);
        assert_eq!(
            out.get(&6_073_247),
            Some(&SkMem {
                rmem_alloc: 2304,
                rcvbuf: 4608,
                drops: 1900
            })
        );
        assert_eq!(out.get(&42).map(|m| m.rcvbuf), Some(212_992));
        assert_eq!(parse(&message(NLMSG_DONE, &[0; 4]), &mut out), Step::Done);
        assert_eq!(
            parse(&message(NLMSG_ERROR, &[0; 20]), &mut out),
            Step::Failed
        );
    }

    #[test]
    fn short_or_lying_lengths_fail_without_panicking() {
        let good = record(7, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let mut out = HashMap::new();
        // A header claiming more bytes than arrived, or fewer than a header.
        for len in [u32::MAX, 1000, 3] {
            let mut bad = good.clone();
            bad[0..4].copy_from_slice(&len.to_ne_bytes());
            assert_eq!(parse(&bad, &mut out), Step::Failed, "{len}");
        }
        // A memory attribute with too few values: the record is skipped.
        let short = record(8, [1; 9]);
        let cut = &short[..short.len() - 8];
        let mut cut = cut.to_vec();
        let len = u32::try_from(cut.len()).unwrap();
        cut[0..4].copy_from_slice(&len.to_ne_bytes());
        assert_eq!(parse(&cut, &mut out), Step::More);
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(request(2)[18], 0x40, "asks for INET_DIAG_SKMEMINFO");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn finds_our_own_socket_buffer() {
        use std::os::fd::AsRawFd as _;
        use std::os::unix::fs::MetadataExt as _;
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let inode = std::fs::metadata(format!("/proc/self/fd/{}", socket.as_raw_fd()))
            .map(|m| m.ino())
            .unwrap();
        let buffers = udp_buffers();
        // Kernels without udp_diag answer nothing; then there is nothing to check.
        if !buffers.is_empty() {
            let mem = buffers.get(&inode).expect("our socket is in the dump");
            assert!(mem.rcvbuf > 0 && mem.drops == 0, "{mem:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse(&bytes, &mut HashMap::new());
            let _ = socket_record(&bytes);
        }
    }
}
