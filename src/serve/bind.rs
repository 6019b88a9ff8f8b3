//! Binding the responder's sockets, and explaining why a bind failed in terms of the
//! classic mistakes: the public IP (not on the VM), a port in use, a privileged port.

use crate::classify::classify;
use crate::classify::port::PortFacts;
use crate::model::{Protocol as Transport, Scope};
use crate::sys::bind_denied;
use ipnet::IpNet;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{IpAddr, SocketAddr};

/// Receive buffer the responder asks for on UDP: 4 MiB, a few thousand datagrams, so a burst
/// at `--loss-split`'s highest rate waits in the queue instead of overflowing it (the
/// namespace test lost 167 of 1,000 there on a busy machine with the 208 KiB default).
const UDP_RECEIVE_BUFFER: usize = 4 << 20;

/// Binds a listening TCP or a UDP socket (IPv6 sockets are IPv6-only, so `0.0.0.0` and
/// `::` can share a port).
pub fn bind(transport: Transport, address: SocketAddr) -> io::Result<Socket> {
    let (kind, protocol) = match transport {
        Transport::Udp => (Type::DGRAM, Protocol::UDP),
        Transport::Tcp => (Type::STREAM, Protocol::TCP),
    };
    let socket = crate::sys::new_socket(Domain::for_address(address), kind, protocol)?;
    if address.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    if transport == Transport::Udp {
        // The responder counts every datagram that arrives (`--loss-split` compares those
        // counts with the client's): its own receive queue must not be where they are lost
        // when it is briefly starved of CPU. The kernel caps the size at net.core.rmem_max;
        // a refusal only leaves the default.
        let _ = socket.set_recv_buffer_size(UDP_RECEIVE_BUFFER);
    } else {
        socket.set_reuse_address(true)?;
    }
    socket.bind(&address.into())?;
    if transport != Transport::Udp {
        socket.listen(1024)?;
    }
    Ok(socket)
}

/// What the host knows that helps explain a failed bind.
#[derive(Debug, Clone, Default)]
pub struct BindContext {
    /// This host's interface addresses.
    pub addresses: Vec<IpNet>,
    /// The process holding the port, if it could be found (`pid`, name).
    pub holder: Option<(u32, String)>,
    /// The system's port rules: which ports need privileges, Windows' excluded ranges.
    pub ports: PortFacts,
}

/// One line: what failed, why, and what to do.
pub fn explain(
    transport: Transport,
    address: SocketAddr,
    error: &io::Error,
    context: &BindContext,
) -> String {
    let what = format!("cannot bind {} {address}", transport.as_str());
    let system = context.ports.system;
    // std names these three the same on every system (EADDRNOTAVAIL, WSAEADDRNOTAVAIL...).
    match error.kind() {
        io::ErrorKind::AddrNotAvailable => {
            let list: Vec<String> = context
                .addresses
                .iter()
                .map(|n| n.addr().to_string())
                .collect();
            // Documentation and benchmarking ranges count as public here: they play public
            // addresses in labs (and in ipdiag's own tests).
            let public = !matches!(
                classify(address.ip()).scope,
                Scope::Private
                    | Scope::Shared
                    | Scope::LinkLocal
                    | Scope::Loopback
                    | Scope::Unspecified
            );
            let why = if public {
                "bind_public_ip: on a cloud VM the public IP belongs to the provider's edge, which translates it to the VM's private IP; it is never on the VM's network card"
            } else {
                "the address is not on any interface of this host"
            };
            format!(
                "{what}: {why}. Bind 0.0.0.0 (every interface) or the private IP. This host's addresses: {}",
                if list.is_empty() {
                    "(none found)".to_owned()
                } else {
                    list.join(", ")
                }
            )
        }
        io::ErrorKind::AddrInUse => {
            let holder = context.holder.as_ref().map_or_else(
                || {
                    let command = system.words().holder(transport.as_str(), address.port());
                    format!("another socket ({command} shows which)")
                },
                |(pid, name)| format!("process {pid} ({name})"),
            );
            format!("{what}: the port is in use by {holder}; stop it, or serve another port")
        }
        io::ErrorKind::PermissionDenied => {
            // Windows' excluded ranges are read for TCP.
            let excluded: &[(u16, u16)] = match transport {
                Transport::Tcp => &context.ports.excluded,
                Transport::Udp => &[],
            };
            let start = context.ports.unprivileged_start;
            match bind_denied(system, transport.as_str(), address, start, excluded) {
                Some(why) => format!("{what}: {why}"),
                None => format!("{what}: {error}"),
            }
        }
        _ => format!("{what}: {error}"),
    }
}

