//! The responder's TCP side against slow and greedy clients, on loopback (sources
//! 127.0.0.x, bounded in count and time): a per-source cap, the idlest connection dropped
//! for a new client when all slots are taken, a lifetime per connection, and running out
//! of file descriptors (a low `ulimit -n`) without spinning in `accept`.

use super::serve_pressure::{Server, banner_from};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Lines of a pipe as they come, read by a thread of their own.
fn lines_of(pipe: impl BufRead + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in pipe.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Starts `serve` through `sh -c` (so a test can set limits first); returns the server,
/// its log lines and its stderr lines as they come, and the port of the first socket it
/// lists (ask for port 0: the kernel's pick never collides with another test's sockets).
pub(crate) fn start(
    shell_prefix: &str,
    args: &str,
) -> (Server, mpsc::Receiver<String>, mpsc::Receiver<String>, u16) {
    try_start(shell_prefix, args).unwrap_or_else(|why| panic!("serve did not start: {why}"))
}

/// A started `serve`, as [`start`] returns it.
type Started = (Server, mpsc::Receiver<String>, mpsc::Receiver<String>, u16);

/// [`start`], or what serve said when it did not start.
fn try_start(shell_prefix: &str, args: &str) -> Result<Started, String> {
    let exe = env!("CARGO_BIN_EXE_ipdiag");
    let script = format!("{shell_prefix} exec {exe} serve --bind 127.0.0.1 {args} --for 60s");
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stdout.take().unwrap());
    let err = lines_of(BufReader::new(child.stderr.take().unwrap()));
    let server = Server(child);
    let mut first = String::new();
    log.read_line(&mut first).unwrap();
    if !first.starts_with("listening on ") {
        let why: Vec<String> = err.iter().collect();
        return Err(format!("{first}{why:?}"));
    }
    let port = first
        .split([',', ';'])
        .next()
        .and_then(|l| l.rsplit(':').next())
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no port in: {first}"));
    Ok((server, lines_of(log), err, port))
}

/// A connection from `source` (127.0.0.x) to the server's port.
fn connect_from(source: &str, port: u16) -> Option<TcpStream> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).ok()?;
    let from: SocketAddr = format!("{source}:0").parse().ok()?;
    socket.bind(&from.into()).ok()?;
    let to: SocketAddr = format!("127.0.0.1:{port}").parse().ok()?;
    socket
        .connect_timeout(&to.into(), Duration::from_secs(2))
        .ok()?;
    Some(socket.into())
}

