//! ICMP echo ("is the host up at all?") without raw-socket code of our own: the kernel's
//! unprivileged ICMP datagram socket (`SOCK_DGRAM`/`IPPROTO_ICMP`: Linux's ping socket,
//! allowed by `net.ipv4.ping_group_range`; macOS' icmp(4) datagram socket, open to every
//! user) when permitted, else a raw socket when privileged. Each is driven through tokio's
//! UDP socket type, which is only `sendto`/`recvfrom`; they differ in what a read returns
//! ([`Delivery`]). On Windows
//! the IP Helper API (`IcmpSendEcho2`, no Administrator) sends and matches, on a blocking
//! thread per request.

use super::stats::RunningRtt;
use std::net::IpAddr;
#[cfg(not(windows))]
use std::net::SocketAddr;
use std::time::Duration;
#[cfg(not(windows))]
use tokio::net::UdpSocket;
#[cfg(not(windows))]
use tokio::time::timeout_at;
use tokio::time::{Instant, sleep_until};

/// ICMPv4 echo request / reply types.
const ECHO_REQUEST_V4: u8 = 8;
const ECHO_REPLY_V4: u8 = 0;
/// ICMPv6 echo request / reply types.
const ECHO_REQUEST_V6: u8 = 128;
const ECHO_REPLY_V6: u8 = 129;
/// Bytes of payload after the 8-byte header.
const PAYLOAD: &[u8] = b"ipdiag-echo-v1..";

/// What a ping found out.
#[derive(Debug, Clone, PartialEq)]
pub struct PingOutcome {
    /// Echo requests sent.
    pub sent: u32,
    /// Replies within the timeout.
    pub received: u32,
    /// RTT statistics over the replies (running: `ping -c 0` never ends).
    pub rtt: RunningRtt,
    /// `ping` (unprivileged ping socket), `raw`, or `iphlpapi` (Windows' `IcmpSendEcho2`).
    pub method: &'static str,
}

impl PingOutcome {
    /// Counts one echo request and its reply, if one came.
    pub fn add(&mut self, echo: Echo) {
        self.sent += 1;
        if let Some(rtt) = echo.rtt {
            self.received += 1;
            self.rtt.add(rtt);
        }
    }
}

/// What an ICMP echo socket's reads return, by the kind of socket the system gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Linux's ping socket: the kernel sets the identifier and hands over only the replies
    /// to it, each without its IP header.
    Filtered,
    /// An unprivileged ICMP datagram socket that reads like a raw one (macOS, icmp(4) and
    /// xnu's `icmp_dgram_*` on `rip_input`): every ICMP message the host receives, IPv4 ones
    /// after their IP header, the identifier as sent (ours to check).
    Unfiltered,
    /// A raw socket (root): as [`Delivery::Unfiltered`], with privileges.
    Raw,
}

/// How a socket delivers replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// ICMPv6 (echo reply type 129) rather than ICMPv4 (type 0).
    pub v6: bool,
    /// What the socket's reads return.
    pub delivery: Delivery,
}

impl Kind {
    /// An IPv4 header comes before the ICMP message (raw and macOS datagram sockets:
    /// IPv6 raw sockets never include theirs).
    const fn ip_header(self) -> bool {
        !self.v6 && !matches!(self.delivery, Delivery::Filtered)
    }

    /// Replies to other processes' echoes arrive too: the identifier must match.
    const fn unfiltered(self) -> bool {
        !matches!(self.delivery, Delivery::Filtered)
    }
}

/// Sends `count` echo requests `interval` apart, each waiting at most `wait` for its reply.
/// `Err` says why ICMP is not available here (no privilege, no socket).
pub async fn ping(
    address: IpAddr,
    count: u32,
    interval: Duration,
    wait: Duration,
) -> Result<PingOutcome, String> {
    Ok(Pinger::open(address)?
        .run(count, interval, wait, &mut |_| {})
        .await)
}

/// What became of one echo request: its sequence number and the reply's RTT (`None`: no
/// reply within the wait).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Echo {
    /// The request's sequence number (from 0).
    pub seq: u16,
    /// The RTT of its reply.
    pub rtt: Option<Duration>,
}

/// An ICMP echo socket to one address, opened before anything is sent, so a caller can
/// say "no privilege" before it prints a header. Needs a tokio runtime.
pub struct Pinger {
    channel: Channel,
    address: IpAddr,
}

/// Where the echo requests go.
enum Channel {
    /// An ICMP socket (ping or raw).
    #[cfg(not(windows))]
    Socket(UdpSocket, Kind),
    /// Windows' IP Helper API.
    #[cfg(windows)]
    Helper(std::sync::Arc<crate::sys::IcmpEcho>),
}

