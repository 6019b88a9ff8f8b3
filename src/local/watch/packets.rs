//! What one captured IP packet says about the watched port, and the tally of a watch:
//! arrivals per source, and the datagrams the port sent back with their source address.
//!
//! Pure: bytes in, counts out (the packet socket is `sys::PacketSocket`, driven by
//! `capture.rs`). Bytes from the network: any input is safe.

use super::report::Arrival;
use crate::model::Transport;
use pnet_packet::Packet as _;
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::ipv6::Ipv6Packet;
use pnet_packet::tcp::{TcpFlags, TcpPacket};
use pnet_packet::udp::UdpPacket;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// The transport header of one packet, as far as the watch cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// TCP or UDP.
    pub protocol: Transport,
    /// Its sender.
    pub source: IpAddr,
    /// Its destination.
    pub destination: IpAddr,
    /// Source port.
    pub source_port: u16,
    /// Destination port.
    pub destination_port: u16,
    /// TCP: SYN without ACK (a new connection, or its retransmission).
    pub syn: bool,
}

/// Reads an IP packet (IPv4 or IPv6, no extension headers) whose whole length was
/// `wire_len`; `None` for anything else (a packet socket also sees ARP and other link
/// protocols: an IPv4 header must carry its checksum and an IPv6 one its length), and for
/// the later fragments of a datagram (they carry no ports).
pub fn read(bytes: &[u8], wire_len: usize) -> Option<Seen> {
    match bytes.first()? >> 4 {
        4 => {
            let ip = Ipv4Packet::new(bytes)?;
            if ip.get_fragment_offset() != 0
                || ip.get_header_length() < 5
                || usize::from(ip.get_total_length()) > wire_len
                || pnet_packet::ipv4::checksum(&ip) != ip.get_checksum()
            {
                return None;
            }
            let next = ip.get_next_level_protocol();
            let header = usize::from(ip.get_header_length()) * 4;
            let payload = bytes.get(header..)?;
            transport(
                next,
                IpAddr::V4(ip.get_source()),
                IpAddr::V4(ip.get_destination()),
                payload,
            )
        }
        6 => {
            let ip = Ipv6Packet::new(bytes)?;
            if usize::from(ip.get_payload_length()) + 40 > wire_len {
                return None;
            }
            transport(
                ip.get_next_header(),
                IpAddr::V6(ip.get_source()),
                IpAddr::V6(ip.get_destination()),
                ip.payload(),
            )
        }
        _ => None,
    }
}

fn transport(
    next: pnet_packet::ip::IpNextHeaderProtocol,
    source: IpAddr,
    destination: IpAddr,
    payload: &[u8],
) -> Option<Seen> {
    let (protocol, source_port, destination_port, syn) = if next == IpNextHeaderProtocols::Tcp {
        let tcp = TcpPacket::new(payload)?;
        let flags = tcp.get_flags();
        let syn = flags & TcpFlags::SYN != 0 && flags & TcpFlags::ACK == 0;
        (Transport::Tcp, tcp.get_source(), tcp.get_destination(), syn)
    } else if next == IpNextHeaderProtocols::Udp {
        let udp = UdpPacket::new(payload)?;
        (
            Transport::Udp,
            udp.get_source(),
            udp.get_destination(),
            false,
        )
    } else {
        return None;
    };
    Some(Seen {
        protocol,
        source,
        destination,
        source_port,
        destination_port,
        syn,
    })
}

/// What a watch counted for one port. Counts are kept doubled: a packet between two of
/// this host's own addresses passes `lo` and is seen twice (leaving and arriving), each
/// sighting counting one half.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Per source: packets and SYNs (doubled), and the local addresses they were sent to.
    arrivals: BTreeMap<IpAddr, (u64, u64, BTreeSet<IpAddr>)>,
    /// Per destination address (doubled).
    to: BTreeMap<IpAddr, u64>,
    /// Packets sent from the port (doubled).
    sent: u64,
    /// Their source addresses.
    pub reply_sources: BTreeSet<IpAddr>,
}

impl Tally {
    /// Counts one packet if it is for (or from) `port` over `protocol`. `mine` are this
    /// host's addresses: a packet from one of them was sent by this host.
    pub fn count(&mut self, seen: &Seen, mine: &BTreeSet<IpAddr>, protocol: Transport, port: u16) {
        if seen.protocol != protocol {
            return;
        }
        let (from_me, to_me) = (
            mine.contains(&seen.source),
            mine.contains(&seen.destination),
        );
        let weight = if from_me && to_me { 1 } else { 2 };
        if seen.destination_port == port && (to_me || !from_me) {
            let entry = self.arrivals.entry(seen.source).or_default();
            entry.0 += weight;
            entry.1 += if seen.syn { weight } else { 0 };
            entry.2.insert(seen.destination);
            *self.to.entry(seen.destination).or_default() += weight;
        }
        if seen.source_port == port && from_me {
            self.sent += weight;
            self.reply_sources.insert(seen.source);
        }
    }

    /// Every packet that arrived for the port.
    pub fn arrived(&self) -> u64 {
        halve(self.arrivals.values().map(|a| a.0).sum())
    }

    /// SYNs that arrived.
    pub fn syns(&self) -> u64 {
        halve(self.arrivals.values().map(|a| a.1).sum())
    }

    /// Packets sent from the port.
    pub fn sent(&self) -> u64 {
        halve(self.sent)
    }

    /// Packets that arrived per local address.
    pub fn to(&self) -> BTreeMap<IpAddr, u64> {
        self.to.iter().map(|(a, n)| (*a, halve(*n))).collect()
    }

