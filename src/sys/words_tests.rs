//! Each system's words, read on any system.

use super::*;
use std::net::SocketAddr;

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
            w(s).more_sockets,
            w(s).file_limit,
            w(s).interfaces,
            w(s).link_local,
            w(s).ping_how,
            w(s).port_facts_from,
        ] {
            for linux in [
                "iptables",
                "nft ",
                "ufw",
                "ss -",
                "setcap",
                "ip route",
                "CAP_NET",
                "ip link",
                "ip -6",
                "/proc",
                "ping_group_range",
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

#[test]
fn each_system_says_where_its_interfaces_and_limits_are() {
    let w = |s: System| s.words();
    let linux = w(System::Linux);
    assert_eq!(
        (linux.interfaces, linux.link_local),
        ("ip link lists them", "ip -6 addr shows which")
    );
    assert_eq!(
        (w(System::MacOs).interfaces, w(System::MacOs).link_local),
        (
            "ifconfig -l lists them",
            "ifconfig shows which, after the % of its inet6 fe80:: address"
        )
    );
    assert_eq!(w(System::FreeBsd).interfaces, "ifconfig -l lists them");
    assert_eq!(
        (w(System::Windows).interfaces, w(System::Windows).link_local),
        (
            "Windows takes the interface's index: netsh interface ipv6 show interfaces lists \
             them",
            "ipconfig shows which, after the % of its link-local IPv6 address"
        )
    );
    assert_eq!(linux.more_sockets, "raise the limit (ulimit -n)");
    assert_eq!(linux.file_limit, "ulimit -n");
    assert_eq!(
        w(System::MacOs).file_limit,
        "ulimit -n; macOS allows at most 10240 per process"
    );
    assert_eq!(
        w(System::Windows).more_sockets,
        "free local ports (Windows has no descriptor limit; its dynamic port range runs out: \
         netsh int ipv4 show dynamicport tcp)"
    );
    assert_eq!(
        w(System::Windows).file_limit,
        "Windows has no descriptor limit: ipdiag keeps to the size of the dynamic port range"
    );
    assert_eq!(
        w(System::Windows).outbound_firewall,
        "look at Windows Defender Firewall's outbound rules (netsh advfirewall firewall show \
         rule name=all dir=out; Get-NetFirewallRule -Direction Outbound -Action Block) and at \
         any other security software"
    );
    assert_eq!(
        w(System::MacOs).outbound_firewall,
        "look at pf's rules (sudo pfctl -sr) and at any content filter or VPN client; the \
         Application Firewall (socketfilterfw) filters incoming connections only"
    );
}

#[test]
fn syn_scan_ping_and_port_help_in_each_systems_terms() {
    assert_eq!(
        System::Linux.words().syn_scan_tip,
        "nmap's SYN scan (-sS) is --raw here (root or CAP_NET_RAW)"
    );
    for s in [System::MacOs, System::FreeBsd, System::Windows] {
        assert_eq!(
            s.words().syn_scan_tip,
            "nmap's SYN scan (-sS) is --raw on Linux only; here probe connects, as nmap -sT does"
        );
    }
    assert_eq!(
        System::Linux.words().ping_how,
        "ICMP echo through the kernel's unprivileged ping socket when \
         net.ipv4.ping_group_range allows it, else a raw socket (root or CAP_NET_RAW)."
    );
    assert_eq!(
        System::MacOs.words().ping_how,
        "ICMP echo through macOS' ICMP datagram socket (no root needed)."
    );
    assert_eq!(
        System::FreeBsd.words().ping_how,
        "ICMP echo through a raw socket: FreeBSD has no unprivileged ICMP socket, so ping \
         needs root."
    );
    assert_eq!(
        System::Windows.words().ping_how,
        "ICMP echo through IcmpSendEcho2, as ping.exe (no Administrator needed)."
    );
    assert!(
        System::Windows
            .words()
            .port_facts_from
            .ends_with("Windows has no privileged ports.")
    );
    assert!(
        System::MacOs
            .words()
            .port_facts_from
            .contains("since macOS 10.14 binding the wildcard address (0.0.0.0, ::) needs no")
    );
}

#[test]
fn a_refused_bind_is_explained_by_each_systems_rule() {
    let at = |a: &str| a.parse::<SocketAddr>().unwrap();
    let denied = |s, a: &str, excluded: &[(u16, u16)]| bind_denied(s, "tcp", at(a), 1024, excluded);
    assert_eq!(
        denied(System::Linux, "0.0.0.0:80", &[]).unwrap(),
        "ports below 1024 need root or CAP_NET_BIND_SERVICE (sudo setcap \
         cap_net_bind_service=+ep \"$(command -v ipdiag)\"), or serve a port from 1024 up"
    );
    assert_eq!(denied(System::Linux, "0.0.0.0:8080", &[]), None);
    assert_eq!(
        denied(System::MacOs, "192.0.2.7:80", &[]).unwrap(),
        "ports below 1024 need root on macOS when bound to one address: bind 0.0.0.0 or :: \
         (no privilege needed since macOS 10.14), run it with sudo, or serve a port from 1024 up"
    );
    assert_eq!(
        denied(System::MacOs, "[::]:80", &[]).unwrap(),
        "ports below 1024 need root on macOS before 10.14, even on the wildcard address: run \
         it with sudo, or serve a port from 1024 up"
    );
    assert_eq!(denied(System::MacOs, "192.0.2.7:8080", &[]), None);
    assert_eq!(
        denied(System::FreeBsd, "0.0.0.0:80", &[]).unwrap(),
        "ports below 1024 need root (net.inet.ip.portrange.reservedhigh = 1023): run it as \
         root, or serve a port from 1024 up"
    );
    // Windows: no privileged ports, whatever the port; a reserved range is named.
    assert_eq!(
        denied(
            System::Windows,
            "0.0.0.0:50010",
            &[(1000, 1099), (50000, 50059)]
        )
        .unwrap(),
        "port 50010 is in a range Windows reserves (50000-50059; netsh int ipv4 show \
         excludedportrange protocol=tcp lists them, often for Hyper-V, WSL or Docker): serve a \
         port outside it"
    );
    assert_eq!(
        denied(System::Windows, "0.0.0.0:80", &[(50000, 50059)]).unwrap(),
        "Windows has no privileged ports: another program holds port 80 exclusively \
         (Get-NetTCPConnection -LocalPort 80 shows which), the port lies in an excluded range \
         (netsh int ipv4 show excludedportrange protocol=tcp), or security software forbids \
         the bind"
    );
}
