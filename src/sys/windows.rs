//! Windows: Winsock through `windows-sys`, the only `unsafe` code of the crate (one
//! `// SAFETY:` line per block).
//!
//! What the probe needs (Microsoft Learn, "`IPPROTO_TCP` socket options", `SIO_TCP_INITIAL_RTO`,
//! `ICMP_ERROR_INFO`): a TCP connect refused by a RST is retried by Windows for about two
//! seconds unless `SIO_TCP_INITIAL_RTO` asks for no SYN retransmissions (libuv does this;
//! nmap#1945 shows such ports as filtered); `TCP_FAIL_CONNECT_ON_ICMP_ERROR` makes a connect
//! fail on an ICMP error, and `TCP_ICMP_ERROR_INFO` then gives its type, code and sender
//! (Windows 10 2004 and later; older systems and wine refuse both, and the probe says what
//! the error code alone says). UDP errors arrive as codes only (`codes.rs`). No error queue,
//! no path MTU option, no `sock_diag`, no descriptor limit; a command is spawned and its exit
//! status passed on, since Windows has no `exec`.

#![allow(
    unsafe_code,
    reason = "Winsock and IP Helper calls; one SAFETY note per block"
)]

mod adapters;
mod echo;

pub use super::plain::{
    PacketSocket, enable_error_queue, known_mtu, new_socket, sock_diag_dump, take_queued,
    want_path_mtu_discovery,
};
pub use adapters::interfaces;
pub use echo::{EchoAnswer, IcmpEcho};

use super::codes::icmp_error_info;
use crate::classify::port::{FactSource, PortFacts};
use crate::probe::reason::IcmpReport;
use socket2::{SockRef, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::windows::io::AsRawSocket;
use windows_sys::Win32::Networking::WinSock as ws;

/// `TCP_INITIAL_RTO_UNSPECIFIED_RTT` (`(USHORT) -1`): keep the system's initial RTO.
const UNSPECIFIED_RTT: u16 = u16::MAX;
/// `TCP_INITIAL_RTO_NO_SYN_RETRANSMISSIONS` (`(UCHAR) -2` in `mstcpip.h`; the metadata
/// `windows-sys` is built from widens it to a `u16`, which the field cannot hold).
const NO_SYN_RETRANSMISSIONS: u8 = 0xfe;
/// The dynamic (ephemeral) port range of Windows Vista and later (KB929851), unless an
/// administrator changed it (`netsh int ipv4 show dynamicport tcp`).
const DYNAMIC_PORTS: (u16, u16) = (49152, 65535);
/// `STATUS_CONTROL_C_EXIT`: the exit status of a console program ended by Ctrl-C.
const CONTROL_C_EXIT: u32 = 0xC000_013A;
/// The exit status of a command interrupted by Ctrl-C, as a shell reports it on Unix.
const EXIT_INTERRUPTED: u8 = 130;

fn handle(socket: &impl AsRawSocket) -> ws::SOCKET {
    usize::try_from(socket.as_raw_socket()).unwrap_or(ws::INVALID_SOCKET)
}

/// A TCP probe socket: no SYN retransmissions after a RST, and a connect that fails on an
/// ICMP error with its details kept. Best effort: each is refused before Windows 10 2004
/// (and by wine), and the probe then learns less, never something wrong.
pub fn report_errors(socket: &Socket) {
    let s = handle(socket);
    match socket.r#type().ok() {
        Some(Type::STREAM) => {
            let rto = ws::TCP_INITIAL_RTO_PARAMETERS {
                Rtt: UNSPECIFIED_RTT,
                MaxSynRetransmissions: NO_SYN_RETRANSMISSIONS,
            };
            ioctl_in(s, ws::SIO_TCP_INITIAL_RTO, &rto);
            fail_connect_on_icmp(s);
        }
        Some(Type::DGRAM) => {
            // A port unreachable as WSAECONNRESET and a time exceeded as WSAENETRESET on
            // the next receive: asked for, not left to the system's default.
            let on: u32 = 1;
            ioctl_in(s, ws::SIO_UDP_CONNRESET, &on);
            ioctl_in(s, ws::SIO_UDP_NETRESET, &on);
        }
        _ => {}
    }
}

/// `WSAIoctl(s, code, value)` with an input value only; `false` when the system refuses.
fn ioctl_in<T>(s: ws::SOCKET, code: u32, value: &T) -> bool {
    let mut returned = 0u32;
    let size = u32::try_from(size_of::<T>()).unwrap_or(0);
    // SAFETY: the caller's `s` is a socket it borrows for the call (a stale one is refused
    // by Winsock, not used); the input buffer is `value`, valid for `size` bytes for the
    // call; no output buffer, no overlapped I/O, no callback.
    let rc = unsafe {
        ws::WSAIoctl(
            s,
            code,
            std::ptr::from_ref(value).cast(),
            size,
            std::ptr::null_mut(),
            0,
            &raw mut returned,
            std::ptr::null_mut(),
            None,
        )
    };
    rc == 0
}

