//! Reads port arguments: `22`, `8000-8010`, `22,80,443`, `ssh`, `53/udp`, `http/tcp`.
//!
//! Each comma-separated part becomes one [`PortSelection`]; a name expands to every port
//! IANA registers under it (`http-alt` → 591, 8008, 8080). Errors name the part that is bad.

use super::services::ports_named;
use crate::error::{InputError, Problem};
use crate::model::Transport;

/// The ports one part of an argument selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSelection {
    /// The part as the user wrote it (`ssh`, `8000-8010/tcp`).
    pub label: String,
    /// The selected ports, in order.
    pub ports: PortSet,
    /// The protocol after `/`, if any.
    pub protocol: Option<Transport>,
}

/// A set of ports: an inclusive range or an explicit list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSet {
    /// `first..=last`.
    Range(u16, u16),
    /// The ports of a service name.
    List(Vec<u16>),
}

impl PortSet {
    /// Every port in the set, in order.
    pub fn ports(&self) -> Box<dyn Iterator<Item = u16> + '_> {
        match self {
            PortSet::Range(first, last) => Box::new(*first..=*last),
            PortSet::List(ports) => Box::new(ports.iter().copied()),
        }
    }

    /// How many ports the set holds.
    pub fn len(&self) -> usize {
        match self {
            PortSet::Range(first, last) => usize::from(*last - *first) + 1,
            PortSet::List(ports) => ports.len(),
        }
    }

    /// True when the set holds no port (a name with no registrations never gets here).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Parses one argument (which may hold several comma-separated parts).
pub fn parse_port_arg(arg: &str) -> Result<Vec<PortSelection>, InputError> {
    let parts: Vec<&str> = arg.split(',').map(str::trim).collect();
    if parts.len() > 1 && parts.iter().any(|p| p.is_empty()) {
        // `22,,80`: the empty item has no text of its own to name; the list has.
        return Err(InputError::new("port list", arg, Problem::EmptyItem));
    }
    parts.into_iter().map(parse_part).collect()
}

/// Refuses port 0 for commands that assert a port's state (`wait`, `check`): nothing
/// listens on it (binding 0 asks the OS for any free port), so no state of it means
/// anything. `probe` still sends to it, as `nmap -p 0` does. Names the part holding it.
pub fn refuse_port_zero(selections: &[PortSelection]) -> Result<(), InputError> {
    let zero = |set: &PortSet| match set {
        PortSet::Range(first, _) => *first == 0,
        PortSet::List(ports) => ports.contains(&0),
    };
    match selections.iter().find(|s| zero(&s.ports)) {
        Some(s) => Err(InputError::new("port", &s.label, Problem::PortZero)),
        None => Ok(()),
    }
}

fn parse_part(part: &str) -> Result<PortSelection, InputError> {
    let err = |p| InputError::new("port", part, p);
    let (base, protocol) = match part.split_once('/') {
        Some((base, proto)) => {
            let t = Transport::parse(proto)
                .ok_or_else(|| err(Problem::UnknownTransport(proto.to_owned())))?;
            (base, Some(t))
        }
        None => (part, None),
    };
    if base.is_empty() {
        return Err(err(Problem::Empty));
    }
    let ports = if base == "-" {
        // nmap's `-p-`: every port but 0.
        PortSet::Range(1, u16::MAX)
    } else if base.starts_with('-') {
        return Err(err(Problem::NegativePort));
    } else if base.bytes().all(|b| b.is_ascii_digit()) {
        let single = number(base).map_err(err)?;
        PortSet::Range(single, single)
    } else if let Some((first, last)) = base
        .split_once('-')
        .filter(|(a, b)| is_number(a) && is_number(b))
    {
        let (first, last) = (number(first).map_err(err)?, number(last).map_err(err)?);
        if first > last {
            return Err(err(Problem::RangeOrder(first, last)));
        }
        PortSet::Range(first, last)
    } else if let Some(c) = base
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && *c != '-' && *c != '_' && *c != '.')
    {
        return Err(err(Problem::Character(c)));
    } else {
        let ports = ports_named(base);
        if ports.is_empty() {
            return Err(InputError::new(
                "service name",
                base,
                Problem::UnknownService,
            ));
        }
        PortSet::List(ports)
    };
    Ok(PortSelection {
        label: part.to_owned(),
        ports,
        protocol,
    })
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn number(text: &str) -> Result<u16, Problem> {
    // Leading zeros are harmless for ports ("0080" is 80), unlike IPv4 octets.
    let digits = text.trim_start_matches('0');
    if digits.len() > 5 {
        return Err(Problem::PortRange(text.to_owned()));
    }
    match digits {
        "" => Ok(0),
        _ => digits
            .parse::<u16>()
            .map_err(|_| Problem::PortRange(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use test_case::test_case;

    fn ports(arg: &str) -> Vec<u16> {
        parse_port_arg(arg)
            .unwrap()
            .iter()
            .flat_map(|s| s.ports.ports().collect::<Vec<_>>())
            .collect()
    }

    #[test]
    fn forms() {
        assert_eq!(ports("22"), [22]);
        assert_eq!(ports("8000-8003"), [8000, 8001, 8002, 8003]);
        assert_eq!(ports("22,80,443"), [22, 80, 443]);
        assert_eq!(ports("ssh"), [22]);
        assert_eq!(ports("0"), [0]);
        assert_eq!(ports("65535"), [65535]);
        let udp = parse_port_arg("53/udp").unwrap();
        assert_eq!(
            (udp[0].protocol, udp[0].ports.len()),
            (Some(Transport::Udp), 1)
        );
    }

    #[test]
    fn port_zero_is_refused_where_a_state_is_asserted() {
        let refused = |arg: &str| refuse_port_zero(&parse_port_arg(arg).unwrap());
        assert_eq!(refused("1-65535,ssh"), Ok(()));
        for (arg, part) in [("0", "0"), ("22,0-10", "0-10"), ("80,0/udp", "0/udp")] {
            assert_eq!(
                refused(arg).unwrap_err().to_string(),
                format!(
                    "invalid port '{part}': nothing listens on port 0 (binding it asks the OS for any free port), so it has no state to wait for or check"
                )
            );
        }
    }

    #[test_case("70000", "invalid port '70000': 70000 is out of range (0-65535)")]
    #[test_case("65536", "invalid port '65536': 65536 is out of range (0-65535)")]
    #[test_case(
        "-1",
        "invalid port '-1': ports are 0-65535; negative numbers are not ports"
    )]
    #[test_case("", "invalid port '': empty")]
    #[test_case(
        "9000-8000",
        "invalid port '9000-8000': range start 9000 is greater than end 8000"
    )]
    #[test_case(
        "nosuchsvc",
        "invalid service name 'nosuchsvc': no IANA service name or known alias matches"
    )]
    #[test_case(
        "22/xtp",
        "invalid port '22/xtp': unknown protocol 'xtp' (tcp, udp, sctp or dccp)"
    )]
    #[test_case(
        "22,,80",
        "invalid port list '22,,80': an empty item in the list (two commas, or one at an end)"
    )]
    #[test_case("8$", "invalid port '8$': unexpected character '$'")]
    #[test_case(
        "99999999999999999999",
        "invalid port '99999999999999999999': 99999999999999999999 is out of range (0-65535)"
    )]
    fn errors(arg: &str, message: &str) {
        assert_eq!(parse_port_arg(arg).unwrap_err().to_string(), message);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse_port_arg(&s);
        }

        #[test]
        fn every_port_parses(p in any::<u16>()) {
            prop_assert_eq!(ports(&p.to_string()), vec![p]);
        }
    }
}
