//! The `/proc/net/snmp` and `/proc/net/snmp6` readers (`ipdiag::local::snmp::{parse_snmp,
//! parse_snmp6}`) on arbitrary text: never a panic.
//! Run: `cargo +nightly fuzz run snmp -- -max_total_time=60`.

use ipdiag::local::snmp::{parse_snmp, parse_snmp6};

/// The target's assertions on one input.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(counters) = parse_snmp(text) {
        let _ = format!("{counters:?}");
    }
    if let Some(counters) = parse_snmp6(text) {
        let _ = format!("{counters:?}");
    }
}
