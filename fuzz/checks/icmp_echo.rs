//! ICMP echo (`ipdiag::probe::icmp`): the Internet checksum on arbitrary bytes (never a
//! panic; data with its checksum appended sums to zero; odd lengths are padded with a zero
//! byte), echo requests built from the input (the layout, and a v4 checksum that verifies),
//! and the reply matcher `is_reply` on arbitrary bytes read by every kind of socket (never
//! a panic; a match is an echo reply of that family carrying our sequence number) and on a
//! real reply behind an IPv4 header of any length.
//! Run: `cargo +nightly fuzz run icmp_echo -- -max_total_time=60`.

use ipdiag::probe::icmp::{Delivery, Kind, checksum, echo_request, is_reply};

/// The target's assertions on one input.
pub fn run(data: &[u8]) {
    let sum = checksum(data);
    let mut padded = data.to_vec();
    if padded.len() % 2 == 1 {
        padded.push(0);
    }
    assert_eq!(checksum(&padded), sum, "zero padding changed the checksum");
    padded.extend_from_slice(&sum.to_be_bytes());
    assert_eq!(
        checksum(&padded),
        0,
        "data and its checksum do not sum to zero"
    );

    if let [flag, id_hi, id_lo, seq_hi, seq_lo, ref rest @ ..] = *data {
        let v6 = flag & 1 == 1;
        let (id, seq) = (
            u16::from_be_bytes([id_hi, id_lo]),
            u16::from_be_bytes([seq_hi, seq_lo]),
        );
        let packet = echo_request(v6, id, seq);
        assert_eq!(packet.len(), 24);
        assert_eq!(packet[..2], [if v6 { 128 } else { 8 }, 0]);
        assert_eq!(packet[4..8], [id_hi, id_lo, seq_hi, seq_lo]);
        if !v6 {
            assert_eq!(checksum(&packet), 0, "the v4 checksum does not verify");
        }
        replies(id, seq, rest, flag >> 1);
    }
}

/// `is_reply` on the rest of the input as it stands, and on our reply wrapped as a raw
/// IPv4 socket (and macOS' ICMP datagram socket) delivers it (a header of `ihl` 32-bit
/// words, 5 to 15).
fn replies(id: u16, seq: u16, rest: &[u8], ihl: u8) {
    for v6 in [false, true] {
        for delivery in [Delivery::Filtered, Delivery::Unfiltered, Delivery::Raw] {
            let kind = Kind { v6, delivery };
            if is_reply(kind, id, seq, rest) {
                let header = if delivery != Delivery::Filtered && !v6 {
                    usize::from(rest[0] & 0x0f) * 4
                } else {
                    0
                };
                let icmp = &rest[header..];
                assert_eq!(icmp[0], if v6 { 129 } else { 0 }, "{kind:?}");
                assert_eq!(u16::from_be_bytes([icmp[6], icmp[7]]), seq, "{kind:?}");
            }
        }
    }
    let mut reply = echo_request(false, id, seq);
    reply[0] = 0;
    let ihl = 5 + ihl % 11;
    let mut datagram = vec![0u8; usize::from(ihl) * 4];
    datagram[0] = 0x40 | ihl;
    datagram.extend_from_slice(&reply);
    for delivery in [Delivery::Unfiltered, Delivery::Raw] {
        let v4 = Kind {
            v6: false,
            delivery,
        };
        assert!(is_reply(v4, id, seq, &datagram), "ihl {ihl}");
        assert!(!is_reply(v4, id.wrapping_add(1), seq, &datagram));
        assert!(!is_reply(v4, id, seq.wrapping_add(1), &datagram));
    }
}
