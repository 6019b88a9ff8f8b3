//! From what the user typed to the list of endpoints to probe.
//!
//! Parsing is pure (`target.rs`, `duration.rs`); name resolution sits behind the
//! [`crate::resolve::Resolver`] trait (`expand.rs`), so tests never touch DNS. The plan
//! generates its endpoints when they are needed (`endpoints.rs`).

pub mod duration;
pub mod endpoints;
pub mod expand;
pub mod expect;
pub mod guess;
pub mod server_command;
pub mod target;