/// Log lines that arrived within `wait`, until `enough` of them match `pattern`.
fn lines_matching(
    log: &mpsc::Receiver<String>,
    pattern: &str,
    enough: usize,
    wait: Duration,
) -> usize {
    let mut found = 0;
    let end = std::time::Instant::now() + wait;
    while found < enough {
        let left = end.saturating_duration_since(std::time::Instant::now());
        match log.recv_timeout(left) {
            Ok(line) if line.contains(pattern) => found += 1,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    found
}

/// 96 connections from six addresses trickling a byte now and then hold 32 slots; real
/// clients from other addresses are still served (the idlest holder is dropped for each),
/// and one address gets no more than its share of slots.
#[test]
fn slow_clients_cannot_hold_every_slot() {
    let _guard = super::probe::listening();
    let args = "--tcp 0 --tcp-reads --max-connections 32 --max-per-source 16 --rate 100000";
    let (server, log, _, port) = start("", args);
    // One greedy address: 20 connections, 16 held, 4 closed at once.
    let greedy: Vec<TcpStream> = (0..20)
        .filter_map(|_| connect_from("127.0.0.20", port))
        .collect();
    assert_eq!(greedy.len(), 20);
    let refused = lines_matching(
        &log,
        "closed: connection limit for this source",
        4,
        Duration::from_secs(5),
    );
    assert_eq!(refused, 4, "the 17th to 20th connections of one source");
    // Six more addresses, 16 connections each, each sending one byte.
    let mut slow: Vec<TcpStream> = Vec::new();
    for host in 11..17 {
        for _ in 0..16 {
            if let Some(mut c) = connect_from(&format!("127.0.0.{host}"), port) {
                let _ = c.write_all(b"x");
                slow.push(c);
            }
        }
    }
    assert_eq!(slow.len(), 96);
    // Five real clients, each from its own address: all get their banner.
    let answered = (2..7)
        .filter(|host| {
            let source = format!("127.0.0.{host}");
            banner_from(&source, port).starts_with(&format!("IPDG/1 tcp observed={source}:"))
        })
        .count();
    eprintln!(
        "slowloris: {answered} of 5 real clients served while 116 slow connections held 32 slots"
    );
    assert_eq!(answered, 5, "every real client is served");
    drop((greedy, slow, server));
}

/// A connection that trickles a byte before each idle timeout is still closed at its
/// lifetime.
#[test]
fn a_trickling_connection_is_closed_at_its_lifetime() {
    let _guard = super::probe::listening();
    let (server, log, _, port) = start("", "--tcp 0 --tcp-reads --tcp-lifetime 1s");
    let mut trickle = connect_from("127.0.0.30", port).unwrap();
    let mut closed = 0;
    for _ in 0..30 {
        if trickle.write_all(b"x").is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        closed += lines_matching(
            &log,
            "closed at the connection lifetime",
            1,
            Duration::from_millis(1),
        );
        if closed > 0 {
            break;
        }
    }
    closed += lines_matching(
        &log,
        "closed at the connection lifetime",
        1 - closed.min(1),
        Duration::from_secs(3),
    );
    assert_eq!(closed, 1, "closed at its lifetime, not by its idle timeout");
    drop(server);
}

/// CPU ticks (user + system) a process has used, from `/proc/PID/stat`.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of stat(5); here 12 and 13 (0-based, after ')').
    field(11) + field(12)
}

/// At `ulimit -n 80` a `--max-connections 2000` is lowered (with a note) to what the
/// limit allows; 200 idle clients cost no CPU (no `accept` spinning on EMFILE), and a new
/// client is served.
#[test]
fn out_of_file_descriptors_the_responder_waits_instead_of_spinning() {
    let _guard = super::probe::listening();
    let args = "--tcp 0 --tcp-reads --max-connections 2000 --rate 100000";
    let (server, _log, err, port) = start("ulimit -n 80 &&", args);
    // Notes are written before the banner line, so this one is in the pipe by now.
    let note = err.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
    assert_eq!(
        note,
        "ipdiag: note: --max-connections 2000 lowered to 16: the open-file limit allows no more (ulimit -n)"
    );
    idle_clients_cost_nothing_then_one_is_served(&server, port, "127.0.1", "127.0.0.40");
    drop(server);
}

/// 200 clients from `network`.1-20 connect and wait: the server uses under half a second
/// of CPU in two seconds (`accept` does not spin); once they close, a client from
/// `newcomer` gets its banner.
fn idle_clients_cost_nothing_then_one_is_served(
    server: &Server,
    port: u16,
    network: &str,
    newcomer: &str,
) {
    let idle: Vec<TcpStream> = (0..200)
        .filter_map(|i| connect_from(&format!("{network}.{}", 1 + i / 10), port))
        .collect();
    assert_eq!(idle.len(), 200, "the kernel completes every handshake");
    std::thread::sleep(Duration::from_millis(200));
    let pid = server.0.id();
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(pid) - before;
    eprintln!("out of descriptors: {used} CPU ticks (1/100 s) in 2 s with 200 clients waiting");
    assert!(used < 50, "{used} ticks: accept must not spin");
    drop(idle);
    let banner = banner_from(newcomer, port);
    assert!(
        banner.starts_with(&format!("IPDG/1 tcp observed={newcomer}:")),
        "a new client is served once descriptors are free: {banner:?}"
    );
}

/// Past the clamp, descriptors can still run out (here 120 UDP sockets share a limit of
/// 200 with the connections): `accept` fails with EMFILE while 200 clients wait, and the
/// responder pauses instead of retrying at once; a client is served once some close.
#[test]
fn accept_backs_off_when_descriptors_run_out() {
    let _guard = super::probe::listening();
    // 120 free UDP ports, found by binding them together; another test's socket can take
    // one between their release and serve's bind: then again with others (5 tries).
    let started = (0..5).find_map(|_| {
        let held: Vec<std::net::UdpSocket> = (0..120)
            .map(|_| std::net::UdpSocket::bind("127.0.0.1:0").unwrap())
            .collect();
        let udp: Vec<String> = held
            .iter()
            .map(|s| s.local_addr().unwrap().port().to_string())
            .collect();
        drop(held);
        let args = format!(
            "--tcp 0 --udp {} --tcp-reads --max-connections 2000 --rate 100000",
            udp.join(",")
        );
        match try_start("ulimit -n 200 &&", &args) {
            Ok(started) => Some(started),
            Err(why) if why.contains("in use") => None,
            Err(why) => panic!("serve did not start: {why}"),
        }
    });
    let (server, _log, _err, port) = started.expect("serve starts within 5 tries");
    idle_clients_cost_nothing_then_one_is_served(&server, port, "127.0.2", "127.0.0.41");
    drop(server);
}
