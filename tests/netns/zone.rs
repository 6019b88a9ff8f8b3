//! IPv6 zone ids (issue 21): a link-local address is probed through the interface its
//! `%zone` names. The namespace's loopback gets `fe80::1` (no duplicate detection, so it is
//! usable at once); `lo` is interface 1 in every new namespace. Without the scope id the
//! kernel refuses the connect (EINVAL), so `closed` proves the zone reached the socket.

use crate::bed::{ip, ipdiag_in, may_build, run};
use serde_json::Value;

/// One namespace of this test, deleted when dropped (also when the test fails).
struct Namespace(String);

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.0])
            .status();
    }
}

#[test]
fn a_link_local_address_is_probed_through_its_zone() {
    if !may_build("zone") {
        return;
    }
    let ns = Namespace(format!("ipdz-{}", std::process::id()));
    run(&["ip", "netns", "add", &ns.0]);
    ip(&ns.0, "link set lo up");
    ip(&ns.0, "addr add fe80::1/64 dev lo nodad");
    for (target, protocol, reason) in [
        ("[fe80::1%lo]:1", "--tcp", "conn-refused"),
        ("[fe80::1%1]:1", "--tcp", "conn-refused"),
        ("[fe80::1%lo]:1", "--udp", "port-unreach"),
    ] {
        let (code, stdout, stderr) = ipdiag_in(&ns.0, &["probe", target, protocol, "--json"]);
        let records: Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
        let records = records.as_array().expect("an array");
        assert_eq!(records.len(), 1, "{target}: {stdout}");
        let record = &records[0];
        assert_eq!(
            (
                record["state"].as_str(),
                record["reason"].as_str(),
                record["address"].as_str()
            ),
            (Some("closed"), Some(reason), Some("fe80::1")),
            "{target} {protocol}: {record}"
        );
        assert_eq!(
            record["host"].as_str().map(|h| h.starts_with("fe80::1%")),
            Some(true)
        );
        assert_eq!(code, 1, "closed is exit 1: {stderr}");
    }
}
