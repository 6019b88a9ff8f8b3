//! The responder's parsers on arbitrary bytes: never a panic, never a reply larger than
//! the datagram that caused it, and every reply parses back to the request's nonce, the
//! observed source and the received size (with the tally the server gave, for a session).
//! The input is also sealed with a secret (its tag written over bytes 16-31) and checked
//! against a server with that secret and the input's own clock: a tagged answer hands the
//! server exactly that tag, a replay is refused, and any one byte changed after sealing
//! is refused.
//! Run: `cargo +nightly fuzz run responder -- -max_total_time=60`.

use ipdiag::wire::datagram;
use ipdiag::wire::responder::{
    Admission, Key, Refusal, TIME_AT, Tally, Valid, answer, parse_banner, parse_reply,
    parse_session_reply, seal,
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
        for token in [
            None,
            Some(Key {
                secret: b"k",
                now: 0,
            }),
        ] {
            for admission in [
                Admission::Answer(None),
                Admission::Answer(Some(tally)),
                Admission::Withhold,
            ] {
                let mut asked = false;
                let result = answer(data, source, token, |_: Valid| {
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
    sealed(data, sources[0]);
    if let Some(session) = parse_session_reply(data) {
        assert_eq!(parse_reply(data), Some(session.reply));
    }
    let _ = parse_banner(data);
}

/// The tagged path: `data` sealed with a secret, the server's clock at the input's own.
fn sealed(data: &[u8], source: SocketAddr) {
    let secret = b"fuzz-secret";
    let mut request = data.to_vec();
    seal(&mut request, secret);
    let now = request
        .get(TIME_AT..TIME_AT + 4)
        .and_then(|t| t.try_into().ok())
        .map_or(0, |t| u64::from(u32::from_be_bytes(t)));
    let key = Some(Key { secret, now });
    let mut handed = None;
    let first = answer(&request, source, key, |v: Valid| {
        handed = Some(v.tag);
        Admission::Answer(None)
    });
    if let Ok(reply) = &first {
        assert!(reply.len() <= request.len(), "amplified");
        assert_eq!(
            handed.flatten().map(|t| t.to_vec()),
            request.get(16..32).map(<[u8]>::to_vec),
            "the server is handed the request's tag"
        );
        let replay = answer(&request, source, key, |_| Admission::Replayed);
        assert_eq!(replay, Err(Refusal::Replayed));
        for at in [0, 8, 16, 31, 32, request.len() - 1] {
            let mut changed = request.clone();
            changed[at] ^= 0x5a;
            assert!(
                answer(&changed, source, key, |_| Admission::Answer(None)).is_err(),
                "byte {at} changed after sealing"
            );
        }
    }
}
