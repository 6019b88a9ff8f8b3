//! `ipdiag probe` when the process may open almost no files: exit 3 and one line, never a
//! panic. Nothing is sent: the run stops before its first socket. Unix only: `sh`, `ulimit`
//! and a descriptor limit (Windows has none to set). Also a rate at the edge of what
//! `--rate` accepts.
#![cfg(unix)]

use super::closed_tcp;
use std::process::{Command, Stdio};

/// At 6 and 7 descriptors tokio could not open its signal socket pair and panicked
/// (exit 101 with a backtrace); 8 was already the clean error.
#[test]
fn too_few_descriptors_is_an_environment_error() {
    for limit in [6, 7, 8] {
        let script = format!(
            "ulimit -n {limit} && exec {} probe -n 127.0.0.1:9",
            env!("CARGO_BIN_EXE_ipdiag")
        );
        let out = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "ulimit -n {limit}: {stderr}");
        assert!(out.stdout.is_empty(), "ulimit -n {limit}");
        assert_eq!(
            stderr,
            "ipdiag: error: cannot start the I/O runtime: Too many open files (os error 24)\n",
            "ulimit -n {limit}"
        );
    }
}

/// `--rate 1e-300` (one probe in 10^300 s) once panicked converting that to a `Duration`
/// (exit 3, "task panicked"): the first probe goes at once, as with any rate.
#[test]
fn a_rate_of_almost_nothing_still_probes() {
    let port = closed_tcp();
    let target = format!("127.0.0.1:{port}");
    let (code, stdout, stderr) = super::probe(&[&target, "--rate", "1e-300"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stdout.contains("closed"), "{stdout}");
}
