//! The JSON schema of `ipdiag port` (README.md "JSON fields").

use crate::classify::PortInfo;
use crate::model::Transport;
use serde::Serialize;

/// One port.
#[derive(Debug, Serialize)]
pub struct PortRecord<'a> {
    /// The argument part that selected it (`ssh`, `8000-8010`).
    pub input: &'a str,
    /// The port number.
    pub port: u16,
    /// IANA band: `well-known`, `registered`, `dynamic`.
    pub band: &'static str,
    /// Two-way band: `well-known` (0-1023) or `dynamic` (1024-65535).
    pub band_two_way: &'static str,
    /// Binding it needs root or `CAP_NET_BIND_SERVICE`.
    pub privileged: bool,
    /// Inside the OS's ephemeral port range.
    pub ephemeral: bool,
    /// IANA registrations.
    pub services: Vec<ServiceRecord>,
}

/// One IANA registration.
#[derive(Debug, Serialize)]
pub struct ServiceRecord {
    /// Transport protocol.
    pub protocol: Transport,
    /// Service name (empty for reserved rows).
    pub name: &'static str,
    /// Description.
    pub description: &'static str,
}

impl<'a> PortRecord<'a> {
    /// Builds the record.
    pub fn new(input: &'a str, info: &PortInfo) -> Self {
        Self {
            input,
            port: info.port,
            band: info.band.as_str(),
            band_two_way: info.band_two_way.as_str(),
            privileged: info.privileged,
            ephemeral: info.ephemeral,
            services: info
                .services()
                .map(|s| ServiceRecord {
                    protocol: s.protocol,
                    name: s.name(),
                    description: s.description(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{PortFacts, classify_port};

    #[test]
    fn ssh_as_json() {
        let info = classify_port(22, None, &PortFacts::default());
        let json = serde_json::to_value(PortRecord::new("ssh", &info)).unwrap();
        assert_eq!(json["input"], "ssh");
        assert_eq!(json["port"], 22);
        assert_eq!(json["band"], "well-known");
        assert_eq!(json["band_two_way"], "well-known");
        assert_eq!(json["privileged"], true);
        assert_eq!(json["ephemeral"], false);
        assert_eq!(json["services"][0]["protocol"], "tcp");
        assert_eq!(json["services"][0]["name"], "ssh");
        assert_eq!(
            json["services"][0]["description"],
            "The Secure Shell (SSH) Protocol"
        );
    }
}