impl Pinger {
    /// Opens the ping socket, else a raw socket (Windows: an IP Helper handle). `Err` says
    /// why ICMP is not available.
    pub fn open(address: IpAddr) -> Result<Self, String> {
        #[cfg(not(windows))]
        let channel = {
            let (socket, kind) = open(address)?;
            Channel::Socket(socket, kind)
        };
        #[cfg(windows)]
        let channel = Channel::Helper(std::sync::Arc::new(crate::sys::IcmpEcho::open(address)?));
        Ok(Self { channel, address })
    }

    /// `ping` (an unprivileged ICMP datagram socket), `raw`, or `iphlpapi`.
    pub const fn method(&self) -> &'static str {
        match &self.channel {
            #[cfg(not(windows))]
            Channel::Socket(_, kind) => match kind.delivery {
                Delivery::Raw => "raw",
                Delivery::Filtered | Delivery::Unfiltered => "ping",
            },
            #[cfg(windows)]
            Channel::Helper(_) => "iphlpapi",
        }
    }

    /// Sends `count` echo requests `interval` apart, each waiting at most `wait` for its
    /// reply, telling `each` about every request as soon as it is answered or given up.
    pub async fn run(
        &self,
        count: u32,
        interval: Duration,
        wait: Duration,
        each: &mut dyn FnMut(Echo),
    ) -> PingOutcome {
        let id = u16::try_from(std::process::id() & 0xffff).unwrap_or(0);
        let mut outcome = PingOutcome {
            sent: 0,
            received: 0,
            rtt: RunningRtt::default(),
            method: self.method(),
        };
        let mut next = Instant::now();
        for seq in 0..count {
            sleep_until(next).await;
            next = Instant::now() + interval;
            let seq = u16::try_from(seq & 0xffff).unwrap_or(0);
            outcome.sent += 1;
            let rtt = self.echo(id, seq, wait).await;
            if let Some(elapsed) = rtt {
                outcome.received += 1;
                outcome.rtt.add(elapsed);
            }
            each(Echo { seq, rtt });
        }
        outcome
    }

    /// One echo request and the RTT of its reply (`None`: no reply within `wait`).
    #[cfg(not(windows))]
    async fn echo(&self, id: u16, seq: u16, wait: Duration) -> Option<Duration> {
        let Channel::Socket(socket, kind) = &self.channel;
        let (kind, address) = (*kind, self.address);
        let packet = echo_request(kind.v6, id, seq);
        // Taken before the send: a thread descheduled between the send and the clock
        // would make the round trip look shorter than the path is.
        let start = Instant::now();
        socket
            .send_to(&packet, SocketAddr::new(address, 0))
            .await
            .ok()?;
        let deadline = start + wait;
        let mut buf = [0u8; 1500];
        while let Ok(Ok((n, from))) = timeout_at(deadline, socket.recv_from(&mut buf)).await {
            if from.ip() == address && is_reply(kind, id, seq, buf.get(..n).unwrap_or_default()) {
                return Some(start.elapsed());
            }
        }
        None
    }

    /// One echo request through `IcmpSendEcho2` (which matches the reply itself) on a
    /// blocking thread. Only a reply from the address pinged counts, as on Unix; an ICMP
    /// error instead of the reply is no reply, as on Unix.
    #[cfg(windows)]
    async fn echo(&self, _id: u16, _seq: u16, wait: Duration) -> Option<Duration> {
        let Channel::Helper(helper) = &self.channel;
        let (helper, address) = (std::sync::Arc::clone(helper), self.address);
        let answer = tokio::task::spawn_blocking(move || helper.send(address, PAYLOAD, None, wait))
            .await
            .ok()?;
        let replied = crate::sys::echo_status(address.is_ipv6(), answer.status)
            == crate::sys::EchoStatus::Reply
            && answer.from == Some(address);
        replied.then_some(answer.rtt)
    }
}

#[cfg(not(windows))]
fn open(address: IpAddr) -> Result<(UdpSocket, Kind), String> {
    let v6 = address.is_ipv6();
    let (socket, delivery) =
        crate::sys::open_ping(address, &[if v6 { ECHO_REPLY_V6 } else { ECHO_REPLY_V4 }])?;
    socket.set_nonblocking(true).map_err(|e| e.to_string())?;
    let socket =
        UdpSocket::from_std(std::net::UdpSocket::from(socket)).map_err(|e| e.to_string())?;
    Ok((socket, Kind { v6, delivery }))
}

