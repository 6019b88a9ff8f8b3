//! The responder's parsers on arbitrary bytes: never a panic, never a reply larger than
//! the datagram that caused it. Run: `cargo +nightly fuzz run responder -- -max_total_time=60`.
#![no_main]

use ipdiag::wire::responder::{answer, parse_banner, parse_reply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = "198.51.100.2:40000".parse().expect("a literal address");
    for token in [None, Some(&b"k"[..])] {
        if let Ok(reply) = answer(data, source, token) {
            assert!(reply.len() <= data.len(), "amplified");
        }
    }
    let _ = parse_reply(data);
    let _ = parse_banner(data);
});
