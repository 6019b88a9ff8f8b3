//! `ipdiag local --port P --watch D` on the server of the simulated cloud, while the client
//! probes: arrivals per source at the network card, the firewall rule that counted them,
//! UDP datagrams in and out of the socket and the source of its replies, the accept
//! queue, and nothing at all when the security group drops the packets first.

use crate::bed::{Bed, CLIENT, PRIVATE, PUBLIC, ROUTED, Setup, nft, ports};
use crate::servers::{Servers, enter};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

/// A watch running in the server namespace, armed (its stderr line was read).
struct Watching {
    child: Child,
    err: BufReader<std::process::ChildStderr>,
}

impl Watching {
    /// Starts `local --port PORT ARGS --watch WATCH --json` on the server and waits for
    /// `ipdiag: watching …`.
    fn start(bed: &Bed, port: u16, args: &[&str], watch: &str) -> Self {
        Self::start_as(bed, &[], port, args, watch)
    }

    /// [`Watching::start`] through `wrapper` (a command that runs ipdiag, e.g. `setpriv`).
    fn start_as(bed: &Bed, wrapper: &[&str], port: u16, args: &[&str], watch: &str) -> Self {
        let port = port.to_string();
        let mut child = Command::new("ip")
            .args(["netns", "exec", &bed.server])
            .args(wrapper)
            .arg(env!("CARGO_BIN_EXE_ipdiag"))
            .args(["local", "--port", &port, "--watch", watch, "--json"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ipdiag local starts");
        let mut err = BufReader::new(child.stderr.take().expect("piped stderr"));
        let mut line = String::new();
        err.read_line(&mut line).expect("a line on stderr");
        let protocol = if args.contains(&"--udp") {
            "udp"
        } else {
            "tcp"
        };
        assert_eq!(
            line,
            format!("ipdiag: watching {protocol}/{port} for {watch}\n")
        );
        Self { child, err }
    }

    /// Waits for the end of the watch: exit code and record.
    fn report(mut self) -> (i32, Value) {
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .expect("piped stdout")
            .read_to_string(&mut out)
            .expect("stdout");
        let mut rest = String::new();
        let _ = self.err.read_to_string(&mut rest);
        let status = self.child.wait().expect("ipdiag local ends");
        let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {rest}"));
        (status.code().unwrap_or(-1), v)
    }
}

/// `probe` from the client, its attempts 100 ms apart (all inside the watch); the exit
/// code is not the point.
fn probe(bed: &Bed, args: &[&str]) {
    let mut all = vec!["probe", "-n", "--json", "-i", "100ms"];
    all.extend_from_slice(args);
    let (code, _, stderr) = bed.ipdiag(&all);
    assert!(code == 0 || code == 1, "{stderr}");
}

/// Watches `port` on the server for `watch` while the client probes the public address
/// `count` times (`extra`: `--udp`, for both); the watch's exit code and record.
fn watch_while_probing(
    bed: &Bed,
    target: &str,
    port: u16,
    extra: &[&str],
    count: &str,
    watch: &str,
) -> (i32, Value) {
    let watching = Watching::start(bed, port, extra, watch);
    let target = format!("{target}:{port}");
    let mut args = vec![target.as_str(), "-c", count, "-w", "200ms"];
    args.extend_from_slice(extra);
    probe(bed, &args);
    watching.report()
}

fn source_and_packets(v: &Value) -> Vec<(String, u64)> {
    v["arrivals"]
        .as_array()
        .expect("arrivals")
        .iter()
        .map(|a| {
            (
                a["source"].as_str().unwrap_or_default().to_owned(),
                a["packets"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

/// The VM's own firewall drops the port: the SYNs arrive at the card from the client, and
/// the rule that dropped them counted exactly as many.
pub fn arrivals_per_source_and_the_rule_that_dropped_them() {
    let Some(bed) = Bed::new("watch_firewall_drop", Setup::default()) else {
        return;
    };
    nft(
        &bed.server,
        &format!(
            "table inet filter {{
                chain input {{
                    type filter hook input priority 0; policy accept;
                    tcp dport {} counter drop
                }}
            }}",
            ports::TCP_OPEN
        ),
    );
    let mut servers = Servers::default();
    servers.tcp(&bed.server, &format!("0.0.0.0:{}", ports::TCP_OPEN));
    let (code, v) = watch_while_probing(&bed, PUBLIC, ports::TCP_OPEN, &[], "3", "2s");
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["capture"], "packet_socket", "{v}");
    let arrivals = source_and_packets(&v);
    assert_eq!(arrivals.len(), 1, "{v}");
    assert_eq!(arrivals[0].0, CLIENT);
    assert!(arrivals[0].1 >= 3, "{v}");
    assert_eq!(
        v["arrivals"][0]["syns"], arrivals[0].1,
        "every packet a SYN: {v}"
    );
    assert_eq!(v["arrivals"][0]["destinations"][0], PRIVATE);
    let rule = format!(
        "inet filter input: tcp dport {} counter drop",
        ports::TCP_OPEN
    );
    assert_eq!(v["firewall"]["verdict"], "drop", "{v}");
    assert_eq!(v["firewall"]["rule"], rule.as_str());
    let hits = v["firewall"]["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 1, "{v}");
    assert_eq!(hits[0]["rule"], rule.as_str());
    assert_eq!(
        hits[0]["packets"], arrivals[0].1,
        "the rule counted every SYN: {v}"
    );
    assert_eq!(v["verdict"]["cause"], "host_firewall", "{v}");
    assert_eq!(
        v["listener"]["bound"],
        format!("0.0.0.0:{}", ports::TCP_OPEN)
    );
    assert_eq!(v["accept_queue"]["overflows"], 0, "{v}");
}

/// The tutorial's UDP server: every datagram arrives at the socket, none goes back.
pub fn udp_received_and_never_answered() {
    let Some(bed) = Bed::new("watch_udp_silent", Setup::default()) else {
        return;
    };
    let mut servers = Servers::default();
    let got = servers.udp_silent_counting(&bed.server, &format!("0.0.0.0:{}", ports::UDP_ECHO));
    let (code, v) = watch_while_probing(&bed, PUBLIC, ports::UDP_ECHO, &["--udp"], "3", "2s");
    let received = got.load(std::sync::atomic::Ordering::Relaxed);
    assert!(received >= 3, "{received}");
    assert_eq!(code, 1, "{v}");
    assert_eq!(
        source_and_packets(&v),
        [(CLIENT.to_owned(), received)],
        "{v}"
    );
    assert_eq!(v["udp_socket"]["datagrams_in"], received, "{v}");
    assert_eq!(v["udp_socket"]["datagrams_out"], 0, "{v}");
    assert_eq!(
        v["udp_socket"]["reply_sources"],
        serde_json::json!([]),
        "{v}"
    );
    assert_eq!(v["verdict"]["cause"], "server_not_replying", "{v}");
    assert_eq!(v["firewall"]["verdict"], "accept", "{v}");
    assert_eq!(v["accept_queue"], Value::Null);
    assert!(v["receive"]["drops"].is_u64(), "{v}");
}

/// A server with a second address answers from its first: the datagrams were sent to
/// [`ROUTED`], the replies leave from [`PRIVATE`].
pub fn udp_answered_from_another_address() {
    let setup = Setup {
        routed: true,
        ..Setup::default()
    };
    let Some(bed) = Bed::new("watch_udp_other_address", setup) else {
        return;
    };
    let mut servers = Servers::default();
    servers.udp_echo(&bed.server, &format!("0.0.0.0:{}", ports::UDP_ECHO));
    let (code, v) = watch_while_probing(&bed, ROUTED, ports::UDP_ECHO, &["--udp"], "2", "2s");
    assert_eq!(code, 1, "{v}");
    let arrivals = source_and_packets(&v);
    assert_eq!(arrivals.len(), 1, "{v}");
    assert_eq!(
        v["arrivals"][0]["destinations"],
        serde_json::json!([ROUTED]),
        "{v}"
    );
    let socket = &v["udp_socket"];
    assert_eq!(socket["datagrams_in"], arrivals[0].1, "{v}");
    assert_eq!(
        socket["datagrams_out"], arrivals[0].1,
        "every one echoed: {v}"
    );
    assert_eq!(socket["reply_sources"], serde_json::json!([PRIVATE]), "{v}");
    assert_eq!(v["verdict"]["cause"], "reply_from_other_address", "{v}");
}

/// A listener with a backlog of 1 that never accepts: after two connections wait in its
/// queue, the kernel drops the next SYNs and counts them in `ListenOverflows`.
pub fn accept_queue_overflow() {
    let Some(bed) = Bed::new("watch_accept_queue", Setup::default()) else {
        return;
    };
    let ns = bed.server.clone();
    let listener = std::thread::spawn(move || {
        enter(&ns);
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("a TCP socket");
        let addr: std::net::SocketAddr = ([0, 0, 0, 0], ports::TCP_OPEN).into();
        socket.bind(&addr.into()).expect("bind in the namespace");
        socket.listen(1).expect("listen");
        socket
    })
    .join()
    .expect("the namespace thread");
    let (code, v) = watch_while_probing(&bed, PUBLIC, ports::TCP_OPEN, &[], "6", "3s");
    drop(listener);
    assert_eq!(code, 1, "{v}");
    let queue = &v["accept_queue"];
    assert_eq!(queue["backlog"], 1, "{v}");
    assert_eq!(queue["queued"], 2, "backlog + 1 wait: {v}");
    assert!(queue["overflows"].as_u64() > Some(0), "{v}");
    assert!(v["arrivals"][0]["syns"].as_u64() >= Some(6), "{v}");
    assert_eq!(v["verdict"]["cause"], "accept_queue_overflow", "{v}");
    assert_eq!(v["firewall"]["verdict"], "accept", "{v}");
}

/// The security group drops the port: nothing reaches the VM, and the watch says the
/// cause is before it.
pub fn nothing_arrived() {
    let Some(bed) = Bed::new("watch_nothing_arrived", Setup::default()) else {
        return;
    };
    let mut servers = Servers::default();
    servers.tcp(&bed.server, &format!("0.0.0.0:{}", ports::TCP_SG_DROP));
    let (code, v) = watch_while_probing(&bed, PUBLIC, ports::TCP_SG_DROP, &[], "3", "2s");
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["capture"], "packet_socket", "{v}");
    assert_eq!(v["arrivals"], serde_json::json!([]), "{v}");
    assert_eq!(v["firewall"]["hits"], serde_json::json!([]), "{v}");
    assert_eq!(v["verdict"]["cause"], "security_group", "{v}");
    let detail = v["verdict"]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with(&format!(
            "nothing for {}/tcp arrived at this machine in the 2s watched",
            ports::TCP_SG_DROP
        )),
        "{detail}"
    );
}

/// Without `CAP_NET_RAW` (setpriv drops it from the bounding and inheritable sets) the
/// watch has no packet socket: it says what it could not see, and the firewall's counter
/// still names the rule that dropped the client's SYNs, as many as the client sent.
pub fn without_cap_net_raw_the_counters_still_speak() {
    let Some(bed) = Bed::new("watch_no_raw", Setup::default()) else {
        return;
    };
    let port = ports::TCP_OPEN;
    nft(
        &bed.server,
        &format!(
            "table inet nocap {{
               chain input {{
                 type filter hook input priority filter - 5; policy accept;
                 tcp dport {port} counter drop
               }}
             }}"
        ),
    );
    let mut servers = Servers::default();
    servers.tcp(&bed.server, &format!("0.0.0.0:{port}"));
    let drop_raw = ["setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw"];
    let watching = Watching::start_as(&bed, &drop_raw, port, &[], "3s");
    let target = format!("{PUBLIC}:{port}");
    let (_, stdout, stderr) = bed.ipdiag(&["probe", "-n", &target, "-w", "300ms", "--json"]);
    let probe: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let sent = probe[0]["attempts"].as_u64().expect("attempts");
    let (_, v) = watching.report();
    assert_eq!(v["capture"], "counters", "{v}");
    assert_eq!(v["arrivals"], serde_json::json!([]), "{v}");
    assert_eq!(
        v["notes"][0],
        "no packet socket (Operation not permitted (os error 1); it needs CAP_NET_RAW): arrivals per source are not known, only the firewall's and the host's counters",
        "{v}"
    );
    let rule = format!("inet nocap input: tcp dport {port} counter drop");
    assert_eq!(v["firewall"]["hits"][0]["rule"], rule.as_str(), "{v}");
    assert_eq!(v["firewall"]["hits"][0]["packets"], sent, "{v}");
    assert_eq!(v["verdict"]["cause"], "host_firewall", "{v}");
}

/// The host firewall in iptables (legacy, as ufw and Docker hosts still write it): the
/// watch names the rule that dropped the client's SYNs by its counter, as many as arrived.
pub fn iptables_rule_counters_name_the_dropping_rule() {
    let Some(bed) = Bed::new("watch_iptables", Setup::default()) else {
        return;
    };
    let port = ports::TCP_OPEN;
    let dport = port.to_string();
    crate::bed::run(&[
        "ip",
        "netns",
        "exec",
        &bed.server,
        "iptables-legacy",
        "-I",
        "INPUT",
        "-p",
        "tcp",
        "--dport",
        &dport,
        "-j",
        "DROP",
    ]);
    let mut servers = Servers::default();
    servers.tcp(&bed.server, &format!("0.0.0.0:{port}"));
    let watching = Watching::start(&bed, port, &[], "3s");
    let target = format!("{PUBLIC}:{port}");
    let (_, stdout, stderr) = bed.ipdiag(&["probe", "-n", &target, "-w", "300ms", "--json"]);
    let probe: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let sent = probe[0]["attempts"].as_u64().expect("attempts");
    let (_, v) = watching.report();
    let rule = format!("-A INPUT -p tcp -m tcp --dport {port} -j DROP");
    assert_eq!(v["firewall"]["verdict"], "drop", "{v}");
    assert_eq!(v["firewall"]["rule"], rule.as_str(), "{v}");
    assert_eq!(v["firewall"]["hits"][0]["rule"], rule.as_str(), "{v}");
    assert_eq!(v["firewall"]["hits"][0]["packets"], sent, "{v}");
    assert_eq!(v["arrivals"][0]["packets"], sent, "{v}");
    assert_eq!(v["verdict"]["cause"], "host_firewall", "{v}");
}
