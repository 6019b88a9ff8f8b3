//! What one attempt returns, shared by the TCP and UDP probers and the engine.

use super::reason::Observation;
use std::io;
use std::time::Duration;

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// What came back.
    pub observation: Observation,
    /// When it came back, from the send (or the timeout for silence).
    pub rtt: Duration,
    /// TCP connect mode: the answer came after the kernel's first SYN retransmission, so
    /// the first SYN was lost and the RTT is unknown (Karn's ambiguity). The state stands,
    /// but it is no RTT sample, and for loss statistics the attempt counts as lost.
    pub late: bool,
    /// SYN scan: the answer's send time is unknown (which try it answers cannot be told,
    /// or that try's time is no longer kept). It was received and proves the state, but it
    /// is no RTT sample (Karn).
    pub untimed: bool,
    /// TCP: the handshake completed and the server reset the connection before it could be
    /// looked at (an overloaded server, a load balancer without a backend).
    pub reset: bool,
    /// UDP only: how many bytes the reply had.
    pub reply_bytes: Option<usize>,
    /// UDP only: the payload sent (`ipdiag`, `dns`, `custom`, ...).
    pub payload: Option<&'static str>,
    /// The first bytes of a UDP reply or of a TCP banner, for the responder protocol.
    pub reply_head: Option<Vec<u8>>,
    /// The client's address as an ipdiag responder saw it.
    pub observed: Option<std::net::SocketAddr>,
}

impl Answer {
    /// An answer without the TCP/UDP extras.
    pub fn new(observation: Observation, rtt: Duration) -> Self {
        Self {
            observation,
            rtt,
            late: false,
            untimed: false,
            reset: false,
            reply_bytes: None,
            payload: None,
            reply_head: None,
            observed: None,
        }
    }

    /// True when something came back (any observation but silence or a local error).
    pub fn is_response(&self) -> bool {
        !matches!(
            self.observation,
            Observation::Silence | Observation::Local(_)
        )
    }

    /// The RTT this answer is a sample of: a response neither late nor untimed (Karn).
    pub fn rtt_sample(&self) -> Option<Duration> {
        (self.is_response() && !self.late && !self.untimed).then_some(self.rtt)
    }
}

/// How an attempt's packets leave: with the system's TTL, or a given one (`ipdiag trace`);
/// from a port of the system's choosing, or from a given one that every probe of a trace
/// shares (`SO_REUSEADDR`), so a router that balances flows by their ports sends them all
/// down one path (Paris traceroute).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outgoing {
    /// The TTL (hop limit) of the attempt's packets.
    pub ttl: Option<u8>,
    /// The local port the attempt's socket binds.
    pub source_port: Option<u16>,
}

impl Outgoing {
    /// Sets the TTL and binds the source port on a fresh socket for `target`.
    pub fn apply(self, socket: &socket2::Socket, target: std::net::SocketAddr) -> io::Result<()> {
        if let Some(ttl) = self.ttl {
            if target.is_ipv6() {
                socket.set_unicast_hops_v6(u32::from(ttl))?;
            } else {
                socket.set_ttl_v4(u32::from(ttl))?;
            }
        }
        if let Some(port) = self.source_port {
            socket.set_reuse_address(true)?;
            let any: std::net::IpAddr = if target.is_ipv6() {
                std::net::Ipv6Addr::UNSPECIFIED.into()
            } else {
                std::net::Ipv4Addr::UNSPECIFIED.into()
            };
            socket.bind(&std::net::SocketAddr::new(any, port).into())?;
        }
        Ok(())
    }
}

/// Why an attempt could not even start: this host is out of a resource for now (file
/// descriptors, buffers, local ports). Back-pressure, not a result: the engine waits for
/// other attempts to finish and tries again.
#[derive(Debug)]
pub struct Busy(pub io::Error);

/// True for the errors that mean "out of a local resource, try again shortly".
/// (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`, `EADDRNOTAVAIL` and the system's equivalents).
pub fn is_busy(error: &io::Error) -> bool {
    crate::sys::is_busy(error)
}
