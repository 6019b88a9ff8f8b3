//! The responder protocol, version 1 (README "The responder protocol"): what `probe` sends
//! to a UDP port, what `ipdiag serve` answers, and the one line it writes on a TCP accept.
//!
//! ```text
//! request (client → server), 48 bytes:
//!   0  16  header: "IPDG", version 1, kind 1 (probe), flags, nonce   (datagram.rs)
//!  16  16  HMAC-SHA256(token, header) truncated to 16 bytes when flags & 1, else zeros
//!  32  16  zeros: room, so that the reply is never larger than the request
//! reply (server → client), 25 bytes (IPv4) or 37 bytes (IPv6):
//!   0  16  header: "IPDG", version 1, kind 2 (reply), flags 0, the request's nonce
//!  16   1  family of the observed source: 4 or 6
//!  17   2  observed source port, big-endian
//!  19 4|16 observed source address
//!  ..   2  bytes of the request the server received, big-endian
//! TCP, on accept: "IPDG/1 tcp observed=ADDRESS:PORT\n" (IPv6 in brackets), then close.
//! ```
//!
//! The server answers only a valid request, only with a correct tag when it has a token,
//! and only when the reply fits in the request's size: it can never amplify.

use super::datagram::{self, HEADER_LEN, Kind};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Header flag: a tag follows the header.
pub const FLAG_TAGGED: u16 = 1;
/// Bytes of the truncated HMAC tag.
pub const TAG_LEN: usize = 16;
/// The request size the client sends: room for an IPv6 reply.
pub const REQUEST_LEN: usize = 48;
/// The TCP line's prefix.
pub const BANNER_PREFIX: &str = "IPDG/1 tcp observed=";

type HmacSha256 = Hmac<Sha256>;

fn tag(token: &[u8], header: &[u8]) -> Option<[u8; TAG_LEN]> {
    let mut mac = HmacSha256::new_from_slice(token).ok()?;
    mac.update(header);
    let full = mac.finalize().into_bytes();
    full.get(..TAG_LEN)?.try_into().ok()
}

/// A request with this nonce, tagged when a token is given.
pub fn request(nonce: u64, token: Option<&[u8]>) -> Vec<u8> {
    let mut header = datagram::probe(nonce);
    let tag = token.and_then(|t| {
        header[6..8].copy_from_slice(&FLAG_TAGGED.to_be_bytes());
        tag(t, &header)
    });
    let mut bytes = header.to_vec();
    bytes.extend_from_slice(&tag.unwrap_or([0; TAG_LEN]));
    bytes.resize(REQUEST_LEN, 0);
    bytes
}

/// Why the server stays silent about a datagram (logged, never sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not an ipdiag probe of a known version.
    NotAProbe,
    /// The server has a token and the tag is missing or wrong.
    BadToken,
    /// The reply would be larger than the request.
    TooSmall,
}

impl Refusal {
    /// The word in the server's log.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotAProbe => "not a probe",
            Self::BadToken => "bad token",
            Self::TooSmall => "request smaller than the reply",
        }
    }
}

/// The reply to `data` from `source`, or why there is none.
pub fn answer(data: &[u8], source: SocketAddr, token: Option<&[u8]>) -> Result<Vec<u8>, Refusal> {
    let header = datagram::parse(data).ok_or(Refusal::NotAProbe)?;
    if header.kind != Kind::Probe {
        return Err(Refusal::NotAProbe);
    }
    if let Some(token) = token {
        let tagged = header.flags & FLAG_TAGGED != 0;
        let given = data.get(HEADER_LEN..HEADER_LEN + TAG_LEN);
        let mut mac = HmacSha256::new_from_slice(token).map_err(|_| Refusal::BadToken)?;
        mac.update(data.get(..HEADER_LEN).ok_or(Refusal::NotAProbe)?);
        match given {
            Some(given) if tagged && mac.verify_truncated_left(given).is_ok() => {}
            _ => return Err(Refusal::BadToken),
        }
    }
    let received = u16::try_from(data.len()).unwrap_or(u16::MAX);
    let reply = reply(header.nonce, source, received);
    if reply.len() > data.len() {
        return Err(Refusal::TooSmall);
    }
    Ok(reply)
}

/// A reply: the nonce, the source the server saw, and the request's size.
pub fn reply(nonce: u64, observed: SocketAddr, received: u16) -> Vec<u8> {
    let mut bytes = datagram::probe(nonce).to_vec();
    bytes[5] = 2;
    match observed.ip() {
        IpAddr::V4(a) => {
            bytes.push(4);
            bytes.extend_from_slice(&observed.port().to_be_bytes());
            bytes.extend_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            bytes.push(6);
            bytes.extend_from_slice(&observed.port().to_be_bytes());
            bytes.extend_from_slice(&a.octets());
        }
    }
    bytes.extend_from_slice(&received.to_be_bytes());
    bytes
}

