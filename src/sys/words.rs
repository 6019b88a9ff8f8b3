//! What each system calls the things ipdiag sends its user to on their own machine: its
//! firewall, its routes, its resolver, its listeners, its privileges. Pure data and
//! wording, one variant per system, compiled and tested everywhere (so a Linux build's tests
//! read the Windows and macOS texts too); messages take `System::HERE`'s words.
//!
//! Only the machine ipdiag runs on is named this way: advice about the server (usually
//! Linux, `data/fixes.toml`) stays in the server's words.

use super::System;
use std::io;

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
}

const LINUX: Words = Words {
    outbound_firewall: "look at its output rules (nft list ruleset; iptables -S OUTPUT)",
    route_to: "ip route get {address}",
    resolve: "getent hosts <name>",
    port_holder: "ss -l{proto_flag}np 'sport = :{port}'",
    more_sockets: "raise the limit (ulimit -n)",
};

const MACOS: Words = Words {
    outbound_firewall: "look at pf's rules (sudo pfctl -sr) and at any content filter or VPN \
                        client; the Application Firewall (socketfilterfw) filters incoming \
                        connections only",
    route_to: "route -n get {address}",
    resolve: "dscacheutil -q host -a name <name>",
    port_holder: "lsof -nP -i{PROTO}:{port}",
    more_sockets: "raise the limit (ulimit -n; macOS allows at most 10240 per process)",
};

const FREEBSD: Words = Words {
    outbound_firewall: "look at its output rules (pfctl -sr; ipfw list)",
    route_to: "route -n get {address}",
    resolve: "getent hosts <name>",
    port_holder: "sockstat -l -P {proto} -p {port}",
    more_sockets: "raise the limit (ulimit -n)",
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
