//! The netlink `sock_diag` reader (`ipdiag::local::skmem::parse`), which gives `local` each
//! UDP socket's receive buffer: any datagram, never a panic; no more socket records than
//! whole records fit in the bytes; a datagram cut short yields the records before the cut. Run: `cargo +nightly fuzz run sock_diag -- -max_total_time=60`.

use ipdiag::local::skmem::parse;

/// A netlink header (16 bytes), `inet_diag_msg` (72) and the memory attribute (4 + 36).
const SMALLEST_RECORD: usize = 16 + 72 + 40;

/// The target's assertions on one input.
pub fn run(data: &[u8]) {
    let mut out = Vec::new();
    let _ = parse(data, &mut out);
    assert!(out.len() <= data.len() / SMALLEST_RECORD, "{out:?}");
    // Messages are read in order: a datagram cut short yields the records before the cut.
    let mut first = Vec::new();
    let _ = parse(&data[..data.len() / 2], &mut first);
    assert!(out.starts_with(&first), "{first:?} then {out:?}");
}