/// What a reply says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The request's nonce.
    pub nonce: u64,
    /// The client's address and port as the server saw them.
    pub observed: SocketAddr,
    /// Bytes of the request that reached the server.
    pub received: u16,
}

/// Parses a reply; `None` for anything else (an echo of the request, say).
pub fn parse_reply(data: &[u8]) -> Option<Reply> {
    let header = datagram::parse(data)?;
    if header.kind != Kind::Reply {
        return None;
    }
    let body = data.get(HEADER_LEN..)?;
    let (family, rest) = body.split_first()?;
    let port = u16::from_be_bytes([*rest.first()?, *rest.get(1)?]);
    let (ip, rest): (IpAddr, &[u8]) = match family {
        4 => {
            let octets: [u8; 4] = rest.get(2..6)?.try_into().ok()?;
            (Ipv4Addr::from(octets).into(), rest.get(6..)?)
        }
        6 => {
            let octets: [u8; 16] = rest.get(2..18)?.try_into().ok()?;
            (Ipv6Addr::from(octets).into(), rest.get(18..)?)
        }
        _ => return None,
    };
    let received = u16::from_be_bytes([*rest.first()?, *rest.get(1)?]);
    Some(Reply {
        nonce: header.nonce,
        observed: SocketAddr::new(ip, port),
        received,
    })
}

/// The line a TCP accept gets.
pub fn banner(observed: SocketAddr) -> String {
    format!("{BANNER_PREFIX}{observed}\n")
}

/// The observed source in a TCP line; `None` for any other banner.
pub fn parse_banner(data: &[u8]) -> Option<SocketAddr> {
    let text = std::str::from_utf8(data).ok()?;
    let line = text.strip_prefix(BANNER_PREFIX)?.lines().next()?;
    line.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn source() -> SocketAddr {
        "198.51.100.2:40000".parse().unwrap()
    }

    #[test]
    fn round_trip_without_and_with_a_token() {
        for token in [None, Some(&b"s3cret"[..])] {
            let request = request(42, token);
            assert_eq!(request.len(), REQUEST_LEN);
            let reply = answer(&request, source(), token).unwrap();
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
        let reply = answer(&request(9, None), v6, None).unwrap();
        assert_eq!(reply.len(), 37);
        assert_eq!(parse_reply(&reply).map(|r| r.observed), Some(v6));
    }

    #[test]
    fn refusals() {
        let token = Some(&b"s3cret"[..]);
        assert_eq!(
            answer(&request(1, None), source(), token),
            Err(Refusal::BadToken)
        );
        assert_eq!(
            answer(&request(1, Some(b"other")), source(), token),
            Err(Refusal::BadToken)
        );
        let mut forged = request(1, token);
        forged[8] ^= 1;
        assert_eq!(
            answer(&forged, source(), token),
            Err(Refusal::BadToken),
            "nonce changed after tagging"
        );
        assert_eq!(answer(b"hello", source(), None), Err(Refusal::NotAProbe));
        let mut wrong_magic = request(1, None);
        wrong_magic[0] = b'X';
        assert_eq!(
            answer(&wrong_magic, source(), None),
            Err(Refusal::NotAProbe)
        );
        let reply = reply(1, source(), 48);
        assert_eq!(
            answer(&reply, source(), None),
            Err(Refusal::NotAProbe),
            "replies are not answered"
        );
        // The old 16-byte probe (and any short one) is too small for a reply: no answer.
        assert_eq!(
            answer(&datagram::probe(1), source(), None),
            Err(Refusal::TooSmall)
        );
        assert_eq!(
            answer(&request(1, None)[..24], source(), None),
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

    proptest! {
        /// Whatever arrives, the answer is never larger than what arrived.
        #[test]
        fn never_amplifies(data in proptest::collection::vec(any::<u8>(), 0..96), tagged in any::<bool>()) {
            let token = tagged.then_some(&b"k"[..]);
            if let Ok(reply) = answer(&data, source(), token) {
                prop_assert!(reply.len() <= data.len());
            }
            let _ = parse_reply(&data);
            let _ = parse_banner(&data);
        }

        /// Valid requests of any size at or above the minimum are answered, and never
        /// with more bytes than they had.
        #[test]
        fn valid_requests_are_answered_within_their_size(nonce in any::<u64>(), extra in 0usize..64) {
            let mut data = request(nonce, None);
            data.resize(REQUEST_LEN + extra, 0);
            let reply = answer(&data, "[2001:db8::1]:1".parse().unwrap(), None).unwrap();
            prop_assert!(reply.len() <= data.len());
            prop_assert_eq!(parse_reply(&reply).map(|r| r.nonce), Some(nonce));
        }
    }
}
