//! The responder protocol (README "The responder protocol"): what `probe` sends to a UDP
//! port, what `ipdiag serve` answers, and the one line it writes on a TCP accept.
//!
//! ```text
//! request (client → server), 48 bytes:
//!   0  16  header: "IPDG", version 1 (2 when tagged), kind 1 (probe), flags, nonce
//!  16  16  flags & 1 (version 2): HMAC-SHA256(token, bytes 0-15 ‖ bytes 32-end), first
//!          16 bytes; else zeros
//!  32  16  room, so that the reply is never larger than the request; with flags & 2
//!          (session): 32 8 session id, 40 4 sequence number; with flags & 8 (delayed,
//!          never with a session): 32 4 the delay before the reply, milliseconds; with
//!          flags & 1: 44 4 the client's clock, Unix seconds, big-endian
//! reply (server → client), 25 bytes (IPv4) or 37 bytes (IPv6), always version 1:
//!   0  16  header: "IPDG", version 1, kind 2 (reply), flags 0, the request's nonce
//!  16   1  family of the observed source: 4 or 6
//!  17   2  observed source port, big-endian
//!  19 4|16 observed source address
//!  ..   2  bytes of the request the server received, big-endian
//! with a session (reply flags & 2, and & 4 echoed for a tally request), 8 bytes more,
//! 33 or 45 in all:
//!  ..   4  requests of this session the server received, big-endian
//!  ..   4  of those, replies the server withheld (its rate limit), big-endian
//! TCP, on accept: "IPDG/1 tcp observed=ADDRESS:PORT\n" (IPv6 in brackets), then close.
//! ```
//!
//! The server answers only a valid request, only with a correct tag when it has a token,
//! and only when the reply fits in the request's size: it can never amplify. A tag covers
//! every byte of the request but itself (a tagged request cannot be altered or padded) and
//! the client's clock, which must be within [`WINDOW_SECS`] of the server's; the server
//! answers each tag once (`serve/replay.rs`), so a captured request replayed from any
//! address inside the window is refused, and outside it the clock is. Version 1's tag
//! covered the header only: a tagged request is version 2, which an old server ignores (as
//! it would a wrong tag) and a new server with a token refuses as "old tag"; untagged
//! requests and every reply stay version 1. Sessions are compatible both ways: an old
//! client never sets bit 1 and gets the old reply, an old client's parser stops after the
//! received-bytes field, so the appended tally is ignored; an old server ignores the bit
//! and answers without a tally, which the client reports as "tally unknown".

use super::datagram::{self, HEADER_LEN, Kind};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// Header flag: a tag follows the header.
pub const FLAG_TAGGED: u16 = 1;
/// Header flag: the request carries a session id and sequence number, the reply the
/// session's tally (requests received, replies withheld).
pub const FLAG_SESSION: u16 = 2;
/// Header flag, with [`FLAG_SESSION`]: ask for the tally without being counted, so that
/// asking does not change the answer.
pub const FLAG_TALLY: u16 = 4;
/// Header flag: answer after the delay the request carries (`probe --idle-test`: how long
/// the path keeps a UDP mapping idle). An older server ignores it and answers at once,
/// which the client sees.
pub const FLAG_DELAY: u16 = 8;
/// The longest delay a request may ask for: past RFC 4787's two minutes, and short enough
/// that a delayed reply's state is never held long.
pub const MAX_DELAY: Duration = Duration::from_secs(180);
/// Where the session fields start: the first byte of the request's room.
pub const SESSION_AT: usize = HEADER_LEN + TAG_LEN;
/// Bytes a session adds to a reply: two 32-bit counts.
pub const TALLY_LEN: usize = 8;
/// Bytes of the truncated HMAC tag.
pub const TAG_LEN: usize = 16;
/// The request size the client sends: room for an IPv6 reply.
pub const REQUEST_LEN: usize = 48;
/// The TCP line's prefix.
pub const BANNER_PREFIX: &str = "IPDG/1 tcp observed=";
/// The version byte of a tagged request (the tag covers the whole request).
pub const VERSION_TAGGED: u8 = datagram::VERSION_TAGGED;
/// Where a tagged request carries the client's clock (Unix seconds).
pub const TIME_AT: usize = 44;
/// How far (seconds) a tagged request's clock may be from the server's, either way.
pub const WINDOW_SECS: u64 = 30;
/// The shortest secret accepted for `--token`: anything shorter is guessed offline from
/// one captured request.
pub const MIN_SECRET_LEN: usize = 8;

type HmacSha256 = Hmac<Sha256>;

/// The keyed MAC over a request's bytes, leaving out the tag's own place.
fn mac_of(token: &[u8], data: &[u8]) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(token).ok()?;
    mac.update(data.get(..HEADER_LEN)?);
    mac.update(data.get(HEADER_LEN + TAG_LEN..)?);
    Some(mac)
}

