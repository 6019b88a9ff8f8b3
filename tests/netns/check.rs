//! `ipdiag check` against the simulated cloud: a port the security group drops passes a
//! check that expects `filtered` (proof that it is not reachable from outside) and fails one
//! that expects `open`, with the security-group diagnosis in the message and the JUnit report.
//! `wait --udp` is ready on silence, never on an ICMP error from a firewall on the path.

use crate::bed::{Bed, PUBLIC, Setup, edge_rejects, ports};
use crate::servers::Servers;
use serde_json::Value;

pub fn security_group_drop_is_filtered_and_fails_an_open_check_with_its_cause() {
    let Some(bed) = Bed::new("check_security_group", Setup::default()) else {
        return;
    };
    let mut servers = Servers::default();
    servers
        .tcp(&bed.server, "0.0.0.0:7890")
        .tcp(&bed.server, "0.0.0.0:7893");
    let dir = std::env::temp_dir().join(format!("ipdiag-netns-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let file = dir.join("ipdiag.toml");
    let junit = dir.join("report.xml");
    let (open, dropped) = (ports::TCP_OPEN, ports::TCP_SG_DROP);
    std::fs::write(
        &file,
        format!(
            r#"[defaults]
timeout = "500ms"

[[check]]
name = "web is reachable"
target = "{PUBLIC}:{open}"
expect = "open"

[[check]]
name = "admin port is not exposed"
target = "{PUBLIC}:{dropped}"
expect = "filtered"

[[check]]
name = "admin port is reachable"
target = "{PUBLIC}:{dropped}"
expect = "open"
"#
        ),
    )
    .expect("the check file is written");
    let (code, stdout, stderr) = bed.ipdiag(&[
        "check",
        file.to_str().expect("UTF-8 path"),
        "--json",
        "--junit",
        junit.to_str().expect("UTF-8 path"),
    ]);
    let xml = std::fs::read_to_string(&junit).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 1, "one check fails: {stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let check = |i: usize| &report["checks"][i];
    assert_eq!(check(0)["holds"], true, "{report}");
    assert_eq!(check(1)["holds"], true, "{report}");
    assert_eq!(check(1)["results"][0]["state"], "filtered", "{report}");
    assert_eq!(check(1)["results"][0]["reason"], "no-response", "{report}");
    assert_eq!(check(2)["holds"], false, "{report}");
    assert_eq!(
        check(2)["results"][0]["cause"],
        "security_group",
        "{report}"
    );
    let message = check(2)["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "{PUBLIC}:{dropped}/tcp: expected open, got filtered (no-response); likely security_group ("
        )),
        "{message}"
    );
    assert!(
        message.ends_with("): the cloud security group has no inbound rule for this port"),
        "{message}"
    );
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("a JUnit report");
    assert_eq!((parsed.tests, parsed.failures), (3, 1));
    assert!(xml.contains("type=\"security_group\""), "{xml}");
    assert!(
        xml.contains(&format!("port {dropped}, source 198.51.100.2/32")),
        "the fix is in the report: {xml}"
    );
}

pub fn wait_udp_is_never_ready_on_an_icmp_error_from_the_path() {
    let Some(bed) = Bed::new("wait_udp_icmp", Setup::default()) else {
        return;
    };
    // A firewall at the cloud's edge that turns one UDP port away with an ICMP error,
    // ahead of the security group.
    let rejected: u16 = 7899;
    edge_rejects(&bed.edge, &format!("udp dport {rejected}"));
    let target = format!("{PUBLIC}:{rejected}");
    let (code, stdout, stderr) = bed.ipdiag(&["wait", &target, "--udp", "--timeout", "1s"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.ends_with(&format!(
            ": {target}/udp: expected open or silence, got filtered (admin-prohibited)\n"
        )),
        "{stderr}"
    );
    // Silence (the security group drops it) is as ready as UDP without a responder can be.
    let silent = format!("{PUBLIC}:{}", ports::UDP_SG_DROP);
    let (code, _, stderr) = bed.ipdiag(&["wait", &silent, "--udp", "--timeout", "5s"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.starts_with(&format!("ipdiag: {silent}/udp is open|filtered after ")),
        "{stderr}"
    );
}
