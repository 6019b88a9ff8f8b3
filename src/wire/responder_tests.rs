use super::*;
use proptest::prelude::*;

fn source() -> SocketAddr {
    "198.51.100.2:40000".parse().unwrap()
}

/// The server's key for `token`, with its clock now.
fn key(token: Option<&[u8]>) -> Option<Key<'_>> {
    token.map(|secret| Key {
        secret,
        now: unix_now(),
    })
}

/// A server without sessions or a rate limit.
fn plain(_: Valid) -> Admission {
    Admission::Answer(None)
}

#[test]
fn round_trip_without_and_with_a_token() {
    for token in [None, Some(&b"s3cret"[..])] {
        let request = request(42, token);
        assert_eq!(request.len(), REQUEST_LEN);
        let reply = answer(&request, source(), key(token), plain).unwrap();
        assert_eq!(reply.len(), 25);
        assert_eq!(
            parse_reply(&reply),
            Some(Reply {
                nonce: 42,
                observed: source(),
                received: 48
            })
        );
    }
    let v6: SocketAddr = "[2001:db8::7]:5353".parse().unwrap();
    let reply = answer(&request(9, None), v6, None, plain).unwrap();
    assert_eq!(reply.len(), 37);
    assert_eq!(parse_reply(&reply).map(|r| r.observed), Some(v6));
}

/// `smallest_answered` is where `answer` starts answering a padded (or cut) request.
#[test]
fn the_smallest_request_answered() {
    let v6: SocketAddr = "[2001:db8::7]:5353".parse().unwrap();
    for (from, token, smallest) in [
        (source(), None, 25),
        (source(), Some(&b"s3cret"[..]), 48),
        (v6, None, 37),
        (v6, Some(&b"s3cret"[..]), 48),
    ] {
        assert_eq!(
            smallest_answered(from.is_ipv6(), token.is_some()),
            smallest,
            "{from} {token:?}"
        );
        let mut bytes = request(3, token);
        bytes.truncate(smallest);
        assert!(
            answer(&bytes, from, key(token), plain).is_ok(),
            "{from} {token:?}"
        );
        bytes.truncate(smallest - 1);
        assert!(
            answer(&bytes, from, key(token), plain).is_err(),
            "{from} {token:?}"
        );
    }
}

#[test]
fn refusals() {
    let token = Some(&b"s3cret"[..]);
    assert_eq!(
        answer(&request(1, None), source(), key(token), plain),
        Err(Refusal::BadToken)
    );
    assert_eq!(
        answer(&request(1, Some(b"other")), source(), key(token), plain),
        Err(Refusal::BadToken)
    );
    let mut forged = request(1, token);
    forged[8] ^= 1;
    assert_eq!(
        answer(&forged, source(), key(token), plain),
        Err(Refusal::BadToken),
        "nonce changed after tagging"
    );
    assert_eq!(
        answer(b"hello", source(), None, plain),
        Err(Refusal::NotAProbe)
    );
    let mut wrong_magic = request(1, None);
    wrong_magic[0] = b'X';
    assert_eq!(
        answer(&wrong_magic, source(), None, plain),
        Err(Refusal::NotAProbe)
    );
    let reply = reply(1, source(), 48);
    assert_eq!(
        answer(&reply, source(), None, plain),
        Err(Refusal::NotAProbe),
        "replies are not answered"
    );
    // The old 16-byte probe (and any short one) is too small for a reply: no answer.
    assert_eq!(
        answer(&datagram::probe(1), source(), None, plain),
        Err(Refusal::TooSmall)
    );
    assert_eq!(
        answer(&request(1, None)[..24], source(), None, plain),
        Err(Refusal::TooSmall)
    );
}

#[test]
fn echoes_and_truncated_replies_are_not_replies() {
    assert_eq!(
        parse_reply(&request(5, None)),
        None,
        "an echo server's reflection"
    );
    let reply = reply(5, source(), 48);
    for n in 0..reply.len() {
        assert_eq!(parse_reply(&reply[..n]), None, "truncated at {n}");
    }
}

#[test]
fn banner_round_trip() {
    assert_eq!(banner(source()), "IPDG/1 tcp observed=198.51.100.2:40000\n");
    assert_eq!(parse_banner(banner(source()).as_bytes()), Some(source()));
    let v6: SocketAddr = "[2001:db8::7]:5353".parse().unwrap();
    assert_eq!(parse_banner(banner(v6).as_bytes()), Some(v6));
    assert_eq!(parse_banner(b"SSH-2.0-OpenSSH_9.6\r\n"), None);
}

/// A server that counts and answers everything, with the largest possible tally.
fn counting(valid: Valid) -> Admission {
    Admission::Answer(valid.session.map(|_| Tally {
        received: u32::MAX,
        withheld: u32::MAX,
    }))
}

