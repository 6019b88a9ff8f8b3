//! ipdiag's UDP probe datagram, version 1 (documented in README "The probe datagram").
//!
//! ```text
//! offset  size  field
//!  0      4     magic "IPDG"
//!  4      1     version (1; 2 for a request tagged with a token, `responder.rs`)
//!  5      1     kind: 1 = probe (client → server), 2 = reply (server → client)
//!  6      2     flags, big-endian (0 in version 1; later versions define bits)
//!  8      8     nonce, big-endian: random per attempt, echoed by echo servers and replies
//! 16      ...   body (empty for a probe in version 1)
//! ```
//!
//! An echo server reflects it byte for byte (kind stays 1); ipdiag's responder answers with
//! kind 2 and the same nonce. Either way the nonce ties the reply to its attempt.

/// The four magic bytes.
pub const MAGIC: [u8; 4] = *b"IPDG";
/// The protocol version this code speaks.
pub const VERSION: u8 = 1;
/// The header length.
pub const HEADER_LEN: usize = 16;

/// What a datagram is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A client's probe.
    Probe,
    /// A responder's reply.
    Reply,
}

/// The version of a tagged request (`responder.rs`: the tag covers the whole request).
pub const VERSION_TAGGED: u8 = 2;

/// A parsed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// 1, or 2 for a tagged request.
    pub version: u8,
    /// Probe or reply.
    pub kind: Kind,
    /// The flags field.
    pub flags: u16,
    /// The attempt's nonce.
    pub nonce: u64,
}

/// Encodes a probe with this nonce.
pub fn probe(nonce: u64) -> [u8; HEADER_LEN] {
    let mut bytes = [0u8; HEADER_LEN];
    bytes[..4].copy_from_slice(&MAGIC);
    bytes[4] = VERSION;
    bytes[5] = 1;
    bytes[8..].copy_from_slice(&nonce.to_be_bytes());
    bytes
}

/// Parses a header; `None` if the bytes are not an ipdiag datagram of a known version.
pub fn parse(bytes: &[u8]) -> Option<Header> {
    let header = bytes.get(..HEADER_LEN)?;
    let version = header[4];
    if header[..4] != MAGIC || !(version == VERSION || version == VERSION_TAGGED) {
        return None;
    }
    let kind = match header[5] {
        1 => Kind::Probe,
        2 => Kind::Reply,
        _ => return None,
    };
    let flags = u16::from_be_bytes([header[6], header[7]]);
    let nonce = u64::from_be_bytes(header[8..16].try_into().ok()?);
    Some(Header {
        version,
        kind,
        flags,
        nonce,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip() {
        let bytes = probe(0x0102_0304_0506_0708);
        assert_eq!(&bytes[..8], b"IPDG\x01\x01\x00\x00");
        assert_eq!(
            parse(&bytes),
            Some(Header {
                version: 1,
                kind: Kind::Probe,
                flags: 0,
                nonce: 0x0102_0304_0506_0708
            })
        );
    }

    #[test]
    fn rejects_what_is_not_ours() {
        let good = probe(7);
        assert_eq!(parse(&good[..15]), None, "truncated");
        let mut wrong_magic = good;
        wrong_magic[0] = b'X';
        assert_eq!(parse(&wrong_magic), None);
        let mut wrong_version = good;
        wrong_version[4] = 3;
        assert_eq!(parse(&wrong_version), None);
        let mut wrong_kind = good;
        wrong_kind[5] = 9;
        assert_eq!(parse(&wrong_kind), None);
        assert_eq!(parse(b""), None);
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn any_nonce_round_trips(nonce in any::<u64>()) {
            prop_assert_eq!(parse(&probe(nonce)).map(|h| h.nonce), Some(nonce));
        }
    }
}
