//! What the systems without Linux's extras share (macOS, FreeBSD, Windows): sockets made
//! non-blocking after creation, no error queue, no path-MTU option, no `sock_diag`.

use super::{AsSocket, QueuedError};
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::io;

/// A system tool's standard output, when it ran and succeeded (its error output is
/// discarded): `bsd.rs` reads sysctl(8) and `windows.rs` netsh this way, without `unsafe`.
pub(super) fn tool_output(command: &mut std::process::Command) -> Option<String> {
    let output = command.stderr(std::process::Stdio::null()).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A non-blocking socket (socket2 sets close-on-exec, or no inheritance on Windows, itself).
pub fn new_socket(domain: Domain, kind: Type, protocol: Protocol) -> io::Result<Socket> {
    let socket = Socket::new(domain, kind, Some(protocol))?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// There is no error queue here.
pub fn enable_error_queue(_socket: &Socket, _v6: bool) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// No error queue: nothing is ever queued.
pub fn take_queued(_socket: &SockRef<'_>) -> io::Result<Option<QueuedError>> {
    Ok(None)
}

/// The kernel's path MTU is not a socket option here.
pub fn known_mtu(_socket: &impl AsSocket, _v6: bool) -> io::Result<u32> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Linux's path-MTU discovery mode has no equivalent option here.
pub fn want_path_mtu_discovery(_socket: &impl AsSocket, _v6: bool) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// `sock_diag` is Linux's: nothing to dump.
pub fn sock_diag_dump(
    _request: impl Fn(u8) -> Vec<u8>,
    _v6: bool,
    _each: &mut dyn FnMut(&[u8]) -> Option<bool>,
) -> Option<()> {
    None
}

/// Packet sockets (`AF_PACKET`) are Linux's.
#[derive(Debug)]
pub struct PacketSocket(());

impl PacketSocket {
    /// Always refused here.
    pub fn open(_tick: std::time::Duration) -> io::Result<Self> {
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Never reached: no packet socket opens here.
    pub fn next(&self, _buf: &mut [u8]) -> io::Result<Option<super::Frame>> {
        Ok(None)
    }
}
