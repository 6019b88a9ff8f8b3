//! The `sock_diag` fuzz target. Its assertions live in `checks/sock_diag.rs`, which `cargo
//! test` also runs on every committed input (`tests/fuzz_inputs.rs` in the main crate).
#![no_main]

#[path = "../checks/sock_diag.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
