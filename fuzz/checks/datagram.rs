//! The probe datagram header (`ipdiag::wire::datagram::parse`) on arbitrary bytes: never a
//! panic; a parsed header is what the first 16 bytes say (version 1, or 2 for a tagged
//! request), and a version 1 probe re-encodes to them.
//! Run: `cargo +nightly fuzz run datagram -- -max_total_time=60`.

use ipdiag::wire::datagram::{HEADER_LEN, Kind, MAGIC, VERSION, VERSION_TAGGED, parse, probe};

/// The target's assertions on one input.
pub fn run(data: &[u8]) {
    let Some(header) = parse(data) else {
        return;
    };
    assert!(data.len() >= HEADER_LEN);
    assert_eq!(data[..4], MAGIC);
    assert!(data[4] == VERSION || data[4] == VERSION_TAGGED);
    assert_eq!(header.version, data[4]);
    assert_eq!(header.flags, u16::from_be_bytes([data[6], data[7]]));
    let mut nonce = [0u8; 8];
    nonce.copy_from_slice(&data[8..16]);
    assert_eq!(header.nonce, u64::from_be_bytes(nonce));
    match header.kind {
        Kind::Probe if header.flags == 0 && header.version == VERSION => {
            assert_eq!(probe(header.nonce)[..], data[..HEADER_LEN]);
        }
        Kind::Probe => assert_eq!(data[5], 1),
        Kind::Reply => assert_eq!(data[5], 2),
    }
}
