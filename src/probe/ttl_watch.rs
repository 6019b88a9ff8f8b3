//! The TTLs `doctor` hears while it probes: of the ICMP errors about its probes and of the
//! TCP answers (SYN-ACK, RST) the probed addresses send, read from a packet socket
//! (`CAP_NET_RAW`; a connected socket never shows the TTL of what it receives). What they
//! mean is `diagnose::ttl`; without the capability nothing is heard and the diagnosis
//! says only what it said before.

use super::quoted;
use crate::diagnose::ttl::Ttls;
use crate::sys::PacketSocket;
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::ipv6::Ipv6Packet;
use pnet_packet::tcp::TcpPacket;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the thread looks at its stop flag.
const TICK: Duration = Duration::from_millis(100);

/// One packet's TTL, as far as the comparison cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// A TCP segment (a SYN-ACK, a RST).
    Answer {
        /// Its sender.
        from: IpAddr,
        /// Its source port.
        port: u16,
        /// The TTL (hop limit) it arrived with.
        ttl: u8,
    },
    /// An ICMP error about a packet of ours.
    Error {
        /// The quoted packet's destination.
        to: IpAddr,
        /// Its destination port.
        port: u16,
        /// Its transport.
        protocol: crate::model::Protocol,
        /// The TTL (hop limit) the error arrived with.
        ttl: u8,
    },
}

/// Reads one IP packet (as a cooked packet socket gives it); `None` for anything but a TCP
/// segment or an ICMP error quoting TCP or UDP. Bytes from the network: any are safe.
pub fn heard(bytes: &[u8]) -> Option<Heard> {
    let (source, next, ttl, payload, v6) = match bytes.first()? >> 4 {
        4 => {
            let ip = Ipv4Packet::new(bytes)?;
            let header = usize::from(ip.get_header_length()) * 4;
            if ip.get_fragment_offset() != 0 || header < 20 {
                return None;
            }
            (
                IpAddr::V4(ip.get_source()),
                ip.get_next_level_protocol(),
                ip.get_ttl(),
                bytes.get(header..)?,
                false,
            )
        }
        6 => {
            let ip = Ipv6Packet::new(bytes)?;
            (
                IpAddr::V6(ip.get_source()),
                ip.get_next_header(),
                ip.get_hop_limit(),
                bytes.get(40..)?,
                true,
            )
        }
        _ => return None,
    };
    if next == IpNextHeaderProtocols::Tcp {
        let tcp = TcpPacket::new(payload)?;
        return Some(Heard::Answer {
            from: source,
            port: tcp.get_source(),
            ttl,
        });
    }
    let icmp = if v6 {
        IpNextHeaderProtocols::Icmpv6
    } else {
        IpNextHeaderProtocols::Icmp
    };
    if next != icmp {
        return None;
    }
    let error = quoted::parse(v6, false, payload, source)?;
    Some(Heard::Error {
        to: error.destination.ip().to_canonical(),
        port: error.destination.port(),
        protocol: error.protocol,
        ttl,
    })
}

/// Adds one heard packet to the TTLs of the addresses probed (the first TTL of each kept).
pub fn record(ttls: &mut BTreeMap<IpAddr, Ttls>, heard: Heard) {
    match heard {
        Heard::Answer { from, port, ttl } => {
            if let Some(t) = ttls.get_mut(&from.to_canonical()) {
                t.answers.entry(port).or_insert(ttl);
            }
        }
        Heard::Error {
            to,
            port,
            protocol,
            ttl,
        } => {
            if let Some(t) = ttls.get_mut(&to) {
                t.errors.entry((port, protocol)).or_insert(ttl);
            }
        }
    }
}

/// A packet socket listening on its own thread while the probes run.
pub struct TtlWatch {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<BTreeMap<IpAddr, Ttls>>,
}