/// Writes the tag of `datagram` (a tagged request, already at its final size: `probe
/// --sizes` pads it first) into its place.
pub fn seal(datagram: &mut [u8], token: &[u8]) {
    let tag = mac_of(token, datagram).map(|m| m.finalize().into_bytes());
    if let (Some(tag), Some(place)) = (tag, datagram.get_mut(HEADER_LEN..HEADER_LEN + TAG_LEN))
        && let Some(first) = tag.get(..TAG_LEN)
    {
        place.copy_from_slice(first);
    }
}

/// Now, in Unix seconds (the clock a tagged request carries).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A request with this nonce, tagged when a token is given.
pub fn request(nonce: u64, token: Option<&[u8]>) -> Vec<u8> {
    session_request(nonce, token, None)
}

/// A request that belongs to a measurement session (or a plain one for `None`), tagged
/// with the clock now.
pub fn session_request(nonce: u64, token: Option<&[u8]>, session: Option<Session>) -> Vec<u8> {
    session_request_at(nonce, token, session, unix_now())
}

/// [`session_request`] with the clock given (Unix seconds).
pub fn session_request_at(
    nonce: u64,
    token: Option<&[u8]>,
    session: Option<Session>,
    now: u64,
) -> Vec<u8> {
    let mut bytes = datagram::probe(nonce).to_vec();
    let mut flags = if token.is_some() { FLAG_TAGGED } else { 0 };
    if let Some(s) = session {
        flags |= FLAG_SESSION | if s.tally_only { FLAG_TALLY } else { 0 };
    }
    bytes[6..8].copy_from_slice(&flags.to_be_bytes());
    bytes.resize(SESSION_AT, 0);
    if let Some(s) = session {
        bytes.extend_from_slice(&s.id.to_be_bytes());
        bytes.extend_from_slice(&s.seq.to_be_bytes());
    }
    bytes.resize(REQUEST_LEN, 0);
    if let Some(token) = token {
        bytes[4] = VERSION_TAGGED;
        let clock = u32::try_from(now).unwrap_or(u32::MAX);
        bytes[TIME_AT..TIME_AT + 4].copy_from_slice(&clock.to_be_bytes());
        seal(&mut bytes, token);
    }
    bytes
}

/// A request that asks the server to answer after `delay` (at most [`MAX_DELAY`]), tagged
/// with the clock now when a token is given.
pub fn delayed_request(nonce: u64, token: Option<&[u8]>, delay: Duration) -> Vec<u8> {
    let mut bytes = session_request_at(nonce, None, None, unix_now());
    let flags = FLAG_DELAY | if token.is_some() { FLAG_TAGGED } else { 0 };
    bytes[6..8].copy_from_slice(&flags.to_be_bytes());
    let millis = u32::try_from(delay.min(MAX_DELAY).as_millis()).unwrap_or(u32::MAX);
    bytes[SESSION_AT..SESSION_AT + 4].copy_from_slice(&millis.to_be_bytes());
    if let Some(token) = token {
        bytes[4] = VERSION_TAGGED;
        let clock = u32::try_from(unix_now()).unwrap_or(u32::MAX);
        bytes[TIME_AT..TIME_AT + 4].copy_from_slice(&clock.to_be_bytes());
        seal(&mut bytes, token);
    }
    bytes
}

/// The server's secret and clock, for checking tagged requests.
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    /// The shared secret (`--token`).
    pub secret: &'a [u8],
    /// The server's clock, Unix seconds.
    pub now: u64,
}

/// A valid request, as [`answer`] hands it to the server's admission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Valid {
    /// Its session, if it belongs to one.
    pub session: Option<Session>,
    /// Its tag, when the server checked one: answered once (replays are refused).
    pub tag: Option<[u8; TAG_LEN]>,
    /// The delay it asks the reply to wait, at most [`MAX_DELAY`]; `None` for at once.
    pub delay: Option<Duration>,
}

/// A request's place in a measurement session (`probe --loss-split`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// Chosen at random by the client; the server keys its counts by it.
    pub id: u64,
    /// The request's number within the session.
    pub seq: u32,
    /// A tally request: answered with the counts, not counted itself.
    pub tally_only: bool,
}

/// What the server counted for a session, as the reply carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// Counted requests that reached the server (whether answered or not).
    pub received: u32,
    /// Of those, the ones the server did not answer because of its rate limit.
    pub withheld: u32,
}

/// The server's decision about a valid request, made by its caller (rate limit, session
/// table) and handed back to [`answer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Answer, with this tally when the request belongs to a session.
    Answer(Option<Tally>),
    /// Do not answer: the source is over its rate.
    Withhold,
    /// Do not answer: this tag was answered already (a replay).
    Replayed,
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
    /// A valid request, but the source is over its rate.
    RateLimited,
    /// A tag in version 1's format (the header only): an older client.
    OldTag,
    /// A tagged request whose clock is more than [`WINDOW_SECS`] from the server's.
    Stale,
    /// A tag already answered: a captured request sent again.
    Replayed,
}

