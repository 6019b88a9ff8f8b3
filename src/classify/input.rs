//! Reads one user token as an address, a CIDR network or a host name.
//!
//! The token decides its own type, in this order: a `/` makes it a CIDR; a `:` or `[...]`
//! an IPv6 address; only digits and dots an IPv4 address (so `1.2.3` is a bad address, not
//! a host name to look up); anything else must be a valid host name (RFC 1123). Errors say
//! which reading failed and why, naming the token.

use super::ipv4_parse::{parse_fast, parse_strict};
use crate::error::{InputError, Problem};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv6Addr};

/// One parsed token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item<'a> {
    /// A single address.
    Address(IpAddr),
    /// An address with a prefix length; the host bits are kept (`192.168.1.103/24`).
    Network(IpNet),
    /// A name to resolve.
    Host(&'a str),
}

/// Parses one token (surrounding white space is ignored).
pub fn parse_item(token: &str) -> Result<Item<'_>, InputError> {
    let text = token.trim();
    if let Some(addr) = parse_fast(text.as_bytes()) {
        return Ok(Item::Address(addr.into()));
    }
    if text.is_empty() {
        return Err(InputError::new("address", token, Problem::Empty));
    }
    if let Some((addr, len)) = text.split_once('/') {
        return parse_network(text, addr, len).map(Item::Network);
    }
    if let Some((addr, port)) = text.rsplit_once(':')
        && parse_fast(addr.as_bytes()).is_some()
        && !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(InputError::new(
            "address",
            text,
            Problem::WithPort(port.to_owned()),
        ));
    }
    if text.contains(':') || text.starts_with('[') {
        return parse_ipv6(text).map(|a| Item::Address(a.into()));
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return parse_strict(text)
            .map(|a| Item::Address(a.into()))
            .map_err(|p| InputError::new("IPv4 address", text, p));
    }
    check_host_name(text).map_err(|p| InputError::new("host name", text, p))?;
    Ok(Item::Host(text))
}

fn parse_network(text: &str, addr: &str, len: &str) -> Result<IpNet, InputError> {
    let err = |p| InputError::new("CIDR", text, p);
    if len.is_empty() {
        return Err(err(Problem::MissingPrefix));
    }
    if !len.bytes().all(|b| b.is_ascii_digit()) || len.len() > 3 {
        return Err(err(Problem::PrefixNotNumber(len.to_owned())));
    }
    let prefix: u8 = len
        .parse()
        .map_err(|_| err(Problem::PrefixNotNumber(len.to_owned())))?;
    if addr.contains(':') {
        let a = parse_ipv6(addr).map_err(|e| err(e.problem))?;
        Ipv6Net::new(a, prefix).map(IpNet::V6).map_err(|_| {
            err(Problem::PrefixRange {
                len: len.to_owned(),
                version: 6,
                max: 128,
            })
        })
    } else {
        let a = parse_strict(addr).map_err(err)?;
        Ipv4Net::new(a, prefix).map(IpNet::V4).map_err(|_| {
            err(Problem::PrefixRange {
                len: len.to_owned(),
                version: 4,
                max: 32,
            })
        })
    }
}

/// IPv6, with optional brackets (`[2001:db8::1]`) and zone (`fe80::1%eth0`, dropped).
fn parse_ipv6(text: &str) -> Result<Ipv6Addr, InputError> {
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    let without_zone = match bare.split_once('%') {
        Some((addr, zone)) if valid_zone(zone) => addr,
        Some(_) => return Err(InputError::new("IPv6 address", text, Problem::BadZone)),
        None => bare,
    };
    without_zone
        .parse()
        .map_err(|_| InputError::new("IPv6 address", text, Problem::Ipv6Syntax))
}

