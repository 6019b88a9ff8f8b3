//! Verdicts from the client alone that must not claim more than their evidence (issue 17):
//! a middlebox that answers every port, and the tutorial's UDP server that receives and
//! never answers behind a security group that allows it.

use crate::bed::{Bed, PUBLIC, Setup, nft, ports};
use crate::servers::Servers;
use serde_json::Value;
use std::sync::atomic::Ordering;

/// `ipdiag doctor TARGET --json` in the client; its exit code and object.
pub fn doctor(bed: &Bed, target: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["doctor", "-n", target, "--json", "-w", "500ms"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = bed.ipdiag(&args);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    (code, report)
}

/// The causes of a report with their confidence, in order.
pub fn ranks(report: &Value) -> Vec<(String, String)> {
    report["hints"]
        .as_array()
        .expect("hints")
        .iter()
        .map(|h| {
            (
                h["cause"].as_str().unwrap_or_default().to_owned(),
                h["confidence"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The edge redirects every TCP port of the public address to one listener (a tarpit, a
/// catch-all): the asked port is open, and so are the canaries nothing listens on.
pub fn a_middlebox_answering_every_port_is_not_ok() {
    let Some(bed) = Bed::new("one_side_every_port", Setup::default()) else {
        return;
    };
    nft(
        &bed.edge,
        "table ip catchall {
           chain pre { type nat hook prerouting priority dstnat - 10; policy accept;
             ip daddr 203.0.113.10 tcp dport != 7890 redirect to :7999; }
         }",
    );
    let mut servers = Servers::default();
    servers.tcp(&bed.edge, "0.0.0.0:7999");
    let (code, report) = doctor(&bed, &format!("{PUBLIC}:8123"), &[]);
    assert_eq!(report["state"], "open", "{report}");
    assert_eq!(report["cause"], "answers_every_port", "{report}");
    assert_eq!(report["hints"][0]["confidence"], "high", "{report}");
    let ranks = ranks(&report);
    assert!(!ranks.contains(&("ok".into(), "high".into())), "{ranks:?}");
    assert_eq!(code, 0, "the port answered as asked: {report}");
}

/// The tutorial's UDP server (recvfrom, never sendto) behind a security group that allows
/// its port: from the client this is silence like a dropped port, so no cause is high and
/// `server_not_replying` is listed beside the security group; every datagram arrived.
pub fn a_udp_server_that_never_answers_is_not_blamed_on_the_group_alone() {
    let Some(bed) = Bed::new("one_side_mute_udp", Setup::default()) else {
        return;
    };
    let port = ports::UDP_ECHO;
    let mut servers = Servers::default();
    servers.tcp(&bed.server, "0.0.0.0:22");
    let got = servers.udp_silent_counting(&bed.server, &format!("0.0.0.0:{port}"));
    let (_, report) = doctor(&bed, &format!("{PUBLIC}:{port}"), &["--udp"]);
    assert_eq!(report["state"], "open|filtered", "{report}");
    let ranks = ranks(&report);
    assert!(
        ranks.iter().all(|(_, c)| c != "high"),
        "nothing is proven from one side: {ranks:?}"
    );
    for cause in ["security_group", "host_firewall", "server_not_replying"] {
        assert!(
            ranks.contains(&(cause.to_owned(), "medium".to_owned())),
            "{cause} listed as medium: {ranks:?}"
        );
    }
    let attempts = report["attempts"].as_u64().expect("attempts");
    assert_eq!(
        got.load(Ordering::Relaxed),
        attempts,
        "every datagram reached the server: {report}"
    );
}
