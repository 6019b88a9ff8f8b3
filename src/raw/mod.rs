//! Raw mode: crafted packets for a SYN scan (root or `CAP_NET_RAW`).
//!
//! `packet.rs` builds the SYN and reads replies (pure, with pnet's packet types),
//! `cookie.rs` matches replies statelessly, `sockets.rs` opens the raw sockets (with a
//! kernel filter on our ports, `filter.rs`), and `syn.rs` runs the scan: paced sending threads that
//! read their replies between batches, and retry rounds; `tries.rs` says which try a
//! reply answers (so it is timed from that try), `pacing.rs` shares `--rate` among the
//! threads.
//!
//! The sockets are socket2's rather than pnet's transport channels: those unwrap on a
//! truncated packet (a panic the network could cause) and hide the descriptor that the
//! receive buffer and the kernel filter are set on.

pub mod cookie;
pub mod filter;
pub mod pacing;
pub mod packet;
pub mod sockets;
pub mod syn;
pub mod tries;

pub use sockets::privileged;
pub use syn::{SynConfig, scan};