/// A zone: an interface name (at most 15 characters, as Linux allows) or index.
pub(crate) fn valid_zone(zone: &str) -> bool {
    (1..=15).contains(&zone.len())
        && zone
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// RFC 1123 host name syntax: labels of letters, digits and inner hyphens, 1-63 long,
/// 253 characters in all; a trailing dot (FQDN) is fine. The last label must not be all
/// digits (RFC 3696 §2), which is what tells `1.2.3.4x`-like typos from names.
fn check_host_name(text: &str) -> Result<(), Problem> {
    let name = text.strip_suffix('.').unwrap_or(text);
    if name.len() > 253 {
        return Err(Problem::HostLength);
    }
    if let Some(c) = name
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && *c != '-' && *c != '.')
    {
        return Err(Problem::HostCharacter(c));
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(Problem::HostLabelLength);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(Problem::HostLabelHyphen);
        }
    }
    if name
        .rsplit('.')
        .next()
        .is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(Problem::NumericTopLabel);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use test_case::test_case;

    fn err(token: &str) -> String {
        parse_item(token).unwrap_err().to_string()
    }

    #[test]
    fn kinds_of_items() {
        assert_eq!(
            parse_item("192.168.1.103"),
            Ok(Item::Address("192.168.1.103".parse().unwrap()))
        );
        assert_eq!(
            parse_item(" 127.0.0.1 "),
            Ok(Item::Address("127.0.0.1".parse().unwrap()))
        );
        assert_eq!(
            parse_item("192.168.1.103/24"),
            Ok(Item::Network("192.168.1.103/24".parse().unwrap()))
        );
        assert_eq!(
            parse_item("[2001:db8::1]"),
            Ok(Item::Address("2001:db8::1".parse().unwrap()))
        );
        assert_eq!(
            parse_item("fe80::1%eth0"),
            Ok(Item::Address("fe80::1".parse().unwrap()))
        );
        assert_eq!(
            parse_item("2001:db8::/32"),
            Ok(Item::Network("2001:db8::/32".parse().unwrap()))
        );
        assert_eq!(parse_item("localhost"), Ok(Item::Host("localhost")));
        assert_eq!(parse_item("example.com."), Ok(Item::Host("example.com.")));
    }

    #[test_case(
        "256.1.1.1",
        "invalid IPv4 address '256.1.1.1': 256 is out of range (0-255)"
    )]
    #[test_case(
        "1.2.3",
        "invalid IPv4 address '1.2.3': expected 4 numbers separated by dots, found 3"
    )]
    #[test_case(
        "010.1.1.1",
        "invalid IPv4 address '010.1.1.1': '010' has a leading zero (ambiguous: some tools read it as octal)"
    )]
    #[test_case(
        "1.2.3.4/33",
        "invalid CIDR '1.2.3.4/33': prefix length 33 is out of range for IPv4 (0-32)"
    )]
    #[test_case("1.2.3.4/", "invalid CIDR '1.2.3.4/': nothing after '/'")]
    #[test_case(
        "1.2.3.4/x",
        "invalid CIDR '1.2.3.4/x': prefix length 'x' is not a number"
    )]
    #[test_case(
        "::1/129",
        "invalid CIDR '::1/129': prefix length 129 is out of range for IPv6 (0-128)"
    )]
    #[test_case(
        "1.2.3.999/8",
        "invalid CIDR '1.2.3.999/8': 999 is out of range (0-255)"
    )]
    #[test_case(
        "fe80::zz",
        "invalid IPv6 address 'fe80::zz': not a valid IPv6 address"
    )]
    #[test_case(
        "1.2.3.4:80",
        "invalid address '1.2.3.4:80': remove the ':80' (for the port: ipdiag port 80)"
    )]
    #[test_case("", "invalid address '': empty")]
    #[test_case(
        "a_b",
        "invalid host name 'a_b': '_' is not allowed in a host name (letters, digits, '-' and '.')"
    )]
    #[test_case(
        "-a.com",
        "invalid host name '-a.com': a host name label starts or ends with '-'"
    )]
    #[test_case(
        "1.2.3.4.5a.6",
        "invalid host name '1.2.3.4.5a.6': the last label is all digits, so this is neither an IPv4 address nor a host name"
    )]
    #[test_case(
        "\u{1}\u{2}",
        "invalid host name '\\u{1}\\u{2}': '\\u{1}' is not allowed in a host name (letters, digits, '-' and '.')"
    )]
    fn error_messages(token: &str, message: &str) {
        assert_eq!(err(token), message);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = parse_item(&s);
        }

        #[test]
        fn never_panics_on_address_like_text(s in "[0-9a-f:./\\[\\]%]{0,45}") {
            let _ = parse_item(&s);
        }
    }
}
