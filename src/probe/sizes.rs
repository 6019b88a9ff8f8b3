//! Datagram sizes on the wire: does a UDP datagram of N bytes arrive, how many bytes did
//! the server get, and what is the path MTU.
//!
//! Sockets are set to Linux's "want" path-MTU mode (`IP_PMTUDISC_WANT`, the usual
//! default, set explicitly because `net.ipv4.ip_no_pmtu_disc` can change it): a datagram
//! that fits the known path MTU leaves with DF set, so a router with a smaller
//! MTU answers ICMP "fragmentation needed" (IPv6: "packet too big") with its MTU, which the
//! error queue reports and the kernel remembers; a larger datagram is fragmented by this
//! host, as an application's would be. So a lost size above the path MTU means lost
//! fragments. The payload is ipdiag's responder request padded to the size, so a responder
//! (`ipdiag serve`) reports the bytes it received, and an echo server reflects them.

use super::reason::icmp_reason;
use super::size_search::{MAX_PAYLOAD_V4, MAX_PAYLOAD_V6, overhead};
use super::timing::{HostTiming, TimingConfig};
use crate::sys::{self, Failure};
use crate::wire::responder;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

/// ICMP "fragmentation needed" (type 3 code 4) and ICMPv6 "packet too big" (type 2).
fn too_big(kind: u8, code: u8, v6: bool) -> bool {
    if v6 {
        kind == 2
    } else {
        kind == 3 && code == 4
    }
}

/// What one size came to over its tries.
#[derive(Debug, Clone, PartialEq)]
pub struct SizeOutcome {
    /// Payload bytes.
    pub size: usize,
    /// Datagrams sent.
    pub tries: u32,
    /// An answer came back.
    pub arrived: bool,
    /// Bytes the server got (a responder's count, or the echo's length).
    pub received: Option<usize>,
    /// The answer's round trip.
    pub rtt: Option<Duration>,
    /// A router said the datagram was too big for its link: that MTU.
    pub too_big_mtu: Option<u32>,
    /// Anything else that stopped it: an ICMP error or this host's refusal, in words.
    pub error: Option<String>,
    /// The path-MTU probe's own datagram (answered: evidence like any size).
    pub mtu_probe: bool,
    /// The answer was an ipdiag responder's reply (not an echo).
    pub responder: bool,
}

impl SizeOutcome {
    /// Nothing tried yet.
    fn new(size: usize) -> Self {
        Self {
            size,
            tries: 0,
            arrived: false,
            received: None,
            rtt: None,
            too_big_mtu: None,
            error: None,
            mtu_probe: false,
            responder: false,
        }
    }
}

/// Marks the lost sizes below `smallest` (what the responder answers) once a responder
/// has answered any size: its rule (a reply never larger than the request) kept them
/// unanswered, not the path.
pub fn explain_small(outcomes: &mut [SizeOutcome], smallest: usize) {
    if !outcomes.iter().any(|o| o.responder) {
        return;
    }
    for o in outcomes
        .iter_mut()
        .filter(|o| !o.arrived && o.size < smallest && o.error.is_none())
    {
        o.error = Some(format!(
            "the responder answers only datagrams of {smallest} bytes or more"
        ));
    }
}

/// The path MTU, and who told us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathMtu {
    /// Bytes per packet, IP header included.
    pub mtu: u32,
    /// The router whose ICMP message lowered it (`None`: this host's route MTU).
    pub from: Option<std::net::IpAddr>,
}

/// One datagram of `size` bytes and what came back within `wait`.
#[derive(Debug, Clone, PartialEq)]
struct Try {
    answer: Option<Reply>,
    too_big: Option<(u32, Option<std::net::IpAddr>)>,
    error: Option<String>,
}

/// An answer to one datagram.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Reply {
    /// Bytes the server got.
    received: usize,
    rtt: Duration,
    /// A responder's reply, not an echo.
    responder: bool,
}

/// Probes sizes to one target with adaptive waits (`timing`'s rules, per target).
pub struct SizeProber {
    target: SocketAddr,
    token: Option<Vec<u8>>,
    timing: TimingConfig,
    host: HostTiming,
    tries: u32,
    nonce: u64,
}

impl SizeProber {
    /// A prober giving each size up to `tries` datagrams.
    pub fn new(
        target: SocketAddr,
        token: Option<Vec<u8>>,
        timing: TimingConfig,
        tries: u32,
    ) -> Self {
        Self {
            target,
            token,
            timing,
            host: HostTiming::default(),
            tries: tries.max(1),
            nonce: crate::probe::socket_prober::Nonces::default().next(),
        }
    }

