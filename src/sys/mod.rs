//! The platform layer: everything ipdiag asks of the operating system that differs between
//! systems, behind one narrow interface (as trippy's `net/platform`). One module per system,
//! chosen by `cfg`: `linux.rs` (with the error queue), `bsd.rs` (macOS and FreeBSD),
//! `windows.rs` (Winsock through `windows-sys`, the only `unsafe` of the crate); `unix.rs`
//! holds what every Unix shares.
//!
//! What error codes mean is pure data in `codes.rs`, a table per system that every system's
//! tests read, so the Windows and macOS mappings are tested on Linux. The [`Platform`] value
//! says how this system reports a probe's ICMP errors; probes take it as a parameter, so a
//! test can run the probe logic the way another system would see it.
//!
//! Nothing else in the crate names an operating system (the Linux-only features, raw mode's
//! sockets and the `local` readers, are gated where they are declared); this layer must not
//! decide states or format anything a user reads beyond its own refusals.

mod codes;
mod ip_status;
pub mod netsh;
pub mod portrange;
mod words;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as imp;

#[cfg(all(unix, not(target_os = "linux")))]
mod bsd;
#[cfg(all(unix, not(target_os = "linux")))]
use bsd as imp;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as imp;

#[cfg(unix)]
mod unix;

#[cfg(not(target_os = "linux"))]
mod plain;

pub use codes::{Failure, System, failure, icmp_error_info};
/// Raw mode's ICMP socket keeps only the types it reads (Linux's `ICMP_FILTER`).
#[cfg(target_os = "linux")]
pub use imp::keep_icmp_types;
pub use imp::{
    PacketSocket, hand_over, interfaces, is_superuser, known_mtu, new_socket, port_facts,
    raise_open_files, restore_open_files, sock_diag_dump, take_queued, want_path_mtu_discovery,
};
pub use ip_status::{EchoStatus, echo_status};
// ICMP echo: an ICMP socket on Unix; Windows' IP Helper API (no Administrator needed).
#[cfg(not(windows))]
pub use imp::open_ping;
#[cfg(windows)]
pub use imp::{EchoAnswer, IcmpEcho};
pub use words::{Words, bind_denied, no_icmp_socket};

use crate::error::Error;
use crate::model::Protocol;
use crate::probe::reason::IcmpReport;
use socket2::SockRef;
use std::io;
use std::net::SocketAddr;

/// What a socket can be borrowed as, whatever the system calls it (a file descriptor on
/// Unix, a `SOCKET` on Windows).
#[cfg(unix)]
pub use std::os::fd::AsFd as AsSocket;
/// What a socket can be borrowed as, whatever the system calls it (a file descriptor on
/// Unix, a `SOCKET` on Windows).
#[cfg(windows)]
pub use std::os::windows::io::AsSocket;

/// One packet a packet socket saw (`local --watch`): its first `len` bytes are in the
/// caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// Bytes in the buffer.
    pub len: usize,
    /// The packet's whole length.
    pub wire_len: usize,
}

/// One error the Linux error queue held about a socket's packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuedError {
    /// The errno the error maps to.
    pub errno: i32,
    /// The ICMP details, when the error came from an ICMP message (not a local one).
    pub icmp: Option<IcmpReport>,
    /// `ee_info`: the MTU for "fragmentation needed" / "packet too big".
    pub info: u32,
    /// The start of what the error quotes of our packet past its transport header (a UDP
    /// datagram's payload), as far as the sender quoted it: which of a socket's datagrams
    /// the error is about.
    pub quote: Quote,
}

/// The first bytes an ICMP error quotes of our packet's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quote {
    bytes: [u8; Quote::MAX],
    len: usize,
}

impl Quote {
    /// Bytes kept: enough to tell one probe's nonce from another's.
    pub const MAX: usize = 32;

    /// The first [`Quote::MAX`] bytes of `quoted`.
    pub fn new(quoted: &[u8]) -> Self {
        let mut bytes = [0u8; Self::MAX];
        let len = quoted.len().min(Self::MAX);
        bytes[..len].copy_from_slice(&quoted[..len]);
        Self { bytes, len }
    }

