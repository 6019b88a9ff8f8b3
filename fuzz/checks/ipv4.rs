//! The IPv4 parsers (`ipdiag::classify::ipv4_parse::{parse_fast, parse_strict}`) on
//! arbitrary bytes: never a panic; both accept exactly the same language, and that language
//! is the canonical dotted quad, so an accepted address displays as the very input.
//! Run: `cargo +nightly fuzz run ipv4 -- -max_total_time=60`.

use ipdiag::classify::ipv4_parse::{parse_fast, parse_strict};

/// The target's assertions on one input.
pub fn run(data: &[u8]) {
    let fast = parse_fast(data);
    if let Some(a) = fast {
        assert_eq!(a.to_string().as_bytes(), data, "not canonical");
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let strict = parse_strict(text);
        assert_eq!(
            fast,
            strict.clone().ok(),
            "fast and strict disagree on {text:?}"
        );
        // The standard library refuses leading zeros too: the same language.
        assert_eq!(fast, text.parse().ok(), "std disagrees on {text:?}");
        if let Err(problem) = strict {
            let _ = problem.to_string();
        }
    }
}
