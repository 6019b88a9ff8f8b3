//! This host's sockets, from `/proc/net/{tcp,tcp6,udp,udp6}` (of the reader's network
//! namespace), and which process owns each (`/proc/PID/fd/* -> socket:[INODE]`).
//!
//! `/proc` rather than netlink `sock_diag`: the text files need no privileges, no `unsafe`
//! and no extra crate, and they carry everything the local checks need (bind address, state,
//! receive queue, UDP drops). The inode is the only link from a socket to its process.

use crate::model::Transport;
use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

/// The kernel's TCP state number for LISTEN (`TCP_LISTEN` in `include/net/tcp_states.h`).
pub const TCP_LISTEN: u8 = 0x0A;

/// The state a bound, unconnected UDP socket shows (`TCP_CLOSE`: UDP reuses the TCP numbers).
pub const UDP_BOUND: u8 = 0x07;

/// The four files and what they hold, in the order [`listening`] reads them.
const FILES: [(&str, Transport, bool); 4] = [
    ("/proc/net/tcp", Transport::Tcp, false),
    ("/proc/net/tcp6", Transport::Tcp, true),
    ("/proc/net/udp", Transport::Udp, false),
    ("/proc/net/udp6", Transport::Udp, true),
];

/// One socket line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketEntry {
    /// TCP or UDP.
    pub protocol: Transport,
    /// The bind address and port.
    pub local: SocketAddr,
    /// The kernel's state number ([`TCP_LISTEN`]; bound UDP sockets show [`UDP_BOUND`]).
    pub state: u8,
    /// The socket's inode (to find its process); 0 for sockets no process holds any more.
    pub inode: u64,
    /// Bytes waiting in the receive queue (a full queue means the reader is not keeping up).
    pub rx_queue: u64,
    /// UDP: datagrams dropped, the last column of `/proc/net/udp` (`None` for TCP).
    pub drops: Option<u64>,
}

/// Parses the text of `/proc/net/{tcp,tcp6,udp,udp6}`: `v6` says which address width to
/// expect. The header and malformed lines are skipped; no input makes it panic.
///
/// ```
/// use ipdiag::local::sockets::parse_proc_net;
/// use ipdiag::model::Transport;
///
/// // A UDP socket on 127.0.0.1:35181 with 832 bytes queued and 730 datagrams dropped.
/// let text = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
/// 10337: 0100007F:896D 00000000:0000 07 00000000:00000340 00:00000000 00000000  1000        0 6073247 2 0000000000000000 730";
/// let s = &parse_proc_net(text, Transport::Udp, false)[0];
/// assert_eq!(s.local.to_string(), "127.0.0.1:35181");
/// assert_eq!((s.rx_queue, s.drops, s.inode), (832, Some(730), 6_073_247));
/// ```
///
/// A socket that appears twice (same inode and address: the kernel showed it again after
/// the table moved between two reads, see [`read_table`]) is kept once, the first time, so
/// its queue and drops are never counted twice.
pub fn parse_proc_net(text: &str, protocol: Transport, v6: bool) -> Vec<SocketEntry> {
    let mut seen = HashSet::new();
    text.lines()
        .filter_map(|line| parse_line(line, protocol, v6))
        .filter(|s| s.inode == 0 || seen.insert((s.inode, s.local)))
        .collect()
}

