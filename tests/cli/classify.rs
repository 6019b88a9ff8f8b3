//! `ipdiag classify` end to end.

use super::{ipdiag, json, run};
use std::io::Write;

#[test]
fn tutorial_addresses_in_json() {
    let v = json(&["classify", "192.168.1.103", "127.0.0.1"]);
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["class"], "C");
    assert_eq!(rows[0]["scope"], "private");
    assert_eq!(rows[0]["global"], false);
    assert_eq!(rows[0]["range"]["name"], "Private-Use");
    assert_eq!(rows[1]["class"], "A");
    assert_eq!(rows[1]["scope"], "loopback");
    assert_eq!(rows[1]["range"]["prefix"], "127.0.0.0/8");
}

#[test]
fn json_has_the_documented_fields() {
    let v = json(&["classify", "10.1.2.3"]);
    let row = v[0].as_object().unwrap();
    for field in [
        "input",
        "address",
        "version",
        "class",
        "default_mask",
        "range",
        "scope",
        "global",
        "provider",
        "asn",
    ] {
        assert!(row.contains_key(field), "missing {field}");
    }
}

#[test]
fn cidr_maths() {
    let v = json(&["classify", "192.168.1.103/26"]);
    let net = &v[0]["network"];
    assert_eq!(net["network"], "192.168.1.64/26");
    assert_eq!(net["netmask"], "255.255.255.192");
    assert_eq!(net["wildcard"], "0.0.0.63");
    assert_eq!(net["broadcast"], "192.168.1.127");
    assert_eq!(net["first_host"], "192.168.1.65");
    assert_eq!(net["last_host"], "192.168.1.126");
    assert_eq!(net["hosts"], 62);
    assert_eq!(
        net["classful"],
        "a subnet of the class C network 192.168.1.0/24"
    );
    let p2p = json(&["classify", "10.0.0.0/31", "10.0.0.5/32"]);
    assert_eq!(p2p[0]["network"]["hosts"], 2);
    assert!(p2p[0]["network"]["broadcast"].is_null());
    assert_eq!(p2p[1]["network"]["hosts"], 1);
}

#[test]
fn ipv6_scopes_and_embedded_ipv4() {
    let v = json(&[
        "classify",
        "fe80::1",
        "ff02::1",
        "::ffff:192.168.1.103",
        "2001:db8::1",
    ]);
    assert_eq!(v[0]["scope"], "link-local");
    assert_eq!(v[1]["scope"], "multicast");
    assert_eq!(v[1]["multicast_scope"], "link-local");
    assert_eq!(v[2]["scope"], "private");
    assert_eq!(v[2]["embedded_ipv4"][0]["address"], "192.168.1.103");
    assert_eq!(v[3]["scope"], "documentation");
    assert_eq!(v[3]["version"], 6);
}

#[test]
fn likely_cloud_provider() {
    // 1.1.1.0/24 is announced by AS13335 in the embedded snapshot; no packet is sent.
    let v = json(&["classify", "1.1.1.1"]);
    assert_eq!(v[0]["provider"], "cloudflare");
    assert_eq!(v[0]["asn"], 13335);
    let (_, table, _) = run(&["classify", "1.1.1.1"]);
    assert!(table.contains("likely Cloudflare (AS13335)"), "{table}");
}

#[test]
fn localhost_resolves_and_each_address_is_classified() {
    let v = json(&["classify", "localhost"]);
    let rows = v.as_array().unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        assert_eq!(row["input"], "localhost");
        assert_eq!(row["scope"], "loopback");
    }
}