/// An echo request: type, code, checksum, identifier, sequence, payload. ICMPv6's checksum
/// covers a pseudo-header the kernel knows, so the kernel fills it (it does for ICMPv6 and
/// for ping sockets); ICMPv4's is computed here.
pub fn echo_request(v6: bool, id: u16, seq: u16) -> Vec<u8> {
    let mut packet = vec![if v6 { ECHO_REQUEST_V6 } else { ECHO_REQUEST_V4 }, 0, 0, 0];
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(PAYLOAD);
    if !v6 {
        let sum = checksum(&packet);
        packet[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    packet
}

/// The Internet checksum (RFC 1071).
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|pair| {
            u32::from(u16::from_be_bytes([
                pair[0],
                pair.get(1).copied().unwrap_or(0),
            ]))
        })
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !u16::try_from(sum).unwrap_or(0xffff)
}

/// An echo reply as read from an ICMP socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoReply {
    /// The identifier (as sent: ours on raw and macOS sockets; the kernel's on Linux's
    /// ping socket, which has already matched it).
    pub id: u16,
    /// The sequence number.
    pub seq: u16,
    /// The reply's TTL, from its IPv4 header where the read includes it (the hops it took
    /// are its sender's initial TTL less this).
    pub ttl: Option<u8>,
}

/// The echo reply in `data`, read as a socket of `kind` returns it: after the IPv4
/// header (whose length is its IHL field, and whose TTL is kept) where one comes first.
/// `None` for anything else (a request, an error, a short read). Any bytes are safe.
pub fn parse_reply(kind: Kind, data: &[u8]) -> Option<EchoReply> {
    let (icmp, ttl) = if kind.ip_header() {
        let first = *data.first()?;
        let header = usize::from(first & 0x0f) * 4;
        if first >> 4 != 4 || header < 20 {
            return None;
        }
        (data.get(header..)?, Some(*data.get(8)?))
    } else {
        (data, None)
    };
    let [kind_byte, 0, _, _, id_hi, id_lo, seq_hi, seq_lo, ..] = *icmp else {
        return None;
    };
    let expected = if kind.v6 {
        ECHO_REPLY_V6
    } else {
        ECHO_REPLY_V4
    };
    (kind_byte == expected).then_some(EchoReply {
        id: u16::from_be_bytes([id_hi, id_lo]),
        seq: u16::from_be_bytes([seq_hi, seq_lo]),
        ttl,
    })
}

