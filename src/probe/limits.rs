//! Process limits a large sweep needs: as many file descriptors as the system allows.

use nix::sys::resource::{Resource, getrlimit, setrlimit};
use std::sync::OnceLock;

/// File descriptors kept free for stdio, the runtime and the resolver.
const RESERVED_FDS: u64 = 64;

/// The soft limit the process started with (restored before `ipdiag wait` runs a command).
static ORIGINAL_SOFT: OnceLock<u64> = OnceLock::new();

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (as nmap does) and returns how many
/// sockets may be open at once. Failure is not an error: the old limit stays.
pub fn raise_open_files() -> u64 {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return 1024 - RESERVED_FDS;
    };
    ORIGINAL_SOFT.get_or_init(|| soft);
    let wanted = hard.min(1 << 20);
    let soft = if wanted > soft && setrlimit(Resource::RLIMIT_NOFILE, wanted, hard).is_ok() {
        wanted
    } else {
        soft
    };
    soft.saturating_sub(RESERVED_FDS).max(1)
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