fn session(seq: u32, tally_only: bool) -> Session {
    Session {
        id: 0x0123_4567_89ab_cdef,
        seq,
        tally_only,
    }
}

#[test]
fn session_request_layout() {
    let bytes = session_request(7, None, Some(session(0x0102_0304, false)));
    assert_eq!(bytes.len(), REQUEST_LEN);
    assert_eq!(&bytes[6..8], &FLAG_SESSION.to_be_bytes());
    assert_eq!(&bytes[16..32], &[0; 16], "no tag without a token");
    assert_eq!(
        &bytes[32..48],
        &[
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 1, 2, 3, 4, 0, 0, 0, 0
        ]
    );
    let tally = session_request(7, Some(b"k"), Some(session(9, true)));
    assert_eq!(
        &tally[6..8],
        &(FLAG_TAGGED | FLAG_SESSION | FLAG_TALLY).to_be_bytes()
    );
    assert_eq!(request(7, None), session_request(7, None, None));
}

#[test]
fn the_ledger_sees_the_session_and_the_reply_carries_its_tally() {
    for (token, observed, len) in [
        (None, source(), 33),
        (Some(&b"k"[..]), "[2001:db8::7]:5353".parse().unwrap(), 45),
    ] {
        let request = session_request(11, token, Some(session(5, false)));
        let mut seen = None;
        let reply = answer(&request, observed, key(token), |v: Valid| {
            seen = v.session;
            Admission::Answer(Some(Tally {
                received: 300,
                withheld: 2,
            }))
        })
        .unwrap();
        assert_eq!(seen, Some(session(5, false)));
        assert_eq!(reply.len(), len);
        assert!(reply.len() <= request.len());
        let parsed = parse_session_reply(&reply).unwrap();
        assert_eq!(
            parsed.tally,
            Some(Tally {
                received: 300,
                withheld: 2
            })
        );
        assert!(!parsed.tally_only);
        // An old client reads the same reply as before and ignores the tally.
        assert_eq!(
            parse_reply(&reply),
            Some(Reply {
                nonce: 11,
                observed,
                received: 48
            })
        );
    }
    let tally = session_request(12, None, Some(session(0, true)));
    let reply = answer(&tally, source(), None, counting).unwrap();
    assert!(parse_session_reply(&reply).unwrap().tally_only);
}

#[test]
fn withheld_short_and_old_style_session_requests() {
    let request = session_request(1, None, Some(session(1, false)));
    assert_eq!(
        answer(&request, source(), None, |_| Admission::Withhold),
        Err(Refusal::RateLimited)
    );
    // Too short to hold its session fields: not a valid request, never counted.
    let mut asked = false;
    let short = answer(&request[..40], source(), None, |_| {
        asked = true;
        Admission::Answer(None)
    });
    assert_eq!(short, Err(Refusal::NotAProbe));
    assert!(!asked, "junk is not counted");
    // A server without a session table answers the old way.
    let reply = answer(&request, source(), None, plain).unwrap();
    assert_eq!(reply.len(), 25);
    assert_eq!(parse_session_reply(&reply).unwrap().tally, None);
    // A plain reply never becomes a session reply, a cut session reply is no reply.
    let full = answer(&request, source(), None, counting).unwrap();
    assert_eq!(parse_session_reply(&full[..full.len() - 1]), None);
}

proptest! {
    /// Whatever arrives, the answer is never larger than what arrived, even when the
    /// server counts the largest tally: random bytes, and valid headers with any flags
    /// and any length.
    #[test]
    fn never_amplifies(
        data in proptest::collection::vec(any::<u8>(), 0..96),
        flags in any::<u16>(),
        valid in any::<bool>(),
        tagged in any::<bool>(),
    ) {
        let token = tagged.then_some(&b"k"[..]);
        let mut data = data;
        if valid && data.len() >= HEADER_LEN {
            let mut header = datagram::probe(1);
            header[6..8].copy_from_slice(&flags.to_be_bytes());
            data[..HEADER_LEN].copy_from_slice(&header);
        }
        for observed in [source(), "[2001:db8::1]:1".parse().unwrap()] {
            if let Ok(reply) = answer(&data, observed, key(token), counting) {
                prop_assert!(reply.len() <= data.len());
            }
        }
        let _ = parse_reply(&data);
        let _ = parse_session_reply(&data);
        let _ = parse_banner(&data);
    }

    /// Valid requests of any size at or above the minimum are answered, and never
    /// with more bytes than they had.
    #[test]
    fn valid_requests_are_answered_within_their_size(
        nonce in any::<u64>(),
        extra in 0usize..64,
        seq in proptest::option::of(any::<u32>()),
    ) {
        let mut data = session_request(nonce, None, seq.map(|s| session(s, false)));
        data.resize(REQUEST_LEN + extra, 0);
        let reply = answer(&data, "[2001:db8::1]:1".parse().unwrap(), None, counting).unwrap();
        prop_assert!(reply.len() <= data.len());
        let parsed = parse_session_reply(&reply);
        prop_assert_eq!(parsed.map(|r| r.reply.nonce), Some(nonce));
        prop_assert_eq!(parsed.and_then(|r| r.tally).is_some(), seq.is_some());
    }
}

