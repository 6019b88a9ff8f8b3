//! `ipdiag::classify::parse_item` (address, CIDR or host name) on arbitrary text: never a
//! panic; an accepted item re-displays and re-parses to the same value; whatever the
//! standard library reads as an address, `parse_item` reads as the same address.
//! Run: `cargo +nightly fuzz run classify_item -- -max_total_time=60`.

use ipdiag::classify::{Item, parse_item};
use std::net::IpAddr;

/// The target's assertions on one input.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_item(text) {
        Ok(Item::Address(a)) => {
            assert_eq!(parse_item(&a.to_string()), Ok(Item::Address(a)), "{text:?}");
        }
        Ok(Item::Network(n)) => {
            assert_eq!(parse_item(&n.to_string()), Ok(Item::Network(n)), "{text:?}");
        }
        Ok(Item::Host(name)) => {
            assert_eq!(name, text.trim(), "a host is the trimmed token");
            assert!(!name.is_empty() && name.len() <= 254, "{name:?}");
            assert!(
                name.parse::<IpAddr>().is_err(),
                "an address read as a host: {name:?}"
            );
            assert_eq!(parse_item(name), Ok(Item::Host(name)));
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Ok(a) = text.trim().parse::<IpAddr>() {
        assert_eq!(
            parse_item(text),
            Ok(Item::Address(a)),
            "std reads {text:?} as {a}"
        );
    }
}
