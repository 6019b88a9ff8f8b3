//! IANA service names both ways: port → registrations, name → ports.
//!
//! The table (`data/services.tsv`) is sorted by port, so a port's rows are one binary
//! search; a name is a scan of ~12k rows (tens of microseconds, once per command-line
//! token), which is cheaper than building an index at start-up.

use super::tables::{SERVICE_ALIASES, SERVICES, Service};

/// The IANA registrations for one port, all protocols.
pub fn services_on(port: u16) -> &'static [Service] {
    let start = SERVICES.partition_point(|s| s.port < port);
    let end = SERVICES.partition_point(|s| s.port <= port);
    SERVICES.get(start..end).unwrap_or_default()
}

/// The ports registered under a service name or a known alias (any case), sorted.
pub fn ports_named(name: &str) -> Vec<u16> {
    let mut ports: Vec<u16> = SERVICES
        .iter()
        .filter(|s| s.name().eq_ignore_ascii_case(name))
        .map(|s| s.port)
        .chain(
            SERVICE_ALIASES
                .iter()
                .filter(|(alias, _)| alias.eq_ignore_ascii_case(name))
                .map(|&(_, port)| port),
        )
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_to_ports() {
        assert_eq!(ports_named("ssh"), [22]);
        assert_eq!(ports_named("SSH"), [22]);
        assert_eq!(ports_named("http"), [80]);
        assert_eq!(ports_named("dns"), [53]);
        assert_eq!(ports_named("domain"), [53]);
        assert_eq!(ports_named("http-alt"), [591, 8008, 8080]);
        assert!(ports_named("no-such-service").is_empty());
    }

    #[test]
    fn ports_to_names() {
        let names: Vec<_> = services_on(8080)
            .iter()
            .map(|s| (s.protocol.as_str(), s.name()))
            .collect();
        assert_eq!(names, [("tcp", "http-alt"), ("udp", "http-alt")]);
        assert_eq!(
            services_on(0).first().map(Service::description),
            Some("Reserved")
        );
        assert!(services_on(7890).is_empty());
    }
}
