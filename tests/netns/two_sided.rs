//! The two-sided diagnosis in the simulated cloud (issue 17 §2): `doctor --on-server`
//! with ipdiag on the VM reached through `ip netns exec` (and once through a real sshd),
//! and `reply_from_other_address` from the client's side alone.

use crate::bed::{Bed, PRIVATE, PUBLIC, ROUTED, Setup, ports};
use crate::one_side::{doctor, ranks};
use crate::servers::Servers;
use crate::sshd::Sshd;
use serde_json::Value;

/// The first cause and its confidence.
fn top(report: &Value) -> (String, String) {
    ranks(report).into_iter().next().expect("a cause")
}

/// A server of the VM's with a second public address ([`ROUTED`], routed to it without
/// NAT) whose UDP echo is bound to 0.0.0.0 and answers with a plain `sendto`: the kernel
/// picks the source by route, the private address, so the client's connected socket never
/// sees the reply. The client's unconnected sibling socket does.
pub fn reply_from_another_address_seen_by_the_client() {
    let setup = Setup {
        routed: true,
        ..Setup::default()
    };
    let Some(bed) = Bed::new("two_sided_reply_from_other", setup) else {
        return;
    };
    let port = ports::UDP_ECHO;
    let mut servers = Servers::default();
    servers.udp_echo(&bed.server, &format!("0.0.0.0:{port}"));
    let (code, report) = doctor(&bed, &format!("{ROUTED}:{port}"), &["--udp"]);
    assert_eq!(report["state"], "open|filtered", "{report}");
    assert_eq!(
        top(&report),
        ("reply_from_other_address".into(), "high".into()),
        "{report}"
    );
    let evidence = report["hints"][0]["evidence"].to_string();
    assert!(
        evidence.contains(&format!(
            "a reply came from {PRIVATE}:{port}, not from {ROUTED}"
        )),
        "{evidence}"
    );
    // The causes of silence are ruled out: the request got through and was answered.
    for wrong in ["security_group", "host_firewall", "server_not_replying"] {
        assert!(
            ranks(&report).iter().all(|(c, _)| c != wrong),
            "{wrong}: {report}"
        );
    }
    assert_eq!(code, 1, "{report}");
}

/// The same port dialled at the address the server answers from is open, and no reply
/// from elsewhere is claimed.
pub fn a_reply_from_the_dialled_address_is_not_a_stray() {
    let Some(bed) = Bed::new("two_sided_reply_from_same", Setup::default()) else {
        return;
    };
    let port = ports::UDP_ECHO;
    let mut servers = Servers::default();
    servers.udp_echo(&bed.server, &format!("0.0.0.0:{port}"));
    let (code, report) = doctor(&bed, &format!("{PUBLIC}:{port}"), &["--udp"]);
    assert_eq!(report["state"], "open", "{report}");
    assert!(
        ranks(&report)
            .iter()
            .all(|(c, _)| c != "reply_from_other_address"),
        "{report}"
    );
    assert_eq!(code, 0, "{report}");
}

/// The transport through a real sshd on the VM's private address: ssh runs the server's
/// side (this build's `ipdiag local --port P --watch Ds --format json`, with a packet
/// socket: sshd runs it as root in the VM) with the watch arguments appended, and its
/// report decides.
pub fn through_a_real_sshd() {
    let Some(bed) = Bed::new("two_sided_sshd", Setup::default()) else {
        return;
    };
    let sshd = Sshd::start(&bed.server, PRIVATE);
    let command = sshd.command(PUBLIC, env!("CARGO_BIN_EXE_ipdiag"));
    let mut servers = Servers::default();
    servers.tcp(&bed.server, &format!("0.0.0.0:{}", ports::TCP_SG_DROP));
    let target = format!("{PUBLIC}:{}", ports::TCP_SG_DROP);
    let (code, report) = doctor(&bed, &target, &["--on-server", &command]);
    assert_eq!(
        top(&report),
        ("security_group".into(), "high".into()),
        "{report}"
    );
    assert_eq!(report["server"]["capture"], "packet_socket", "{report}");
    assert_eq!(report["server"]["port"], ports::TCP_SG_DROP, "{report}");
    assert_eq!(
        report["server"]["arrivals"],
        serde_json::json!([]),
        "{report}"
    );
    assert_eq!(
        report["server"]["listener"]["bound"], "0.0.0.0:7893",
        "{report}"
    );
    assert_eq!(code, 1, "{report}");
    // ssh's own failure is one line: no key for this user.
    let refused = format!(
        "ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o IdentitiesOnly=yes -i /dev/null root@{PUBLIC} ipdiag"
    );
    let (code, _, stderr) = bed.ipdiag(&["doctor", "-n", &target, "--on-server", &refused]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.starts_with("ipdiag: error: --on-server: ssh failed: ")
            && stderr.contains("Permission denied"),
        "{stderr}"
    );
}