    /// Whether the quote could be of `sent`: it agrees with `sent` as far as it goes (a
    /// router that quoted nothing past the header agrees with everything).
    pub fn agrees_with(&self, sent: &[u8]) -> bool {
        let n = self.len.min(sent.len());
        self.bytes[..n] == sent[..n]
    }
}

/// How a system tells a probe socket about the ICMP errors its packets caused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Platform {
    /// Whose error codes the socket calls return.
    pub system: System,
    /// Linux's error queue (`IP_RECVERR`): type, code and sender of each ICMP error.
    pub error_queue: bool,
}

/// Whether an unconnected UDP socket can share a connected probe socket's port and receive
/// only the datagrams the connected one does not match (`probe::udp_stray`): Linux's UDP
/// lookup scores a connected socket above a wildcard one; elsewhere `SO_REUSEADDR` may
/// hand the later socket every datagram, so there the probe stays alone.
pub const SIBLING_UDP: bool = cfg!(target_os = "linux");

/// This system.
pub const HERE: Platform = Platform {
    system: System::HERE,
    error_queue: cfg!(target_os = "linux"),
};

impl Platform {
    /// Asks the system to report ICMP errors on a fresh probe socket in full: the error queue
    /// on Linux; on Windows, TCP connects that fail on an ICMP error (instead of retrying)
    /// and no SYN retransmissions after a RST (best effort: older systems and wine refuse).
    pub fn report_errors(self, socket: &socket2::Socket, target: SocketAddr) -> io::Result<()> {
        if self.error_queue {
            return imp::enable_error_queue(socket, target.is_ipv6());
        }
        imp::report_errors(socket);
        Ok(())
    }

    /// The ICMP error behind a failed attempt, as much as the system says: the queued report
    /// (Linux: type, code, sender), Windows' `TCP_ICMP_ERROR_INFO`, or what the error code
    /// alone tells (a sender the system does not name stays `None`).
    pub fn icmp_report(
        self,
        socket: &impl AsSocket,
        protocol: Protocol,
        target: SocketAddr,
        error: Option<&io::Error>,
    ) -> Option<IcmpReport> {
        self.icmp_report_of(socket, protocol, target, error, &[])
    }

    /// [`Platform::icmp_report`] about the datagram whose payload was `sent`: a queued
    /// error that quotes another payload (a late one about an earlier datagram of the same
    /// flow, as a trace's probes share one) is taken and passed over.
    pub fn icmp_report_of(
        self,
        socket: &impl AsSocket,
        protocol: Protocol,
        target: SocketAddr,
        error: Option<&io::Error>,
        sent: &[u8],
    ) -> Option<IcmpReport> {
        let socket = SockRef::from(socket);
        if self.error_queue {
            while let Ok(Some(queued)) = take_queued(&socket) {
                if queued.quote.agrees_with(sent) {
                    return queued.icmp;
                }
            }
            return None;
        }
        let code = error?.raw_os_error()?;
        // Which code a connect failed on an ICMP error with is not promised (the documents
        // name WSAEHOSTUNREACH; a port unreachable may read as a refusal): on Windows any
        // failed TCP connect asks for the ICMP details first (none after a RST).
        if protocol == Protocol::Tcp
            && let Some(report) = imp::tcp_icmp_error(&socket, target.is_ipv6())
        {
            return Some(report);
        }
        failure(self.system, protocol, code).icmp(target.is_ipv6())
    }

    /// Clears a pending socket error (`SO_ERROR`) and returns it. Without an error queue an
    /// ICMP error shows as error readiness that only reading `SO_ERROR` (or a failing
    /// receive) clears; a loop that waited for readiness again without this would spin.
    pub fn take_error(self, socket: &tokio::net::UdpSocket) -> Option<io::Error> {
        if self.error_queue {
            return None;
        }
        let mut taken = None;
        // `try_io` clears the error readiness when the closure says "would block".
        let _ = socket.try_io(tokio::io::Interest::ERROR, || match socket.take_error() {
            Ok(Some(e)) | Err(e) => {
                taken = Some(e);
                Ok(())
            }
            Ok(None) => Err(io::ErrorKind::WouldBlock.into()),
        });
        taken
    }
}

