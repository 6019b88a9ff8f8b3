//! `ipdiag wait` on loopback: ready when a listener appears later, a timeout that is exit 1,
//! the command run in ipdiag's place (its exit status, its PID), UDP where an ICMP port
//! unreachable is never "ready", and bad input.

use super::probe::{UdpEcho, closed_tcp, closed_udp, listening, tcp_listener};
#[cfg(target_os = "linux")]
use super::pty::on_terminal;
use super::{ipdiag, run};
use std::net::{TcpListener, UdpSocket};
use std::time::{Duration, Instant};

#[test]
fn ready_when_a_listener_appears_after_a_delay() {
    let _guard = listening();
    let port = closed_tcp();
    let late = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        std::thread::sleep(Duration::from_secs(5));
        drop(listener);
    });
    let target = format!("127.0.0.1:{port}");
    let (code, stdout, stderr) = run(&["wait", &target, "--timeout", "4s"]);
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    assert!(
        stderr.starts_with(&format!("ipdiag: {target}/tcp is open after ")),
        "{stderr}"
    );
    late.join().unwrap();
}

#[test]
fn a_timeout_is_exit_1_with_what_was_seen() {
    let port = closed_tcp();
    let target = format!("127.0.0.1:{port}");
    let (code, _, stderr) = run(&["wait", &target, "--timeout", "500ms", "--", "true"]);
    assert_eq!(code, 1);
    assert!(stderr.starts_with("ipdiag: timed out after "), "{stderr}");
    assert!(
        stderr.ends_with(&format!(
            " s: {target}/tcp: expected open, got closed (conn-refused)\n"
        )),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["wait", &target, "--timeout", "300ms", "-q"]);
    assert_eq!((code, stderr.as_str()), (1, ""));
}

#[test]
fn the_timeout_is_a_hard_limit_even_in_the_middle_of_a_probe() {
    if super::skip_under_wine("a process start under wine takes about a second, beyond the bound") {
        return;
    }
    // A UDP socket that never answers: with --responder its silence is a probe of 1 s
    // (--probe-timeout) and a retry, 2 s a round; the 500 ms --timeout cuts the first one.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = format!("127.0.0.1:{}", silent.local_addr().unwrap().port());
    let started = Instant::now();
    let (code, _, stderr) = run(&[
        "wait",
        &target,
        "--udp",
        "--responder",
        "--timeout",
        "500ms",
    ]);
    let elapsed = started.elapsed();
    assert_eq!(code, 1, "{stderr}");
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
    // The time printed is what the run took: 0.5 s, or a little more on a busy machine.
    let said: f64 = stderr
        .strip_prefix("ipdiag: timed out after ")
        .and_then(|rest| rest.split_once(" s: "))
        .and_then(|(seconds, _)| seconds.parse().ok())
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!((0.5..1.5).contains(&said), "{stderr}");
    assert!(
        stderr.ends_with(&format!(
            " s: {target}/udp: expected open, got filtered (no-response); the time ran out while waiting for an answer\n"
        )),
        "{stderr}"
    );
    drop(silent);
}

#[test]
fn the_command_replaces_ipdiag_and_its_exit_status_is_ours() {
    if super::skip_off_linux("runs sh; scripts/wine/smoke.sh checks cmd /c exit 7 on Windows") {
        return;
    }
    let _guard = listening();
    let (listener, port) = tcp_listener();
    let target = format!("127.0.0.1:{port}");
    // `$$` is the shell's PID: the same as the child's PID only if ipdiag exec'd it.
    let child = ipdiag()
        .args([
            "wait",
            &target,
            "-q",
            "--",
            "sh",
            "-c",
            "echo \"$$ $0 $1\"; exit 7",
            "a",
            "b",
        ])
        .output()
        .unwrap();
    assert_eq!(child.status.code(), Some(7));
    let stdout = String::from_utf8(child.stdout).unwrap();
    let (pid, args) = stdout.trim_end().split_once(' ').unwrap();
    assert_eq!(args, "a b");
    assert!(pid.parse::<u32>().is_ok(), "{stdout}");
    let spawned = std::process::Command::new(env!("CARGO_BIN_EXE_ipdiag"))
        .args(["wait", &target, "-q", "--", "sh", "-c", "echo $$"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = spawned.id();
    let out = spawned.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        pid.to_string()
    );
    let (code, _, stderr) = run(&["wait", &target, "-q", "--", "/nonexistent/ipdiag-cmd"]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            127,
            "ipdiag: error: cannot run '/nonexistent/ipdiag-cmd': command not found\n"
        )
    );
    drop(listener);
}

