//! What each system calls the things ipdiag sends its user to on their own machine: its
//! firewall, its routes, its resolver, its listeners, its privileges. Pure data and
//! wording, one variant per system, compiled and tested everywhere (so a Linux build's tests
//! read the Windows and macOS texts too); messages take `System::HERE`'s words.
//!
//! Only the machine ipdiag runs on is named this way: advice about the server (usually
//! Linux, `data/fixes.toml`) stays in the server's words.

use super::System;
use std::io;
use std::net::SocketAddr;

/// The commands and names a user of one system knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    /// Where to look when this machine's own firewall stops outgoing packets.
    pub outbound_firewall: &'static str,
    /// How to see the route to `{address}`.
    pub route_to: &'static str,
    /// How to ask the system's resolver for `<name>`.
    pub resolve: &'static str,
    /// How to see which program holds a `{proto}` port `{port}` (`tcp` or `udp`).
    pub port_holder: &'static str,
    /// What to do when this machine runs out of sockets.
    pub more_sockets: &'static str,
    /// What sets how many sockets one process may hold (the note that lowers
    /// `serve --max-connections`).
    pub file_limit: &'static str,
    /// Where the interface names or indexes an IPv6 zone (`%IFACE`) takes are listed.
    pub interfaces: &'static str,
    /// Where the zone of this machine's link-local address is shown.
    pub link_local: &'static str,
    /// What nmap's `-sS` is here.
    pub syn_scan_tip: &'static str,
    /// How `ipdiag ping` sends its echo requests here, and what it needs (`ping --help`).
    pub ping_how: &'static str,
    /// Where `ipdiag port`'s privileged and ephemeral facts come from (`port --help`).
    pub port_facts_from: &'static str,
}

const LINUX: Words = Words {
    outbound_firewall: "look at its output rules (nft list ruleset; iptables -S OUTPUT)",
    route_to: "ip route get {address}",
    resolve: "getent hosts <name>",
    port_holder: "ss -l{proto_flag}np 'sport = :{port}'",
    more_sockets: "raise the limit (ulimit -n)",
    file_limit: "ulimit -n",
    interfaces: "ip link lists them",
    link_local: "ip -6 addr shows which",
    syn_scan_tip: "nmap's SYN scan (-sS) is --raw here (root or CAP_NET_RAW)",
    ping_how: "ICMP echo through the kernel's unprivileged ping socket when \
               net.ipv4.ping_group_range allows it, else a raw socket (root or CAP_NET_RAW).",
    port_facts_from: "privileged and ephemeral come from this machine's kernel \
                      (/proc/sys/net/ipv4/ip_unprivileged_port_start and ip_local_port_range), \
                      or the Linux defaults without /proc.",
};

/// What every system but Linux says for nmap's `-sS`.
const SYN_SCAN_ELSEWHERE: &str =
    "nmap's SYN scan (-sS) is --raw on Linux only; here probe connects, as nmap -sT does";

const MACOS: Words = Words {
    outbound_firewall: "look at pf's rules (sudo pfctl -sr) and at any content filter or VPN \
                        client; the Application Firewall (socketfilterfw) filters incoming \
                        connections only",
    route_to: "route -n get {address}",
    resolve: "dscacheutil -q host -a name <name>",
    port_holder: "lsof -nP -i{PROTO}:{port}",
    more_sockets: "raise the limit (ulimit -n; macOS allows at most 10240 per process)",
    file_limit: "ulimit -n; macOS allows at most 10240 per process",
    interfaces: "ifconfig -l lists them",
    link_local: "ifconfig shows which, after the % of its inet6 fe80:: address",
    syn_scan_tip: SYN_SCAN_ELSEWHERE,
    ping_how: "ICMP echo through macOS' ICMP datagram socket (no root needed).",
    port_facts_from: "ephemeral comes from sysctl net.inet.ip.portrange.first/last (or \
                      macOS' defaults); privileged is IPPORT_RESERVED (1024), and since macOS \
                      10.14 binding the wildcard address (0.0.0.0, ::) needs no privilege.",
};

const FREEBSD: Words = Words {
    outbound_firewall: "look at its output rules (pfctl -sr; ipfw list)",
    route_to: "route -n get {address}",
    resolve: "getent hosts <name>",
    port_holder: "sockstat -l -P {proto} -p {port}",
    more_sockets: "raise the limit (ulimit -n)",
    file_limit: "ulimit -n",
    interfaces: "ifconfig -l lists them",
    link_local: "ifconfig shows which, after the % of its inet6 fe80:: address",
    syn_scan_tip: SYN_SCAN_ELSEWHERE,
    ping_how: "ICMP echo through a raw socket: FreeBSD has no unprivileged ICMP socket, so \
               ping needs root.",
    port_facts_from: "privileged and ephemeral come from sysctl net.inet.ip.portrange \
                      (reservedhigh, first/last), or FreeBSD's defaults.",
};

