//! What a port number means: its IANA band, the two-way tutorial view, whether binding it
//! needs privileges, whether it lies in the OS's ephemeral range.
//!
//! The OS facts (privileged limit, ephemeral range) come in as a [`PortFacts`] value read by
//! the caller, so this file stays pure and testable with any kernel setting.

use super::services::services_on;
use super::tables::Service;
use crate::model::Transport;
use serde::Serialize;

/// IANA's three bands (RFC 6335 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Band {
    /// 0-1023, "system ports", assigned by IETF review.
    WellKnown,
    /// 1024-49151, "user ports", registered with IANA.
    Registered,
    /// 49152-65535, "dynamic and/or private ports", never assigned.
    Dynamic,
}

impl Band {
    /// The band of a port.
    pub const fn of(port: u16) -> Self {
        match port {
            0..=1023 => Band::WellKnown,
            1024..=49151 => Band::Registered,
            _ => Band::Dynamic,
        }
    }

    /// The word used in every output.
    pub const fn as_str(self) -> &'static str {
        match self {
            Band::WellKnown => "well-known",
            Band::Registered => "registered",
            Band::Dynamic => "dynamic",
        }
    }

    /// The two-way view many tutorials use: 0-1023 well-known, everything else dynamic.
    pub const fn two_way(port: u16) -> Self {
        if port < 1024 {
            Band::WellKnown
        } else {
            Band::Dynamic
        }
    }
}

pub use crate::sys::System;

/// Where a fact about the OS came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FactSource {
    /// Read from the running kernel (`/proc/sys/...`).
    Kernel,
    /// The system's default, because the kernel's value could not be read.
    Default,
}

/// The OS settings that decide `privileged` and `ephemeral`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortFacts {
    /// The system these facts are about (its own settings name them).
    #[serde(skip)]
    pub system: System,
    /// Ports below this need root or `CAP_NET_BIND_SERVICE` (`net.ipv4.ip_unprivileged_port_start`).
    pub unprivileged_start: u16,
    /// Where `unprivileged_start` came from.
    pub unprivileged_source: FactSource,
    /// The range the OS picks client ports from (`net.ipv4.ip_local_port_range`).
    pub ephemeral: (u16, u16),
    /// Where `ephemeral` came from.
    pub ephemeral_source: FactSource,
    /// BSD's `IP_PORTRANGE_HIGH` range (`net.inet.ip.portrange.hifirst`-`hilast`).
    pub high: Option<(u16, u16)>,
    /// BSD's `IP_PORTRANGE_LOW` range (`lowlast`-`lowfirst`, root only).
    pub low: Option<(u16, u16)>,
    /// Windows' excluded port ranges (`netsh int ipv4 show excludedportrange`): no program
    /// may bind these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<(u16, u16)>,
}

impl Default for PortFacts {
    /// The Linux defaults: privileged below 1024, ephemeral 32768-60999.
    fn default() -> Self {
        Self {
            system: System::Linux,
            unprivileged_start: 1024,
            unprivileged_source: FactSource::Default,
            ephemeral: (32768, 60999),
            ephemeral_source: FactSource::Default,
            high: None,
            low: None,
            excluded: Vec::new(),
        }
    }
}

/// Everything ipdiag says about one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortInfo {
    /// The port.
    pub port: u16,
    /// IANA band.
    pub band: Band,
    /// The tutorial's two-way band.
    pub band_two_way: Band,
    /// Binding it needs root or `CAP_NET_BIND_SERVICE`.
    pub privileged: bool,
    /// Inside the OS's ephemeral (client) port range.
    pub ephemeral: bool,
    /// Only services of this protocol (from `22/tcp`), or all.
    pub protocol: Option<Transport>,
    all_services: &'static [Service],
}

impl PortInfo {
    /// The IANA registrations for this port (filtered by `protocol` when set).
    pub fn services(&self) -> impl Iterator<Item = &'static Service> + '_ {
        self.all_services
            .iter()
            .filter(|s| self.protocol.is_none_or(|p| p == s.protocol))
    }
}

/// Classifies a port under the given OS facts.
pub fn classify_port(port: u16, protocol: Option<Transport>, facts: &PortFacts) -> PortInfo {
    PortInfo {
        port,
        band: Band::of(port),
        band_two_way: Band::two_way(port),
        // Port 0 asks the kernel for any free port, which never needs privileges.
        privileged: port != 0 && port < facts.unprivileged_start,
        ephemeral: (facts.ephemeral.0..=facts.ephemeral.1).contains(&port),
        protocol,
        all_services: services_on(port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case(0, Band::WellKnown, Band::WellKnown; "zero")]
    #[test_case(1023, Band::WellKnown, Band::WellKnown; "last well known")]
    #[test_case(1024, Band::Registered, Band::Dynamic; "first registered")]
    #[test_case(49151, Band::Registered, Band::Dynamic; "last registered")]
    #[test_case(49152, Band::Dynamic, Band::Dynamic; "first dynamic")]
    #[test_case(65535, Band::Dynamic, Band::Dynamic; "last port")]
    fn band_boundaries(port: u16, band: Band, two_way: Band) {
        assert_eq!((Band::of(port), Band::two_way(port)), (band, two_way));
    }

    #[test]
    fn privileged_follows_the_kernel_setting() {
        let facts = PortFacts::default();
        assert!(classify_port(80, None, &facts).privileged);
        assert!(classify_port(1023, None, &facts).privileged);
        assert!(!classify_port(1024, None, &facts).privileged);
        assert!(!classify_port(0, None, &facts).privileged);
        let lowered = PortFacts {
            unprivileged_start: 80,
            ..facts
        };
        assert!(!classify_port(80, None, &lowered).privileged);
        assert!(classify_port(79, None, &lowered).privileged);
    }

    #[test]
    fn ephemeral_range_edges() {
        let facts = PortFacts::default();
        assert!(!classify_port(32767, None, &facts).ephemeral);
        assert!(classify_port(32768, None, &facts).ephemeral);
        assert!(classify_port(60999, None, &facts).ephemeral);
        assert!(!classify_port(61000, None, &facts).ephemeral);
    }

    #[test]
    fn services_filtered_by_protocol() {
        let facts = PortFacts::default();
        let all: Vec<_> = classify_port(22, None, &facts)
            .services()
            .map(|s| s.protocol)
            .collect();
        assert_eq!(all, [Transport::Tcp, Transport::Udp, Transport::Sctp]);
        let tcp: Vec<_> = classify_port(22, Some(Transport::Tcp), &facts)
            .services()
            .map(Service::name)
            .collect();
        assert_eq!(tcp, ["ssh"]);
    }
}
