//! `probe --sizes` on loopback: an echo server that reads like `recvfrom(1024)` shows the
//! truncation with the exact size, a whole echo is `ok`, a size too small for the
//! responder says so, an ICMP error is in the reason words, and bad input names the token.

use super::run;
use serde_json::Value;
use std::net::UdpSocket;
use std::time::Duration;

/// A server on 127.0.0.1 reading with a `buffer`-byte buffer, taking `count` datagrams
/// and sending what `reply` makes of each; returns its port.
fn server(
    buffer: usize,
    count: usize,
    reply: impl Fn(&[u8], std::net::SocketAddr) -> Option<Vec<u8>> + Send + 'static,
) -> (u16, std::thread::JoinHandle<()>) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let port = socket.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let mut buf = vec![0u8; buffer];
        for _ in 0..count {
            let Ok((n, from)) = socket.recv_from(&mut buf) else {
                return;
            };
            if let Some(bytes) = reply(&buf[..n], from) {
                socket.send_to(&bytes, from).ok();
            }
        }
    });
    (port, thread)
}

/// An echo server reading with a `buffer`-byte buffer, answering `count` datagrams.
fn echo(buffer: usize, count: usize) -> (u16, std::thread::JoinHandle<()>) {
    server(buffer, count, |data, _| Some(data.to_vec()))
}

fn sizes(port: u16, list: &str) -> (i32, Value) {
    let target = format!("127.0.0.1:{port}");
    let (code, stdout, stderr) = run(&["probe", &target, "--sizes", list, "--json"]);
    let record = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    (code, record)
}

#[test]
fn a_short_read_is_truncation_with_the_size_the_server_saw() {
    // The path-MTU datagram, then the three sizes.
    let (port, server) = echo(1024, 4);
    let (code, r) = sizes(port, "64,512,4000");
    server.join().unwrap();
    assert_eq!(code, 1, "{r}");
    let got: Vec<(u64, Option<u64>)> = r["sizes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["size"].as_u64().unwrap(), s["received"].as_u64()))
        .collect();
    // The path-MTU probe's 65,507 bytes come last, cut like the others.
    assert_eq!(
        got,
        [
            (64, Some(64)),
            (512, Some(512)),
            (4000, Some(1024)),
            (65_507, Some(1024))
        ]
    );
    assert_eq!(r["sizes"][3]["mtu_probe"], true, "{r}");
    assert_eq!(r["cause"], "truncation");
    assert_eq!(
        r["hints"][0]["evidence"][0],
        "a 4000-byte datagram arrived, but the server received only 1024 bytes"
    );
}

#[test]
fn sizes_that_all_arrive_whole_are_ok() {
    let (port, server) = echo(65_536, 4);
    let (code, r) = sizes(port, "64,1472,8972");
    server.join().unwrap();
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["cause"], "ok");
    assert_eq!(r["path_mtu"]["mtu"], 65_535, "loopback");
    assert_eq!(
        r["largest_arrived"], 65_507,
        "the path-MTU probe's datagram: {r}"
    );
    assert_eq!(r["sizes"][2]["mtu_probe"], false, "{r}");
}

#[test]
fn ipv6_reads_the_path_mtu_of_its_route() {
    let Ok(socket) = UdpSocket::bind("[::1]:0") else {
        eprintln!("skipped: no IPv6 loopback");
        return;
    };
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let port = socket.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let mut buf = vec![0u8; 65_536];
        for _ in 0..3 {
            let Ok((n, from)) = socket.recv_from(&mut buf) else {
                return;
            };
            socket.send_to(&buf[..n], from).ok();
        }
    });
    let target = format!("[::1]:{port}");
    let (code, stdout, stderr) = run(&["probe", &target, "--sizes", "1453,9000", "--json"]);
    server.join().unwrap();
    assert_eq!(code, 0, "{stdout}{stderr}");
    let r: Value = serde_json::from_str(&stdout).unwrap();
    // lo's MTU, not an assumed 1500: 1453 bytes fit one packet.
    assert_eq!(r["path_mtu"]["mtu"], 65_536, "{r}");
    assert_eq!(r["max_payload_per_packet"], 65_536 - 48, "{r}");
    assert!(
        r["sizes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["fragmented"] == false),
        "{r}"
    );
}

