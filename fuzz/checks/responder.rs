//! The responder's parsers on arbitrary bytes: never a panic, never a reply larger than
//! the datagram that caused it, and every reply parses back to the request's nonce, the
//! observed source and the received size (with the tally the server gave, for a session).
//! Run: `cargo +nightly fuzz run responder -- -max_total_time=60`.

use ipdiag::wire::datagram;
use ipdiag::wire::responder::{
    Admission, Tally, answer, parse_banner, parse_reply, parse_session_reply,
};
use std::net::SocketAddr;

/// The target's assertions on one input.
pub fn run(data: &[u8]) {
    let sources: [SocketAddr; 2] = [
        "198.51.100.2:40000".parse().expect("a literal address"),
        "[2001:db8::2]:40000".parse().expect("a literal address"),
    ];
    let tally = Tally {
        received: 7,
        withheld: 2,
    };
    for source in sources {
        for token in [None, Some(&b"k"[..])] {
            for admission in [
                Admission::Answer(None),
                Admission::Answer(Some(tally)),
                Admission::Withhold,
            ] {
                let mut asked = false;
                let result = answer(data, source, token, |_| {
                    asked = true;
                    admission
                });
                let Ok(reply) = result else {
                    continue;
                };
                assert!(asked, "answered without asking admission");
                assert!(reply.len() <= data.len(), "amplified");
                let parsed = parse_session_reply(&reply).expect("a reply parses");
                let nonce = datagram::parse(data).expect("a probe").nonce;
                assert_eq!(parsed.reply.nonce, nonce);
                assert_eq!(parsed.reply.observed, source);
                let received = u16::try_from(data.len()).unwrap_or(u16::MAX);
                assert_eq!(parsed.reply.received, received);
                assert_eq!(parse_reply(&reply), Some(parsed.reply));
                if parsed.tally.is_some() {
                    assert_eq!(parsed.tally, Some(tally));
                }
            }
        }
    }
    if let Some(session) = parse_session_reply(data) {
        assert_eq!(parse_reply(data), Some(session.reply));
    }
    let _ = parse_banner(data);
}
