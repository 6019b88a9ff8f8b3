//! The port facts of each system in its own terms: BSD's `net.inet.ip.portrange.*` read from
//! sysctl(8)'s text, and the notes `ipdiag port` prints, which name each system's setting
//! and privileged-port rule. Pure, compiled and tested everywhere.
//!
//! - macOS (xnu `bsd/netinet/in_pcb.c`): `first`-`last` is the range connects and binds to
//!   port 0 take (default 49152-65535); `hifirst`-`hilast` serve `IP_PORTRANGE_HIGH` and
//!   `lowlast`-`lowfirst` (600-1023, root) `IP_PORTRANGE_LOW`. Ports below 1024
//!   (`IPPORT_RESERVED`, not a sysctl) need root only when bound to a specific address: since
//!   macOS 10.14 (xnu-4903) the wildcard address needs no privilege (`in_pcbbind` and
//!   `in6_pcbbind` check `PRIV_NETINET_RESERVEDPORT` only for a non-zero address).
//! - FreeBSD (`sys/netinet/in_pcb.c`): the same ranges (`first` defaults to 10000), and
//!   ports from `reservedlow` to `reservedhigh` (0-1023) need root for any address.

use super::System;
use crate::classify::port::{FactSource, PortFacts};
use std::fmt::Write as _;

/// `IPPORT_RESERVED`: macOS' privileged ports are those below it (a constant, no sysctl).
const MACOS_RESERVED: u16 = 1024;

/// The values under `net.inet.ip.portrange` that ipdiag reads (`None`: not printed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PortRange {
    /// `first`, `last`: the default ephemeral range.
    pub first: Option<u16>,
    /// See `first`.
    pub last: Option<u16>,
    /// `hifirst`, `hilast`: `IP_PORTRANGE_HIGH`.
    pub hifirst: Option<u16>,
    /// See `hifirst`.
    pub hilast: Option<u16>,
    /// `lowfirst`, `lowlast`: `IP_PORTRANGE_LOW` (allocated downwards, from first to last).
    pub lowfirst: Option<u16>,
    /// See `lowfirst`.
    pub lowlast: Option<u16>,
    /// `reservedhigh`, `reservedlow` (FreeBSD): the privileged ports.
    pub reservedhigh: Option<u32>,
    /// See `reservedhigh`.
    pub reservedlow: Option<u32>,
}

/// Reads `sysctl net.inet.ip.portrange`'s lines (`net.inet.ip.portrange.first: 49152`);
/// other lines and values out of range are left out.
pub fn parse(text: &str) -> PortRange {
    let mut range = PortRange::default();
    for line in text.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let Some(name) = name.trim().strip_prefix("net.inet.ip.portrange.") else {
            continue;
        };
        let Ok(value) = value.trim().parse::<u32>() else {
            continue;
        };
        let port = u16::try_from(value).ok();
        match name {
            "first" => range.first = port,
            "last" => range.last = port,
            "hifirst" => range.hifirst = port,
            "hilast" => range.hilast = port,
            "lowfirst" => range.lowfirst = port,
            "lowlast" => range.lowlast = port,
            "reservedhigh" => range.reservedhigh = Some(value),
            "reservedlow" => range.reservedlow = Some(value),
            _ => {}
        }
    }
    range
}

/// The port facts of `system` (macOS or FreeBSD) from what sysctl said; each value it did
/// not say is the system's default, marked as such.
pub fn bsd_facts(system: System, read: &PortRange) -> PortFacts {
    let macos = system == System::MacOs;
    let mut facts = PortFacts {
        system,
        unprivileged_start: MACOS_RESERVED,
        unprivileged_source: FactSource::Default,
        ephemeral: (if macos { 49152 } else { 10000 }, 65535),
        ephemeral_source: FactSource::Default,
        high: Some((49152, 65535)),
        low: Some((600, 1023)),
        excluded: Vec::new(),
    };
    let pair = |a: Option<u16>, b: Option<u16>| Some((a?, b?)).filter(|(a, b)| a <= b);
    if let Some(range) = pair(read.first, read.last) {
        facts.ephemeral = range;
        facts.ephemeral_source = FactSource::Kernel;
    }
    if let Some(range) = pair(read.hifirst, read.hilast) {
        facts.high = Some(range);
    }
    if let Some(range) = pair(read.lowlast, read.lowfirst) {
        facts.low = Some(range);
    }
    // FreeBSD: privileged from reservedlow (normally 0) to reservedhigh.
    if !macos
        && let Some(high) = read.reservedhigh
        && read.reservedlow.unwrap_or(0) == 0
    {
        facts.unprivileged_start = u16::try_from(high.saturating_add(1)).unwrap_or(u16::MAX);
        facts.unprivileged_source = FactSource::Kernel;
    }
    facts
}

fn default_of(system: System, source: FactSource) -> String {
    match source {
        FactSource::Kernel => String::new(),
        FactSource::Default => format!(", {} default", system.name()),
    }
}

/// The note under `ipdiag port`'s table that explains PRIVILEGED, in the system's terms.
pub fn privileged_note(facts: &PortFacts) -> String {
    let start = facts.unprivileged_start;
    let default = default_of(facts.system, facts.unprivileged_source);
    match facts.system {
        System::Linux => format!(
            "privileged: binding a port below {start} needs root or CAP_NET_BIND_SERVICE \
             (net.ipv4.ip_unprivileged_port_start = {start}{default})."
        ),
        System::MacOs => format!(
            "privileged: binding a port below {start} to a specific address needs root; the \
             wildcard address (0.0.0.0, ::) needs none since macOS 10.14 (IPPORT_RESERVED = \
             {start})."
        ),
        System::FreeBsd => format!(
            "privileged: binding a port below {start} needs root \
             (net.inet.ip.portrange.reservedhigh = {}{default}).",
            start.saturating_sub(1)
        ),
        System::Windows => "privileged: Windows has no privileged ports.".to_owned(),
    }
}

/// The note that explains EPHEMERAL, naming the setting the range came from.
pub fn ephemeral_note(facts: &PortFacts) -> String {
    let (first, last) = facts.ephemeral;
    let default = default_of(facts.system, facts.ephemeral_source);
    let setting = match facts.system {
        System::Linux => "net.ipv4.ip_local_port_range",
        System::MacOs | System::FreeBsd => "net.inet.ip.portrange.first/last",
        System::Windows => "the dynamic port range, netsh int ipv4 show dynamicport tcp",
    };
    let mut note = format!(
        "ephemeral: this OS picks client ports from {first}-{last} ({setting}{default}); a \
         server listening there can clash with outgoing connections."
    );
    if let (Some((hi_first, hi_last)), Some((low_first, low_last))) = (facts.high, facts.low) {
        let _ = write!(
            note,
            " Programs that ask for IP_PORTRANGE_HIGH get {hi_first}-{hi_last} \
             (net.inet.ip.portrange.hifirst/hilast), IP_PORTRANGE_LOW {low_first}-{low_last} \
             (lowlast/lowfirst, root)."
        );
    }
    note
}

#[cfg(test)]
#[path = "portrange_tests.rs"]
mod tests;