impl TtlWatch {
    /// Starts hearing the TTLs of `addresses`; `None` without a packet socket (no
    /// `CAP_NET_RAW`, or not Linux).
    pub fn start(addresses: &[IpAddr]) -> Option<Self> {
        let socket = PacketSocket::open(TICK).ok()?;
        let mut ttls: BTreeMap<IpAddr, Ttls> = addresses
            .iter()
            .map(|a| (a.to_canonical(), Ttls::default()))
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            // Headers and an ICMP error's quote are all a packet is read for.
            let mut buf = [0u8; 256];
            while !flag.load(Ordering::Relaxed) {
                match socket.next(&mut buf) {
                    Ok(Some(frame)) => {
                        if let Some(h) = buf.get(..frame.len).and_then(heard) {
                            record(&mut ttls, h);
                        }
                    }
                    Ok(None) => {}
                    Err(_) => break,
                }
            }
            ttls
        });
        Some(Self { stop, thread })
    }

    /// Stops it; what was heard, per address.
    pub fn stop(self) -> BTreeMap<IpAddr, Ttls> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Protocol;

    /// An IPv4 header (no options, checksum not filled) with `ttl`, `protocol`, `src`→`dst`.
    fn ipv4(ttl: u8, protocol: u8, src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
        let total = u16::try_from(20 + payload.len()).unwrap().to_be_bytes();
        let mut p = vec![
            0x45, 0, total[0], total[1], 0, 0, 0x40, 0, ttl, protocol, 0, 0,
        ];
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(payload);
        p
    }

    const PUBLIC: [u8; 4] = [203, 0, 113, 10];
    const CLIENT: [u8; 4] = [198, 51, 100, 2];

    #[test]
    fn a_syn_ack_gives_its_ports_ttl() {
        // 22 → 40000, SYN+ACK, data offset 5.
        let tcp = [
            0, 22, 0x9c, 0x40, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x12, 0xff, 0xff, 0, 0, 0, 0,
        ];
        let packet = ipv4(63, 6, PUBLIC, CLIENT, &tcp);
        assert_eq!(
            heard(&packet),
            Some(Heard::Answer {
                from: "203.0.113.10".parse().unwrap(),
                port: 22,
                ttl: 63
            })
        );
    }

    #[test]
    fn an_icmp_error_gives_the_quoted_destination_and_its_own_ttl() {
        // Admin prohibited (3/13) quoting our SYN 40000 → 203.0.113.10:8000.
        let quoted_tcp = [0x9c, 0x40, 0x1f, 0x40, 0, 0, 0, 1];
        let inner = ipv4(63, 6, CLIENT, PUBLIC, &quoted_tcp);
        let mut icmp = vec![3, 13, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&inner);
        let packet = ipv4(64, 1, PUBLIC, CLIENT, &icmp);
        let h = heard(&packet).unwrap();
        assert_eq!(
            h,
            Heard::Error {
                to: "203.0.113.10".parse().unwrap(),
                port: 8000,
                protocol: Protocol::Tcp,
                ttl: 64
            }
        );
        let mut ttls = BTreeMap::from([("203.0.113.10".parse().unwrap(), Ttls::default())]);
        record(&mut ttls, h);
        record(
            &mut ttls,
            Heard::Answer {
                from: "203.0.113.10".parse().unwrap(),
                port: 22,
                ttl: 63,
            },
        );
        // Another address's answers are not kept.
        record(
            &mut ttls,
            Heard::Answer {
                from: "192.0.2.1".parse().unwrap(),
                port: 22,
                ttl: 50,
            },
        );
        let t = &ttls[&"203.0.113.10".parse::<IpAddr>().unwrap()];
        assert_eq!(t.errors.get(&(8000, Protocol::Tcp)), Some(&64));
        assert_eq!(t.answers.len(), 1);
        assert_eq!(t.answers.get(&22), Some(&63));
    }

    #[test]
    fn anything_else_is_nothing() {
        assert_eq!(heard(&[]), None);
        assert_eq!(heard(&[0x45, 0, 0]), None);
        // An echo reply is no error.
        let packet = ipv4(64, 1, PUBLIC, CLIENT, &[0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(heard(&packet), None);
    }
}
