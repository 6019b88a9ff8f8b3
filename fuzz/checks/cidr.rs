//! CIDR parsing (`ipdiag::classify::parse_item` on a token with a `/`) on arbitrary text:
//! never a panic; an accepted network keeps its host bits, has a prefix in range, and
//! re-displays and re-parses to the same value; what `ipnet` reads as a network (with an
//! address without leading zeros), `parse_item` reads as the same network.
//! Run: `cargo +nightly fuzz run cidr -- -max_total_time=60`.

use ipdiag::classify::{Item, parse_item};
use ipnet::IpNet;

/// The target's assertions on one input.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Every input is a CIDR attempt: a token without a '/' gets one in the middle.
    let owned;
    let token = if text.contains('/') {
        text
    } else {
        let mut at = text.len() / 2;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        owned = format!("{}/{}", &text[..at], &text[at..]);
        &owned
    };
    match parse_item(token) {
        Ok(Item::Network(n)) => {
            assert!(n.prefix_len() <= n.max_prefix_len(), "{token:?}");
            assert!(n.contains(&n.addr()), "{token:?}");
            let shown = n.to_string();
            assert_eq!(
                parse_item(&shown),
                Ok(Item::Network(n)),
                "{token:?} shown as {shown}"
            );
            assert_eq!(
                shown.parse::<IpNet>(),
                Ok(n),
                "ipnet reads {shown} otherwise"
            );
        }
        Ok(other) => panic!("{token:?} has a '/' but parsed as {other:?}"),
        Err(e) => {
            let _ = e.to_string();
        }
    }
    // ipnet's own address reader takes leading zeros (`010.1.1.1/8`), which ipdiag refuses
    // on purpose; with an address the standard library accepts, both must agree.
    let trimmed = token.trim();
    if let (Ok(n), Some((addr, _))) = (trimmed.parse::<IpNet>(), trimmed.split_once('/'))
        && addr.parse::<std::net::IpAddr>().is_ok()
    {
        assert_eq!(
            parse_item(token),
            Ok(Item::Network(n)),
            "ipnet reads {token:?} as {n}"
        );
    }
}
