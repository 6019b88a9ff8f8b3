//! This machine's interface addresses on Windows (`GetAdaptersAddresses`, IP Helper): the
//! adapter's friendly name and each unicast address with its on-link prefix length.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use windows_sys::Win32::Foundation::{ERROR_BUFFER_OVERFLOW, NO_ERROR};
use windows_sys::Win32::NetworkManagement::IpHelper::{
    GAA_FLAG_SKIP_ANYCAST, GAA_FLAG_SKIP_DNS_SERVER, GAA_FLAG_SKIP_MULTICAST, GetAdaptersAddresses,
    IP_ADAPTER_ADDRESSES_LH,
};
use windows_sys::Win32::Networking::WinSock::{
    AF_INET, AF_INET6, AF_UNSPEC, SOCKADDR, SOCKADDR_IN, SOCKADDR_IN6,
};

/// The buffer first offered (Microsoft's advice: 15 KB avoids a second call mostly).
const FIRST_SIZE: u32 = 16 * 1024;
/// Adapters may be added between the sizing call and the next: a few tries, no more.
const TRIES: usize = 4;

/// Every interface address with its adapter's name; empty when the system will not say.
pub fn interfaces() -> Vec<(String, IpNet)> {
    let mut size = FIRST_SIZE;
    for _ in 0..TRIES {
        // u64s: the list's structures want 8-byte alignment.
        let mut buffer = vec![0u64; usize::try_from(size).unwrap_or(0).div_ceil(8)];
        let first = buffer.as_mut_ptr().cast::<IP_ADAPTER_ADDRESSES_LH>();
        // SAFETY: `first` points to `size` writable bytes (the buffer is at least that
        // long); `size` is a live u32 the call updates; the reserved pointer is null.
        let rc = unsafe {
            GetAdaptersAddresses(
                u32::from(AF_UNSPEC),
                GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER,
                std::ptr::null(),
                first,
                &raw mut size,
            )
        };
        match rc {
            NO_ERROR => return walk(first),
            ERROR_BUFFER_OVERFLOW => {}
            _ => return Vec::new(),
        }
    }
    Vec::new()
}

/// Reads the linked list `GetAdaptersAddresses` wrote into the buffer `first` starts.
fn walk(first: *const IP_ADAPTER_ADDRESSES_LH) -> Vec<(String, IpNet)> {
    let mut out = Vec::new();
    let mut adapter = first;
    while !adapter.is_null() {
        // SAFETY: a non-null adapter pointer is `first` or a `Next` link the system wrote,
        // all inside the buffer the caller keeps alive during this walk.
        let a = unsafe { &*adapter };
        let name = wide(a.FriendlyName);
        let mut unicast = a.FirstUnicastAddress;
        while !unicast.is_null() {
            // SAFETY: as above, a link the system wrote inside the live buffer.
            let u = unsafe { &*unicast };
            if let Some(address) = ip_of(u.Address.lpSockaddr)
                && let Ok(net) = IpNet::new(address, u.OnLinkPrefixLength)
            {
                out.push((name.clone(), net));
            }
            unicast = u.Next;
        }
        adapter = a.Next;
    }
    out
}

/// A NUL-terminated UTF-16 string the system wrote.
fn wide(text: *const u16) -> String {
    if text.is_null() {
        return String::new();
    }
    let mut len = 0;
    // SAFETY: the system terminates the name with a NUL, so every unit read up to it is
    // inside the string; the walk stops there (and after 256 units at most).
    while len < 256 && unsafe { *text.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: the `len` units just read are initialised and inside the string.
    let units = unsafe { std::slice::from_raw_parts(text, len) };
    String::from_utf16_lossy(units)
}

/// The IP address of a socket address the system wrote, by its family.
fn ip_of(address: *const SOCKADDR) -> Option<IpAddr> {
    if address.is_null() {
        return None;
    }
    // SAFETY: a non-null socket address starts with its family.
    let family = unsafe { (*address).sa_family };
    match family {
        AF_INET => {
            // SAFETY: the family says it is a SOCKADDR_IN, read whole (unaligned: the
            // system's buffer promises no more than SOCKADDR's alignment).
            let v4 = unsafe { address.cast::<SOCKADDR_IN>().read_unaligned() };
            // SAFETY: any four bytes are a valid u32 (the address, in network order).
            let raw = unsafe { v4.sin_addr.S_un.S_addr };
            Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(raw))))
        }
        AF_INET6 => {
            // SAFETY: the family says it is a SOCKADDR_IN6, read whole and unaligned.
            let v6 = unsafe { address.cast::<SOCKADDR_IN6>().read_unaligned() };
            // SAFETY: any 16 bytes are a valid IPv6 address.
            let bytes = unsafe { v6.sin6_addr.u.Byte };
            Some(IpAddr::V6(Ipv6Addr::from(bytes)))
        }
        _ => None,
    }
}
