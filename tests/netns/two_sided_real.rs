//! The two-sided diagnosis with the real server side: `doctor --on-server "ip netns exec VM
//! ipdiag"` runs `local --port P --watch` on the simulated cloud's VM while the client
//! probes. Each case that the client alone can only rank `medium` comes out as its one
//! true cause with `high`: the security group (nothing arrived), the VM's own firewall
//! (arrived, a rule dropped it), a UDP server that never answers (datagrams in, none out),
//! nothing listening.

use crate::bed::{Bed, PUBLIC, Setup, nft, ports};
use crate::one_side::{doctor, ranks};
use crate::servers::Servers;
use serde_json::Value;

/// `doctor TARGET [extra] --on-server "ip netns exec VM ipdiag"`: exit code and report.
fn two_sided(bed: &Bed, port: u16, extra: &[&str]) -> (i32, Value) {
    let command = format!(
        "ip netns exec {} {}",
        bed.server,
        env!("CARGO_BIN_EXE_ipdiag")
    );
    let mut args = extra.to_vec();
    args.extend(["-i", "100ms", "--on-server", &command]);
    doctor(bed, &format!("{PUBLIC}:{port}"), &args)
}

/// The first cause and its confidence, and the client-only report's first two.
fn verdicts(
    bed: &Bed,
    port: u16,
    extra: &[&str],
) -> ((String, String), Vec<(String, String)>, Value) {
    let (_, alone) = doctor(bed, &format!("{PUBLIC}:{port}"), extra);
    let (_, report) = two_sided(bed, port, extra);
    let top = ranks(&report).into_iter().next().expect("a cause");
    (top, ranks(&alone), report)
}

fn pair(cause: &str, confidence: &str) -> (String, String) {
    (cause.to_owned(), confidence.to_owned())
}

pub fn the_security_group_is_proven_when_nothing_arrives() {
    let Some(bed) = Bed::new("two_sided_real_sg", Setup::default()) else {
        return;
    };
    let port = ports::TCP_SG_DROP;
    let mut servers = Servers::default();
    servers.tcp(&bed.server, &format!("0.0.0.0:{port}"));
    let (top, alone, report) = verdicts(&bed, port, &[]);
    assert!(
        alone.iter().all(|(_, c)| c != "high"),
        "client alone: {alone:?}"
    );
    assert_eq!(top, pair("security_group", "high"), "{report}");
}

pub fn the_vms_own_firewall_is_proven_with_its_rule() {
    let Some(bed) = Bed::new("two_sided_real_fw", Setup::default()) else {
        return;
    };
    let port = ports::TCP_OPEN;
    let mut servers = Servers::default();
    servers.tcp(&bed.server, &format!("0.0.0.0:{port}"));
    nft(
        &bed.server,
        &format!("insert rule inet host input tcp dport {port} drop"),
    );
    let (top, alone, report) = verdicts(&bed, port, &[]);
    assert!(
        alone.iter().all(|(_, c)| c != "high"),
        "client alone: {alone:?}"
    );
    assert!(
        alone.contains(&pair("host_firewall", "medium")),
        "client alone lists the true cause: {alone:?}"
    );
    assert_eq!(top, pair("host_firewall", "high"), "{report}");
    assert!(
        report["hints"][0]["evidence"]
            .to_string()
            .contains(&format!("tcp dport {port} drop")),
        "{report}"
    );
}

pub fn a_udp_server_that_never_answers_is_proven_on_the_server() {
    let Some(bed) = Bed::new("two_sided_real_udp", Setup::default()) else {
        return;
    };
    let port = ports::UDP_NOTHING;
    let mut servers = Servers::default();
    servers.udp_silent(&bed.server, &format!("0.0.0.0:{port}"));
    let (top, alone, report) = verdicts(&bed, port, &["--udp"]);
    assert!(
        alone.iter().all(|(_, c)| c != "high"),
        "client alone: {alone:?}"
    );
    assert!(
        alone.contains(&pair("server_not_replying", "medium")),
        "client alone lists the true cause: {alone:?}"
    );
    assert_eq!(top, pair("server_not_replying", "high"), "{report}");
}

pub fn nothing_listening_is_proven_on_the_server() {
    let Some(bed) = Bed::new("two_sided_real_nothing", Setup::default()) else {
        return;
    };
    let (top, alone, report) = verdicts(&bed, ports::TCP_NOTHING, &[]);
    assert!(
        alone.iter().any(|(c, _)| c == "not_listening"),
        "client alone lists the true cause: {alone:?}"
    );
    assert_eq!(top, pair("not_listening", "high"), "{report}");
}