impl Refusal {
    /// The word in the server's log.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotAProbe => "not a probe",
            Self::BadToken => "bad token",
            Self::TooSmall => "request smaller than the reply",
            Self::RateLimited => "rate limit for this source",
            Self::OldTag => "tag of an older ipdiag (update the client)",
            Self::Stale => "tag outside the time window (are both clocks right?)",
            Self::Replayed => "replayed tag",
        }
    }
}

/// The reply to `data` from `source`, or why there is none. With a key, only a tagged
/// request (version 2) whose tag verifies and whose clock is within the window is valid.
/// `admit` is asked only about a valid request that a reply fits in (so junk and short
/// datagrams are never counted nor charged to a rate), with its session and tag; it
/// decides whether the server answers and with which tally. This is the only function
/// that makes replies.
///
/// ```
/// use ipdiag::wire::responder::{Admission, Key, Refusal, answer, parse_reply, request, unix_now};
///
/// let client = "198.51.100.77:40000".parse().unwrap();
/// let key = Some(Key { secret: b"s3cret-k3y", now: unix_now() });
/// let probe = request(7, Some(b"s3cret-k3y"));
/// let reply = answer(&probe, client, key, |_| Admission::Answer(None)).unwrap();
/// assert!(reply.len() <= probe.len(), "never an amplifier");
/// let seen = parse_reply(&reply).unwrap();
/// assert_eq!((seen.nonce, seen.observed, seen.received), (7, client, 48));
/// // Without the token, or for anything but a probe, there is no reply at all.
/// let untagged = request(8, None);
/// assert_eq!(answer(&untagged, client, key, |_| Admission::Answer(None)), Err(Refusal::BadToken));
/// assert_eq!(answer(b"GET / HTTP/1.0", client, None, |_| Admission::Answer(None)), Err(Refusal::NotAProbe));
/// ```
pub fn answer(
    data: &[u8],
    source: SocketAddr,
    key: Option<Key<'_>>,
    admit: impl FnOnce(Valid) -> Admission,
) -> Result<Vec<u8>, Refusal> {
    let header = datagram::parse(data).ok_or(Refusal::NotAProbe)?;
    if header.kind != Kind::Probe {
        return Err(Refusal::NotAProbe);
    }
    let tag = key.map(|key| verify(data, header, key)).transpose()?;
    let session = session_of(header.flags, data)?;
    let delay = delay_of(header.flags, data)?;
    let longest = reply_len(source, session.is_some());
    if longest > data.len() {
        return Err(Refusal::TooSmall);
    }
    let tally = match admit(Valid {
        session,
        tag,
        delay,
    }) {
        Admission::Answer(tally) => tally,
        Admission::Withhold => return Err(Refusal::RateLimited),
        Admission::Replayed => return Err(Refusal::Replayed),
    };
    let received = u16::try_from(data.len()).unwrap_or(u16::MAX);
    let counted = session.zip(tally).map(|(s, t)| (s.tally_only, t));
    let reply = encode(header.nonce, source, received, counted);
    if reply.len() > data.len() {
        return Err(Refusal::TooSmall);
    }
    Ok(reply)
}

