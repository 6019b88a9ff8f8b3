//! The local host's own facts, read from the kernel (`/proc`, netlink `sock_diag`).
//!
//! Readers only: nothing here decides what the facts mean (that is `classify/` and
//! `diagnose/`), except the pure `verdict`, `overflow` and the firewall's evaluator
//! (`firewall::evaluate`), and every reader degrades to a documented default when `/proc`
//! is absent. The one writer is `firewall::trace`, a temporary trace table it removes.

pub mod backlog;
pub mod firewall;
pub mod holder;
pub mod interfaces;
pub mod overflow;
pub mod skmem;
pub mod snmp;
pub mod sockets;
pub mod sysctl;
pub mod verdict;
pub mod watch;
