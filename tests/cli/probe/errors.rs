//! `ipdiag probe` with bad input: exit 2, nothing on stdout, and exactly one stderr line
//! that names the bad token. Every case fails while parsing or planning, before a packet
//! is sent; targets are numeric and `-n` is given, so nothing is resolved either.

use super::super::run;
use super::temp_file;

/// Exit 2, nothing on stdout, and exactly this one line on stderr.
fn fails_with(args: &[&str], message: &str) {
    let mut all = vec!["probe", "-n"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = run(&all);
    assert_eq!((code, stdout.as_str()), (2, ""), "{args:?}: {stderr}");
    assert_eq!(stderr, format!("ipdiag: error: {message}\n"), "{args:?}");
}

#[test]
fn bad_targets() {
    fails_with(
        &["127.0.0.1:99999"],
        "invalid port '99999': 99999 is out of range (0-65535)",
    );
    fails_with(
        &["127.0.0.1"],
        "invalid target '127.0.0.1': no port: write HOST:PORT or give -p PORTS",
    );
    fails_with(
        &["127.0.0.1:"],
        "invalid target '127.0.0.1:': nothing after ':' (write HOST:PORT)",
    );
    fails_with(
        &["::1:80"],
        "invalid target '::1:80': no port (an IPv6 address with a port is written \
         [ADDRESS]:PORT; or give -p PORTS)",
    );
    fails_with(
        &["[::1]80"],
        "invalid target '[::1]80': an IPv6 address with a port is written [ADDRESS]:PORT",
    );
    fails_with(
        &["[::1]:80", "-4"],
        "invalid target '[::1]:80': not an IPv4 address (-4 was given)",
    );
    fails_with(
        &["127.0.0.1", "-p", "5-3"],
        "invalid port '5-3': range start 5 is greater than end 3",
    );
    fails_with(
        &["127.0.0.1:22/sctp"],
        "invalid port '22/sctp': ipdiag probes tcp and udp, not sctp",
    );
    fails_with(
        &["localhost:80"],
        "invalid target 'localhost:80': a host name, and --numeric forbids resolving names",
    );
    fails_with(
        &[],
        "nothing to probe: give TARGET (HOST:PORT) or --file FILE",
    );
}

/// Refused while planning (`src/plan/expand.rs`, called from the request, before the engine
/// starts), so nothing is sent.
#[test]
fn broadcast_and_multicast_are_refused() {
    let tail = "address reaches many hosts: refused (probe --allow-broadcast does it anyway)";
    fails_with(
        &["255.255.255.255:9"],
        &format!("invalid target '255.255.255.255:9': a broadcast {tail}"),
    );
    fails_with(
        &["-u", "224.0.0.1:9"],
        &format!("invalid target '224.0.0.1:9': a multicast {tail}"),
    );
}

#[test]
fn bad_options() {
    let duration = "expected a duration such as 250ms, 1s or 1.5s";
    let cases: [(&[&str], &str); 11] = [
        (
            &["--timeout", "0"],
            &format!("invalid --timeout '0': {duration}"),
        ),
        (
            &["--timeout", "abc"],
            &format!("invalid --timeout 'abc': {duration}"),
        ),
        (
            &["-i", "abc"],
            &format!("invalid --interval 'abc': {duration}"),
        ),
        (
            &["--rate", "0"],
            "invalid --rate '0': must be greater than zero",
        ),
        (
            &["--rate=-1"],
            "invalid --rate '-1': must be greater than zero",
        ),
        (
            &["--rate", "abc"],
            "invalid --rate 'abc': expected a number",
        ),
        (
            &["--concurrency", "0"],
            "invalid --concurrency '0': must be greater than zero",
        ),
        (
            &["-u", "--payload", "0xabc"],
            "invalid payload '0xabc': hex needs two digits per byte",
        ),
        (
            &["-u", "--payload", "0xzz"],
            "invalid payload '0xzz': unexpected character 'z'",
        ),
        (
            &["--expect", "up"],
            "invalid --expect 'up': unknown state 'up' (open, closed, filtered, open|filtered, \
             error, or any)",
        ),
        (
            &["--udp", "--both"],
            "the argument '--udp' cannot be used with '--both'",
        ),
    ];
    for (options, message) in cases {
        let mut args = vec!["127.0.0.1:9"];
        args.extend_from_slice(options);
        fails_with(&args, message);
    }
}

#[test]
fn rate_error_names_the_token_as_written() {
    fails_with(
        &["127.0.0.1:9", "--rate", "0.0"],
        "invalid --rate '0.0': must be greater than zero",
    );
}

#[test]
fn bad_target_files() {
    if super::super::skip_off_linux("compares Linux's own error texts (strerror)") {
        return;
    }
    let file = temp_file("bad", "# targets\n127.0.0.1:80\n\n  127.0.0.1:99999\n");
    fails_with(
        &["-f", &file],
        &format!("{file}:4: invalid port '99999': 99999 is out of range (0-65535)"),
    );
    std::fs::remove_file(&file).unwrap();
    fails_with(
        &["-f", &file],
        &format!("cannot read {file}: No such file or directory (os error 2)"),
    );
}

#[test]
fn doctor_takes_one_port() {
    for (target, message) in [
        (
            "127.0.0.1",
            "invalid target '127.0.0.1': no port: write HOST:PORT",
        ),
        (
            "127.0.0.1:1-5",
            "invalid target '127.0.0.1:1-5': doctor diagnoses one port at a time: write \
             HOST:PORT (probe takes lists and ranges)",
        ),
    ] {
        let (code, stdout, stderr) = run(&["doctor", "-n", target]);
        assert_eq!((code, stdout.as_str()), (2, ""), "{target}");
        assert_eq!(stderr, format!("ipdiag: error: {message}\n"));
    }
}