    /// The target.
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// The path MTU: a datagram as large as this host's route allows goes out with DF; a
    /// smaller link on the way answers with its MTU (repeated while it keeps shrinking).
    /// With it, the last datagram's outcome when it was answered: a size known to arrive
    /// in one packet, which tells lost larger sizes from a target that answers nothing.
    pub async fn path_mtu(&mut self) -> io::Result<(PathMtu, Option<SizeOutcome>)> {
        let v6 = self.target.is_ipv6();
        let mut path = PathMtu {
            mtu: route_mtu(self.target)?,
            from: None,
        };
        for _ in 0..4 {
            let max = if v6 { MAX_PAYLOAD_V6 } else { MAX_PAYLOAD_V4 };
            let size = usize::try_from(path.mtu)
                .unwrap_or(usize::MAX)
                .saturating_sub(overhead(v6))
                .min(max);
            let t = self.send(size).await?;
            match t.too_big {
                Some((mtu, from)) if mtu > 0 && mtu < path.mtu => path = PathMtu { mtu, from },
                _ => {
                    let answered = t.answer.map(|reply| {
                        let mut outcome = SizeOutcome {
                            tries: 1,
                            mtu_probe: true,
                            ..SizeOutcome::new(size)
                        };
                        self.answered(&mut outcome, reply);
                        outcome
                    });
                    return Ok((path, answered));
                }
            }
        }
        Ok((path, None))
    }

    /// Takes `reply` into `outcome`, and its round trip into the adaptive wait.
    fn answered(&mut self, outcome: &mut SizeOutcome, reply: Reply) {
        self.host
            .observe(reply.rtt, outcome.tries.saturating_sub(1));
        outcome.arrived = true;
        outcome.received = Some(reply.received);
        outcome.rtt = Some(reply.rtt);
        outcome.responder = reply.responder;
    }

    /// Sends `size` bytes up to `tries` times, until an answer comes.
    pub async fn probe(&mut self, size: usize) -> io::Result<SizeOutcome> {
        let mut outcome = SizeOutcome::new(size);
        while outcome.tries < self.tries && !outcome.arrived {
            outcome.tries += 1;
            let t = self.send(size).await?;
            if let Some(reply) = t.answer {
                self.answered(&mut outcome, reply);
            }
            outcome.too_big_mtu = t.too_big.map(|(mtu, _)| mtu).or(outcome.too_big_mtu);
            if t.error.is_some() {
                outcome.error = t.error;
                break;
            }
        }
        Ok(outcome)
    }

    /// One datagram of `size` bytes.
    async fn send(&mut self, size: usize) -> io::Result<Try> {
        self.nonce = self.nonce.wrapping_add(1);
        let mut payload = responder::request(self.nonce, self.token.as_deref());
        payload.resize(size, 0);
        // The tag covers the whole datagram: sealed again at its final size.
        if let Some(token) = self.token.as_deref() {
            responder::seal(&mut payload, token);
        }
        let socket = super::udp::new_socket(self.target, None)?;
        sys::want_path_mtu_discovery(&socket, self.target.is_ipv6())?;
        let wait = self.host.timeout(&self.timing);
        let start = Instant::now();
        let deadline = start + wait;
        let mut t = Try {
            answer: None,
            too_big: None,
            error: None,
        };
        if let Err(e) = socket.send(&payload).await {
            t.error = Some(
                match e.raw_os_error().and_then(|c| too_long(c).then_some(c)) {
                    Some(_) => format!("this host refuses to send {size} bytes: {e}"),
                    None => e.to_string(),
                },
            );
            self.note_errors(&socket, &mut t);
            return Ok(t);
        }
        let mut buf = vec![0u8; 65_536];
        loop {
            let Ok(ready) =
                timeout_at(deadline, socket.ready(Interest::READABLE | Interest::ERROR)).await
            else {
                return Ok(t);
            };
            ready?;
            if self.note_errors(&socket, &mut t) {
                return Ok(t);
            }
            match socket.try_recv(&mut buf) {
                Ok(n) => {
                    let got = buf.get(..n).unwrap_or_default();
                    let (received, responder) = match responder::parse_reply(got) {
                        Some(reply) if reply.nonce == self.nonce => {
                            (usize::from(reply.received), true)
                        }
                        Some(_) => continue,
                        None => (n, false),
                    };
                    t.answer = Some(Reply {
                        received,
                        rtt: start.elapsed(),
                        responder,
                    });
                    return Ok(t);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => {
                    // The error queue explains a failed receive (a router's ICMP error).
                    self.note_errors(&socket, &mut t);
                    return Ok(t);
                }
            }
            // An error readiness that nothing above consumed would wake this loop again
            // at once until the timeout: reading SO_ERROR clears it.
            if let Some(e) = super::udp::take_socket_error(&socket) {
                t.error = Some(e.to_string());
                return Ok(t);
            }
        }
    }

    /// Takes queued errors into `t`; true when one ends the try.
    fn note_errors(&self, socket: &UdpSocket, t: &mut Try) -> bool {
        let v6 = self.target.is_ipv6();
        let mut ended = false;
        while let Ok(Some(queued)) = sys::take_queued(&socket2::SockRef::from(socket)) {
            match queued.icmp {
                Some(icmp) if too_big(icmp.kind, icmp.code, v6) => {
                    t.too_big = Some((queued.info, icmp.from));
                    ended = true;
                }
                Some(icmp) => {
                    // The reason word every other output uses (`port-unreach`, ...).
                    let from = icmp.from.map_or_else(String::new, |f| format!(" from {f}"));
                    t.error = Some(format!("{}{from}", icmp_reason(&icmp)));
                    ended = true;
                }
                None if too_long(queued.errno) => {
                    // This host's own check against the path MTU it has learnt.
                    t.too_big = Some((queued.info, None));
                    ended = true;
                }
                None => {}
            }
        }
        ended
    }
}

/// The MTU of this host's route to `target` (what a connected socket reports).
fn route_mtu(target: SocketAddr) -> io::Result<u32> {
    let socket = std::net::UdpSocket::bind(if target.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    })?;
    socket.connect(target)?;
    sys::known_mtu(&socket, target.is_ipv6())
}

