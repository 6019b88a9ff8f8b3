//! The `escaping` fuzz target. Its assertions live in `checks/escaping.rs`, which `cargo test` also
//! runs on every committed input (`tests/fuzz_inputs.rs` in the main crate).
#![no_main]

#[path = "../checks/escaping.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
