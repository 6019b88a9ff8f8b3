//! A UDP sweep of a Linux host, which sends ICMP port unreachable to one address at most
//! about once a second after a burst of six: every closed port must still come out
//! `closed` (not `open|filtered`, which would send the diagnosis after a firewall), the
//! port the security group drops `open|filtered`, the echo server `open`; and the note
//! says why the run took longer.

use crate::bed::{Bed, PUBLIC, Setup, nft};
use crate::pty::on_terminal;
use crate::servers::Servers;
use serde_json::Value;
use std::collections::BTreeMap;

pub fn a_udp_sweep_gets_closed_ports_right_behind_the_icmp_ration() {
    let Some(bed) = Bed::new("udp_ration", Setup::default()) else {
        return;
    };
    let mut servers = Servers::default();
    servers.udp_echo(&bed.server, "0.0.0.0:7895");
    // 12 more ports the security group lets in, where nothing listens.
    nft(
        &bed.edge,
        "insert rule ip cloud security_group udp dport 7900-7911 accept",
    );
    let (code, stdout, stderr) = bed.ipdiag(&[
        "probe",
        "-n",
        PUBLIC,
        "-p",
        "7895-7897,7900-7911",
        "--udp",
        "--json",
    ]);
    assert_eq!(code, 1, "{stderr}");
    let records: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    let got: BTreeMap<u64, (String, String, bool)> = records
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            let word = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            let lossless = r["loss_pct"].as_f64() == Some(0.0);
            let port = r["port"].as_u64().unwrap_or(0);
            (port, (word("state"), word("reason"), lossless))
        })
        .collect();
    let mut want = BTreeMap::new();
    want.insert(7895, ("open".into(), "udp-response".into(), true));
    want.insert(7896, ("closed".into(), "port-unreach".into(), true));
    want.insert(7897, ("open|filtered".into(), "no-response".into(), false));
    for port in 7900..=7911 {
        // No loss either: the silences before a closed port's answer were the ration.
        want.insert(port, ("closed".into(), "port-unreach".into(), true));
    }
    assert_eq!(got, want, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "ipdiag: note: {PUBLIC} rations its ICMP port unreachable messages"
        )),
        "{stderr}"
    );
}

/// The same sweep on a 120-column pseudo-terminal (through `script`): 15 ports are too few
/// for a progress line of their own, but once the ration slows the run the line shows,
/// with its counts and why it is slow (issue 21).
pub fn a_sweep_slowed_by_the_ration_shows_progress_and_why() {
    let Some(bed) = Bed::new("udp_ration_progress", Setup::default()) else {
        return;
    };
    nft(
        &bed.edge,
        "insert rule ip cloud security_group udp dport 7900-7911 accept",
    );
    let command = format!(
        "ip netns exec {} {} probe -n {PUBLIC} -p 7900-7911 --udp --no-hints",
        bed.client,
        env!("CARGO_BIN_EXE_ipdiag")
    );
    let Some(text) = on_terminal(120, &command) else {
        return;
    };
    let slow: Vec<&str> = text
        .split(['\r', '\n'])
        .filter(|l| l.contains("/12 ports · ") && l.contains(" · slow: "))
        .collect();
    assert!(!slow.is_empty(), "{text:?}");
    assert!(
        slow.iter().all(|l| l.contains(&format!(
            "slow: {PUBLIC} rations ICMP (retries 1.1 s apart)"
        ))),
        "{slow:?}"
    );
    assert!(slow.iter().any(|l| l.contains(" closed, ")), "{slow:?}");
}
