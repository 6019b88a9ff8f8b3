//! The responder under pressure, on loopback: 100,000 datagrams (valid requests and
//! garbage of every size) and 2,000 idle TCP connections (`--tcp-reads`, so the server
//! holds what it accepts open, waiting for data). Its memory stays bounded (peak RSS
//! reported and capped), legitimate clients from another address are still answered over
//! UDP and TCP, and no reply is ever larger than the request it answers.

use ipdiag::wire::responder::{parse_reply, request};
use std::io::{BufRead, BufReader};
use std::net::{TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DATAGRAMS: usize = 100_000;
const IDLE_CONNECTIONS: usize = 2_000;

pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Peak resident memory of a process, in KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The banner a TCP client from `source` reads from the responder on `port`.
pub(crate) fn banner_from(source: &str, port: u16) -> String {
    use socket2::{Domain, Socket, Type};
    use std::io::Read;
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let from: std::net::SocketAddr = format!("{source}:0").parse().unwrap();
    socket.bind(&from.into()).unwrap();
    let to: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    socket
        .connect_timeout(&to.into(), Duration::from_secs(2))
        .unwrap();
    let mut stream = TcpStream::from(socket);
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut line = [0u8; 128];
    let n = stream.read(&mut line).unwrap_or(0);
    String::from_utf8_lossy(&line[..n]).into_owned()
}

/// Sends the flood from one source: every fourth datagram a valid request, the others
/// garbage, short requests and padded ones. Returns the bytes sent and each reply's size.
fn flood(udp: u16) -> (usize, Vec<usize>) {
    let flood = UdpSocket::bind("127.0.0.1:0").unwrap();
    flood.connect(("127.0.0.1", udp)).unwrap();
    flood.set_nonblocking(true).unwrap();
    let mut sent_bytes = 0usize;
    let mut replies = Vec::new();
    let mut buf = [0u8; 2048];
    for i in 0..DATAGRAMS {
        let datagram = match i % 4 {
            0 => request(i as u64, None),
            1 => vec![0xff; i % 1400],
            2 => request(i as u64, None)[..24].to_vec(),
            _ => {
                let mut d = request(i as u64, None);
                d.resize(48 + i % 900, 7);
                d
            }
        };
        while flood.send(&datagram).is_err() {
            std::thread::sleep(Duration::from_micros(50));
        }
        sent_bytes += datagram.len();
        while let Ok(n) = flood.recv(&mut buf) {
            replies.push(n);
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    while let Ok(n) = flood.recv(&mut buf) {
        replies.push(n);
    }
    (sent_bytes, replies)
}

#[test]
fn a_flood_and_idle_connections_leave_the_responder_bounded_and_answering() {
    // Its TCP listener must not show up in another test's sweep of 127.0.0.1.
    let _guard = super::probe::listening();
    // 2,000 connections need descriptors on our side too.
    let (_, hard) =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap();
    if hard < 4096 {
        assert!(
            std::env::var("IPDIAG_REQUIRE_NETNS").as_deref() != Ok("1"),
            "IPDIAG_REQUIRE_NETNS=1 but the hard open-file limit ({hard}) is below 4096"
        );
        eprintln!("skipping: the hard open-file limit ({hard}) is below 4096");
        return;
    }
    nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, 4096, hard).unwrap();
    let (udp, tcp) = (free_port(), free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipdiag"))
        .args(["serve", "--bind", "127.0.0.1", "--udp", &udp.to_string()])
        .args(["--tcp", &tcp.to_string(), "--tcp-reads", "--for", "60s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stdout.take().unwrap());
    let server = Server(child);
    let mut first = String::new();
    log.read_line(&mut first).unwrap();
    assert!(first.starts_with("listening on "), "{first}");
    // Keep reading the log so the server never blocks on a full pipe.
    let drain = std::thread::spawn(move || log.lines().map_while(Result::ok).count());

    let idle: Vec<TcpStream> = (0..IDLE_CONNECTIONS)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", tcp)).ok())
        .collect();
    assert_eq!(
        idle.len(),
        IDLE_CONNECTIONS,
        "every idle connection is made"
    );

    let started = std::time::Instant::now();
    let (sent_bytes, replies) = flood(udp);
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        replies.iter().all(|&n| n <= 45),
        "a reply is never larger than a request (the smallest answered is 48 bytes)"
    );
    let reply_bytes: usize = replies.iter().sum();
    assert!(reply_bytes <= sent_bytes);
    // The default limit is 10 replies a second per source in bursts of 20: the flood takes
    // about a second on an idle machine, longer on a busy one, so the bound follows the
    // time it took rather than assuming an idle machine.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "seconds"
    )]
    let bound = 20 + (10.0 * elapsed).ceil() as usize;
    assert!(
        replies.len() <= bound,
        "one source gets its burst and its rate, not 25,000 replies: {} in {elapsed:.1} s",
        replies.len()
    );

    // A legitimate client from another address is answered while the flooder waits.
    let mut buf = [0u8; 2048];
    let client = UdpSocket::bind("127.0.0.2:0").unwrap();
    client.connect(("127.0.0.1", udp)).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    client.send(&request(42, None)).unwrap();
    let started = Instant::now();
    let n = client
        .recv(&mut buf)
        .expect("the legitimate probe is answered");
    let reply = parse_reply(&buf[..n]).expect("a responder reply");
    assert_eq!(reply.nonce, 42);
    assert_eq!(reply.observed.ip().to_string(), "127.0.0.2");
    assert!(started.elapsed() < Duration::from_secs(1));
    // And over TCP, while the idle connections are still open.
    let banner = banner_from("127.0.0.2", tcp);
    assert!(
        banner.starts_with("IPDG/1 tcp observed=127.0.0.2:"),
        "the legitimate TCP probe gets its banner: {banner:?}"
    );

    let peak = peak_rss_kib(server.0.id());
    eprintln!(
        "serve under pressure: {DATAGRAMS} datagrams ({sent_bytes} bytes) → {} replies ({reply_bytes} bytes); {} idle connections opened; peak RSS {peak} KiB",
        replies.len(),
        idle.len()
    );
    assert!(
        peak > 0 && peak < 64 * 1024,
        "peak RSS {peak} KiB stays bounded"
    );
    drop(idle);
    drop(server);
    let _ = drain.join();
}
