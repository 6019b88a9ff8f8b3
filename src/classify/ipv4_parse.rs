//! Strict dotted-quad IPv4 parsing: exactly four decimal numbers 0-255, no leading zeros.
//!
//! Leading zeros are refused because `inet_aton` (and so Python 2, ping, curl, ...) reads
//! `010.1.1.1` as octal 8.1.1.1 while other parsers read decimal 10.1.1.1; an ambiguous
//! address must not be classified silently as one of the two (CVE-2021-29921).
//!
//! Two entry points that accept exactly the same language: [`parse_fast`], the bulk path
//! (no error detail, branch-light), and [`parse_strict`], which says what is wrong. The
//! tests check they agree on random input.

use crate::error::Problem;
use std::net::Ipv4Addr;

/// Parses a dotted quad; `None` for anything else. Same language as [`parse_strict`].
///
/// Branch-light for the bulk path: one branch per byte (digit, dot, or neither) and the
/// checks (length of each number, leading zero, range) folded into one flag, because octet
/// lengths in real data are random and every extra branch mispredicts.
#[inline]
#[expect(
    clippy::cast_possible_truncation,
    reason = "an octet over 255 sets `bad` and is discarded"
)]
pub fn parse_fast(text: &[u8]) -> Option<Ipv4Addr> {
    // 7 ("0.0.0.0") to 15 ("255.255.255.255") bytes; this also bounds `octet` below 10^15.
    if !(7..=15).contains(&text.len()) {
        return None;
    }
    let (mut value, mut octet, mut digits, mut dots, mut bad) = (0u32, 0u64, 0u32, 0u32, false);
    for &b in text {
        let d = b.wrapping_sub(b'0');
        if d < 10 {
            bad |= digits == 1 && octet == 0; // a digit after a leading '0'
            octet = octet * 10 + u64::from(d);
            digits += 1;
        } else if b == b'.' {
            bad |= digits == 0 || digits > 3 || octet > 255;
            value = (value << 8) | octet as u32;
            (octet, digits) = (0, 0);
            dots += 1;
        } else {
            return None;
        }
    }
    bad |= digits == 0 || digits > 3 || octet > 255 || dots != 3;
    (!bad).then(|| Ipv4Addr::from((value << 8) | octet as u32))
}

/// Parses a dotted quad, saying precisely what is wrong when it is not one.
pub fn parse_strict(text: &str) -> Result<Ipv4Addr, Problem> {
    if text.is_empty() {
        return Err(Problem::Empty);
    }
    if let Some(c) = text.chars().find(|c| !c.is_ascii_digit() && *c != '.') {
        return Err(Problem::Character(c));
    }
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 4 {
        return Err(Problem::PartCount(parts.len()));
    }
    let mut value = 0u32;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            return Err(Problem::EmptyPart(i + 1));
        }
        if part.len() > 1 && part.starts_with('0') {
            return Err(Problem::LeadingZero((*part).to_owned()));
        }
        match part.parse::<u8>() {
            Ok(octet) => value = (value << 8) | u32::from(octet),
            Err(_) => return Err(Problem::OctetRange((*part).to_owned())),
        }
    }
    Ok(Ipv4Addr::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use test_case::test_case;

    #[test_case("192.168.1.103", Some([192, 168, 1, 103]); "tutorial address")]
    #[test_case("0.0.0.0", Some([0, 0, 0, 0]); "zeros")]
    #[test_case("255.255.255.255", Some([255, 255, 255, 255]); "all ones")]
    #[test_case("256.1.1.1", None; "octet too big")]
    #[test_case("1.2.3", None; "three parts")]
    #[test_case("1.2.3.4.5", None; "five parts")]
    #[test_case("010.1.1.1", None; "leading zero")]
    #[test_case("1..2.3", None; "empty part")]
    #[test_case("1.2.3.4.", None; "trailing dot")]
    #[test_case(".1.2.3", None; "leading dot")]
    #[test_case("1.2.3.0004", None; "four digits")]
    #[test_case("", None; "empty")]
    #[test_case("1.2.3.-4", None; "sign")]
    #[test_case(" 1.2.3.4", None; "space")]
    fn fast_parser(text: &str, expected: Option<[u8; 4]>) {
        assert_eq!(parse_fast(text.as_bytes()), expected.map(Ipv4Addr::from));
        assert_eq!(parse_strict(text).ok(), expected.map(Ipv4Addr::from));
    }

    #[test]
    fn strict_messages() {
        assert_eq!(parse_strict("1.2.3"), Err(Problem::PartCount(3)));
        assert_eq!(
            parse_strict("256.1.1.1"),
            Err(Problem::OctetRange("256".into()))
        );
        assert_eq!(
            parse_strict("010.1.1.1"),
            Err(Problem::LeadingZero("010".into()))
        );
        assert_eq!(parse_strict("1..3.4"), Err(Problem::EmptyPart(2)));
        assert_eq!(parse_strict(""), Err(Problem::Empty));
    }

    proptest! {
        #[test]
        fn fast_and_strict_agree_on_any_string(s in "[0-9.]{0,20}") {
            prop_assert_eq!(parse_fast(s.as_bytes()), parse_strict(&s).ok());
        }

        #[test]
        fn fast_and_strict_agree_on_near_addresses(a in 0u32..300, b in 0u32..300, c in 0u32..300, d in 0u32..1000, z in 0usize..3) {
            let s = format!("{}{a}.{b}.{c}.{d}", "0".repeat(z));
            prop_assert_eq!(parse_fast(s.as_bytes()), parse_strict(&s).ok());
        }

        #[test]
        fn every_address_round_trips(bits in any::<u32>()) {
            let addr = Ipv4Addr::from(bits);
            prop_assert_eq!(parse_fast(addr.to_string().as_bytes()), Some(addr));
        }
    }
}
