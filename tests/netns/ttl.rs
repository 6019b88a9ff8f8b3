//! The TTL comparison from the client alone (issue 17): an ICMP error sent from the public
//! address comes from the server's own firewall or from the edge answering for it through
//! its NAT; the edge is one hop closer, so the error's TTL against the SYN-ACK of SSH (the
//! control port) ranks them, and both stay listed. `doctor` runs as root here (the TTLs
//! are read with a packet socket). `special_address` is the bed's documentation range.

use crate::bed::{Bed, PRIVATE, PUBLIC, Setup, edge_rejects, ports};
use crate::one_side::{doctor, ranks};
use crate::servers::Servers;

fn pair(cause: &str, confidence: &str) -> (String, String) {
    (cause.to_owned(), confidence.to_owned())
}

/// The edge rejects 7890 with admin-prohibited in its forward chain, before the security
/// group; its error leaves with the public address as source (the NAT translates it).
pub fn the_edge_rejecting_from_the_public_address_is_ranked_the_security_group() {
    let Some(bed) = Bed::new("ttl_edge_rejects", Setup::default()) else {
        return;
    };
    let port = ports::TCP_OPEN;
    edge_rejects(&bed.edge, &format!("ip daddr {PRIVATE} tcp dport {port}"));
    let mut servers = Servers::default();
    servers.tcp(&bed.server, "0.0.0.0:22");
    servers.tcp(&bed.server, &format!("0.0.0.0:{port}"));
    let (_, report) = doctor(&bed, &format!("{PUBLIC}:{port}"), &[]);
    assert_eq!(
        [&report["state"], &report["reason"], &report["icmp_from"]],
        ["filtered", "admin-prohibited", PUBLIC],
        "{report}"
    );
    assert_eq!(
        ranks(&report),
        [
            pair("security_group", "medium"),
            pair("host_firewall", "low"),
            pair("special_address", "low")
        ],
        "{report}"
    );
    let evidence = report["hints"][0]["evidence"].to_string();
    assert!(
        evidence.contains("the ICMP error arrived with TTL 64 (0 hops away), the server's own answer on 22/tcp with TTL 63 (1 hop away): the error was sent 1 hop closer than the server"),
        "{evidence}"
    );
}

/// The server's own firewall rejects 7894 (the bed's rule): its error crosses the edge as
/// its SYN-ACKs do, so it is as far: the host firewall first, the security group still
/// listed.
pub fn the_servers_own_rejection_is_as_far_as_its_answers() {
    let Some(bed) = Bed::new("ttl_host_rejects", Setup::default()) else {
        return;
    };
    let port = ports::TCP_HOST_REJECT;
    let mut servers = Servers::default();
    servers.tcp(&bed.server, "0.0.0.0:22");
    servers.tcp(&bed.server, &format!("0.0.0.0:{port}"));
    let (_, report) = doctor(&bed, &format!("{PUBLIC}:{port}"), &[]);
    assert_eq!(report["icmp_from"], PUBLIC, "{report}");
    assert_eq!(
        ranks(&report),
        [
            pair("host_firewall", "medium"),
            pair("security_group", "low"),
            pair("special_address", "low")
        ],
        "{report}"
    );
    let evidence = report["hints"][0]["evidence"].to_string();
    assert!(
        evidence.contains("the ICMP error arrived with TTL 63 (1 hop away), the server's own answer on 22/tcp with TTL 63 (1 hop away): the error was sent from as far as the server's answers, by the server itself"),
        "{evidence}"
    );
}