#[test]
fn expect_closed_waits_until_the_port_refuses() {
    let port = closed_tcp();
    let target = format!("127.0.0.1:{port}");
    let (code, _, stderr) = run(&["wait", &target, "--expect", "closed", "--timeout", "2s"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.starts_with(&format!("ipdiag: {target}/tcp is closed after ")));
}

#[test]
fn udp_port_unreachable_is_never_ready_and_an_answer_is() {
    if super::skip_off_linux(
        "expects the ICMP sender the error queue gives (Linux); under wine no UDP port unreachable arrives at all",
    ) {
        return;
    }
    let port = closed_udp();
    let target = format!("127.0.0.1:{port}");
    let (code, _, stderr) = run(&["wait", &target, "--udp", "--timeout", "500ms"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.ends_with(&format!(
            ": {target}/udp: expected open or silence, got closed (port-unreach)\n"
        )),
        "{stderr}"
    );
    let echo = UdpEcho::start();
    let target = format!("127.0.0.1:{}", echo.port);
    let (code, _, stderr) = run(&["wait", &target, "--udp", "--responder", "--timeout", "2s"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("/udp is open after "), "{stderr}");
}

#[test]
fn each_port_is_ready_by_its_own_protocol() {
    // `/udp` on the port makes it UDP without --udp: silence is ready (nothing turned the
    // datagram away), as with --udp.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp = silent.local_addr().unwrap().port();
    let target = format!("127.0.0.1:{udp}/udp");
    let (code, _, stderr) = run(&["wait", &target, "-w", "200ms", "--timeout", "3s"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "ipdiag: 127.0.0.1:{udp}/udp is open|filtered after "
        )),
        "{stderr}"
    );
    // In one target, the TCP port is judged as TCP (open, nothing else), the UDP one as UDP.
    let tcp = closed_tcp();
    let target = format!("127.0.0.1:{tcp},{udp}/udp");
    let (code, _, stderr) = run(&["wait", &target, "-w", "200ms", "--timeout", "600ms"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.ends_with(&format!(
            " s: 127.0.0.1:{tcp}/tcp: expected open, got closed (conn-refused)\n"
        )),
        "{stderr}"
    );
    drop(silent);
}

/// Text without its terminal escape sequences (`ESC [ ... letter`).
#[cfg(target_os = "linux")]
pub(crate) fn without_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(target_os = "linux")]
#[test]
fn the_progress_line_is_cut_to_the_terminal_width() {
    // A 40-column pseudo-terminal (through `script`); the line would be about 80 wide.
    let port = closed_tcp();
    let command = format!(
        "{} wait 127.0.0.1:{port} --timeout 1200ms",
        env!("CARGO_BIN_EXE_ipdiag")
    );
    let Some(out) = on_terminal(40, &command) else {
        return;
    };
    let text = without_escapes(&out);
    let progress: Vec<&str> = text
        .split(['\r', '\n'])
        .filter(|l| l.contains("waiting for"))
        .collect();
    assert!(!progress.is_empty(), "{text:?}");
    for line in progress {
        assert!(line.chars().count() <= 40, "{line:?} in {text:?}");
    }
    assert!(text.contains("ipdiag: timed out after "), "{text:?}");
}

#[test]
fn bad_input_is_exit_2_naming_the_token() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["wait", "127.0.0.1"],
            "invalid target '127.0.0.1': no port: write HOST:PORT",
        ),
        (
            &["wait", "127.0.0.1:70000"],
            "invalid port '70000': 70000 is out of range (0-65535)",
        ),
        (
            &["wait", "127.0.0.1:22", "--timeout", "soon"],
            "invalid --timeout 'soon': expected a duration such as 250ms, 1s or 1.5s",
        ),
        (
            &["wait", "127.0.0.1:22", "--expect", "filtered"],
            "invalid value 'filtered' for '--expect <STATE>'; [possible values: open, closed, unreachable]",
        ),
    ];
    for (args, message) in cases {
        let (code, stdout, stderr) = run(args);
        assert_eq!(
            (code, stdout.as_str(), stderr.as_str()),
            (2, "", format!("ipdiag: error: {message}\n").as_str()),
            "{args:?}"
        );
    }
}
