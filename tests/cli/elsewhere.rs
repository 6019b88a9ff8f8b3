//! Off Linux: each Linux-only feature is refused in one line naming it and the system, with
//! exit 3 (the environment), never a crash or a half-run.

use super::run;

#[test]
fn linux_only_features_are_refused_in_one_line_with_exit_3() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["local", "--port", "80"],
            "ipdiag local works on Linux only for now",
        ),
        (
            &["probe", "127.0.0.1:9", "--raw"],
            "probe --raw works on Linux only for now",
        ),
        (
            &["probe", "127.0.0.1:9", "--udp", "--sizes", "100"],
            "probe --sizes works on Linux only for now",
        ),
    ];
    // Windows traces (TCP_ICMP_ERROR_INFO, IcmpSendEcho2): tests/cli/trace.rs; macOS and
    // FreeBSD with an ICMP socket of their own (trace_runs_or_names_its_socket).
    for (args, said) in cases {
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, 3, "{args:?}: {stderr}");
        assert_eq!(stdout, "", "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("ipdiag: error: "), "{args:?}: {stderr}");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
    }
}

/// macOS traces without root (its ICMP datagram socket); FreeBSD needs root for the raw
/// socket and says so in one line, exit 3; either way never the Linux-only refusal.
#[cfg(all(unix, not(target_os = "linux")))]
#[test]
fn trace_runs_or_names_its_socket() {
    let (code, stdout, stderr) = run(&["trace", "127.0.0.1:9", "--udp", "--wait", "500ms"]);
    assert!(!stderr.contains("Linux only"), "{stderr}");
    if code == 3 {
        assert_eq!(stdout, "");
        assert!(stderr.contains("raw socket"), "{stderr}");
    } else {
        // Loopback: the first hop is the destination, whose closed port answers.
        assert!(stdout.contains("closed"), "{stdout}");
    }
}
