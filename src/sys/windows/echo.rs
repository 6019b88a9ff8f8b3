//! ICMP echo without Administrator: `IcmpSendEcho2` / `Icmp6SendEcho2` (IP Helper), which
//! the system's own ping.exe and tracert.exe use. Called synchronously (no event, no APC
//! routine), so each call blocks until its reply or its timeout: the caller runs it on a
//! blocking thread. An optional TTL (`IP_OPTION_INFORMATION.Ttl`) makes it a trace probe:
//! a router where the TTL runs out answers `IP_TTL_EXPIRED_TRANSIT` from its own address.
//! What the status means is `sys::ip_status`'s pure table.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};
use windows_sys::Win32::Foundation::{GetLastError, HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::NetworkManagement::IpHelper as ip;
use windows_sys::Win32::Networking::WinSock as ws;

/// Room for the reply structure, our echoed data, an 8-byte ICMP error header and the
/// quoted packet (the docs ask for the structure, the data and 8 bytes; an ICMPv6 reply
/// also needs an `IO_STATUS_BLOCK`): 4 KiB covers all with room to spare.
const REPLY_BYTES: usize = 4096;
const _: () = assert!(
    REPLY_BYTES >= size_of::<ip::ICMP_ECHO_REPLY>() + 64
        && REPLY_BYTES >= size_of::<ip::ICMPV6_ECHO_REPLY_LH>() + 64
);

/// One echo request's answer, as the system gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoAnswer {
    /// The `IP_STATUS` (`IP_SUCCESS`, `IP_TTL_EXPIRED_TRANSIT`, ...) or, when the call
    /// failed without a reply, `GetLastError`'s code (`IP_REQ_TIMED_OUT` among them).
    pub status: u32,
    /// Who answered: the destination, or the router that sent the ICMP error.
    pub from: Option<IpAddr>,
    /// The time the call took (finer than the reply's whole milliseconds).
    pub rtt: Duration,
}

/// An ICMP echo handle (`IcmpCreateFile` or `Icmp6CreateFile`), closed on drop.
#[derive(Debug)]
pub struct IcmpEcho {
    handle: HANDLE,
    v6: bool,
}

// SAFETY: the handle is a kernel object handle, valid in every thread of the process;
// `IcmpSendEcho2` takes it by value and the IP Helper driver serves concurrent requests on
// one handle (its asynchronous mode exists for many requests in flight). Nothing else is
// shared: each call has its own request and reply buffers.
unsafe impl Send for IcmpEcho {}
// SAFETY: as for `Send`: `&IcmpEcho` only lets a thread read the handle's value.
unsafe impl Sync for IcmpEcho {}

impl IcmpEcho {
    /// Opens a handle for echo requests to addresses of `address`'s family. `Err` is the
    /// system's message.
    pub fn open(address: IpAddr) -> Result<Self, String> {
        let v6 = address.is_ipv6();
        // SAFETY: neither call takes arguments; each returns a handle or
        // INVALID_HANDLE_VALUE, checked below.
        let handle = unsafe {
            if v6 {
                ip::Icmp6CreateFile()
            } else {
                ip::IcmpCreateFile()
            }
        };
        if handle == INVALID_HANDLE_VALUE || handle.is_null() {
            let which = if v6 {
                "Icmp6CreateFile"
            } else {
                "IcmpCreateFile"
            };
            return Err(format!(
                "cannot open an ICMP echo handle ({which}): {}",
                io::Error::last_os_error()
            ));
        }
        Ok(Self { handle, v6 })
    }

