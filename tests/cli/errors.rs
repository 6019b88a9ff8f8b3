//! Bad input: exit code 2 and exactly one line on stderr that names the token.

use super::run;
use proptest::prelude::*;

fn fails_with(args: &[&str], line: &str) {
    let (code, out, err) = run(args);
    assert_eq!(code, 2, "{args:?}: {err}");
    assert_eq!(out, "", "{args:?}");
    assert_eq!(err, format!("ipdiag: error: {line}\n"), "{args:?}");
}

#[test]
fn bad_addresses() {
    fails_with(
        &["classify", "256.1.1.1"],
        "invalid IPv4 address '256.1.1.1': 256 is out of range (0-255)",
    );
    fails_with(
        &["classify", "1.2.3"],
        "invalid IPv4 address '1.2.3': expected 4 numbers separated by dots, found 3",
    );
    fails_with(
        &["classify", "010.1.1.1"],
        "invalid IPv4 address '010.1.1.1': '010' has a leading zero (ambiguous: some tools read it as octal)",
    );
    fails_with(
        &["classify", "1.2.3.4/33"],
        "invalid CIDR '1.2.3.4/33': prefix length 33 is out of range for IPv4 (0-32)",
    );
    fails_with(&["classify", ""], "invalid address '': empty");
    fails_with(
        &["classify", "fe80::gg"],
        "invalid IPv6 address 'fe80::gg': not a valid IPv6 address",
    );
    fails_with(
        &["classify", "203.0.113.10:7890"],
        "invalid address '203.0.113.10:7890': remove the ':7890' (for the port: ipdiag port 7890)",
    );
}

#[test]
fn a_bad_token_among_good_ones_prints_nothing() {
    fails_with(
        &["classify", "10.0.0.1", "999.0.0.1"],
        "invalid IPv4 address '999.0.0.1': 999 is out of range (0-255)",
    );
}

#[test]
fn very_long_and_binary_tokens_stay_one_short_line() {
    let long = "1".repeat(10_000);
    let (code, _, err) = run(&["classify", &long]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1);
    assert!(err.len() < 300, "{err}");
    assert!(err.contains("... (10000 bytes)"));
    let (code, _, err) = run(&["classify", "\u{1b}[31mred\u{7}"]);
    assert_eq!(code, 2);
    assert!(
        !err.contains('\u{1b}'),
        "escape sequences are escaped: {err}"
    );
}

#[test]
fn numeric_refuses_names() {
    fails_with(
        &["classify", "-n", "localhost"],
        "invalid address 'localhost': a host name, and --numeric forbids resolving names",
    );
}

#[test]
fn bad_ports() {
    fails_with(
        &["port", "70000"],
        "invalid port '70000': 70000 is out of range (0-65535)",
    );
    fails_with(
        &["port", "-1"],
        "invalid port '-1': ports are 0-65535; negative numbers are not ports",
    );
    fails_with(&["port", ""], "invalid port '': empty");
    fails_with(
        &["port", "9000-8000"],
        "invalid port '9000-8000': range start 9000 is greater than end 8000",
    );
    fails_with(
        &["port", "nosuchservice"],
        "invalid service name 'nosuchservice': no IANA service name or known alias matches",
    );
}

#[test]
fn usage_errors_are_one_line() {
    if super::skip_off_linux("compares Linux's own error texts (strerror)") {
        return;
    }
    let (code, _, err) = run(&["classify", "1.1.1.1", "--format", "xml"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "ipdiag: error: invalid value 'xml' for '--format <FORMAT>'; [possible values: table, json, jsonl, csv, prometheus]\n"
    );
    fails_with(
        &["classify"],
        "nothing to classify: give addresses, '-' for stdin, or --file FILE",
    );
    let (code, _, err) = run(&["classify", "--file", "/nonexistent/ipdiag-input"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "ipdiag: error: cannot read /nonexistent/ipdiag-input: No such file or directory (os error 2)\n"
    );
}

#[test]
fn local_watch_needs_a_port_and_a_duration() {
    fails_with(
        &["local", "--watch", "1s"],
        "the following required arguments were not provided: --port <PORT>",
    );
    fails_with(
        &["local", "--port", "7901", "--trace-firewall"],
        "the following required arguments were not provided: --watch <DURATION>",
    );
    fails_with(
        &["local", "--port", "7901", "--udp", "--watch", "fast"],
        "invalid --watch 'fast': expected a duration such as 250ms, 1s or 1.5s",
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any argument: never a panic, exit 0/1/2, and a failure is exactly one stderr line.
    #[test]
    fn any_argument_is_handled(arg in "\\PC{0,40}|[0-9./:]{0,20}") {
        for command in ["classify", "port"] {
            // --numeric: a random host name must never become a DNS query.
            let args: &[&str] = if command == "classify" { &[command, "-n", &arg] } else { &[command, &arg] };
            let (code, _, err) = run(args);
            prop_assert!(matches!(code, 0..=2), "{command} {arg:?}: exit {code}, {err}");
            prop_assert!(!err.contains("panicked"), "{command} {arg:?}: {err}");
            if code == 2 {
                prop_assert_eq!(err.lines().count(), 1, "{} {:?}: {}", command, arg, err);
            }
        }
    }
}
