//! Where there is no error queue (macOS, FreeBSD), a trace hears the time exceeded and
//! unreachable messages its probes meet on an ICMP socket of its own: macOS' ICMP datagram
//! socket (no root) or a raw one, which both receive every ICMP message of the host. A task
//! reads them and passes on those about the trace's flow (`quoted.rs`); each probe takes
//! the first one that came after it was sent and quotes its payload.

#[cfg(unix)]
use super::icmp::Delivery;
use super::quoted::{QuotedError, parse};
use super::reason::IcmpReport;
use crate::model::Protocol;
use std::net::SocketAddr;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout_at};

/// Errors kept waiting for their probe: a trace's probes go one at a time.
const BACKLOG: usize = 64;

/// The ICMP errors about one trace's flow, as they arrive.
pub struct Watch {
    errors: mpsc::Receiver<(QuotedError, Instant)>,
    reader: JoinHandle<()>,
}

impl Watch {
    /// Opens an ICMP socket for the family of `target` (the system's ICMP echo socket, if it
    /// receives every ICMP message) and starts reading errors about packets to `target` by
    /// `protocol`. Needs a tokio runtime. `Err`: no such socket here, in one line.
    pub fn open(target: SocketAddr, protocol: Protocol) -> Result<Self, String> {
        let socket = icmp_socket(target)?;
        Ok(Self::reading(socket, target, protocol))
    }

    /// Starts the reader on an open ICMP socket that receives every ICMP message (IPv4 ones
    /// after their IP header).
    pub(crate) fn reading(socket: UdpSocket, target: SocketAddr, protocol: Protocol) -> Self {
        let (tx, errors) = mpsc::channel(BACKLOG);
        let v6 = target.is_ipv6();
        let reader = tokio::spawn(async move {
            let mut buf = vec![0u8; 2048];
            while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                let at = Instant::now();
                let Some(error) = parse(v6, true, buf.get(..n).unwrap_or_default(), from.ip())
                else {
                    continue;
                };
                // A full backlog drops the newest: the probe waiting takes the oldest first.
                if error.is_about(protocol, error.source_port, target) {
                    let _ = tx.try_send((error, at));
                }
            }
        });
        Self { errors, reader }
    }

    /// The first error about a packet from `source_port` that arrived after `sent_at` and
    /// quotes `payload` (as far as it quotes it: empty for TCP), with its arrival time;
    /// `None` at `deadline`. Errors about earlier probes of the flow are passed over.
    pub async fn next(
        &mut self,
        (source_port, payload): (u16, &[u8]),
        sent_at: Instant,
        deadline: Instant,
    ) -> Option<(IcmpReport, Instant)> {
        while let Ok(Some((error, at))) = timeout_at(deadline, self.errors.recv()).await {
            if error.source_port == source_port
                && at >= sent_at
                && error.payload.agrees_with(payload)
            {
                return Some((error.report, at));
            }
        }
        None
    }
}

/// An ICMP socket that receives every ICMP message of the host.
#[cfg(unix)]
fn icmp_socket(target: SocketAddr) -> Result<UdpSocket, String> {
    let (socket, delivery) =
        crate::sys::open_ping(target.ip(), super::quoted::error_types(target.is_ipv6()))?;
    if delivery == Delivery::Filtered {
        return Err("this system's ICMP socket hands over echo replies only".into());
    }
    socket.set_nonblocking(true).map_err(|e| e.to_string())?;
    UdpSocket::from_std(socket.into()).map_err(|e| e.to_string())
}

/// Windows has no ICMP socket for this (its TCP probes read `TCP_ICMP_ERROR_INFO`).
#[cfg(windows)]
fn icmp_socket(_target: SocketAddr) -> Result<UdpSocket, String> {
    Err("Windows has no ICMP socket that receives errors without Administrator".into())
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// On Linux a raw ICMP socket (root) receives as macOS' datagram socket does: a
    /// datagram to a closed loopback port comes back as a port unreachable quoting it.
    #[tokio::test]
    async fn a_port_unreachable_on_loopback_is_read_with_its_quote() {
        let raw = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::RAW,
            Some(socket2::Protocol::ICMPV4),
        );
        let Ok(raw) = raw else {
            eprintln!("skipped: a raw ICMP socket needs root");
            return;
        };
        raw.set_nonblocking(true).unwrap();
        let icmp = UdpSocket::from_std(raw.into()).unwrap();
        // A port nothing listens on: bound, read, closed.
        let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let target = closed.local_addr().unwrap();
        drop(closed);
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let source_port = probe.local_addr().unwrap().port();
        let mut watch = Watch::reading(icmp, target, Protocol::Udp);
        let sent_at = Instant::now();
        probe.send_to(b"IPDG\x02nonce-1", target).unwrap();
        let deadline = sent_at + Duration::from_secs(2);
        let (report, at) = watch
            .next((source_port, b"IPDG\x02nonce-1"), sent_at, deadline)
            .await
            .unwrap();
        assert_eq!(
            report,
            IcmpReport {
                v6: false,
                kind: 3,
                code: 3,
                from: Some(target.ip())
            }
        );
        assert!(at >= sent_at);
        // Another probe's payload is passed over: nothing else comes.
        probe.send_to(b"IPDG\x02nonce-2", target).unwrap();
        let deadline = Instant::now() + Duration::from_millis(300);
        assert_eq!(
            watch
                .next((source_port, b"IPDG\x02nonce-9"), sent_at, deadline)
                .await,
            None
        );
    }
}