/// Checks a request's tag and clock against the server's key; its tag if both hold.
fn verify(data: &[u8], header: datagram::Header, key: Key<'_>) -> Result<[u8; TAG_LEN], Refusal> {
    if header.flags & FLAG_TAGGED == 0 {
        return Err(Refusal::BadToken);
    }
    if header.version != VERSION_TAGGED {
        return Err(Refusal::OldTag);
    }
    let given: [u8; TAG_LEN] = data
        .get(HEADER_LEN..HEADER_LEN + TAG_LEN)
        .and_then(|t| t.try_into().ok())
        .ok_or(Refusal::BadToken)?;
    let clock = data
        .get(TIME_AT..TIME_AT + 4)
        .and_then(|t| t.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or(Refusal::BadToken)?;
    let mac = mac_of(key.secret, data).ok_or(Refusal::BadToken)?;
    mac.verify_truncated_left(&given)
        .map_err(|_| Refusal::BadToken)?;
    if u64::from(clock).abs_diff(key.now) > WINDOW_SECS {
        return Err(Refusal::Stale);
    }
    Ok(given)
}

/// The session fields of a request whose header has the session flag; a session request
/// too short to hold them is not a valid request.
fn session_of(flags: u16, data: &[u8]) -> Result<Option<Session>, Refusal> {
    if flags & FLAG_SESSION == 0 {
        return Ok(None);
    }
    let id = data
        .get(SESSION_AT..SESSION_AT + 8)
        .ok_or(Refusal::NotAProbe)?;
    let seq = data
        .get(SESSION_AT + 8..SESSION_AT + 12)
        .ok_or(Refusal::NotAProbe)?;
    Ok(Some(Session {
        id: u64::from_be_bytes(id.try_into().map_err(|_| Refusal::NotAProbe)?),
        seq: u32::from_be_bytes(seq.try_into().map_err(|_| Refusal::NotAProbe)?),
        tally_only: flags & FLAG_TALLY != 0,
    }))
}

/// The delay of a request whose header has the delay flag: a delay with a session (their
/// fields overlap), too short a request or over [`MAX_DELAY`] is not a valid request.
fn delay_of(flags: u16, data: &[u8]) -> Result<Option<Duration>, Refusal> {
    if flags & FLAG_DELAY == 0 {
        return Ok(None);
    }
    if flags & FLAG_SESSION != 0 {
        return Err(Refusal::NotAProbe);
    }
    let millis = data
        .get(SESSION_AT..SESSION_AT + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or(Refusal::NotAProbe)?;
    let delay = Duration::from_millis(u64::from(millis));
    if delay > MAX_DELAY {
        return Err(Refusal::NotAProbe);
    }
    Ok(Some(delay))
}

/// The size of the reply to `source`, with or without a tally.
fn reply_len(source: SocketAddr, tally: bool) -> usize {
    reply_len_over(source.is_ipv6(), tally)
}

const fn reply_len_over(v6: bool, tally: bool) -> usize {
    let address = if v6 { 16 } else { 4 };
    HEADER_LEN + 1 + 2 + address + 2 + if tally { TALLY_LEN } else { 0 }
}

/// The smallest plain request the responder answers, over IPv6 or IPv4, tagged (a token)
/// or not: its reply must fit in the request (it never sends more than it got), and a
/// tagged one must hold its clock. Its sockets are IPv6-only, so an IPv4 client is seen
/// over IPv4.
pub const fn smallest_answered(v6: bool, tagged: bool) -> usize {
    let reply = reply_len_over(v6, false);
    if tagged && REQUEST_LEN > reply {
        REQUEST_LEN
    } else {
        reply
    }
}

/// A reply: the nonce, the source the server saw, and the request's size.
pub fn reply(nonce: u64, observed: SocketAddr, received: u16) -> Vec<u8> {
    encode(nonce, observed, received, None)
}

/// The reply's bytes; with `counted` (whether it answers a tally request, and the tally)
/// the session flags and the two counts.
fn encode(
    nonce: u64,
    observed: SocketAddr,
    received: u16,
    counted: Option<(bool, Tally)>,
) -> Vec<u8> {
    let mut bytes = datagram::probe(nonce).to_vec();
    bytes[5] = 2;
    if let Some((tally_only, _)) = counted {
        let flags = FLAG_SESSION | if tally_only { FLAG_TALLY } else { 0 };
        bytes[6..8].copy_from_slice(&flags.to_be_bytes());
    }
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
    if let Some((_, tally)) = counted {
        bytes.extend_from_slice(&tally.received.to_be_bytes());
        bytes.extend_from_slice(&tally.withheld.to_be_bytes());
    }
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

/// A reply to a session request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionReply {
    /// What every reply says.
    pub reply: Reply,
    /// The session's counts; `None` from a server that predates sessions.
    pub tally: Option<Tally>,
    /// Whether it answers a tally request (not a counted one).
    pub tally_only: bool,
}

/// Parses a reply; `None` for anything else (an echo of the request, say).
pub fn parse_reply(data: &[u8]) -> Option<Reply> {
    parse_with_tail(data).map(|(reply, _, _)| reply)
}

/// Parses a reply with its session tally, if it carries one.
pub fn parse_session_reply(data: &[u8]) -> Option<SessionReply> {
    let (reply, flags, tail) = parse_with_tail(data)?;
    let tally = if flags & FLAG_SESSION == 0 {
        None
    } else {
        let count = |at: usize| -> Option<u32> {
            Some(u32::from_be_bytes(tail.get(at..at + 4)?.try_into().ok()?))
        };
        // A session flag without both counts is a broken reply, not an old one.
        Some(Tally {
            received: count(0)?,
            withheld: count(4)?,
        })
    };
    Some(SessionReply {
        reply,
        tally,
        tally_only: flags & FLAG_SESSION != 0 && flags & FLAG_TALLY != 0,
    })
}

/// The reply, its header flags and the bytes after the received-bytes field.
fn parse_with_tail(data: &[u8]) -> Option<(Reply, u16, &[u8])> {
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
    let reply = Reply {
        nonce: header.nonce,
        observed: SocketAddr::new(ip, port),
        received,
    };
    Some((reply, header.flags, rest.get(2..)?))
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
#[path = "responder_tests.rs"]
mod tests;
