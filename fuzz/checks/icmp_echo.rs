//! ICMP echo (`ipdiag::probe::icmp`). The reply matcher (`is_reply`) is private, so this
//! fuzzes what is public: the Internet checksum on arbitrary bytes (never a panic; data
//! with its checksum appended sums to zero; odd lengths are padded with a zero byte) and
//! echo requests built from the input (the layout, and a v4 checksum that verifies).
//! Run: `cargo +nightly fuzz run icmp_echo -- -max_total_time=60`.

use ipdiag::probe::icmp::{checksum, echo_request};

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

    if let [flag, id_hi, id_lo, seq_hi, seq_lo, ..] = *data {
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
    }
}
