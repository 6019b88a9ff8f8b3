//! The responder's token on loopback: a captured tagged request is answered once, so its
//! replay from another address (127.0.0.x) is refused, as is a padded copy; an empty or
//! short secret is refused before anything is bound (exit 2, one line, never echoed).

use super::run;
use ipdiag::wire::responder::{parse_reply, request};
use std::net::UdpSocket;
use std::time::Duration;

const SECRET: &str = "s3cret-k3y";

/// Sends `datagram` from `source` and returns the reply's size, if one comes.
fn reply_to(datagram: &[u8], source: &str, port: u16) -> Option<usize> {
    let socket = UdpSocket::bind((source, 0)).ok()?;
    socket.connect(("127.0.0.1", port)).ok()?;
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .ok()?;
    socket.send(datagram).ok()?;
    let mut buf = [0u8; 128];
    let n = socket.recv(&mut buf).ok()?;
    parse_reply(&buf[..n]).map(|_| n)
}

#[test]
fn a_captured_request_is_answered_once() {
    let args = format!("--udp 0 --token {SECRET} --rate 1000");
    let (server, log, _, port) = super::serve_slowloris::start("", &args);
    let captured = request(7, Some(SECRET.as_bytes()));
    assert_eq!(
        reply_to(&captured, "127.0.0.2", port),
        Some(25),
        "the first copy"
    );
    let replays = (3..8)
        .filter(|host| reply_to(&captured, &format!("127.0.0.{host}"), port).is_some())
        .count();
    let mut padded = captured.clone();
    padded.resize(1400, 0);
    let mut changed = request(8, Some(SECRET.as_bytes()));
    changed[40] ^= 1;
    eprintln!("tokens: {replays} of 5 replays from other addresses answered");
    assert_eq!(replays, 0);
    assert_eq!(
        reply_to(&padded, "127.0.0.9", port),
        None,
        "padded after tagging"
    );
    assert_eq!(
        reply_to(&changed, "127.0.0.9", port),
        None,
        "a byte past 16 changed"
    );
    drop(server);
    // Only this test's sources: other tests sweep every UDP port of 127.0.0.1 from
    // 127.0.0.1 meanwhile, and their datagrams reach this server too (as bad tokens).
    let lines: Vec<String> = log
        .iter()
        .filter(|l| (2..=9).any(|host| l.contains(&format!("udp 127.0.0.{host}:"))))
        .collect();
    let ending = |words: &str| lines.iter().filter(|l| l.ends_with(words)).count();
    assert_eq!(
        (
            ending("replied (25 bytes)"),
            ending("no reply: replayed tag"),
            ending("no reply: bad token"),
            lines.len()
        ),
        (1, 5, 2, 8),
        "{lines:?}"
    );
}

#[test]
fn an_empty_or_short_secret_is_refused() {
    for (secret, bytes) in [("", 0), ("1234567", 7)] {
        for args in [
            &["serve", "--udp", "0", "--token", secret][..],
            &["probe", "127.0.0.1:9", "--udp", "--token", secret][..],
        ] {
            let (code, stdout, stderr) = run(args);
            assert_eq!(
                (code, stdout.as_str(), stderr),
                (
                    2,
                    "",
                    format!(
                        "ipdiag: error: --token: the secret is {bytes} bytes; give at least 8 (a short one is guessed from one captured probe)\n"
                    )
                ),
                "{args:?}"
            );
        }
    }
}