/// Reads one `/proc/net` socket table through a large buffer.
///
/// The kernel renders these files a page at a time, and for every `read` it walks its
/// socket table again up to the position reached so far: a socket closed between two reads
/// shifts the rest, so the next one is skipped (or, after an insertion, shown twice).
/// `fs::read_to_string` starts with reads of 32 bytes, so nearly every line was a walk of
/// its own, and a host that opens and closes UDP sockets (a DNS client) could hide a
/// listener from `ipdiag local`. With 64 KiB reads a table of up to a page (about 30
/// sockets) is one walk; a larger one is a walk per page, as for `ss` and `netstat`.
pub fn read_table(path: impl AsRef<Path>) -> io::Result<String> {
    let mut file = File::open(path)?;
    let (mut text, mut chunk) = (Vec::new(), vec![0u8; 64 * 1024]);
    loop {
        match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => text.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    String::from_utf8(text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// One line: `sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...` (UDP ends with
/// `ref pointer drops`). The header fails the `sl` check, as does anything not from the kernel.
fn parse_line(line: &str, protocol: Transport, v6: bool) -> Option<SocketEntry> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let slot = fields.first()?.strip_suffix(':')?;
    if slot.is_empty() || !slot.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let local = parse_address(fields.get(1)?, v6)?;
    let state = u8::try_from(hex(fields.get(3)?)?).ok()?;
    let (_, rx) = fields.get(4)?.split_once(':')?;
    let rx_queue = hex(rx)?;
    let inode = decimal(fields.get(9)?)?;
    let drops = match protocol {
        Transport::Udp => Some(decimal(fields.get(12)?)?),
        _ => None,
    };
    Some(SocketEntry {
        protocol,
        local,
        state,
        inode,
        rx_queue,
        drops,
    })
}

/// `0100007F:1F90` → 127.0.0.1:8080. The kernel prints each 32-bit word of the address in
/// host byte order (little-endian here), so IPv6 is four such words, each reversed on its own.
fn parse_address(text: &str, v6: bool) -> Option<SocketAddr> {
    let (address, port) = text.split_once(':')?;
    let port = u16::try_from(hex(port)?).ok()?;
    let words = if v6 { 4 } else { 1 };
    if address.len() != words * 8 {
        return None;
    }
    let mut octets = [0u8; 16];
    for (i, chunk) in octets.chunks_mut(4).take(words).enumerate() {
        let word = u32::try_from(hex(address.get(i * 8..i * 8 + 8)?)?).ok()?;
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    let ip: IpAddr = if v6 {
        Ipv6Addr::from(octets).into()
    } else {
        Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]).into()
    };
    Some(SocketAddr::new(ip, port))
}

/// Hex digits only: `from_str_radix` alone would also take a leading `+`.
fn hex(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(text, 16).ok()
}

/// Decimal digits only, for the same reason as [`hex`].
fn decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Listening TCP sockets and all bound UDP sockets, IPv4 then IPv6. A missing file (no IPv6
/// in this kernel, no `/proc`) is skipped: the answer is then what the other files say.
pub fn listening() -> Vec<SocketEntry> {
    let mut out = Vec::new();
    for (file, protocol, v6) in FILES {
        let Ok(text) = read_table(file) else {
            continue;
        };
        out.extend(
            parse_proc_net(&text, protocol, v6)
                .into_iter()
                .filter(|s| protocol == Transport::Udp || s.state == TCP_LISTEN),
        );
    }
    out
}

/// Socket inode → (pid, process name), for the processes this user may look into: without
/// root only one's own, so a missing inode means "someone else's", not "nobody's". A socket
/// shared by several processes (after `fork`) maps to the first one found.
pub fn owners() -> HashMap<u64, (u32, String)> {
    let mut owners = HashMap::new();
    let Ok(processes) = fs::read_dir("/proc") else {
        return owners;
    };
    for process in processes.flatten() {
        let Some(pid) = process
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = fs::read_dir(process.path().join("fd")) else {
            continue;
        };
        let inodes: Vec<u64> = fds
            .flatten()
            .filter_map(|fd| fs::read_link(fd.path()).ok())
            .filter_map(|target| socket_inode(target.to_str()?))
            .collect();
        if inodes.is_empty() {
            continue;
        }
        // Read after the fds: most processes hold no socket, and comm costs a file open.
        // Any user names their own processes: escaped here, so every report and error
        // that shows the name shows text, never a terminal sequence.
        let name = fs::read_to_string(process.path().join("comm"))
            .map(|n| crate::error::escaped(n.trim()))
            .unwrap_or_default();
        for inode in inodes {
            owners.entry(inode).or_insert_with(|| (pid, name.clone()));
        }
    }
    owners
}

/// `socket:[12345]` → 12345; other link targets (files, pipes, `anon_inode:`) → `None`.
fn socket_inode(target: &str) -> Option<u64> {
    decimal(target.strip_prefix("socket:[")?.strip_suffix(']')?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Captured from this host's /proc/net files (trailing padding included).
    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1065 1 00000000afd589ac 100 0 0 10 0                      
   1: 0100007F:85CD 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6073248 1 0000000075623cdf 100 0 0 10 0                   
   2: 0100007F:8DE5 0100007F:BB74 06 00000000:00000000 03:0000170A 00000000     0        0 0 3 00000000d656c4a8                                      
";
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:B217 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6076977 1 00000000ee295ebe 100 0 0 10 0
   1: 00000000000000000000000000000000:8149 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6076978 1 000000003d20f561 100 0 0 10 0
";
    const UDP: &str = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            
10337: 0100007F:896D 00000000:0000 07 00000000:00000340 00:00000000 00000000     0        0 6073247 2 000000001a44c3eb 730     
";
    const UDP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
10586: 0000000000000000FFFF00000100007F:8A66 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 6076979 2 0000000023915ca4 0
";

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn parses_tcp() {
        let tcp = parse_proc_net(TCP, Transport::Tcp, false);
        assert_eq!(tcp.len(), 3);
        assert_eq!(
            tcp[0],
            SocketEntry {
                protocol: Transport::Tcp,
                local: addr("0.0.0.0:2024"),
                state: TCP_LISTEN,
                inode: 1065,
                rx_queue: 0,
                drops: None,
            }
        );
        assert_eq!(tcp[1].local, addr("127.0.0.1:34253"));
        // A TIME_WAIT connection: state 06, no inode any more.
        assert_eq!((tcp[2].state, tcp[2].inode), (0x06, 0));
    }

    #[test]
    fn parses_tcp6_word_by_word() {
        let tcp6 = parse_proc_net(TCP6, Transport::Tcp, true);
        let locals: Vec<_> = tcp6.iter().map(|s| s.local).collect();
        assert_eq!(locals, [addr("[::1]:45591"), addr("[::]:33097")]);
        assert_eq!(tcp6[0].inode, 6_076_977);
        assert_eq!(
            parse_proc_net(
                "   0: 00000000000000000000000001000000:0050 rest",
                Transport::Tcp,
                true
            ),
            [],
            "too few columns"
        );
    }

    #[test]
    fn parses_udp_with_queue_and_drops() {
        let udp = parse_proc_net(UDP, Transport::Udp, false);
        assert_eq!(
            udp,
            [SocketEntry {
                protocol: Transport::Udp,
                local: addr("127.0.0.1:35181"),
                state: UDP_BOUND,
                inode: 6_073_247,
                rx_queue: 0x340,
                drops: Some(730),
            }]
        );
        let udp6 = parse_proc_net(UDP6, Transport::Udp, true);
        assert_eq!(udp6[0].local, addr("[::ffff:127.0.0.1]:35430"));
        assert_eq!(udp6[0].drops, Some(0));
    }

    #[test]
    fn a_socket_shown_twice_counts_once() {
        // The kernel repeats a line when the table moved between two reads; the same inode
        // at the same address is one socket. Inode 0 (a TIME_WAIT leftover) is no identity.
        let udp = format!("{UDP}{}", UDP.lines().nth(1).unwrap_or_default());
        assert_eq!(parse_proc_net(&udp, Transport::Udp, false).len(), 1);
        let time_wait = TCP.lines().nth(3).unwrap_or_default();
        let tcp = format!("{time_wait}\n{time_wait}");
        assert_eq!(parse_proc_net(&tcp, Transport::Tcp, false).len(), 2);
    }

    #[test]
    fn reads_a_whole_table_or_says_why_not() {
        let text = read_table("/proc/net/udp").unwrap();
        assert!(text.starts_with("   sl  local_address"), "{text}");
        let missing = read_table("/proc/net/no-such-table").unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn skips_malformed_lines() {
        let good = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0";
        assert_eq!(parse_proc_net(good, Transport::Tcp, false).len(), 1);
        for bad in [
            "",
            "garbage",
            "   1: garbage",
            // The IPv4 file read as IPv6, and the other way round.
            &good.replace("0100007F", "00000000000000000000000001000000"),
            "   0: +100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1 0",
            "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 -1 1 0",
            "   0: 0100007F:1F9000 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1 0",
            "   0: 0100007F:1F90 00000000:0000 1FF 00000000:00000000 00:00000000 00000000 0 0 1 1 0",
            "   0: 0100007F:1F90 00000000:0000 0A 0000000000000000 00:00000000 00000000 0 0 1 1 0",
            "  x0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1 0",
            "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000",
            "   0: 0100\u{e9}07F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1 0",
        ] {
            assert_eq!(parse_proc_net(bad, Transport::Tcp, false), [], "{bad:?}");
        }
        // UDP needs its drops column; TCP lines lack it.
        let tcp_line = TCP.lines().nth(3).unwrap_or_default();
        assert_eq!(parse_proc_net(tcp_line, Transport::Udp, false), []);
        assert_eq!(socket_inode("socket:[42]"), Some(42));
        assert_eq!(socket_inode("pipe:[42]"), None);
        assert_eq!(socket_inode("socket:[]"), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn finds_our_own_listener_and_its_owner() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let local = listener.local_addr().unwrap();
        let entry = listening()
            .into_iter()
            .find(|s| s.protocol == Transport::Tcp && s.local == local)
            .expect("our listener is listed");
        assert_eq!(entry.state, TCP_LISTEN);
        let owner = owners().remove(&entry.inode).expect("we own it");
        assert_eq!(owner.0, std::process::id());
        assert!(!owner.1.is_empty());
    }

    #[test]
    fn finds_our_own_udp_socket() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let local = socket.local_addr().unwrap();
        let entry = listening()
            .into_iter()
            .find(|s| s.protocol == Transport::Udp && s.local == local)
            .expect("our socket is listed");
        assert_eq!((entry.state, entry.drops), (UDP_BOUND, Some(0)));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}", v6 in any::<bool>()) {
            let _ = parse_proc_net(&s, Transport::Udp, v6);
        }

        #[test]
        fn never_panics_on_line_like_text(s in "[0-9A-Fa-f: \n]{0,200}", v6 in any::<bool>()) {
            let _ = parse_proc_net(&s, Transport::Tcp, v6);
        }
    }
}
