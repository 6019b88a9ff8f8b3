//! Scenario tests in a simulated cloud built from network namespaces (see `bed.rs`).
//!
//! They need root (network namespaces, nftables, a TUN device). Without it each test
//! prints why and passes, except when `IPDIAG_REQUIRE_NETNS=1` (CI), where a skip fails.
//! Packets go only to addresses inside the namespaces these tests create and delete.
//! Linux only: network namespaces, nftables and TUN devices are Linux's.
#![cfg(target_os = "linux")]

mod bed;
mod cases;
mod chain;
mod check;
mod delayline;
mod direction;
mod edge_icmp;
mod loss;
mod nmap;
mod ping;
mod ration;
mod rcvbuf;
mod server_side;
mod servers;
mod sizes;
mod trace;
