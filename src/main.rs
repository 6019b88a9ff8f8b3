//! The `ipdiag` binary: everything lives in the library; this only maps to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(ipdiag::main_with_args(std::env::args_os()))
}