#[test]
fn table_card_for_the_tutorial_address() {
    let (code, out, err) = run(&["classify", "192.168.1.103"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(out.starts_with("192.168.1.103\n"));
    assert!(
        out.contains("class         C (leading bits 110, default mask 255.255.255.0 = /24)"),
        "{out}"
    );
    assert!(
        out.contains("range         192.168.0.0/16 Private-Use (RFC 1918)"),
        "{out}"
    );
    assert!(out.contains("scope         private"), "{out}");
}

#[test]
fn no_colour_unless_asked_or_on_a_terminal() {
    let (_, plain, _) = run(&["classify", "127.0.0.1"]);
    assert!(!plain.contains('\x1b'));
    let (_, forced, _) = run(&["classify", "127.0.0.1", "--color", "always"]);
    assert!(forced.contains("\x1b[38;5;"), "cell colours: {forced:?}");
}

/// What ipdiag prints with stdout on a pseudo-terminal (through `script`), with `NO_COLOR`
/// set or not; `None` without `script`.
fn on_a_terminal(args: &str, no_color: bool) -> Option<String> {
    let line = format!("{} {args}", env!("CARGO_BIN_EXE_ipdiag"));
    let mut command = std::process::Command::new("script");
    command.args(["-qec", &line, "/dev/null"]);
    if no_color {
        command.env("NO_COLOR", "1");
    } else {
        command.env_remove("NO_COLOR");
    }
    let out = command.output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn no_color_turns_colour_off_on_a_terminal_unless_always_is_asked() {
    let Some(coloured) = on_a_terminal("classify 127.0.0.1", false) else {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    };
    assert!(coloured.contains("\x1b[38;5;"), "a terminal: {coloured:?}");
    let plain = on_a_terminal("classify 127.0.0.1", true).unwrap_or_default();
    assert!(!plain.contains('\x1b'), "NO_COLOR: {plain:?}");
    let forced = on_a_terminal("classify 127.0.0.1 --color always", true).unwrap_or_default();
    assert!(
        forced.contains("\x1b[38;5;"),
        "--color always beats NO_COLOR: {forced:?}"
    );
    let never = on_a_terminal("classify 127.0.0.1 --color never", false).unwrap_or_default();
    assert!(!never.contains('\x1b'), "--color never: {never:?}");
}

fn temp_file(name: &str, content: &[u8]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("ipdiag-test-{}-{name}", std::process::id()));
    std::fs::File::create(&path)
        .unwrap()
        .write_all(content)
        .unwrap();
    path
}

#[test]
fn bulk_file_reports_bad_lines_and_goes_on() {
    let path = temp_file(
        "bulk",
        b"# comment\n10.0.0.1\n\n256.1.1.1\n127.0.0.1\r\n1.2.3\n",
    );
    let (code, out, err) = run(&[
        "classify",
        "--file",
        path.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    let name = path.display().to_string();
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(
        out.lines()
            .nth(1)
            .unwrap()
            .starts_with("10.0.0.1,10.0.0.1,4,A,")
    );
    assert!(
        out.lines()
            .nth(2)
            .unwrap()
            .starts_with("127.0.0.1,127.0.0.1,4,A,")
    );
    assert_eq!(
        err,
        format!(
            "ipdiag: error: {name}:4: invalid IPv4 address '256.1.1.1': 256 is out of range (0-255)\n\
             ipdiag: error: {name}:6: invalid IPv4 address '1.2.3': expected 4 numbers separated by dots, found 3\n"
        )
    );
    std::fs::remove_file(path).ok();
}

#[test]
fn strict_stops_at_the_first_bad_line() {
    let path = temp_file("strict", b"10.0.0.1\n010.0.0.1\n10.0.0.2\n");
    let (code, out, err) = run(&[
        "classify",
        "--strict",
        "--file",
        path.to_str().unwrap(),
        "--jsonl",
    ]);
    assert_eq!(code, 2);
    assert_eq!(out.lines().count(), 1);
    assert_eq!(
        err,
        format!(
            "ipdiag: error: {}:2: invalid IPv4 address '010.0.0.1': '010' has a leading zero (ambiguous: some tools read it as octal)\n",
            path.display()
        )
    );
    std::fs::remove_file(path).ok();
}

#[test]
fn stdin_with_dash() {
    let out = ipdiag()
        .args(["classify", "-", "--jsonl", "--resolve"])
        .write_stdin("192.168.1.103\n2001:db8::/32\nlocalhost\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["input"], "192.168.1.103");
    assert!(text.lines().count() >= 3);
}

/// A stream is numeric by default: a name in it is reported, not looked up (a binary file
/// once sent 374 lookups, one after another, and took 35 s). Only `localhost` is used.
#[test]
fn names_in_a_stream_are_not_looked_up_unless_asked() {
    let path = temp_file("names", b"localhost\n127.0.0.2\n");
    let (code, out, err) = run(&[
        "classify",
        "--file",
        path.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert_eq!(code, 1, "{err}");
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{out}");
    assert!(rows[0].starts_with("127.0.0.2,"), "{out}");
    assert_eq!(
        err,
        format!(
            "ipdiag: error: {}:1: 'localhost' is a host name: not looked up in a file or stdin (--resolve looks names up)\n",
            path.display()
        )
    );
    std::fs::remove_file(path).ok();
}

/// With `--resolve`, names are looked up concurrently and every record keeps its line's
/// place.
#[test]
fn resolve_looks_names_up_and_keeps_the_order() {
    let input = "127.0.0.2\nlocalhost\n10.0.0.1\nlocalhost\n192.0.2.0/30\n".repeat(20);
    let out = ipdiag()
        .args(["classify", "-", "--format", "csv", "--resolve"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let inputs: Vec<&str> = stdout
        .lines()
        .skip(1)
        .map(|row| row.split(',').next().unwrap())
        .collect();
    let localhost = inputs.iter().take_while(|i| **i != "10.0.0.1").count() - 1;
    assert!(localhost >= 1, "{stdout}");
    let mut block = vec!["127.0.0.2"];
    block.extend(std::iter::repeat_n("localhost", localhost));
    block.push("10.0.0.1");
    block.extend(std::iter::repeat_n("localhost", localhost));
    block.push("192.0.2.0/30");
    assert_eq!(inputs.len(), block.len() * 20, "{stdout}");
    for chunk in inputs.chunks(block.len()) {
        assert_eq!(chunk, block.as_slice());
    }
    let (code, _, err) = run(&["classify", "-", "--resolve", "--numeric"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn binary_garbage_and_huge_lines_do_not_stop_the_stream() {
    let mut input = vec![0xff, 0xfe, 0x00, b'\n'];
    input.extend(vec![b'9'; 1_000_000]);
    input.extend_from_slice(b"\n8.8.4.4\n");
    let out = ipdiag()
        .args(["classify", "-", "--format", "csv"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.lines().last().unwrap().starts_with("8.8.4.4,"));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        "ipdiag: error: <stdin>:1: not valid UTF-8 (skipped)\n\
         ipdiag: error: <stdin>:2: line is longer than 4096 bytes (skipped)\n"
    );
}

#[test]
fn closed_stdout_is_not_an_error() {
    // `ipdiag classify - | head -1` stops reading early; ipdiag must exit quietly with 0.
    let input = "10.0.0.1\n".repeat(200_000);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ipdiag"))
        .args(["classify", "-", "--format", "csv"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
