//! `ipdiag::wire::payloads::parse_payload` (`--payload`: `0x` and hex, or text) on
//! arbitrary text: never a panic; text without `0x` is taken byte for byte; hex gives one
//! byte per two digits; an accepted payload written back as hex re-parses to the same bytes.
//! Run: `cargo +nightly fuzz run payload -- -max_total_time=60`.

use ipdiag::wire::payloads::{PayloadChoice, parse_payload, payload_for};
use std::fmt::Write;

/// The target's assertions on one input.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let hex = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"));
    match parse_payload(text) {
        Ok(PayloadChoice::Custom(bytes)) => {
            match hex {
                None => assert_eq!(bytes, text.as_bytes()),
                Some(digits) => assert_eq!(bytes.len() * 2, digits.len(), "{text:?}"),
            }
            let mut written = String::from("0x");
            for b in &bytes {
                let _ = write!(written, "{b:02x}");
            }
            assert_eq!(
                parse_payload(&written),
                Ok(PayloadChoice::Custom(bytes.clone()))
            );
            let choice = PayloadChoice::Custom(bytes.clone());
            let (_, sent) = payload_for(&choice, 7890, 1, None);
            assert_eq!(sent, bytes);
        }
        Ok(PayloadChoice::Auto) => panic!("{text:?} parsed as Auto"),
        Err(e) => {
            assert!(hex.is_some(), "{text:?} is not hex, yet refused: {e}");
            let _ = e.to_string();
        }
    }
}