/// The tag covers every byte but itself and the clock: a changed or padded request is
/// refused, as are a stale clock, version 1's tag and a replay.
#[test]
fn the_tag_binds_the_whole_request_and_its_time() {
    let secret = &b"s3cret-k3y"[..];
    let now = 1_800_000_000;
    let server = Some(Key { secret, now });
    let fresh = session_request_at(1, Some(secret), Some(session(3, false)), now);
    assert_eq!(fresh[4], VERSION_TAGGED);
    let mut tag = None;
    assert!(
        answer(&fresh, source(), server, |v| {
            tag = v.tag;
            Admission::Answer(None)
        })
        .is_ok()
    );
    assert_eq!(
        tag.map(|t| t.to_vec()),
        fresh.get(16..32).map(<[u8]>::to_vec)
    );
    for at in [0, 8, 32, 40, 44, 47] {
        let mut changed = fresh.clone();
        changed[at] ^= 1;
        let refused = answer(&changed, source(), server, plain);
        assert!(
            matches!(
                refused,
                Err(Refusal::BadToken | Refusal::OldTag | Refusal::NotAProbe)
            ),
            "byte {at}: {refused:?}"
        );
    }
    let mut padded = fresh.clone();
    padded.resize(1400, 0);
    assert_eq!(
        answer(&padded, source(), server, plain),
        Err(Refusal::BadToken)
    );
    seal(&mut padded, secret);
    assert!(
        answer(&padded, source(), server, plain).is_ok(),
        "sealed at its size"
    );
    for (skew, ok) in [(WINDOW_SECS, true), (WINDOW_SECS + 1, false)] {
        for clock in [now - skew, now + skew] {
            let request = session_request_at(2, Some(secret), None, clock);
            let result = answer(&request, source(), server, plain);
            assert_eq!(result.is_ok(), ok, "{skew} s: {result:?}");
            if !ok {
                assert_eq!(result, Err(Refusal::Stale));
            }
        }
    }
    let mut old = fresh.clone();
    old[4] = 1;
    assert_eq!(answer(&old, source(), server, plain), Err(Refusal::OldTag));
    assert_eq!(
        answer(&fresh, source(), server, |_| Admission::Replayed),
        Err(Refusal::Replayed)
    );
    // A server without a token answers a tagged request as any other.
    assert!(answer(&fresh, source(), None, plain).is_ok());
}

#[test]
fn a_delayed_request_hands_its_delay_to_the_admission_and_is_answered_as_any_other() {
    let secret: &[u8] = b"s3cret-k3y";
    for token in [None, Some(secret)] {
        let request = delayed_request(5, token, Duration::from_millis(16_500));
        assert_eq!(request.len(), REQUEST_LEN);
        let mut asked = None;
        let reply = answer(&request, source(), key(token), |valid| {
            asked = Some(valid.delay);
            Admission::Answer(None)
        })
        .unwrap();
        assert_eq!(asked, Some(Some(Duration::from_millis(16_500))));
        let seen = parse_reply(&reply).unwrap();
        assert_eq!((seen.nonce, seen.observed), (5, source()));
    }
    // No delay flag: no delay.
    let mut asked = None;
    answer(&request(6, None), source(), None, |valid| {
        asked = Some(valid.delay);
        Admission::Answer(None)
    })
    .unwrap();
    assert_eq!(asked, Some(None));
    // Asked for longer than the responder holds a reply, clamped by the client…
    let long = delayed_request(7, None, Duration::from_secs(3600));
    let mut asked = None;
    answer(&long, source(), None, |valid| {
        asked = valid.delay;
        Admission::Answer(None)
    })
    .unwrap();
    assert_eq!(asked, Some(MAX_DELAY));
    // …and refused by the server when a client does not clamp it.
    let mut over = long.clone();
    over[SESSION_AT..SESSION_AT + 4].copy_from_slice(&180_001u32.to_be_bytes());
    assert_eq!(
        answer(&over, source(), None, plain),
        Err(Refusal::NotAProbe)
    );
    // A delay and a session share their bytes: both flags make no valid request.
    let mut both = long;
    both[7] |= u8::try_from(FLAG_SESSION).unwrap();
    assert_eq!(
        answer(&both, source(), None, plain),
        Err(Refusal::NotAProbe)
    );
}