/// Whether `data` is the reply to our request `seq`. A raw socket and macOS' datagram
/// socket deliver every ICMP message of the host (so the identifier must match), IPv4 ones
/// after their IP header; Linux's ping socket rewrites the identifier and filters replies
/// itself. Any bytes are safe to give.
pub fn is_reply(kind: Kind, id: u16, seq: u16, data: &[u8]) -> bool {
    parse_reply(kind, data).is_some_and(|r| r.seq == seq && (!kind.unfiltered() || r.id == id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_checksum_verifies() {
        let packet = echo_request(false, 0x1234, 7);
        assert_eq!(&packet[..2], &[8, 0]);
        assert_eq!(
            checksum(&packet),
            0,
            "a packet with its checksum sums to zero"
        );
        assert_eq!(&packet[4..8], &[0x12, 0x34, 0, 7]);
    }

    /// An IPv4 header as a raw or macOS datagram ICMP socket returns it before the message
    /// (RFC 791 layout; xnu leaves the total length in host order, which is never read).
    fn ipv4_header(ihl: u8, ttl: u8) -> Vec<u8> {
        let mut header = vec![0x40 | ihl, 0, 0x40, 0, 0x12, 0x34, 0, 0, ttl, 1, 0, 0];
        header.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2]);
        header.resize(usize::from(ihl) * 4, 1); // options (no-ops) when IHL > 5
        header
    }

    fn reply_v4(id: u16, seq: u16) -> Vec<u8> {
        let mut reply = echo_request(false, id, seq);
        reply[0] = ECHO_REPLY_V4;
        reply
    }

    const fn kind(v6: bool, delivery: Delivery) -> Kind {
        Kind { v6, delivery }
    }

    #[test]
    fn linux_ping_socket_replies_are_matched_by_sequence_alone() {
        let dgram = kind(false, Delivery::Filtered);
        let reply = reply_v4(0x1234, 7);
        assert!(
            is_reply(dgram, 0, 7, &reply),
            "ping sockets rewrite the identifier"
        );
        assert!(!is_reply(dgram, 0, 8, &reply));
        assert_eq!(
            parse_reply(dgram, &reply),
            Some(EchoReply {
                id: 0x1234,
                seq: 7,
                ttl: None
            })
        );
        let request = echo_request(false, 0x1234, 7);
        assert!(
            !is_reply(dgram, 0, 7, &request),
            "our own request looped back"
        );
    }

    #[test]
    fn macos_datagram_and_raw_ipv4_replies_come_after_their_ip_header() {
        for delivery in [Delivery::Unfiltered, Delivery::Raw] {
            let socket = kind(false, delivery);
            let mut packet = ipv4_header(5, 57);
            packet.extend_from_slice(&reply_v4(0x1234, 7));
            assert_eq!(
                parse_reply(socket, &packet),
                Some(EchoReply {
                    id: 0x1234,
                    seq: 7,
                    ttl: Some(57)
                }),
                "{delivery:?}"
            );
            assert!(is_reply(socket, 0x1234, 7, &packet));
            assert!(
                !is_reply(socket, 0x4321, 7, &packet),
                "another process's echo: the kernel does not filter"
            );
            assert!(!is_reply(socket, 0x1234, 8, &packet));
            assert!(!is_reply(socket, 0x1234, 7, &packet[..26]), "truncated");
            assert!(
                !is_reply(socket, 0x1234, 7, &reply_v4(0x1234, 7)),
                "without its header the echo reply reads as something else"
            );
            // A header with options (IHL 6): the message starts 24 bytes in.
            let mut options = ipv4_header(6, 64);
            options.extend_from_slice(&reply_v4(0x1234, 9));
            assert_eq!(
                parse_reply(socket, &options).map(|r| (r.seq, r.ttl)),
                Some((9, Some(64)))
            );
        }
    }

    #[test]
    fn what_is_not_our_echo_reply_is_refused() {
        let socket = kind(false, Delivery::Unfiltered);
        let mut own_request = ipv4_header(5, 64);
        own_request.extend_from_slice(&echo_request(false, 0x1234, 7));
        assert!(
            !is_reply(socket, 0x1234, 7, &own_request),
            "macOS hands our own request to loopback readers too"
        );
        // A time exceeded (type 11) quoting something: its bytes 4-7 are unused, not an id.
        let mut exceeded = ipv4_header(5, 250);
        exceeded.extend_from_slice(&[11, 0, 0, 0, 0x12, 0x34, 0, 7]);
        assert_eq!(parse_reply(socket, &exceeded), None);
        // An echo reply with a code other than 0 is not one (RFC 792).
        let mut odd = ipv4_header(5, 64);
        let mut reply = reply_v4(0x1234, 7);
        reply[1] = 1;
        odd.extend_from_slice(&reply);
        assert_eq!(parse_reply(socket, &odd), None);
        // Not IPv4, or a header length below 20 bytes.
        let mut v6_first = ipv4_header(5, 64);
        v6_first[0] = 0x65;
        v6_first.extend_from_slice(&reply_v4(0x1234, 7));
        assert_eq!(parse_reply(socket, &v6_first), None);
        let mut short = ipv4_header(5, 64);
        short[0] = 0x44;
        short.extend_from_slice(&reply_v4(0x1234, 7));
        assert_eq!(parse_reply(socket, &short), None);
        assert_eq!(parse_reply(socket, &[]), None);
    }

    #[test]
    fn icmpv6_replies_never_carry_a_header() {
        // RFC 4443: echo reply type 129; IPv6 raw and datagram sockets give the message only.
        let reply = [129, 0, 0xab, 0xcd, 0x12, 0x34, 0, 7, b'x'];
        for delivery in [Delivery::Filtered, Delivery::Unfiltered, Delivery::Raw] {
            let socket = kind(true, delivery);
            assert_eq!(
                parse_reply(socket, &reply),
                Some(EchoReply {
                    id: 0x1234,
                    seq: 7,
                    ttl: None
                }),
                "{delivery:?}"
            );
        }
        assert!(is_reply(
            kind(true, Delivery::Unfiltered),
            0x1234,
            7,
            &reply
        ));
        assert!(!is_reply(kind(true, Delivery::Unfiltered), 1, 7, &reply));
        assert!(is_reply(kind(true, Delivery::Filtered), 1, 7, &reply));
        let request = echo_request(true, 0x1234, 7);
        assert!(!is_reply(kind(true, Delivery::Raw), 0x1234, 7, &request));
    }

    #[tokio::test]
    async fn loopback_answers() {
        match ping(
            IpAddr::from([127, 0, 0, 1]),
            2,
            Duration::from_millis(10),
            Duration::from_secs(1),
        )
        .await
        {
            Ok(outcome) => assert_eq!((outcome.sent, outcome.received), (2, 2)),
            Err(why) => eprintln!("skipped: {why}"),
        }
    }
}
