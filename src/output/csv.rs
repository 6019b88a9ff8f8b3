//! The few CSV primitives the sinks share (RFC 4180 quoting, fast address formatting).

use std::net::Ipv4Addr;

/// Appends a field, quoted only when it contains `,`, `"` or a line break.
pub fn push_field(buf: &mut Vec<u8>, text: &str) {
    if text
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        buf.push(b'"');
        for b in text.bytes() {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(text.as_bytes());
    }
}

/// Each octet's decimal text followed by a dot, packed little-endian in the low 32 bits,
/// with the text's length (digits + 1) in bits 32-39.
static OCTETS: [u64; 256] = octet_table();

const fn octet_table() -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        #[expect(clippy::cast_possible_truncation, reason = "i < 256")]
        let n = i as u8;
        let (text, len): ([u8; 4], u64) = if n >= 100 {
            (
                [b'0' + n / 100, b'0' + (n / 10) % 10, b'0' + n % 10, b'.'],
                4,
            )
        } else if n >= 10 {
            ([b'0' + n / 10, b'0' + n % 10, b'.', 0], 3)
        } else {
            ([b'0' + n, b'.', 0, 0], 2)
        };
        table[i] = u32::from_le_bytes(text) as u64 | (len << 32);
        i += 1;
    }
    table
}

/// A short text in a fixed-size buffer, so it can be appended with a constant-size copy.
#[derive(Debug, Clone, Copy)]
pub struct Padded<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Padded<N> {
    /// Copies `text` in; `None` if it does not fit.
    pub fn new(text: &[u8]) -> Option<Self> {
        let mut bytes = [0u8; N];
        bytes.get_mut(..text.len())?.copy_from_slice(text);
        Some(Self {
            bytes,
            len: text.len(),
        })
    }

    /// Appends the text: a constant-size copy (inlined vector moves) and a truncate, which
    /// for texts of a few bytes beats the `memcpy` call a variable-length copy compiles to.
    #[inline]
    pub fn push_to(&self, buf: &mut Vec<u8>) {
        let end = buf.len() + self.len;
        buf.extend_from_slice(&self.bytes);
        buf.truncate(end);
    }
}

/// A formatted dotted quad and where each of its first three octets ends.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Text {
    /// The text.
    pub text: Padded<16>,
    /// `ends[i]`: the length of the text up to the end of octet `i` (0, 1, 2), so the
    /// classful networks' texts are prefixes of the address's (`192.168.1` + `.0/24`).
    pub ends: [usize; 3],
}

impl Ipv4Text {
    /// Appends the first `octets` octets (1-3), to which a classful suffix is added.
    #[inline]
    pub fn push_prefix(&self, buf: &mut Vec<u8>, octets: usize) {
        let mut prefix = self.text;
        prefix.len = self.ends[octets - 1];
        prefix.push_to(buf);
    }
}

/// Formats a dotted quad without going through `fmt` (the bulk path's hottest formatter):
/// the four octet texts are shifted into one 128-bit word (15 bytes and a dot at most), so
/// there is no loop over bytes, no bounds check and no branch.
#[inline]
pub fn ipv4_text(addr: Ipv4Addr) -> Ipv4Text {
    let mut word: u128 = 0;
    let mut bits: u32 = 0;
    let mut ends = [0usize; 3];
    for (i, octet) in addr.octets().into_iter().enumerate() {
        let entry = OCTETS[usize::from(octet)];
        word |= u128::from(entry & 0xffff_ffff) << bits;
        // Lengths are 2..=4 bytes, so `bits` stays below 128 until the last octet.
        bits += ((entry >> 32) as u32) * 8;
        if let Some(end) = ends.get_mut(i) {
            *end = (bits / 8) as usize - 1;
        }
    }
    let text = Padded {
        bytes: word.to_le_bytes(),
        len: (bits / 8) as usize - 1,
    };
    Ipv4Text { text, ends }
}

/// Appends a dotted quad.
#[inline]
pub fn push_ipv4(buf: &mut Vec<u8>, addr: Ipv4Addr) {
    ipv4_text(addr).text.push_to(buf);
}

/// Appends an integer.
#[inline]
pub fn push_int(buf: &mut Vec<u8>, n: impl itoa::Integer) {
    buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let mut buf = Vec::new();
        push_field(&mut buf, "plain");
        buf.push(b',');
        push_field(&mut buf, "\"This network\"");
        buf.push(b',');
        push_field(&mut buf, "a,b");
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "plain,\"\"\"This network\"\"\",\"a,b\""
        );
    }

    #[test]
    fn padded_texts() {
        let mut buf = b"x".to_vec();
        Padded::<8>::new(b"abc").unwrap().push_to(&mut buf);
        assert_eq!(buf, b"xabc");
        assert!(Padded::<2>::new(b"abc").is_none());
    }

    #[test]
    fn addresses() {
        let mut buf = Vec::new();
        push_ipv4(&mut buf, Ipv4Addr::new(192, 168, 1, 103));
        buf.push(b' ');
        push_ipv4(&mut buf, Ipv4Addr::UNSPECIFIED);
        assert_eq!(String::from_utf8(buf).unwrap(), "192.168.1.103 0.0.0.0");
        for bits in (0..=u32::MAX).step_by(65_521) {
            let mut buf = Vec::new();
            push_ipv4(&mut buf, Ipv4Addr::from(bits));
            assert_eq!(buf, Ipv4Addr::from(bits).to_string().as_bytes());
        }
    }
}