/// `EMSGSIZE`: larger than this host will send.
fn too_long(code: i32) -> bool {
    sys::failure(sys::HERE.system, crate::model::Protocol::Udp, code) == Failure::MessageTooLong
}

// `--sizes` is Linux's (the path MTU and the error queue): its tests too.
#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::wire::responder::{Admission, answer};

    #[test]
    fn sizes_below_what_a_responder_answers_say_so_once_it_has_answered() {
        let lost = |size| SizeOutcome {
            tries: 4,
            ..SizeOutcome::new(size)
        };
        let answered = SizeOutcome {
            tries: 1,
            arrived: true,
            received: Some(64),
            responder: true,
            ..SizeOutcome::new(64)
        };
        let mut outcomes = vec![lost(16), lost(4000), answered.clone()];
        explain_small(&mut outcomes[..2], 25);
        assert_eq!(outcomes[0].error, None, "no responder answered among these");
        explain_small(&mut outcomes, 25);
        assert_eq!(
            outcomes[0].error.as_deref(),
            Some("the responder answers only datagrams of 25 bytes or more")
        );
        assert_eq!(
            outcomes[1].error, None,
            "above the minimum: lost on the path"
        );
        assert_eq!(outcomes[2], answered);
    }

    /// The path-MTU probe's answer is kept, marked, with who answered.
    #[tokio::test]
    async fn the_path_mtu_probe_answered_by_a_responder_is_an_outcome() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let target = server.local_addr().unwrap();
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_536];
            if let Ok((n, from)) = server.recv_from(&mut buf)
                && let Ok(reply) = answer(&buf[..n], from, None, |_| Admission::Answer(None))
            {
                server.send_to(&reply, from).ok();
            }
        });
        let mut prober = SizeProber::new(target, None, TimingConfig::default(), 1);
        let (path, answered) = prober.path_mtu().await.unwrap();
        thread.join().unwrap();
        assert_eq!(path.mtu, 65_535);
        let answered = answered.expect("the responder answered");
        assert_eq!(
            (answered.size, answered.received, answered.tries),
            (65_507, Some(65_507), 1)
        );
        assert!(answered.arrived && answered.mtu_probe && answered.responder);
    }

    #[tokio::test]
    async fn an_echo_on_loopback_returns_every_size_and_a_short_reader_truncates() {
        let echo = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let target = echo.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            // Reads like recvfrom(1024): larger datagrams are cut.
            let mut buf = [0u8; 1024];
            for _ in 0..2 {
                if let Ok((n, from)) = echo.recv_from(&mut buf) {
                    echo.send_to(&buf[..n], from).ok();
                }
            }
        });
        let mut prober = SizeProber::new(target, None, TimingConfig::default(), 1);
        let small = prober.probe(512).await.unwrap();
        assert_eq!((small.arrived, small.received), (true, Some(512)));
        let large = prober.probe(4000).await.unwrap();
        assert_eq!((large.arrived, large.received), (true, Some(1024)));
        assert!(!large.responder && !large.mtu_probe);
        server.join().unwrap();
        let (path, answered) = prober.path_mtu().await.unwrap();
        assert_eq!(
            path.mtu, 65_535,
            "loopback's (65,536, capped at the IP maximum)"
        );
        assert_eq!(path.from, None);
        assert_eq!(answered, None, "the echo has stopped");
    }
}