/// Asks that a connect on `s` fail on an ICMP error (`TCP_FAIL_CONNECT_ON_ICMP_ERROR`);
/// `false` when the system refuses (before Windows 10 2004, and wine).
fn fail_connect_on_icmp(s: ws::SOCKET) -> bool {
    let on: u32 = 1;
    // SAFETY: the caller's `s` is a live socket it borrows for the call; the option value
    // is a DWORD read for its 4 bytes.
    let rc = unsafe {
        ws::setsockopt(
            s,
            ws::IPPROTO_TCP,
            ws::TCP_FAIL_CONNECT_ON_ICMP_ERROR,
            (&raw const on).cast(),
            4,
        )
    };
    rc == 0
}

/// Whether this system takes `TCP_FAIL_CONNECT_ON_ICMP_ERROR` (Windows 10 2004 and later;
/// not wine): asked of a fresh TCP socket that never connects.
pub fn tcp_hears_icmp() -> bool {
    let Ok(socket) = Socket::new(socket2::Domain::IPV4, Type::STREAM, None) else {
        return false;
    };
    fail_connect_on_icmp(handle(&socket))
}

/// The ICMP error that failed a TCP connect (`TCP_ICMP_ERROR_INFO`): type, code, sender.
pub fn tcp_icmp_error(socket: &SockRef<'_>, _v6: bool) -> Option<IcmpReport> {
    let s = handle(&**socket);
    let mut info = ws::ICMP_ERROR_INFO::default();
    let mut len = i32::try_from(size_of::<ws::ICMP_ERROR_INFO>()).ok()?;
    // SAFETY: `s` is a live socket; `info` is writable for `len` bytes, and `len` is a
    // live i32 the call updates with the bytes written.
    let rc = unsafe {
        ws::getsockopt(
            s,
            ws::IPPROTO_TCP,
            ws::TCP_ICMP_ERROR_INFO,
            (&raw mut info).cast(),
            &raw mut len,
        )
    };
    if rc != 0 {
        return None;
    }
    icmp_error_info(
        info.protocol,
        info.r#type,
        info.code,
        sender(&info.srcaddress),
    )
}

/// The address in a `SOCKADDR_INET`, by its family.
fn sender(address: &ws::SOCKADDR_INET) -> Option<IpAddr> {
    // SAFETY: every member of the union starts with the address family, and the zeroed or
    // system-filled value is always a valid u16 there.
    let family = unsafe { address.si_family };
    match family {
        ws::AF_INET => {
            // SAFETY: the family says the union holds a SOCKADDR_IN, and any bytes are a
            // valid u32 (the address, in network order).
            let raw = unsafe { address.Ipv4.sin_addr.S_un.S_addr };
            Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(raw))))
        }
        ws::AF_INET6 => {
            // SAFETY: the family says the union holds a SOCKADDR_IN6; any 16 bytes are a
            // valid IPv6 address.
            let bytes = unsafe { address.Ipv6.sin6_addr.u.Byte };
            Some(IpAddr::V6(Ipv6Addr::from(bytes)))
        }
        _ => None,
    }
}

/// Windows has no privileged ports; its dynamic range is 49152-65535 unless an
/// administrator changed it, and the excluded port ranges are reserved: both read from
/// netsh's text (the defaults, marked so, when netsh will not say).
pub fn port_facts() -> PortFacts {
    let mut facts = PortFacts {
        system: super::System::Windows,
        unprivileged_start: 0,
        unprivileged_source: FactSource::Default,
        ephemeral: DYNAMIC_PORTS,
        ephemeral_source: FactSource::Default,
        high: None,
        low: None,
        excluded: Vec::new(),
    };
    if let Some(range) = netsh(&["int", "ipv4", "show", "dynamicport", "tcp"])
        .as_deref()
        .and_then(super::netsh::parse_dynamic)
    {
        facts.ephemeral = range;
        facts.ephemeral_source = FactSource::Kernel;
    }
    if let Some(text) = netsh(&["int", "ipv4", "show", "excludedportrange", "protocol=tcp"]) {
        facts.excluded = super::netsh::parse_excluded(&text);
    }
    facts
}

/// netsh's output for `args`, when it ran and succeeded (its text in the console's code
/// page: the numbers read are ASCII in every one).
fn netsh(args: &[&str]) -> Option<String> {
    super::plain::tool_output(
        std::process::Command::new("netsh")
            .args(args)
            .stdin(std::process::Stdio::null()),
    )
}

/// Windows has no descriptor limit; a connect takes a local port from the dynamic range,
/// so that range (less a reserve) bounds the sockets open at once.
pub fn raise_open_files() -> u64 {
    u64::from(DYNAMIC_PORTS.1 - DYNAMIC_PORTS.0) + 1 - 64
}

/// No limit was changed.
pub fn restore_open_files() {}

/// Runs `command` to its end (Windows has no `exec`) and returns its exit status as ipdiag's:
/// 0-255 as they are, Ctrl-C's status as 130, any other as 1.
pub fn hand_over(command: &mut std::process::Command) -> io::Result<u8> {
    let status = command.status()?;
    let code = status.code().unwrap_or(1);
    Ok(u8::try_from(code).unwrap_or_else(|_| {
        if code.cast_unsigned() == CONTROL_C_EXIT {
            EXIT_INTERRUPTED
        } else {
            1
        }
    }))
}

/// Nobody is root here (only `local` asks, and it is Linux's).
pub fn is_superuser() -> bool {
    false
}
