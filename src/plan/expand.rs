//! Targets × ports × protocols → endpoints, resolving names through a [`Resolver`].
//!
//! A name that does not resolve is not an input error: it becomes an endpoint without an
//! address (reported as `error`/`dns-error` with the resolver's message), and the rest of the
//! run goes on. Broadcast and multicast destinations are refused unless allowed: a probe to
//! them reaches many hosts at once.

use super::endpoints::{Builder, Endpoints, distinct};
use super::target::{HostSpec, TargetSpec};
use crate::classify::classify;
use crate::classify::port_spec::PortSelection;
use crate::error::{InputError, Problem};
use crate::model::{Endpoint, Protocol, Scope, Transport};
use crate::resolve::Resolver;
use ipnet::IpNet;
use std::net::IpAddr;

/// The most addresses one network target may expand to.
const MAX_NETWORK_ADDRESSES: u128 = 65_536;
/// The most endpoints one run may plan (a SYN scan and the results of a table still hold
/// every endpoint).
pub const MAX_ENDPOINTS: usize = 4_000_000;

/// How targets expand.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Ports for targets written without any (`-p`).
    pub default_ports: Vec<PortSelection>,
    /// Protocols for ports without a `/tcp` or `/udp` suffix.
    pub protocols: Vec<Protocol>,
    /// Only IPv4 (4) or only IPv6 (6) addresses.
    pub family: Option<u8>,
    /// Allow broadcast and multicast destinations.
    pub allow_broadcast: bool,
}

/// The endpoints of a run, and for each one that has no address, why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// What to probe, in the order the user gave it.
    pub endpoints: Vec<Endpoint>,
    /// Parallel to `endpoints`: the resolver's message where the address is missing.
    pub unresolved: Vec<Option<String>>,
}

/// Expands the targets into a list (for runs of a few endpoints; [`expand`] generates them).
pub fn build_plan(
    specs: &[TargetSpec],
    options: &PlanOptions,
    resolver: &dyn Resolver,
) -> Result<Plan, InputError> {
    let lazy = expand(specs, options, resolver)?;
    let unresolved = (0..lazy.len())
        .map(|i| lazy.unresolved(i).map(str::to_owned))
        .collect();
    Ok(Plan {
        endpoints: lazy.iter().collect(),
        unresolved,
    })
}

/// Expands the targets into a plan that generates its endpoints when they are needed; each
/// (address, port, protocol) once. More than [`MAX_ENDPOINTS`] is refused, counted before
/// anything is built and named with the count.
pub fn expand(
    specs: &[TargetSpec],
    options: &PlanOptions,
    resolver: &dyn Resolver,
) -> Result<Endpoints, InputError> {
    let mut plan = Builder::default();
    for spec in specs {
        let selections = match &spec.ports {
            Some(ports) => ports.as_slice(),
            None if !options.default_ports.is_empty() => options.default_ports.as_slice(),
            None => {
                // `::1:80` is the address ::1:80, not ::1 port 80: say how to write it.
                let problem = if spec.text.contains("::") || spec.text.matches(':').count() > 1 {
                    Problem::NoPortV6
                } else {
                    Problem::NoPort
                };
                return Err(InputError::new("target", &spec.text, problem));
            }
        };
        let mut wanted = Vec::new();
        for protocol in [Protocol::Tcp, Protocol::Udp] {
            for selection in selections {
                if wants(selection, protocol, options)? {
                    wanted.push((selection, protocol));
                }
            }
        }
        let ports = distinct(
            wanted
                .iter()
                .flat_map(|(s, protocol)| s.ports.ports().map(|port| (port, *protocol))),
        );
        let (addresses, failure) = addresses(spec, options, resolver)?;
        let scope_id = scope_id(spec, resolver)?;
        plan.target(
            &spec.text,
            spec.host_text(),
            (failure, scope_id),
            &addresses,
            &ports,
        );
        if plan.len() > MAX_ENDPOINTS {
            return Err(InputError::new(
                "target",
                &spec.text,
                Problem::TooManyEndpoints(plan.len(), MAX_ENDPOINTS),
            ));
        }
    }
    Ok(plan.finish())
}

