//! `ipdiag::classify::port_spec::parse_port_arg` on arbitrary text: never a panic; an
//! accepted argument selects at least one port per comma-separated part, ranges are in
//! order, and the parts' labels re-parse to the same selections.
//! Run: `cargo +nightly fuzz run port_spec -- -max_total_time=60`.

use ipdiag::classify::port_spec::{PortSet, parse_port_arg};

/// The target's assertions on one input.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_port_arg(text) {
        Ok(selections) => {
            assert!(
                !selections.is_empty(),
                "{text:?}: an accepted port list is empty"
            );
            assert_eq!(
                selections.len(),
                text.split(',').count(),
                "one selection per part"
            );
            for s in &selections {
                assert!(
                    !s.ports.is_empty(),
                    "{text:?}: part {:?} selects no port",
                    s.label
                );
                assert_eq!(s.ports.ports().count(), s.ports.len());
                if let PortSet::Range(first, last) = s.ports {
                    assert!(first <= last, "{text:?}: range {first}-{last}");
                }
                assert_eq!(s.label, s.label.trim());
                if let Some(protocol) = s.protocol {
                    let suffix = s
                        .label
                        .rsplit_once('/')
                        .map(|(_, p)| p.to_ascii_lowercase());
                    assert_eq!(suffix.as_deref(), Some(protocol.as_str()));
                }
            }
            let labels: Vec<&str> = selections.iter().map(|s| s.label.as_str()).collect();
            assert_eq!(
                parse_port_arg(&labels.join(",")),
                Ok(selections),
                "{text:?}"
            );
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}
