//! The `probe_target` fuzz target. Its assertions live in `checks/probe_target.rs`, which `cargo test` also
//! runs on every committed input (`tests/fuzz_inputs.rs` in the main crate).
#![no_main]

#[path = "../checks/probe_target.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
