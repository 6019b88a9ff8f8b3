//! Probe targets: `203.0.113.10:7890`, `[2001:db8::1]:53`, `host:port`, `host:22,80`,
//! `host` (ports from `-p`), `2001:db8::1` (an IPv6 address needs brackets to carry a
//! port), and `10.0.0.0/30:22` for every host of a small network.

use crate::classify::port_spec::{PortSelection, parse_port_arg};
use crate::classify::{Item, parse_item};
use crate::error::{InputError, Problem};
use ipnet::IpNet;
use std::net::IpAddr;

/// One target as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    /// The token as the user wrote it.
    pub text: String,
    /// The host part.
    pub host: HostSpec,
    /// Ports written with the target (`:7890`), if any.
    pub ports: Option<Vec<PortSelection>>,
}

/// The host part of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostSpec {
    /// A literal address.
    Address(IpAddr),
    /// Every host address of a network.
    Network(IpNet),
    /// A name to resolve.
    Name(String),
}

impl HostSpec {
    /// The host as text (`web`, `203.0.113.10`, `10.0.0.0/30`).
    pub fn text(&self) -> String {
        match self {
            HostSpec::Address(a) => a.to_string(),
            HostSpec::Network(n) => n.to_string(),
            HostSpec::Name(n) => n.clone(),
        }
    }
}

/// Parses one target token.
pub fn parse_target(token: &str) -> Result<TargetSpec, InputError> {
    let text = token.trim();
    if text.is_empty() {
        return Err(InputError::new("target", token, Problem::Empty));
    }
    let (host, ports) = split_host_port(text)?;
    if host.contains('%') && host.contains(':') {
        return Err(InputError::new("target", text, Problem::ZoneUnsupported));
    }
    let item = parse_item(host)?;
    if text.starts_with('[') && !matches!(item, Item::Address(std::net::IpAddr::V6(_))) {
        return Err(InputError::new("target", text, Problem::BracketsNotV6));
    }
    let host = match item {
        Item::Address(a) => HostSpec::Address(a),
        Item::Network(n) => HostSpec::Network(n),
        Item::Host(name) => HostSpec::Name(name.to_owned()),
    };
    let ports = ports.map(parse_port_arg).transpose()?;
    Ok(TargetSpec {
        text: text.to_owned(),
        host,
        ports,
    })
}

/// `[v6]:ports`, `v6` (two or more colons, no port), `host:ports`, `host`.
fn split_host_port(text: &str) -> Result<(&str, Option<&str>), InputError> {
    if let Some(rest) = text.strip_prefix('[') {
        let (inner, after) = rest
            .split_once(']')
            .ok_or_else(|| InputError::new("target", text, Problem::Unbracketed))?;
        return match after {
            "" => Ok((inner, None)),
            ":" => Err(InputError::new("target", text, Problem::MissingPort)),
            _ => match after.strip_prefix(':') {
                Some(ports) => Ok((inner, Some(ports))),
                None => Err(InputError::new("target", text, Problem::Unbracketed)),
            },
        };
    }
    if text.matches(':').count() >= 2 {
        return Ok((text, None));
    }
    match text.split_once(':') {
        Some((_, "")) => Err(InputError::new("target", text, Problem::MissingPort)),
        Some((host, ports)) => Ok((host, Some(ports))),
        None => Ok((text, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::port_spec::PortSet;

    fn ports(spec: &TargetSpec) -> Vec<u16> {
        spec.ports
            .iter()
            .flatten()
            .flat_map(|s| s.ports.ports().collect::<Vec<_>>())
            .collect()
    }

    #[test]
    fn forms() {
        let t = parse_target("203.0.113.10:7890").unwrap();
        assert_eq!(
            (t.host.clone(), ports(&t)),
            (
                HostSpec::Address("203.0.113.10".parse().unwrap()),
                vec![7890]
            )
        );
        let t = parse_target("[2001:db8::1]:53").unwrap();
        assert_eq!(
            (t.host.clone(), ports(&t)),
            (HostSpec::Address("2001:db8::1".parse().unwrap()), vec![53])
        );
        let t = parse_target("2001:db8::1").unwrap();
        assert_eq!(
            (t.host, t.ports),
            (HostSpec::Address("2001:db8::1".parse().unwrap()), None)
        );
        let t = parse_target("localhost:22,80").unwrap();
        assert_eq!(
            (t.host.clone(), ports(&t)),
            (HostSpec::Name("localhost".into()), vec![22, 80])
        );
        let t = parse_target("web").unwrap();
        assert_eq!(t.ports, None);
        let t = parse_target("10.0.0.0/30:ssh").unwrap();
        assert_eq!(t.host, HostSpec::Network("10.0.0.0/30".parse().unwrap()));
        let t = parse_target("127.0.0.1:53/udp").unwrap();
        assert_eq!(t.ports.unwrap()[0].ports, PortSet::Range(53, 53));
    }

    #[test]
    fn errors() {
        let e = |t| parse_target(t).unwrap_err().to_string();
        assert_eq!(e(""), "invalid target '': empty");
        assert_eq!(
            e("203.0.113.10:"),
            "invalid target '203.0.113.10:': nothing after ':' (write HOST:PORT)"
        );
        assert_eq!(
            e("[::1"),
            "invalid target '[::1': an IPv6 address with a port is written [ADDRESS]:PORT"
        );
        assert_eq!(
            e("[::1]80"),
            "invalid target '[::1]80': an IPv6 address with a port is written [ADDRESS]:PORT"
        );
        assert_eq!(
            e("256.0.0.1:80"),
            "invalid IPv4 address '256.0.0.1': 256 is out of range (0-255)"
        );
        assert_eq!(
            e("web:99999"),
            "invalid port '99999': 99999 is out of range (0-65535)"
        );
    }
}
