//! ICMP echo ("is the host up at all?") without raw-socket code of our own: the kernel's
//! unprivileged ping socket (`SOCK_DGRAM`/`IPPROTO_ICMP`, allowed by
//! `net.ipv4.ping_group_range`) when permitted, else a raw socket when privileged. Either
//! is driven through tokio's UDP socket type, which is only `sendto`/`recvfrom`. On Windows
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

/// How a socket delivers replies: a raw IPv4 socket includes the IP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// ICMPv6 (echo reply type 129) rather than ICMPv4 (type 0).
    pub v6: bool,
    /// A raw socket (every ICMP packet of the host, identifier ours to check) rather than
    /// a ping socket (the kernel filters and rewrites the identifier).
    pub raw: bool,
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

    /// `ping` (the unprivileged ping socket), `raw`, or `iphlpapi`.
    pub const fn method(&self) -> &'static str {
        match &self.channel {
            #[cfg(not(windows))]
            Channel::Socket(_, kind) => {
                if kind.raw {
                    "raw"
                } else {
                    "ping"
                }
            }
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
    let (socket, raw) = crate::sys::open_ping(address)?;
    socket.set_nonblocking(true).map_err(|e| e.to_string())?;
    let socket =
        UdpSocket::from_std(std::net::UdpSocket::from(socket)).map_err(|e| e.to_string())?;
    Ok((socket, Kind { v6, raw }))
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

/// Whether `data` is the reply to our request `seq`. A raw IPv4 socket delivers the IP
/// header first and every ICMP packet on the host (so the identifier must match); a ping
/// socket rewrites the identifier and filters replies itself. Any bytes are safe to give.
pub fn is_reply(kind: Kind, id: u16, seq: u16, data: &[u8]) -> bool {
    let icmp = if kind.raw && !kind.v6 {
        let header = usize::from(data.first().map_or(0, |b| b & 0x0f)) * 4;
        data.get(header..).unwrap_or_default()
    } else {
        data
    };
    let [kind_byte, _, _, _, id_hi, id_lo, seq_hi, seq_lo, ..] = *icmp else {
        return false;
    };
    let expected = if kind.v6 {
        ECHO_REPLY_V6
    } else {
        ECHO_REPLY_V4
    };
    kind_byte == expected
        && u16::from_be_bytes([seq_hi, seq_lo]) == seq
        && (!kind.raw || u16::from_be_bytes([id_hi, id_lo]) == id)
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

    #[test]
    fn replies_are_matched() {
        let mut reply = echo_request(false, 0x1234, 7);
        reply[0] = ECHO_REPLY_V4;
        let dgram = Kind {
            v6: false,
            raw: false,
        };
        assert!(
            is_reply(dgram, 0, 7, &reply),
            "ping sockets rewrite the identifier"
        );
        assert!(!is_reply(dgram, 0, 8, &reply));
        let raw = Kind {
            v6: false,
            raw: true,
        };
        let mut with_ip = vec![0x45; 1];
        with_ip.extend_from_slice(&[0; 19]);
        with_ip.extend_from_slice(&reply);
        assert!(is_reply(raw, 0x1234, 7, &with_ip));
        assert!(
            !is_reply(raw, 0x4321, 7, &with_ip),
            "another process's echo"
        );
        assert!(!is_reply(raw, 0x1234, 7, &with_ip[..22]), "truncated");
        let request = echo_request(false, 0x1234, 7);
        assert!(
            !is_reply(dgram, 0, 7, &request),
            "our own request looped back"
        );
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
