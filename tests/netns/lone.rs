//! A host of one's own (issue 21): a namespace with nothing but its loopback, for what needs
//! a host of a given shape rather than the simulated cloud.
//!
//! - IPv6 zone ids: a link-local address is probed through the interface its `%zone`
//!   names. The loopback gets `fe80::1` (no duplicate detection, so it is usable at once);
//!   `lo` is interface 1 in every new namespace. Without the scope id the kernel refuses
//!   the connect (EINVAL), so `closed` proves the zone reached the socket.
//! - `local` on a host with only loopback does not say "behind NAT", and its interface
//!   list is aligned.
//! - A name that never resolved shows no loss figure. The namespace's own `hosts` and
//!   `nsswitch.conf` (`hosts: files`) make the lookup fail without asking any DNS server.

use crate::bed::{ip, ipdiag_in, may_build, run};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// One namespace of a test with its loopback up, and its `/etc/netns/NAME` folder; both
/// deleted when dropped (also when the test fails).
struct Namespace(String);

impl Namespace {
    fn new() -> Self {
        let name = format!(
            "ipdz-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        run(&["ip", "netns", "add", &name]);
        let ns = Namespace(name);
        ip(&ns.0, "link set lo up");
        ns
    }

    fn etc(&self) -> PathBuf {
        PathBuf::from("/etc/netns").join(&self.0)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.0])
            .status();
        let _ = std::fs::remove_dir_all(self.etc());
    }
}

pub fn a_link_local_address_is_probed_through_its_zone() {
    if !may_build("zone") {
        return;
    }
    let ns = Namespace::new();
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

pub fn local_on_a_loopback_only_host_claims_no_nat_and_aligns_its_interfaces() {
    if !may_build("local_loopback_only") {
        return;
    }
    let ns = Namespace::new();
    let (code, stdout, stderr) = ipdiag_in(&ns.0, &["local"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains("NAT"), "{stdout}");
    let lines: Vec<&str> = stdout
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert_eq!(lines.len(), 2, "127.0.0.1/8 and ::1/128: {stdout}");
    // Each column starts at the same place on every line.
    let starts = |line: &str| {
        let mut at = Vec::new();
        let bytes = line.as_bytes();
        for i in 1..bytes.len() {
            if bytes[i] != b' ' && bytes[i - 1] == b' ' {
                at.push(i);
            }
        }
        at
    };
    assert_eq!(starts(lines[0]), starts(lines[1]), "{stdout}");
    assert_eq!(starts(lines[0]).len(), 3, "{stdout}");
    let (_, json, _) = ipdiag_in(&ns.0, &["local", "--json"]);
    let report: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(report["nat"], false, "{report}");
}

pub fn a_name_that_never_resolved_shows_no_loss() {
    if !may_build("unresolved_loss") {
        return;
    }
    let ns = Namespace::new();
    std::fs::create_dir_all(ns.etc()).unwrap();
    std::fs::write(ns.etc().join("hosts"), "127.0.0.1 localhost\n").unwrap();
    std::fs::write(ns.etc().join("nsswitch.conf"), "hosts: files\n").unwrap();
    let (code, stdout, stderr) = ipdiag_in(&ns.0, &["probe", "nosuchhost:5432"]);
    assert_eq!(code, 1, "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("nosuchhost"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    // HOST PORT STATE REASON RTT LOSS SERVICE
    assert_eq!(
        cells[..6],
        ["nosuchhost", "5432/tcp", "error", "dns-error", "-", "-"],
        "{stdout}"
    );
    assert!(!stdout.contains('%'), "{stdout}");
}
