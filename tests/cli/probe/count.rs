//! `--count N`: one tcping-style line per attempt, then ping-style statistics and the
//! table; `--count 0` until SIGINT. Formats from `src/output/probe_live.rs`.

use super::{brief, closed_tcp, closed_udp, listening, probe, records, tcp_listener};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `PREFIX<milliseconds with three decimals>SUFFIX`.
fn assert_ms_between(line: &str, prefix: &str, suffix: &str) {
    let number = line
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix));
    let Some((whole, decimals)) = number.and_then(|n| n.split_once('.')) else {
        panic!("{line:?} is not {prefix:?}…{suffix:?}");
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    assert!(
        digits(whole) && digits(decimals) && decimals.len() == 3,
        "{line}"
    );
}

#[test]
fn count_prints_an_attempt_line_each_and_statistics() {
    let _guard = listening();
    let (_listener, port) = tcp_listener();
    let target = format!("127.0.0.1:{port}");
    let (code, stdout, _) = probe(&[&target, "-c", "3", "-i", "50ms"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = stdout.lines().collect();
    for seq in 1..=3 {
        let prefix = format!("{target}/tcp seq={seq} open (syn-ack) time=");
        assert_ms_between(lines[seq - 1], &prefix, " ms");
    }
    assert_eq!(lines[3..5], ["", &format!("--- {target}/tcp ---")]);
    let stats = lines[5]
        .strip_prefix("3 probes, 3 answered, 0.0% loss; rtt min/avg/max/stddev = ")
        .and_then(|s| s.strip_suffix(" ms; open (syn-ack)"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let numbers: Vec<&str> = stats.split('/').collect();
    assert_eq!(numbers.len(), 4, "{stats}");
    for n in &numbers {
        assert_ms_between(n, "", "");
    }
    assert_eq!(lines[6], "");
    // The table's RTT column repeats min/avg/max.
    let min_avg_max = numbers[..3].join("/");
    assert!(
        lines[8].contains(&format!(" {min_avg_max} ms ")),
        "{stdout}"
    );
    assert_eq!(lines[9..], ["1 port: 1 open"]);
    let (_, recs) = records(&[&target, "-c", "3", "-i", "50ms"]);
    assert!(
        brief(&recs[0]).contains(" received=3/3 loss=0.0 "),
        "{}",
        recs[0]
    );
}

#[test]
fn count_on_a_closed_port_and_count_0_until_interrupted() {
    if super::super::skip_off_linux("interrupts with kill -INT and expects a UDP port unreachable")
    {
        return;
    }
    let closed = format!("127.0.0.1:{}", closed_tcp());
    let (code, stdout, _) = probe(&[&closed, "-c", "2", "-i", "10ms"]);
    assert_eq!(code, 1);
    let second = format!("{closed}/tcp seq=2 closed (conn-refused) time=");
    assert_ms_between(stdout.lines().nth(1).unwrap(), &second, " ms");
    let stats = "\n2 probes, 2 answered, 0.0% loss; rtt min/avg/max/stddev = ";
    assert!(stdout.contains(stats), "{stdout}");
    // `-c 0` probes until SIGINT, then prints the summary.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipdiag"))
        .args(["probe", "-n", &closed, "-c", "0", "-i", "20ms"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(3);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("ipdiag probe -c 0 did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains(&second), "{stdout}");
    assert!(
        stdout.contains(&format!("\n--- {closed}/tcp ---\n")),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n1 port: 1 closed\n\nDiagnosis:\n"),
        "{stdout}"
    );
}

/// `--udp --responder -c N` counts UDP loss through the responder; one line says that
/// `--loss-split` splits it by direction. Not for one attempt, TCP, or with -q.
#[test]
fn counting_udp_through_the_responder_points_to_the_loss_split() {
    let target = format!("127.0.0.1:{}", closed_udp());
    let through = [target.as_str(), "--responder", "-i", "10ms"];
    let (_, _, stderr) = probe(&[&through[..], &["--udp", "-c", "2"]].concat());
    assert_eq!(
        stderr,
        format!(
            "ipdiag: note: which way UDP datagrams are lost (to the server or back): ipdiag probe {target} --loss-split\n"
        )
    );
    for extra in [
        &["--udp", "-c", "1"][..],
        &["--udp", "-c", "2", "-q"],
        &["-c", "2"],
    ] {
        let (_, _, stderr) = probe(&[&through[..], extra].concat());
        assert_eq!(stderr, "", "{extra:?}");
    }
}
