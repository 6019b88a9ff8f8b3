//! The `ipv4` fuzz target. Its assertions live in `checks/ipv4.rs`, which `cargo test` also
//! runs on every committed input (`tests/fuzz_inputs.rs` in the main crate).
#![no_main]

#[path = "../checks/ipv4.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