/// The interface index of the target's zone (0 without one).
fn scope_id(spec: &TargetSpec, resolver: &dyn Resolver) -> Result<u32, InputError> {
    let Some(zone) = &spec.zone else {
        return Ok(0);
    };
    resolver.interface_index(zone).ok_or_else(|| {
        InputError::new(
            "target",
            &spec.text,
            Problem::UnknownInterface(zone.to_string()),
        )
    })
}

/// Whether this port selection is probed with `protocol`: its `/tcp` or `/udp` suffix
/// decides, else the run's protocols.
fn wants(
    selection: &PortSelection,
    protocol: Protocol,
    options: &PlanOptions,
) -> Result<bool, InputError> {
    Ok(match selection.protocol {
        None => options.protocols.contains(&protocol),
        Some(Transport::Tcp) => protocol == Protocol::Tcp,
        Some(Transport::Udp) => protocol == Protocol::Udp,
        Some(other) => {
            return Err(InputError::new(
                "port",
                &selection.label,
                Problem::NotProbeable(other.to_string()),
            ));
        }
    })
}

/// The addresses of a target (empty with a message when a name does not resolve).
fn addresses(
    spec: &TargetSpec,
    options: &PlanOptions,
    resolver: &dyn Resolver,
) -> Result<(Vec<IpAddr>, Option<String>), InputError> {
    let literal = |list: Vec<IpAddr>| -> Result<Vec<IpAddr>, InputError> {
        for address in &list {
            check_family(spec, *address, options)?;
            check_broadcast(spec, *address, options)?;
        }
        Ok(list)
    };
    match &spec.host {
        HostSpec::Address(a) => Ok((literal(vec![*a])?, None)),
        HostSpec::Network(net) => Ok((literal(hosts(spec, *net)?)?, None)),
        HostSpec::Name(name) => match resolver.resolve(name) {
            Err(e) => Ok((Vec::new(), Some(format!("cannot resolve '{name}': {e}")))),
            Ok(all) => {
                let kept: Vec<IpAddr> = all
                    .into_iter()
                    .filter(|a| options.family.is_none_or(|f| family(*a) == f))
                    .collect();
                if kept.is_empty() {
                    let f = options.family.unwrap_or(4);
                    return Ok((Vec::new(), Some(format!("'{name}' has no IPv{f} address"))));
                }
                for a in &kept {
                    check_broadcast(spec, *a, options)?;
                }
                Ok((kept, None))
            }
        },
    }
}

fn family(address: IpAddr) -> u8 {
    if address.is_ipv4() { 4 } else { 6 }
}

fn check_family(
    spec: &TargetSpec,
    address: IpAddr,
    options: &PlanOptions,
) -> Result<(), InputError> {
    match options.family {
        Some(f) if family(address) != f => Err(InputError::new(
            "target",
            &spec.text,
            Problem::WrongFamily(f),
        )),
        _ => Ok(()),
    }
}

/// `a broadcast` / `a multicast` for an address that reaches many hosts at once.
pub fn fan_out(address: IpAddr) -> Option<&'static str> {
    match classify(address).scope {
        Scope::Broadcast => Some("a broadcast"),
        Scope::Multicast => Some("a multicast"),
        _ => None,
    }
}

fn check_broadcast(
    spec: &TargetSpec,
    address: IpAddr,
    options: &PlanOptions,
) -> Result<(), InputError> {
    let Some(what) = fan_out(address) else {
        return Ok(());
    };
    if options.allow_broadcast {
        Ok(())
    } else {
        Err(InputError::new(
            "target",
            &spec.text,
            Problem::Broadcast(what),
        ))
    }
}

