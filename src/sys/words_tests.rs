//! Each system's words, read on any system.

use super::*;

const ALL: [System; 4] = [
    System::Linux,
    System::MacOs,
    System::FreeBsd,
    System::Windows,
];

#[test]
fn each_system_names_its_own_tools() {
    let w = |s: System| s.words();
    assert!(
        w(System::Linux)
            .outbound_firewall
            .contains("iptables -S OUTPUT")
    );
    assert!(w(System::MacOs).outbound_firewall.contains("pfctl -sr"));
    assert!(
        w(System::MacOs)
            .outbound_firewall
            .contains("socketfilterfw")
    );
    assert!(w(System::FreeBsd).outbound_firewall.contains("ipfw list"));
    assert!(
        w(System::Windows)
            .outbound_firewall
            .contains("netsh advfirewall")
    );
    for s in [System::MacOs, System::FreeBsd, System::Windows] {
        for text in [
            w(s).outbound_firewall,
            w(s).route_to,
            w(s).resolve,
            w(s).port_holder,
        ] {
            for linux in [
                "iptables", "nft ", "ufw", "ss -", "setcap", "ip route", "CAP_NET",
            ] {
                assert!(!text.contains(linux), "{}: {text}", s.name());
            }
        }
    }
}

#[test]
fn commands_are_filled_in() {
    let route = |s: System| s.words().route("198.51.100.7");
    assert_eq!(route(System::Linux), "ip route get 198.51.100.7");
    assert_eq!(route(System::MacOs), "route -n get 198.51.100.7");
    assert_eq!(route(System::FreeBsd), "route -n get 198.51.100.7");
    assert_eq!(
        route(System::Windows),
        "Find-NetRoute -RemoteIPAddress 198.51.100.7"
    );
    let holder = |s: System, p| s.words().holder(p, 8080);
    assert_eq!(holder(System::Linux, "tcp"), "ss -ltnp 'sport = :8080'");
    assert_eq!(holder(System::Linux, "udp"), "ss -lunp 'sport = :8080'");
    assert_eq!(holder(System::MacOs, "tcp"), "lsof -nP -iTCP:8080");
    assert_eq!(holder(System::MacOs, "udp"), "lsof -nP -iUDP:8080");
    assert_eq!(holder(System::FreeBsd, "udp"), "sockstat -l -P udp -p 8080");
    assert_eq!(
        holder(System::Windows, "tcp"),
        "Get-NetTCPConnection -LocalPort 8080"
    );
    assert_eq!(
        holder(System::Windows, "udp"),
        "Get-NetUDPEndpoint -LocalPort 8080"
    );
    for s in ALL {
        let w = s.words();
        for text in [route(s), holder(s, "tcp"), holder(s, "udp")] {
            assert!(!text.contains('{'), "{}: {text}", s.name());
        }
        assert!(!w.more_sockets.is_empty() && !w.resolve.is_empty());
    }
}

#[test]
fn without_an_icmp_socket_each_bsd_says_what_it_lacks() {
    let denied = io::Error::from(io::ErrorKind::PermissionDenied);
    let unsupported = io::Error::new(io::ErrorKind::Unsupported, "Protocol not supported");
    assert_eq!(
        no_icmp_socket(System::FreeBsd, &unsupported, &denied),
        "ICMP needs a raw socket on FreeBSD, which has no unprivileged ICMP sockets, and this \
         user may not open one: run ipdiag as root"
    );
    assert_eq!(
        no_icmp_socket(System::MacOs, &unsupported, &unsupported),
        "cannot open an ICMP socket on macOS: datagram socket: Protocol not supported; raw \
         socket: Protocol not supported"
    );
}
