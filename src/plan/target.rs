//! Probe targets: `203.0.113.10:7890`, `[2001:db8::1]:53`, `host:port`, `host:22,80`,
//! `host` (ports from `-p`), `2001:db8::1` (an IPv6 address needs brackets to carry a
//! port), `[fe80::1%eth0]:80` (a link-local address with its interface), and
//! `10.0.0.0/30:22` or `[2001:db8::]/126:22` for every host of a small network.
//!
//! Pure: an interface name stays a name here (`Zone::Name`); the expansion turns it into
//! an index through the `Resolver`. A token that does not parse is checked against the
//! habits `guess.rs` knows, so the error says what was probably meant.

use super::guess;
use crate::classify::input::valid_zone;
use crate::classify::port_spec::{PortSelection, parse_port_arg};
use crate::classify::{Item, parse_item};
use crate::error::{InputError, Problem};
use ipnet::IpNet;
use std::borrow::Cow;
use std::net::{IpAddr, Ipv6Addr};

/// One target as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    /// The token as the user wrote it.
    pub text: String,
    /// The host part.
    pub host: HostSpec,
    /// Ports written with the target (`:7890`), if any.
    pub ports: Option<Vec<PortSelection>>,
    /// The IPv6 zone written after `%` (`fe80::1%eth0`), if any.
    pub zone: Option<Zone>,
}

/// The interface an IPv6 address is scoped to (RFC 4007 §11: `%` then a name or index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zone {
    /// `%2`: an interface index.
    Index(u32),
    /// `%eth0`: an interface name, looked up when the plan is built.
    Name(String),
}

impl std::fmt::Display for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Zone::Index(i) => write!(f, "{i}"),
            Zone::Name(n) => f.write_str(n),
        }
    }
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

impl TargetSpec {
    /// The host as text with its zone (`fe80::1%eth0`).
    pub fn host_text(&self) -> String {
        match &self.zone {
            Some(zone) => format!("{}%{zone}", self.host.text()),
            None => self.host.text(),
        }
    }
}

/// Parses one target token.
pub fn parse_target(token: &str) -> Result<TargetSpec, InputError> {
    let text = token.trim();
    if text.is_empty() {
        return Err(InputError::new("target", token, Problem::Empty));
    }
    parse_trimmed(text).map_err(|e| {
        let guessed = guess::url(text).or_else(|| guess::v6_network_with_port(text));
        guessed.map_or(e, |problem| InputError::new("target", text, problem))
    })
}

/// Parses the targets of a command in order. A port written as a target of its own (`probe
/// 1.2.3.4 80`, the nc habit) is named as such, with the target before it; `port_flag` says
/// whether the command takes `-p PORTS`.
pub fn parse_targets<S: AsRef<str>>(
    tokens: &[S],
    port_flag: bool,
) -> Result<Vec<TargetSpec>, InputError> {
    let mut specs = Vec::with_capacity(tokens.len());
    let mut previous: Option<&str> = None;
    for token in tokens {
        let token = token.as_ref();
        let spec = parse_target(token).map_err(|e| {
            match guess::bare_port(token.trim(), previous.map(str::trim), port_flag) {
                Some(problem) => InputError::new("target", token.trim(), problem),
                None => e,
            }
        })?;
        specs.push(spec);
        previous = Some(token);
    }
    Ok(specs)
}

fn parse_trimmed(text: &str) -> Result<TargetSpec, InputError> {
    let (host, ports) = split_host_port(text)?;
    let (host, zone) = split_zone(text, &host)?;
    let item = parse_item(host)?;
    let bracketed_v6 = matches!(
        item,
        Item::Address(IpAddr::V6(_)) | Item::Network(IpNet::V6(_))
    );
    if text.starts_with('[') && !bracketed_v6 {
        return Err(InputError::new("target", text, Problem::BracketsNotV6));
    }
    let host = match item {
        Item::Address(a) => HostSpec::Address(a),
        Item::Network(n) => HostSpec::Network(n),
        Item::Host(name) => HostSpec::Name(name.to_owned()),
    };
    if let (HostSpec::Address(IpAddr::V6(a)), None) = (&host, &zone)
        && a.is_unicast_link_local()
    {
        return Err(InputError::new(
            "target",
            text,
            guess::link_local_zone(text, host_only(text)),
        ));
    }
    let ports = ports.map(parse_port_arg).transpose()?;
    Ok(TargetSpec {
        text: text.to_owned(),
        host,
        ports,
        zone,
    })
}

/// The address as written in a target (`fe80::1` of `[fe80::1]:80`), for suggestions.
fn host_only(text: &str) -> &str {
    match text.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => text,
    }
}