    /// The arrivals, most packets first (then by address).
    pub fn arrivals(&self) -> Vec<Arrival> {
        let mut out: Vec<Arrival> = self
            .arrivals
            .iter()
            .map(|(source, (packets, syns, to))| Arrival {
                source: *source,
                packets: halve(*packets),
                syns: halve(*syns),
                destinations: to.iter().copied().collect(),
            })
            .collect();
        out.sort_by(|a, b| b.packets.cmp(&a.packets).then(a.source.cmp(&b.source)));
        out
    }
}

/// A doubled count, halved (a sighting the capture missed rounds up).
const fn halve(n: u64) -> u64 {
    n.div_ceil(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4 header (20 bytes) and a transport header: UDP 8 bytes, TCP 20 with `flags`.
    fn v4(protocol: u8, from: [u8; 4], to: [u8; 4], sport: u16, dport: u16, flags: u8) -> Vec<u8> {
        let mut p = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, protocol, 0, 0];
        p.extend_from_slice(&from);
        p.extend_from_slice(&to);
        p.extend_from_slice(&sport.to_be_bytes());
        p.extend_from_slice(&dport.to_be_bytes());
        if protocol == 6 {
            p.extend_from_slice(&[0; 9]);
            p.push(flags);
            p.extend_from_slice(&[0; 6]);
        } else {
            p.extend_from_slice(&[0, 8, 0, 0]);
        }
        let len = u16::try_from(p.len()).unwrap().to_be_bytes();
        p[2..4].copy_from_slice(&len);
        let ip = Ipv4Packet::new(&p).unwrap();
        let sum = pnet_packet::ipv4::checksum(&ip).to_be_bytes();
        p[10..12].copy_from_slice(&sum);
        p
    }

    fn seen(p: &[u8]) -> Option<Seen> {
        read(p, p.len())
    }

    #[test]
    fn reads_tcp_syns_and_udp() {
        let syn = seen(&v4(
            6,
            [198, 51, 100, 2],
            [172, 16, 0, 10],
            40000,
            8000,
            0x02,
        ))
        .unwrap();
        assert_eq!(syn.protocol, Transport::Tcp);
        assert_eq!(syn.source.to_string(), "198.51.100.2");
        assert_eq!(
            (syn.source_port, syn.destination_port, syn.syn),
            (40000, 8000, true)
        );
        let syn_ack = seen(&v4(6, [1, 1, 1, 1], [2, 2, 2, 2], 8000, 40000, 0x12)).unwrap();
        assert!(!syn_ack.syn);
        let udp = seen(&v4(17, [1, 1, 1, 1], [2, 2, 2, 2], 5353, 53, 0)).unwrap();
        assert_eq!((udp.protocol, udp.destination_port), (Transport::Udp, 53));
        // ICMP, a later fragment, an ARP-like frame, nothing.
        assert_eq!(seen(&v4(1, [1, 1, 1, 1], [2, 2, 2, 2], 0, 0, 0)), None);
        let mut fragment = v4(17, [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0);
        fragment[7] = 1;
        assert_eq!(seen(&fragment), None);
        let mut bad_sum = v4(17, [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0);
        bad_sum[10] ^= 1;
        assert_eq!(seen(&bad_sum), None, "no IPv4 header");
        assert_eq!(seen(&[0, 1, 8, 0]), None);
        assert_eq!(seen(&[]), None);
    }

    #[test]
    fn tallies_arrivals_per_source_and_replies_per_address() {
        let mut t = Tally::default();
        let mine: BTreeSet<IpAddr> = ["172.16.0.10", "203.0.113.20", "127.0.0.1"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        let a = [198, 51, 100, 2];
        let b = [198, 51, 100, 3];
        let me = [172, 16, 0, 10];
        for packet in [
            v4(17, a, me, 40000, 7000, 0),
            v4(17, a, me, 40001, 7000, 0),
            v4(17, b, me, 40000, 7000, 0),
            v4(17, a, me, 40000, 7001, 0),
            v4(6, a, me, 40000, 7000, 0x02),
        ] {
            t.count(&seen(&packet).unwrap(), &mine, Transport::Udp, 7000);
        }
        let reply = seen(&v4(17, [203, 0, 113, 20], a, 7000, 40000, 0)).unwrap();
        t.count(&reply, &mine, Transport::Udp, 7000);
        // Over lo, to ourselves: each packet is seen twice and counts once.
        let lo = seen(&v4(17, [127, 0, 0, 1], [127, 0, 0, 1], 40000, 7000, 0)).unwrap();
        t.count(&lo, &mine, Transport::Udp, 7000);
        t.count(&lo, &mine, Transport::Udp, 7000);
        let arrivals = t.arrivals();
        assert_eq!(arrivals.len(), 3);
        assert_eq!(
            (arrivals[1].source.to_string(), arrivals[1].packets),
            ("127.0.0.1".into(), 1)
        );
        assert_eq!(
            (arrivals[0].source.to_string(), arrivals[0].packets),
            ("198.51.100.2".into(), 2)
        );
        assert_eq!(
            (arrivals[2].source.to_string(), arrivals[2].packets),
            ("198.51.100.3".into(), 1)
        );
        assert_eq!(
            arrivals[0].destinations,
            ["172.16.0.10".parse::<IpAddr>().unwrap()]
        );
        assert_eq!((t.arrived(), t.sent()), (4, 1));
        assert_eq!(
            t.reply_sources.iter().next().unwrap().to_string(),
            "203.0.113.20"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80)) {
            let _ = read(&bytes, bytes.len());
        }
    }
}
