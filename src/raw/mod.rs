//! Raw mode: crafted packets for a SYN scan (root or `CAP_NET_RAW`).
//!
//! `packet.rs` builds the SYN and reads replies (pure, with pnet's packet types),
//! `cookie.rs` matches replies statelessly, `sockets.rs` opens the raw sockets (with a
//! kernel filter on our ports, `filter.rs`; `families.rs` per address family), and
//! `syn.rs` runs the scan: paced sending threads that
//! read their replies between batches, and retry rounds; `tries.rs` says which try a
//! reply answers (so it is timed from that try), `pacing.rs` shares `--rate` among the
//! threads and `split.rs` the endpoints.
//!
//! The sockets are socket2's rather than pnet's transport channels: those unwrap on a
//! truncated packet (a panic the network could cause) and hide the descriptor that the
//! receive buffer and the kernel filter are set on.

pub mod cookie;
pub mod pacing;
pub mod packet;
pub mod split;
pub mod tries;

// The sockets and the scan use Linux's raw-socket extras (a kernel filter, a forced
// receive buffer); elsewhere `--raw` is refused before a scan starts (`sys::linux_only`).
#[cfg(target_os = "linux")]
mod families;
#[cfg(target_os = "linux")]
pub mod filter;
#[cfg(target_os = "linux")]
mod handover;
#[cfg(target_os = "linux")]
pub mod sockets;
#[cfg(target_os = "linux")]
pub mod syn;

#[cfg(target_os = "linux")]
pub use sockets::privileged;
#[cfg(target_os = "linux")]
pub use syn::scan;

/// How a SYN scan runs.
#[derive(Debug, Clone)]
pub struct SynConfig {
    /// SYNs per second at most; `None`: unpaced.
    pub rate: Option<f64>,
    /// Pace loopback targets too (the user gave `--rate`).
    pub pace_loopback: bool,
    /// Timeouts and retries.
    pub timing: crate::probe::timing::TimingConfig,
}

/// Raw mode is Linux's: nobody may use it here.
#[cfg(not(target_os = "linux"))]
pub fn privileged() -> bool {
    false
}

/// Raw mode is Linux's: never reached here (`probe --raw` is refused first, and without
/// the privilege the scan is never picked).
#[cfg(not(target_os = "linux"))]
pub fn scan(
    _endpoints: &[crate::model::Endpoint],
    _config: &SynConfig,
    _stop: &std::sync::atomic::AtomicBool,
    _on_done: &mut dyn FnMut(usize, crate::model::ProbeResult),
) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        crate::sys::not_here("probe --raw").to_string(),
    ))
}
