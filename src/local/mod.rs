//! The local host's own facts, read from the kernel (`/proc`, netlink `sock_diag`).
//!
//! Readers only: nothing here decides what the facts mean (that is `classify/` and
//! `diagnose/`), except the pure `verdict` and `overflow`, and every reader degrades to a
//! documented default when `/proc` is absent.

pub mod firewall;
pub mod holder;
pub mod interfaces;
pub mod overflow;
pub mod skmem;
pub mod snmp;
pub mod sockets;
pub mod sysctl;
pub mod verdict;