/// Whether an address is one this host could bind (on an interface, or a wildcard).
pub fn is_local(address: IpAddr, addresses: &[IpNet]) -> bool {
    address.is_unspecified() || addresses.iter().any(|n| n.addr() == address)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> BindContext {
        BindContext {
            addresses: vec![
                "172.16.0.10/24".parse().unwrap(),
                "127.0.0.1/8".parse().unwrap(),
            ],
            holder: Some((4242, "nginx".into())),
            ports: PortFacts::default(),
        }
    }

    #[test]
    fn public_ip_not_on_the_card() {
        let error = io::Error::from(io::ErrorKind::AddrNotAvailable);
        let text = explain(
            Transport::Tcp,
            "8.8.4.4:7890".parse().unwrap(),
            &error,
            &context(),
        );
        assert!(
            text.starts_with("cannot bind tcp 8.8.4.4:7890: bind_public_ip: on a cloud VM"),
            "{text}"
        );
        assert!(
            text.ends_with("This host's addresses: 172.16.0.10, 127.0.0.1"),
            "{text}"
        );
    }

    #[test]
    fn in_use_and_privileged() {
        let in_use = io::Error::from(io::ErrorKind::AddrInUse);
        assert_eq!(
            explain(
                Transport::Udp,
                "0.0.0.0:53".parse().unwrap(),
                &in_use,
                &context()
            ),
            "cannot bind udp 0.0.0.0:53: the port is in use by process 4242 (nginx); stop it, or serve another port"
        );
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        let text = explain(
            Transport::Tcp,
            "0.0.0.0:80".parse().unwrap(),
            &denied,
            &context(),
        );
        assert!(
            text.starts_with(
                "cannot bind tcp 0.0.0.0:80: ports below 1024 need root or CAP_NET_BIND_SERVICE"
            ),
            "{text}"
        );
    }

    #[test]
    fn each_system_says_how_to_find_the_holder_and_its_reserved_ports() {
        use crate::sys::System;
        let in_use = io::Error::from(io::ErrorKind::AddrInUse);
        let mut context = BindContext {
            holder: None,
            ..context()
        };
        let dns = "0.0.0.0:53".parse().unwrap();
        assert_eq!(
            explain(Transport::Udp, dns, &in_use, &context),
            "cannot bind udp 0.0.0.0:53: the port is in use by another socket (ss -lunp 'sport = :53' shows which); stop it, or serve another port"
        );
        context.ports.system = System::Windows;
        context.ports.unprivileged_start = 0;
        context.ports.excluded = vec![(50000, 50059)];
        assert_eq!(
            explain(Transport::Udp, dns, &in_use, &context),
            "cannot bind udp 0.0.0.0:53: the port is in use by another socket (Get-NetUDPEndpoint -LocalPort 53 shows which); stop it, or serve another port"
        );
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        let reserved = "0.0.0.0:50001".parse().unwrap();
        assert_eq!(
            explain(Transport::Tcp, reserved, &denied, &context),
            "cannot bind tcp 0.0.0.0:50001: port 50001 is in a range Windows reserves (50000-50059; netsh int ipv4 show excludedportrange protocol=tcp lists them, often for Hyper-V, WSL or Docker): serve a port outside it"
        );
        // The excluded ranges read are TCP's: a UDP refusal names no range.
        assert!(
            explain(Transport::Udp, reserved, &denied, &context).starts_with(
                "cannot bind udp 0.0.0.0:50001: Windows has no privileged ports: another program holds port 50001 exclusively (Get-NetUDPEndpoint -LocalPort 50001 shows which)"
            )
        );
    }

    #[test]
    fn binds_both_families_on_one_port() {
        let v4 = bind(Transport::Udp, "127.0.0.1:0".parse().unwrap()).unwrap();
        let port = v4.local_addr().unwrap().as_socket().unwrap().port();
        if let Ok(v6) = bind(
            Transport::Udp,
            SocketAddr::new("::1".parse().unwrap(), port),
        ) {
            assert_eq!(v6.local_addr().unwrap().as_socket().unwrap().port(), port);
        }
    }
}