#[cfg(test)]
mod quote_tests {
    use super::Quote;

    #[test]
    fn a_quote_agrees_with_the_payload_it_starts() {
        let sent = b"IPDG\x02\x00nonce-1234";
        assert!(Quote::new(sent).agrees_with(sent));
        assert!(Quote::new(&sent[..6]).agrees_with(sent), "quoted in part");
        assert!(
            Quote::new(&[]).agrees_with(sent),
            "nothing quoted past the header"
        );
        assert!(!Quote::new(b"IPDG\x02\x00nonce-9999").agrees_with(sent));
        let long = [7u8; 100];
        assert!(
            Quote::new(&long).agrees_with(&long),
            "kept up to Quote::MAX"
        );
        assert!(Quote::default().agrees_with(b""));
    }
}

/// True for the errors that mean "out of a local resource, try again shortly".
pub fn is_busy(error: &io::Error) -> bool {
    error
        .raw_os_error()
        .is_some_and(|code| failure(System::HERE, Protocol::Tcp, code) == Failure::Busy)
}

/// The error code of `failure` on this system, if it has one (for tests and for comparing a
/// queued error's errno).
pub fn code_of(failure: Failure) -> Option<i32> {
    codes::code(System::HERE, failure)
}

/// The refusal of a feature this system lacks: one line, exit 3.
pub fn not_here(what: &str) -> Error {
    Error::Environment(format!(
        "{what} works on Linux only for now (this is {})",
        System::HERE.name()
    ))
}

/// Refuses trace's ICMP mode where it is not written: it rides on Windows' `IcmpSendEcho2`.
pub fn icmp_trace_here() -> Result<(), Error> {
    if cfg!(windows) {
        return Ok(());
    }
    Err(Error::Environment(format!(
        "trace --icmp works on Windows only for now (this is {}); trace HOST:PORT follows a \
         port by TCP or UDP",
        System::HERE.name()
    )))
}

/// Whether a TCP connect here hears the ICMP errors its SYNs meet (a router's time exceeded
/// above all). Windows does from 10 version 2004 on (`TCP_FAIL_CONNECT_ON_ICMP_ERROR`; older
/// systems and wine refuse the option, and a trace's routers then look silent); on Unix a
/// trace reads them its own way (Linux: the error queue).
pub fn tcp_hears_icmp() -> bool {
    #[cfg(windows)]
    return imp::tcp_hears_icmp();
    #[cfg(not(windows))]
    true
}

/// Refuses `what` unless this system is Linux.
pub fn linux_only(what: &str) -> Result<(), Error> {
    if System::HERE == System::Linux {
        Ok(())
    } else {
        Err(not_here(what))
    }
}

/// This machine's name as the system holds it (`uname -n`; `COMPUTERNAME` on Windows),
/// never a DNS lookup: the default vantage of `check`, which must not send a packet the
/// user did not ask for. `None` when the system has none that is text.
pub fn host_name() -> Option<String> {
    #[cfg(unix)]
    let name = nix::unistd::gethostname()
        .ok()
        .and_then(|n| n.into_string().ok());
    #[cfg(windows)]
    let name = std::env::var("COMPUTERNAME").ok();
    name.filter(|n| !n.trim().is_empty())
}

/// Tests: true (after printing why the test skips) when running under wine, whose Winsock
/// runs on the Linux stack, for a test that needs Windows' own network behaviour
/// (`scripts/wine/run.sh` sets `IPDIAG_UNDER_WINE`).
#[cfg(test)]
pub(crate) fn skip_under_wine(why: &str) -> bool {
    let wine = std::env::var_os("IPDIAG_UNDER_WINE").is_some();
    if wine {
        eprintln!("skipped under wine: {why}");
    }
    wine
}

#[cfg(test)]
mod no_queue_tests;
