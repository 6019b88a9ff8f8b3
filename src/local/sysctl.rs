//! Kernel settings that change what a port means: the privileged-port limit, the
//! ephemeral (client) port range, and the receive buffer sizes sockets get.

use crate::classify::port::{FactSource, PortFacts};
use std::fs;
use std::path::Path;

const UNPRIVILEGED_START: &str = "sys/net/ipv4/ip_unprivileged_port_start";
const LOCAL_PORT_RANGE: &str = "sys/net/ipv4/ip_local_port_range";
const RMEM_DEFAULT: &str = "sys/net/core/rmem_default";
const RMEM_MAX: &str = "sys/net/core/rmem_max";

/// The host's receive buffer sizes (`None` where unreadable).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RmemLimits {
    /// `net.core.rmem_default`: the buffer of a socket that sets no `SO_RCVBUF`.
    pub default: Option<u64>,
    /// `net.core.rmem_max`: the ceiling for `SO_RCVBUF` (the kernel doubles what it grants,
    /// for its bookkeeping, so a socket shows at most twice this; see `socket(7)`).
    pub max: Option<u64>,
}

/// Reads the receive buffer sizes from `/proc`.
pub fn rmem_limits() -> RmemLimits {
    rmem_limits_from(Path::new("/proc"))
}

/// Reads the receive buffer sizes from a `/proc`-like directory.
pub fn rmem_limits_from(proc_root: &Path) -> RmemLimits {
    let read = |rel: &str| {
        fs::read_to_string(proc_root.join(rel))
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
    };
    RmemLimits {
        default: read(RMEM_DEFAULT),
        max: read(RMEM_MAX),
    }
}

/// This system's port facts (Linux: `/proc`, falling back to the defaults per value).
pub fn port_facts() -> PortFacts {
    crate::sys::port_facts()
}

/// Reads the port facts from a `/proc`-like directory (tests pass a temporary one).
pub fn port_facts_from(proc_root: &Path) -> PortFacts {
    let mut facts = PortFacts::default();
    let read = |rel: &str| fs::read_to_string(proc_root.join(rel)).ok();
    // The kernel accepts values up to 65536 here (everything unprivileged above 65535).
    if let Some(start) = read(UNPRIVILEGED_START).and_then(|t| t.trim().parse::<u32>().ok()) {
        facts.unprivileged_start = u16::try_from(start).unwrap_or(u16::MAX);
        facts.unprivileged_source = FactSource::Kernel;
    }
    if let Some(range) = read(LOCAL_PORT_RANGE).and_then(|t| parse_range(&t)) {
        facts.ephemeral = range;
        facts.ephemeral_source = FactSource::Kernel;
    }
    facts
}

fn parse_range(text: &str) -> Option<(u16, u16)> {
    let mut numbers = text.split_whitespace().map(str::parse::<u16>);
    let (low, high) = (numbers.next()?.ok()?, numbers.next()?.ok()?);
    (low <= high).then_some((low, high))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kernel_values_or_falls_back() {
        let dir = std::env::temp_dir().join(format!("ipdiag-sysctl-{}", std::process::id()));
        fs::create_dir_all(dir.join("sys/net/ipv4")).unwrap();
        fs::write(dir.join(UNPRIVILEGED_START), "80\n").unwrap();
        fs::write(dir.join(LOCAL_PORT_RANGE), "40000\t50000\n").unwrap();
        let facts = port_facts_from(&dir);
        assert_eq!(
            (facts.unprivileged_start, facts.unprivileged_source),
            (80, FactSource::Kernel)
        );
        assert_eq!(
            (facts.ephemeral, facts.ephemeral_source),
            ((40000, 50000), FactSource::Kernel)
        );
        fs::write(dir.join(LOCAL_PORT_RANGE), "garbage").unwrap();
        assert_eq!(port_facts_from(&dir).ephemeral_source, FactSource::Default);
        fs::create_dir_all(dir.join("sys/net/core")).unwrap();
        fs::write(dir.join(RMEM_DEFAULT), "212992\n").unwrap();
        fs::write(dir.join(RMEM_MAX), "-1\n").unwrap();
        assert_eq!(
            rmem_limits_from(&dir),
            RmemLimits {
                default: Some(212_992),
                max: None
            }
        );
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            port_facts_from(Path::new("/nonexistent")),
            PortFacts::default()
        );
        assert_eq!(
            rmem_limits_from(Path::new("/nonexistent")),
            RmemLimits::default()
        );
    }
}
