//! Probing: everything that sends packets (TCP connect, UDP datagrams), and the pure rules
//! that turn what came back into nmap's states and reasons.
//!
//! I/O lives in `tcp.rs`, `udp.rs`, `errqueue.rs`, `engine.rs`; `reason.rs`, `timing.rs`,
//! `stats.rs` and `rate.rs` are pure and unit-tested without sockets.

pub mod aggregate;
pub mod attempt;
pub mod engine;
pub mod icmp;
pub mod icmp_limit;
pub mod idle;
pub mod in_flight;
pub mod load;
pub mod load_split;
pub mod load_trend;
pub mod multipath;
pub mod quoted;
pub mod rate;
pub mod reason;
pub mod route;
pub mod size_search;
pub mod sizes;
pub mod socket_prober;
pub mod stats;
pub mod tcp;
pub mod timing;
pub mod trace;
pub mod trace_icmp;
pub mod trace_watch;
pub mod ttl_watch;
pub mod udp;
pub mod udp_stray;

pub use engine::{EngineConfig, Event, Prober, WINDOW, run};
pub use socket_prober::SocketProber;