/// The host addresses of a network: without the network and broadcast addresses for IPv4
/// networks larger than /31 (RFC 3021), every address otherwise.
fn hosts(spec: &TargetSpec, net: IpNet) -> Result<Vec<IpAddr>, InputError> {
    let bits = u32::from(net.max_prefix_len() - net.prefix_len());
    let size = 1u128.checked_shl(bits).unwrap_or(u128::MAX);
    if size > MAX_NETWORK_ADDRESSES {
        // 2^128 reads better than its 39 digits (and is exact, which u128 is not).
        let count = if bits > 32 {
            format!("2^{bits}")
        } else {
            size.to_string()
        };
        return Err(InputError::new(
            "target",
            &spec.text,
            Problem::TooManyAddresses(count),
        ));
    }
    Ok(match net {
        IpNet::V4(v4) if v4.prefix_len() < 31 => v4.hosts().map(IpAddr::V4).collect(),
        IpNet::V4(v4) => v4.trunc().hosts().map(IpAddr::V4).collect(),
        IpNet::V6(v6) => v6.trunc().hosts().map(IpAddr::V6).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::port_spec::parse_port_arg;
    use crate::plan::target::{Zone, parse_target};
    use std::io;

    /// Resolves `web` to two addresses, `v6only` to one IPv6 address, nothing else.
    struct FakeResolver;

    impl Resolver for FakeResolver {
        fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>> {
            match host {
                "web" => Ok(vec![
                    "198.51.100.7".parse().unwrap(),
                    "2001:db8::7".parse().unwrap(),
                ]),
                "v6only" => Ok(vec!["2001:db8::8".parse().unwrap()]),
                _ => Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    "Name or service not known",
                )),
            }
        }

        /// `eth0` is interface 2; indexes up to 9 exist.
        fn interface_index(&self, zone: &Zone) -> Option<u32> {
            match zone {
                Zone::Name(name) => (name == "eth0").then_some(2),
                Zone::Index(index) => (*index < 10).then_some(*index),
            }
        }
    }

    #[test]
    fn zones_become_scope_ids() {
        let plan = plan(&["[fe80::1%eth0]:80", "[fe80::2%3]:80", "[::1]:80"], &tcp()).unwrap();
        let scopes: Vec<(String, u32)> = plan
            .endpoints
            .iter()
            .map(|e| (e.host.clone(), e.scope_id))
            .collect();
        assert_eq!(
            scopes,
            [("fe80::1%eth0", 2), ("fe80::2%3", 3), ("::1", 0)].map(|(h, s)| (h.to_owned(), s))
        );
        assert_eq!(
            plan.endpoints[0].socket_addr().map(|a| a.to_string()),
            Some("[fe80::1%2]:80".to_owned())
        );
        assert_eq!(
            super::tests::plan(&["[fe80::1%wlan9]:80"], &tcp())
                .unwrap_err()
                .to_string(),
            format!(
                "invalid target '[fe80::1%wlan9]:80': no interface 'wlan9' on this host ({})",
                crate::sys::System::HERE.words().interfaces
            )
        );
    }

    fn plan(targets: &[&str], options: &PlanOptions) -> Result<Plan, InputError> {
        let specs: Vec<TargetSpec> = targets.iter().map(|t| parse_target(t).unwrap()).collect();
        build_plan(&specs, options, &FakeResolver)
    }

    fn tcp() -> PlanOptions {
        PlanOptions {
            protocols: vec![Protocol::Tcp],
            ..PlanOptions::default()
        }
    }

    fn summary(plan: &Plan) -> Vec<String> {
        plan.endpoints
            .iter()
            .map(|e| {
                format!(
                    "{} {}:{}/{}",
                    e.host,
                    e.address.map_or("-".into(), |a| a.to_string()),
                    e.port,
                    e.protocol
                )
            })
            .collect()
    }

    #[test]
    fn names_ports_and_protocols() {
        let options = PlanOptions {
            default_ports: parse_port_arg("22,53/udp").unwrap(),
            ..tcp()
        };
        let p = plan(&["web", "203.0.113.10:7890"], &options).unwrap();
        assert_eq!(
            summary(&p),
            [
                "web 198.51.100.7:22/tcp",
                "web 198.51.100.7:53/udp",
                "web 2001:db8::7:22/tcp",
                "web 2001:db8::7:53/udp",
                "203.0.113.10 203.0.113.10:7890/tcp",
            ]
        );
        let both = PlanOptions {
            protocols: vec![Protocol::Tcp, Protocol::Udp],
            ..PlanOptions::default()
        };
        assert_eq!(
            summary(&plan(&["127.0.0.1:53"], &both).unwrap()),
            ["127.0.0.1 127.0.0.1:53/tcp", "127.0.0.1 127.0.0.1:53/udp"]
        );
    }

    #[test]
    fn families() {
        let v4 = PlanOptions {
            family: Some(4),
            ..tcp()
        };
        assert_eq!(
            summary(&plan(&["web:80"], &v4).unwrap()),
            ["web 198.51.100.7:80/tcp"]
        );
        let p = plan(&["v6only:80"], &v4).unwrap();
        assert_eq!(
            p.unresolved,
            [Some("'v6only' has no IPv4 address".to_owned())]
        );
        assert_eq!(
            plan(&["[::1]:80"], &v4).unwrap_err().to_string(),
            "invalid target '[::1]:80': not an IPv4 address (-4 was given)"
        );
    }

    #[test]
    fn unresolved_names_become_endpoints_without_address() {
        let p = plan(&["nosuch:80", "127.0.0.1:80"], &tcp()).unwrap();
        assert_eq!(
            summary(&p),
            ["nosuch -:80/tcp", "127.0.0.1 127.0.0.1:80/tcp"]
        );
        assert_eq!(
            p.unresolved[0].as_deref(),
            Some("cannot resolve 'nosuch': Name or service not known")
        );
        assert_eq!(p.unresolved[1], None);
    }

    #[test]
    fn networks_expand_to_hosts() {
        let p = plan(&["192.0.2.0/30:22"], &tcp()).unwrap();
        assert_eq!(
            summary(&p),
            [
                "192.0.2.0/30 192.0.2.1:22/tcp",
                "192.0.2.0/30 192.0.2.2:22/tcp"
            ]
        );
        let p = plan(&["192.0.2.4/31:22"], &tcp()).unwrap();
        assert_eq!(p.endpoints.len(), 2);
        let err = plan(&["10.0.0.0/8:22"], &tcp()).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid target '10.0.0.0/8:22': 16777216 addresses is more than one run probes (at most 65536)"
        );
    }

    #[test]
    fn refusals() {
        let err = |t: &str| plan(&[t], &tcp()).unwrap_err().to_string();
        assert_eq!(
            err("web"),
            "invalid target 'web': no port: write HOST:PORT or give -p PORTS"
        );
        assert_eq!(
            err("255.255.255.255:9"),
            "invalid target '255.255.255.255:9': a broadcast address reaches many hosts: refused (probe --allow-broadcast does it anyway)"
        );
        assert!(err("224.0.0.1:9").contains("a multicast address"));
        assert_eq!(
            err("127.0.0.1:22/sctp"),
            "invalid port '22/sctp': ipdiag probes tcp and udp, not sctp"
        );
        let allowed = PlanOptions {
            allow_broadcast: true,
            ..tcp()
        };
        assert_eq!(plan(&["224.0.0.1:9"], &allowed).unwrap().endpoints.len(), 1);
    }

    #[test]
    fn endpoints_named_twice_are_planned_once() {
        let options = PlanOptions {
            default_ports: parse_port_arg("1-3,1-3").unwrap(),
            ..tcp()
        };
        assert_eq!(
            summary(&plan(&["127.0.0.1"], &options).unwrap()),
            [
                "127.0.0.1 127.0.0.1:1/tcp",
                "127.0.0.1 127.0.0.1:2/tcp",
                "127.0.0.1 127.0.0.1:3/tcp"
            ]
        );
        let p = plan(&["127.0.0.1:2,80", "127.0.0.0/30:80,2"], &options).unwrap();
        assert_eq!(
            summary(&p),
            [
                "127.0.0.1 127.0.0.1:2/tcp",
                "127.0.0.1 127.0.0.1:80/tcp",
                "127.0.0.0/30 127.0.0.2:80/tcp",
                "127.0.0.0/30 127.0.0.2:2/tcp"
            ]
        );
    }

    #[test]
    fn too_many_endpoints_are_counted_before_anything_is_built() {
        let every = PlanOptions {
            default_ports: parse_port_arg("-").unwrap(),
            ..tcp()
        };
        assert_eq!(
            plan(&["127.0.0.0/24"], &every).unwrap_err().to_string(),
            "invalid target '127.0.0.0/24': 16645890 endpoints (with the targets before it) is more than one run probes (at most 4000000)"
        );
        let specs: Vec<TargetSpec> = (1..=61)
            .map(|i| parse_target(&format!("127.0.1.{i}")).unwrap())
            .collect();
        let lazy = expand(&specs, &every, &FakeResolver).unwrap();
        assert_eq!(lazy.len(), 3_997_635);
        let mut more = specs;
        more.push(parse_target("127.0.1.62").unwrap());
        assert_eq!(
            expand(&more, &every, &FakeResolver)
                .unwrap_err()
                .to_string(),
            "invalid target '127.0.1.62': 4063170 endpoints (with the targets before it) is more than one run probes (at most 4000000)"
        );
    }
}
