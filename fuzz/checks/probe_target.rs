//! `ipdiag::plan::target::parse_target` (HOST, HOST:PORTS, [IPV6]:PORTS, CIDR:PORTS) on
//! arbitrary text: never a panic; an accepted target keeps its trimmed text, written ports
//! are never an empty list, brackets hold only an IPv6 address or network, and the target
//! written back canonically (`[IPV6%ZONE]:PORTS`, `[IPV6NET]/LEN:PORTS`, `HOST:PORTS`) re-parses
//! to the same host and ports.
//! Run: `cargo +nightly fuzz run probe_target -- -max_total_time=60`.

use ipdiag::plan::target::{HostSpec, parse_target};

/// The target's assertions on one input.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_target(text) {
        Ok(t) => {
            assert_eq!(t.text, text.trim());
            // Brackets are for IPv6: an address, or a network carrying ports
            // (`[2001:db8::]/64:80`, since `2001:db8::/64:80` cannot be told apart).
            let host = match &t.host {
                // The zone stays with its address: `[fe80::1%eth0]`.
                HostSpec::Address(a) if a.is_ipv6() => format!("[{}]", t.host_text()),
                HostSpec::Network(n) if n.addr().is_ipv6() && t.ports.is_some() => {
                    format!("[{}]/{}", n.addr(), n.prefix_len())
                }
                HostSpec::Network(n) if n.addr().is_ipv6() => n.to_string(),
                HostSpec::Name(name) => {
                    assert!(!name.is_empty() && !name.contains(':'), "{name:?}");
                    name.clone()
                }
                other => other.text(),
            };
            let canonical = match &t.ports {
                Some(ports) => {
                    assert!(!ports.is_empty(), "{text:?}: an empty port list");
                    assert!(ports.iter().all(|p| !p.ports.is_empty()));
                    let labels: Vec<&str> = ports.iter().map(|p| p.label.as_str()).collect();
                    format!("{host}:{}", labels.join(","))
                }
                None => host,
            };
            let again = parse_target(&canonical)
                .unwrap_or_else(|e| panic!("{text:?} written as {canonical:?}: {e}"));
            assert_eq!(
                (again.host, again.zone, again.ports),
                (t.host, t.zone, t.ports),
                "{text:?} / {canonical:?}"
            );
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}