const WINDOWS: Words = Words {
    outbound_firewall: "look at Windows Defender Firewall's outbound rules (netsh advfirewall \
                        firewall show rule name=all dir=out; Get-NetFirewallRule -Direction \
                        Outbound -Action Block) and at any other security software",
    route_to: "Find-NetRoute -RemoteIPAddress {address}",
    resolve: "Resolve-DnsName <name>",
    port_holder: "Get-Net{Proto}{endpoint} -LocalPort {port}",
    more_sockets: "free local ports (Windows has no descriptor limit; its dynamic port range \
                   runs out: netsh int ipv4 show dynamicport tcp)",
    file_limit: "Windows has no descriptor limit: ipdiag keeps to the size of the dynamic \
                 port range",
    interfaces: "Windows takes the interface's index: netsh interface ipv6 show interfaces \
                 lists them",
    link_local: "ipconfig shows which, after the % of its link-local IPv6 address",
    syn_scan_tip: SYN_SCAN_ELSEWHERE,
    ping_how: "ICMP echo through IcmpSendEcho2, as ping.exe (no Administrator needed).",
    port_facts_from: "ephemeral comes from Windows' dynamic port range (netsh int ipv4 show \
                      dynamicport tcp, or the default 49152-65535); no program may bind the \
                      excluded port ranges (netsh int ipv4 show excludedportrange \
                      protocol=tcp); Windows has no privileged ports.",
};

impl System {
    /// This system's words.
    pub const fn words(self) -> &'static Words {
        match self {
            System::Linux => &LINUX,
            System::MacOs => &MACOS,
            System::FreeBsd => &FREEBSD,
            System::Windows => &WINDOWS,
        }
    }
}

impl Words {
    /// The route command for `address`.
    pub fn route(&self, address: impl std::fmt::Display) -> String {
        self.route_to.replace("{address}", &address.to_string())
    }

    /// The command that names the program holding port `port` of `proto` (`tcp`/`udp`).
    pub fn holder(&self, proto: &str, port: u16) -> String {
        let udp = proto.eq_ignore_ascii_case("udp");
        self.port_holder
            .replace("{proto_flag}", if udp { "u" } else { "t" })
            .replace("{PROTO}", if udp { "UDP" } else { "TCP" })
            .replace("{Proto}", if udp { "UDP" } else { "TCP" })
            .replace("{endpoint}", if udp { "Endpoint" } else { "Connection" })
            .replace("{proto}", if udp { "udp" } else { "tcp" })
            .replace("{port}", &port.to_string())
    }
}

/// Why binding `address` (`proto`: `tcp` or `udp`) was refused for want of permission, in
/// the system's own rule, with what to do: ports below `start` need privileges on Linux
/// and FreeBSD, on macOS only for a specific address (10.14 on), and Windows has no
/// privileged ports but reserves `excluded` ranges (its TCP ones, from netsh). `None` when
/// the system's rule does not explain the refusal.
pub fn bind_denied(
    system: System,
    proto: &str,
    address: SocketAddr,
    start: u16,
    excluded: &[(u16, u16)],
) -> Option<String> {
    let port = address.port();
    let below = port < start;
    Some(match system {
        System::Linux if below => format!(
            "ports below {start} need root or CAP_NET_BIND_SERVICE (sudo setcap \
             cap_net_bind_service=+ep \"$(command -v ipdiag)\"), or serve a port from {start} up"
        ),
        System::MacOs if below && !address.ip().is_unspecified() => format!(
            "ports below {start} need root on macOS when bound to one address: bind 0.0.0.0 or \
             :: (no privilege needed since macOS 10.14), run it with sudo, or serve a port from \
             {start} up"
        ),
        System::MacOs if below => format!(
            "ports below {start} need root on macOS before 10.14, even on the wildcard address: \
             run it with sudo, or serve a port from {start} up"
        ),
        System::FreeBsd if below => format!(
            "ports below {start} need root (net.inet.ip.portrange.reservedhigh = {}): run it as \
             root, or serve a port from {start} up",
            start - 1
        ),
        System::Windows => match excluded.iter().find(|(a, b)| (*a..=*b).contains(&port)) {
            Some((first, last)) => format!(
                "port {port} is in a range Windows reserves ({first}-{last}; netsh int ipv4 show \
                 excludedportrange protocol={proto} lists them, often for Hyper-V, WSL or \
                 Docker): serve a port outside it"
            ),
            None => format!(
                "Windows has no privileged ports: another program holds port {port} \
                 exclusively ({} shows which), the port lies in an excluded range (netsh int \
                 ipv4 show excludedportrange protocol={proto}), or security software forbids \
                 the bind",
                System::Windows.words().holder(proto, port)
            ),
        },
        _ => return None,
    })
}

/// Why no ICMP socket could be opened on a BSD (`datagram`: the unprivileged ICMP socket's
/// refusal, `raw`: the raw socket's), in one line that says how to get one.
pub fn no_icmp_socket(system: System, datagram: &io::Error, raw: &io::Error) -> String {
    let denied = |e: &io::Error| e.kind() == io::ErrorKind::PermissionDenied;
    match system {
        System::FreeBsd if denied(raw) => "ICMP needs a raw socket on FreeBSD, which has no \
             unprivileged ICMP sockets, and this user may not open one: run ipdiag as root"
            .to_owned(),
        _ => format!(
            "cannot open an ICMP socket on {}: datagram socket: {datagram}; raw socket: {raw}",
            system.name()
        ),
    }
}

#[cfg(test)]
#[path = "words_tests.rs"]
mod tests;