    /// Sends one echo request carrying `data` to `to` (of the handle's family) and waits at
    /// most `timeout` for its answer; `ttl` sets the request's TTL (hop limit).
    pub fn send(&self, to: IpAddr, data: &[u8], ttl: Option<u8>, timeout: Duration) -> EchoAnswer {
        let options = ip::IP_OPTION_INFORMATION {
            Ttl: ttl.unwrap_or(0),
            Tos: 0,
            Flags: 0,
            OptionsSize: 0,
            OptionsData: std::ptr::null_mut(),
        };
        let options_ptr: *const ip::IP_OPTION_INFORMATION = if ttl.is_some() {
            &raw const options
        } else {
            std::ptr::null()
        };
        let size = u16::try_from(data.len()).unwrap_or(u16::MAX);
        let wait = u32::try_from(timeout.as_millis())
            .unwrap_or(u32::MAX)
            .max(1);
        // u64s: the reply structures hold pointers and want 8-byte alignment.
        let mut reply = [0u64; REPLY_BYTES / 8];
        let reply_ptr = reply.as_mut_ptr().cast::<core::ffi::c_void>();
        let reply_size = u32::try_from(REPLY_BYTES).unwrap_or(0);
        let start = Instant::now();
        let replies = match (to, self.v6) {
            (IpAddr::V4(v4), false) => {
                let destination = u32::from_ne_bytes(v4.octets());
                // SAFETY: `self.handle` is an open IcmpCreateFile handle; no event and no
                // APC routine (a synchronous call); `data` is readable for `size` bytes
                // (at most its length); `options_ptr` is null or points to `options`,
                // alive for the call; `reply_ptr` is writable for `reply_size` bytes.
                unsafe {
                    ip::IcmpSendEcho2(
                        self.handle,
                        std::ptr::null_mut(),
                        None,
                        std::ptr::null(),
                        destination,
                        data.as_ptr().cast(),
                        size,
                        options_ptr,
                        reply_ptr,
                        reply_size,
                        wait,
                    )
                }
            }
            (IpAddr::V6(v6), true) => {
                let source = sockaddr_in6(Ipv6Addr::UNSPECIFIED);
                let destination = sockaddr_in6(v6);
                // SAFETY: as above, with an Icmp6CreateFile handle; `source` and
                // `destination` are SOCKADDR_IN6 values alive for the call.
                unsafe {
                    ip::Icmp6SendEcho2(
                        self.handle,
                        std::ptr::null_mut(),
                        None,
                        std::ptr::null(),
                        &raw const source,
                        &raw const destination,
                        data.as_ptr().cast(),
                        size,
                        options_ptr,
                        reply_ptr,
                        reply_size,
                        wait,
                    )
                }
            }
            // The handle is of the other family: the system would refuse it too.
            _ => {
                return EchoAnswer {
                    status: ip::IP_BAD_DESTINATION,
                    from: None,
                    rtt: Duration::ZERO,
                };
            }
        };
        let rtt = start.elapsed();
        // SAFETY: no arguments; reads this thread's last error, set by the call above
        // (read at once, before anything else may change it; used only without a reply).
        let last_error = unsafe { GetLastError() };
        let (status, from) = self.first_reply(&reply);
        // Some systems count an ICMP error as no reply yet fill in the buffer (not
        // promised either way): a filled-in error with its sender is the answer then.
        if replies == 0 && (status == 0 || from.is_none()) {
            return EchoAnswer {
                status: last_error,
                from: None,
                rtt,
            };
        }
        EchoAnswer { status, from, rtt }
    }

    /// The status and sender of the first reply in `reply` (zeroes: success from nobody).
    fn first_reply(&self, reply: &[u64; REPLY_BYTES / 8]) -> (u32, Option<IpAddr>) {
        let (status, from) = if self.v6 {
            // SAFETY: the buffer is 8-byte aligned and longer than the structure (the
            // assertion on `REPLY_BYTES`); any bytes are a valid ICMPV6_ECHO_REPLY
            // (integers only).
            let first = unsafe { reply.as_ptr().cast::<ip::ICMPV6_ECHO_REPLY_LH>().read() };
            let words = first.Address.sin6_addr;
            let mut bytes = [0u8; 16];
            for (pair, word) in bytes.chunks_exact_mut(2).zip(words) {
                // Each word holds two address bytes as they are in memory.
                pair.copy_from_slice(&word.to_ne_bytes());
            }
            (first.Status, IpAddr::V6(Ipv6Addr::from(bytes)))
        } else {
            // SAFETY: the buffer is 8-byte aligned and longer than the structure (the
            // assertion on `REPLY_BYTES`); any bytes are valid for its integers, and its
            // data pointer is only copied, never read through.
            let first = unsafe { reply.as_ptr().cast::<ip::ICMP_ECHO_REPLY>().read() };
            let from = Ipv4Addr::from(first.Address.to_ne_bytes());
            (first.Status, IpAddr::V4(from))
        };
        (status, Some(from).filter(|a| !a.is_unspecified()))
    }
}

impl Drop for IcmpEcho {
    fn drop(&mut self) {
        // SAFETY: the handle came from Icmp(6)CreateFile and is closed only here, once.
        let _ = unsafe { ip::IcmpCloseHandle(self.handle) };
    }
}

/// A `SOCKADDR_IN6` for `address`, port 0.
fn sockaddr_in6(address: Ipv6Addr) -> ws::SOCKADDR_IN6 {
    ws::SOCKADDR_IN6 {
        sin6_family: ws::AF_INET6,
        sin6_port: 0,
        sin6_flowinfo: 0,
        sin6_addr: ws::IN6_ADDR {
            u: ws::IN6_ADDR_0 {
                Byte: address.octets(),
            },
        },
        Anonymous: ws::SOCKADDR_IN6_0 { sin6_scope_id: 0 },
    }
}