/// `fe80::1%eth0` → the address and its zone. Only an IPv6 address takes a zone; anything
/// else with a `%` is left to the host-name parser, which names the character.
fn split_zone<'a>(text: &str, host: &'a str) -> Result<(&'a str, Option<Zone>), InputError> {
    let Some((address, zone)) = host.split_once('%') else {
        return Ok((host, None));
    };
    if address.parse::<Ipv6Addr>().is_err() {
        return Ok((host, None));
    }
    if !valid_zone(zone) {
        return Err(InputError::new("target", text, Problem::BadZone));
    }
    let zone = match zone.parse::<u32>() {
        // Index 0 is the sockets API's "no zone": the address would stay unreachable.
        Ok(0) => return Err(InputError::new("target", text, Problem::ZoneIndexZero)),
        Ok(index) => Zone::Index(index),
        Err(_) => Zone::Name(zone.to_owned()),
    };
    Ok((address, Some(zone)))
}

/// `[v6]:ports`, `[v6]/len:ports`, `v6` (two or more colons, no port), `host:ports`, `host`.
fn split_host_port(text: &str) -> Result<(Cow<'_, str>, Option<&str>), InputError> {
    if let Some(rest) = text.strip_prefix('[') {
        let (inner, after) = rest
            .split_once(']')
            .ok_or_else(|| InputError::new("target", text, Problem::Unbracketed))?;
        // `[2001:db8::]/126:22`: the prefix length follows the brackets.
        let (host, after) = match after.strip_prefix('/') {
            Some(network) => {
                let (len, ports) = network.split_at(network.find(':').unwrap_or(network.len()));
                (Cow::Owned(format!("{inner}/{len}")), ports)
            }
            None => (Cow::Borrowed(inner), after),
        };
        return match after {
            "" => Ok((host, None)),
            ":" => Err(InputError::new("target", text, Problem::MissingPort)),
            _ => match after.strip_prefix(':') {
                Some(ports) => Ok((host, Some(ports))),
                None => Err(InputError::new("target", text, Problem::Unbracketed)),
            },
        };
    }
    if text.matches(':').count() >= 2 {
        return Ok((Cow::Borrowed(text), None));
    }
    match text.split_once(':') {
        Some((_, "")) => Err(InputError::new("target", text, Problem::MissingPort)),
        Some((host, ports)) => Ok((Cow::Borrowed(host), Some(ports))),
        None => Ok((Cow::Borrowed(text), None)),
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
    fn zones_and_bracketed_networks() {
        let t = parse_target("[fe80::1%eth0]:80").unwrap();
        assert_eq!(
            (t.host.clone(), t.zone.clone(), ports(&t), t.host_text()),
            (
                HostSpec::Address("fe80::1".parse().unwrap()),
                Some(Zone::Name("eth0".into())),
                vec![80],
                "fe80::1%eth0".to_owned()
            )
        );
        let t = parse_target("fe80::1%2").unwrap();
        assert_eq!((t.zone, t.ports), (Some(Zone::Index(2)), None));
        let t = parse_target("[2001:db8::]/126:22").unwrap();
        assert_eq!(
            (t.host.clone(), ports(&t), t.zone),
            (
                HostSpec::Network("2001:db8::/126".parse().unwrap()),
                vec![22],
                None
            )
        );
        let t = parse_target("[2001:db8::]/126").unwrap();
        assert_eq!(t.ports, None);
        let specs = parse_targets(&["127.0.0.1", "80"], true).unwrap_err();
        assert_eq!(
            specs.to_string(),
            "invalid target '80': looks like a port: write 127.0.0.1:80 (or -p 80)"
        );
    }

    #[test]
    fn errors() {
        let e = |t| parse_target(t).unwrap_err().to_string();
        // Where interfaces are listed is this system's (`sys::words` tests each one).
        let here = crate::sys::System::HERE.words();
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
            e("[fe80::1]:80"),
            format!(
                "invalid target '[fe80::1]:80': a link-local address needs its interface: write [fe80::1%IFACE]:80 ({})",
                here.link_local
            )
        );
        assert_eq!(
            e("[fe80::1%]:80"),
            "invalid target '[fe80::1%]:80': the zone after '%' must be an interface name or index"
        );
        assert_eq!(
            e("fe99::%0"),
            format!(
                "invalid target 'fe99::%0': zone index 0 names no interface: write the interface's name or index ({})",
                here.interfaces
            )
        );
        assert_eq!(
            e("http://web/"),
            "invalid target 'http://web/': a URL, not a target: write web:80"
        );
        assert_eq!(
            e("::/0:80"),
            "invalid target '::/0:80': an IPv6 network with a port is written [NETWORK]/LEN:PORT ([::]/0:80)"
        );
        assert_eq!(
            e("web:99999"),
            "invalid port '99999': 99999 is out of range (0-65535)"
        );
    }
}