#[test]
fn a_closed_port_says_port_unreach_in_the_reason_words() {
    let port = super::probe::closed_udp();
    let (code, r) = sizes(port, "64");
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["sizes"][0]["error"], "port-unreach from 127.0.0.1", "{r}");
    let target = format!("127.0.0.1:{port}");
    let (_, table, _) = run(&["probe", &target, "--sizes", "64"]);
    assert!(
        table.contains("     64  lost: port-unreach from 127.0.0.1 "),
        "{table}"
    );
}

/// A responder through the library's own `answer` (IPv4: it answers 25 bytes and more),
/// taking `count` datagrams.
fn responder(count: usize) -> (u16, std::thread::JoinHandle<()>) {
    use ipdiag::wire::responder::{Admission, answer};
    server(65_536, count, |data, from| {
        answer(data, from, None, |_| Admission::Answer(None)).ok()
    })
}

/// Without --responder a size too small for the responder is sent; once the responder
/// has answered (the path-MTU probe), the lost row says why.
#[test]
fn a_size_below_what_the_responder_answers_says_so() {
    // The path-MTU probe, 24 bytes twice (--retries 1), then 25: 4 datagrams, or more
    // when a loaded machine makes the probe try the path MTU again. The server takes up
    // to 8 and ends on its own after 5 s of silence.
    let (port, _server) = responder(8);
    let target = format!("127.0.0.1:{port}");
    let args = [
        "probe",
        &target,
        "--sizes",
        "24,25",
        "--retries",
        "1",
        "-w",
        "200ms",
    ];
    let (code, table, stderr) = run(&args);
    assert_eq!(code, 1, "{table}{stderr}");
    let rows: Vec<&str> = table.lines().skip(2).take(3).map(str::trim_end).collect();
    assert_eq!(
        rows[0].split("  -").next(),
        Some("     24  lost: the responder answers only datagrams of 25 bytes or more"),
        "{table}"
    );
    assert!(
        rows[1].starts_with("     25  arrived, server got 25 bytes  "),
        "{table}"
    );
    assert!(
        rows[2].starts_with("  65507  arrived, server got 65507 bytes (MTU probe)"),
        "{table}"
    );
    // With --responder it is refused before a packet: the bad-input corpus has the line.
    let (code, stdout, stderr) = run(&["probe", &target, "--sizes", "64,24", "--responder"]);
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (
            2,
            "",
            "ipdiag: error: invalid --sizes '24': the responder answers only datagrams of 25 bytes or more (room for its reply, which is never larger than the request)\n"
        )
    );
}

#[test]
fn bad_sizes_name_the_token() {
    for (args, message) in [
        (
            &["probe", "127.0.0.1:9", "--sizes", "64,abc"][..],
            "ipdiag: error: invalid --sizes 'abc': expected a number\n",
        ),
        (
            &["probe", "127.0.0.1:9", "--sizes", "70000"][..],
            "ipdiag: error: invalid --sizes '70000': must be between 0 and 65527\n",
        ),
        (
            &["probe", "127.0.0.1:9", "--sizes", "65508"][..],
            "ipdiag: error: invalid --sizes '65508': must be between 0 and 65507\n",
        ),
        (
            &["probe", "127.0.0.1:9", "127.0.0.1:10", "--size-sweep"][..],
            "ipdiag: error: --sizes and --size-sweep probe one target: HOST:PORT\n",
        ),
        (
            &["probe", "127.0.0.1", "--sizes", "64"][..],
            "ipdiag: error: invalid target '127.0.0.1': no port: write HOST:PORT\n",
        ),
        (
            &[
                "probe",
                "127.0.0.1:9",
                "--sizes",
                "47",
                "--token",
                "s3cret-k3y",
            ][..],
            "ipdiag: error: invalid --sizes '47': the responder answers only datagrams of 48 bytes or more (room for the --token tag and its clock, and for its reply, which is never larger than the request)\n",
        ),
        (
            &["probe", "[::1]:9", "--sizes", "36", "--responder"][..],
            "ipdiag: error: invalid --sizes '36': the responder answers only datagrams of 37 bytes or more (room for its reply, which is never larger than the request)\n",
        ),
    ] {
        let (code, stdout, stderr) = run(args);
        assert_eq!(
            (code, stdout.as_str(), stderr.as_str()),
            (2, "", message),
            "{args:?}"
        );
    }
    let (code, _, _) = run(&["probe", "127.0.0.1:9", "--sizes", "64", "--tcp"]);
    assert_eq!(code, 2, "sizes are UDP");
}
