//! What every Unix shares: the open-file limit a large sweep needs, running a command in
//! place of ipdiag (`wait -- COMMAND`), interface addresses (`getifaddrs`) and the user.

use ipnet::IpNet;
use nix::libc::rlim_t;
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use nix::sys::socket::SockaddrStorage;
use std::net::IpAddr;
use std::sync::OnceLock;

/// File descriptors kept free for stdio, the runtime and the resolver.
const RESERVED_FDS: u64 = 64;

/// The most descriptors asked for: macOS refuses a soft limit above `OPEN_MAX` (10240)
/// even when the hard limit is unlimited.
const MOST_WANTED: u64 = if cfg!(target_os = "macos") {
    10_240
} else {
    1 << 20
};

/// The soft limit the process started with (restored before `ipdiag wait` runs a command).
static ORIGINAL_SOFT: OnceLock<rlim_t> = OnceLock::new();

/// `rlim_t` is unsigned on Linux and macOS, signed on FreeBSD (where `RLIM_INFINITY` is
/// its largest value, and nothing is negative).
#[allow(
    clippy::unnecessary_fallible_conversions,
    clippy::useless_conversion,
    reason = "rlim_t is i64 on FreeBSD, u64 elsewhere"
)]
fn to_u64(value: rlim_t) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

#[allow(
    clippy::unnecessary_fallible_conversions,
    clippy::useless_conversion,
    reason = "rlim_t is i64 on FreeBSD, u64 elsewhere"
)]
fn to_rlim(value: u64) -> rlim_t {
    rlim_t::try_from(value).unwrap_or(rlim_t::MAX)
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (as nmap does) and returns how many
/// sockets may be open at once. Failure is not an error: the old limit stays.
pub fn raise_open_files() -> u64 {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return 1024 - RESERVED_FDS;
    };
    ORIGINAL_SOFT.get_or_init(|| soft);
    let wanted = to_rlim(to_u64(hard).min(MOST_WANTED));
    let soft = if wanted > soft && setrlimit(Resource::RLIMIT_NOFILE, wanted, hard).is_ok() {
        wanted
    } else {
        soft
    };
    to_u64(soft).saturating_sub(RESERVED_FDS).max(1)
}

/// Puts the soft limit back to what the process started with, so a program ipdiag runs
/// (`ipdiag wait ... -- COMMAND`) gets the limit its caller gave, not ipdiag's.
pub fn restore_open_files() {
    if let (Some(&original), Ok((_, hard))) =
        (ORIGINAL_SOFT.get(), getrlimit(Resource::RLIMIT_NOFILE))
    {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, original, hard);
    }
}

/// Replaces this process with `command` (its exit status is then the caller's to see);
/// returns only the reason it could not.
pub fn hand_over(command: &mut std::process::Command) -> std::io::Result<u8> {
    use std::os::unix::process::CommandExt;
    restore_open_files();
    Err(command.exec())
}

/// Every interface address with its interface's name, in the system's order; empty when
/// the system will not say.
pub fn interfaces() -> Vec<(String, IpNet)> {
    let Ok(addresses) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    addresses
        .filter_map(|a| {
            let address = ip_of(a.address.as_ref()?)?;
            let prefix = a
                .netmask
                .as_ref()
                .and_then(ip_of)
                .map_or(if address.is_ipv4() { 32 } else { 128 }, prefix_len);
            Some((a.interface_name, IpNet::new(address, prefix).ok()?))
        })
        .collect()
}

fn ip_of(storage: &SockaddrStorage) -> Option<IpAddr> {
    storage
        .as_sockaddr_in()
        .map(|s| IpAddr::V4(s.ip()))
        .or_else(|| storage.as_sockaddr_in6().map(|s| IpAddr::V6(s.ip())))
}

/// The prefix length of a netmask (its leading one bits).
fn prefix_len(mask: IpAddr) -> u8 {
    let ones = match mask {
        IpAddr::V4(m) => u32::from(m).leading_ones(),
        IpAddr::V6(m) => u128::from(m).leading_ones(),
    };
    u8::try_from(ones).unwrap_or(0)
}

/// Whether this process runs as root (which sees every process's sockets).
pub fn is_superuser() -> bool {
    nix::unistd::geteuid().is_root()
}
