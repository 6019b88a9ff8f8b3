//! The `port_spec` fuzz target. Its assertions live in `checks/port_spec.rs`, which `cargo test` also
//! runs on every committed input (`tests/fuzz_inputs.rs` in the main crate).
#![no_main]

#[path = "../checks/port_spec.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
