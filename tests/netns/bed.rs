//! The simulated cloud: three network namespaces, built per test and deleted on drop.
//!
//! ```text
//!  client ns                 edge ns (the cloud's edge)                server ns
//!  c0 198.51.100.2/24 ─veth─ e0 198.51.100.1/24   e1 172.16.0.1/24 ─veth─ s0 172.16.0.10/24
//!                            owns 203.0.113.10: DNAT → 172.16.0.10
//!                            "security group": nftables forward chain
//!                            (`Setup::routed`: 203.0.113.20 → s0, no NAT)
//! ```
//!
//! The client plays a host on the internet with a public address; the server has only its
//! private address, as a cloud VM does; the edge translates the public address and filters
//! like a security group, and, like the internet, does not route private addresses that
//! arrive from outside. Loss is an nftables `numgen` rule with counters (the exact truth),
//! delay a TUN delay line on the client's path to the public address.

use crate::delayline::DelayLine;
use std::io::{BufRead, Write};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The client's "public" address.
pub const CLIENT: &str = "198.51.100.2";
/// The server's public address, owned by the edge.
pub const PUBLIC: &str = "203.0.113.10";
/// An address in the cloud where nothing answers at all (a stopped instance).
pub const SILENT: &str = "203.0.113.99";
/// The server's private address: the only one on its network card.
pub const PRIVATE: &str = "172.16.0.10";
/// With [`Setup::routed`]: a public address of the server's own, which the edge routes to
/// it without NAT (through a NAT the edge's own ICMP errors leave with the translated
/// public address as their source, so only here is the router seen as the router).
pub const ROUTED: &str = "203.0.113.20";
/// The edge's address on the client's side: the source of its own ICMP errors.
pub const EDGE: &str = "198.51.100.1";

/// Ports the security group lets in (TCP and UDP lists), and the ports the cases use.
pub mod ports {
    /// TCP: a server listening on 0.0.0.0.
    pub const TCP_OPEN: u16 = 7890;
    /// TCP: a server listening on 127.0.0.1 only.
    pub const TCP_LOOPBACK_BIND: u16 = 7891;
    /// TCP: nothing listening.
    pub const TCP_NOTHING: u16 = 7892;
    /// TCP: a server listening, but the security group has no rule for it.
    pub const TCP_SG_DROP: u16 = 7893;
    /// TCP: the server's own firewall rejects with ICMP admin-prohibited.
    pub const TCP_HOST_REJECT: u16 = 7894;
    /// UDP: an echo server.
    pub const UDP_ECHO: u16 = 7895;
    /// UDP: nothing listening.
    pub const UDP_NOTHING: u16 = 7896;
    /// UDP: an echo server the security group has no rule for.
    pub const UDP_SG_DROP: u16 = 7897;
    /// TCP: open, through the lossy rule.
    pub const TCP_LOSSY: u16 = 7898;
    /// TCP: SSH, allowed by the security group (a control port for `doctor`).
    pub const SSH: u16 = 22;
}

/// What a test wants beyond the standard bed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Setup {
    /// Drop this share (percent) of the SYNs to [`ports::TCP_LOSSY`]: exactly every
    /// (100 / pct)-th SYN, so a test's loss is the same in every run (a random drop made
    /// `lossy_delayed_path` fail now and then); pct must divide 100.
    pub syn_loss_pct: u8,
    /// Drop this share (percent) of the ICMP echo requests to the public address.
    pub echo_loss_pct: u8,
    /// Delay every packet from the client to the public address by this much.
    pub delay: Option<Duration>,
    /// Rewrite the client's address to this one on its way into the cloud (a carrier NAT).
    pub client_nat: Option<&'static str>,
    /// Give the server [`ROUTED`] as well, routed by the edge without NAT.
    pub routed: bool,
}

/// The namespaces of one test; deleted when dropped, also when the test fails.
pub struct Bed {
    pub client: String,
    pub edge: String,
    pub server: String,
    delay: Option<DelayLine>,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl Bed {
    /// Builds the bed, or returns `None` (with the reason printed) when this machine cannot
    /// make namespaces. With `IPDIAG_REQUIRE_NETNS=1` (CI) it panics instead of skipping.
    pub fn new(test: &str, setup: Setup) -> Option<Bed> {
        if !may_build(test) {
            return None;
        }
        let id = format!(
            "{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut bed = Bed {
            client: format!("ipdc-{id}"),
            edge: format!("ipde-{id}"),
            server: format!("ipds-{id}"),
            delay: None,
        };
        // Created one by one so Drop deletes exactly what exists, even mid-setup.
        for ns in [&bed.client, &bed.edge, &bed.server] {
            run(&["ip", "netns", "add", ns]);
        }
        bed.wire();
        if setup.routed {
            ip(&bed.server, &format!("addr add {ROUTED}/32 dev lo"));
            ip(&bed.edge, &format!("route add {ROUTED}/32 via {PRIVATE}"));
        }
        bed.edge_rules(setup);
        bed.server_firewall();
        if let Some(delay) = setup.delay {
            bed.delay = Some(DelayLine::start(&bed.client, "dl0", delay));
            bed.route_through_delay_line();
        }
        Some(bed)
    }

    fn wire(&self) {
        let (c, e, s) = (&self.client, &self.edge, &self.server);
        run(&[
            "ip", "link", "add", "c0", "netns", c, "type", "veth", "peer", "name", "e0", "netns", e,
        ]);
        run(&[
            "ip", "link", "add", "e1", "netns", e, "type", "veth", "peer", "name", "s0", "netns", s,
        ]);
        for (ns, dev, addr) in [
            (c, "c0", "198.51.100.2/24"),
            (e, "e0", "198.51.100.1/24"),
            (e, "e1", "172.16.0.1/24"),
            (s, "s0", "172.16.0.10/24"),
        ] {
            ip(ns, &format!("addr add {addr} dev {dev}"));
            ip(ns, &format!("link set {dev} up"));
        }
        for ns in [c, e, s] {
            ip(ns, "link set lo up");
        }
        ip(e, "addr add 203.0.113.10/32 dev lo");
        ip(c, "route add default via 198.51.100.1");
        ip(s, "route add default via 172.16.0.1");
        sysctl(e, &["net.ipv4.ip_forward=1"]);
    }

    /// DNAT, the private-address rule of the internet, the security group, and the loss.
    fn edge_rules(&self, setup: Setup) {
        use ports::{
            SSH, TCP_HOST_REJECT, TCP_LOOPBACK_BIND, TCP_LOSSY, TCP_NOTHING, TCP_OPEN, UDP_ECHO,
            UDP_NOTHING,
        };
        let nat = setup.client_nat.map_or_else(String::new, |to| {
            format!(
                "chain client_nat {{
                    type nat hook postrouting priority srcnat; policy accept;
                    oifname \"e1\" ip saddr {CLIENT} snat to {to}
                  }}"
            )
        });
        let echo_loss = match setup.echo_loss_pct {
            0 => String::new(),
            pct => format!(
                "iifname \"e0\" icmp type echo-request counter name \"echos_seen\"
                 iifname \"e0\" icmp type echo-request numgen random mod 100 < {pct} counter name \"echos_dropped\" drop"
            ),
        };
        let loss = match setup.syn_loss_pct {
            0 => String::new(),
            pct => {
                assert_eq!(100 % pct, 0, "syn_loss_pct must divide 100");
                let every = 100 / pct;
                format!(
                "iifname \"e0\" tcp dport {TCP_LOSSY} tcp flags & (syn | ack) == syn counter name \"syns_seen\"
                 iifname \"e0\" tcp dport {TCP_LOSSY} tcp flags & (syn | ack) == syn numgen inc mod {every} 0 counter name \"syns_dropped\" drop"
                )
            }
        };
        nft(
            &self.edge,
            &format!(
                "table ip cloud {{
                  counter syns_seen {{}}
                  counter echos_seen {{}}
                  counter echos_dropped {{}}
                  counter syns_dropped {{}}
                  chain internet {{
                    type filter hook prerouting priority raw; policy accept;
                    iifname \"e0\" ip daddr {{ 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 }} drop
                    ip daddr {SILENT} drop
                  }}
                  chain public_ip {{
                    type nat hook prerouting priority dstnat; policy accept;
                    ip daddr {PUBLIC} dnat to {PRIVATE}
                  }}
                  {nat}
                  chain forward {{
                    type filter hook forward priority filter; policy accept;
                    {loss}
                    {echo_loss}
                    ct state established,related accept
                    iifname \"e0\" oifname \"e1\" jump security_group
                  }}
                  chain security_group {{
                    tcp dport {{ {SSH}, {TCP_OPEN}, {TCP_LOOPBACK_BIND}, {TCP_NOTHING}, {TCP_HOST_REJECT}, {TCP_LOSSY} }} accept
                    udp dport {{ {UDP_ECHO}, {UDP_NOTHING} }} accept
                    icmp type echo-request accept
                    drop
                  }}
                }}"
            ),
        );
    }

    /// The server's own firewall: one port rejected with ICMP admin-prohibited.
    fn server_firewall(&self) {
        nft(
            &self.server,
            &format!(
                "table inet host {{
                  chain input {{
                    type filter hook input priority filter; policy accept;
                    tcp dport {} reject with icmp type admin-prohibited
                  }}
                }}",
                ports::TCP_HOST_REJECT
            ),
        );
    }

    /// Packets from the client to the public address go into the delay line's TUN device;
    /// what it writes back arrives on `dl0` and is forwarded out `c0` by a policy rule.
    fn route_through_delay_line(&self) {
        let c = &self.client;
        ip(c, "link set dl0 up");
        ip(c, &format!("route add {PUBLIC}/32 dev dl0 src {CLIENT}"));
        ip(c, "rule add iif dl0 lookup 100");
        ip(c, "route add default via 198.51.100.1 dev c0 table 100");
        sysctl(
            c,
            &[
                "net.ipv4.ip_forward=1",
                "net.ipv4.conf.all.rp_filter=0",
                "net.ipv4.conf.c0.rp_filter=0",
                "net.ipv4.conf.dl0.rp_filter=0",
                // The delayed packets carry the client's own address as source.
                "net.ipv4.conf.dl0.accept_local=1",
            ],
        );
    }

    /// Reads a named nftables counter of the edge: packets counted.
    pub fn edge_counter(&self, name: &str) -> u64 {
        self.edge_counter_in("cloud", name)
    }

    /// Reads a named counter of another `ip` table of the edge (one a test added).
    pub fn edge_counter_in(&self, table: &str, name: &str) -> u64 {
        counter(&self.edge, table, name)
    }

    /// Runs ipdiag in the client namespace; returns (exit code, stdout, stderr).
    pub fn ipdiag(&self, args: &[&str]) -> (i32, String, String) {
        ipdiag_in(&self.client, args)
    }

    /// Runs ipdiag in the server namespace; returns (exit code, stdout, stderr).
    pub fn ipdiag_on_server(&self, args: &[&str]) -> (i32, String, String) {
        ipdiag_in(&self.server, args)
    }

    /// Starts `ipdiag serve ARGS` in the server namespace and waits until it listens.
    pub fn serve(&self, args: &[&str]) -> Daemon {
        let mut child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.server,
                env!("CARGO_BIN_EXE_ipdiag"),
                "serve",
            ])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ipdiag serve starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = std::io::BufReader::new(stdout).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        assert!(
            first.starts_with("listening on "),
            "serve did not start: {first}"
        );
        Daemon { child, lines }
    }

    /// Runs a command in the client namespace and returns its stdout.
    pub fn in_client(&self, args: &[&str]) -> String {
        let mut all = vec!["ip", "netns", "exec", &self.client];
        all.extend_from_slice(args);
        String::from_utf8_lossy(&output(&all).stdout).into_owned()
    }
}

impl Drop for Bed {
    fn drop(&mut self) {
        drop(self.delay.take());
        for ns in [&self.client, &self.edge, &self.server] {
            // Best effort: a namespace that was never made is not an error here.
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Deletes namespaces left by a test run that was killed before its guards could drop
/// (their names carry the run's process id, and that process is gone).
/// Runs ipdiag in namespace `ns`; returns (exit code, stdout, stderr).
pub(crate) fn ipdiag_in(ns: &str, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["ip", "netns", "exec", ns, env!("CARGO_BIN_EXE_ipdiag")];
    all.extend_from_slice(args);
    let out = output(&all);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Whether this machine can make namespaces (stale ones from killed runs are removed then);
/// otherwise prints why `test` skips. With `IPDIAG_REQUIRE_NETNS=1` (CI) it panics instead.
pub(crate) fn may_build(test: &str) -> bool {
    // The harness ignored every test whose needs this machine does not meet, so a failure
    // here is a test that does not declare what it needs (main.rs): fail, never pass empty.
    if let Err(reason) = can_make_namespaces() {
        panic!("{test}: {reason}; declare its needs in tests/netns/main.rs");
    }
    remove_stale_namespaces();
    true
}

fn remove_stale_namespaces() {
    let list = output(&["ip", "netns", "list"]);
    for line in String::from_utf8_lossy(&list.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or_default();
        let pid = ["ipdc-", "ipde-", "ipds-", "ipdt-", "ipdz-"]
            .iter()
            .find_map(|prefix| name.strip_prefix(prefix))
            .and_then(|rest| rest.split('-').next());
        if let Some(pid) = pid
            && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

/// A process of the test's own (`ipdiag serve`), killed by PID when dropped.
pub struct Daemon {
    child: std::process::Child,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
}

impl Daemon {
    /// Stops it and returns the rest of its output.
    pub fn stop(mut self) -> String {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(0)),
            nix::sys::signal::Signal::SIGINT,
        );
        // Read to the end before waiting: a server with more than a pipe's worth of log
        // left would block writing it and never exit.
        let rest = self
            .lines
            .by_ref()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
            .join("\n");
        let _ = self.child.wait();
        rest
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn can_make_namespaces() -> Result<(), String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("not root (network namespaces need CAP_SYS_ADMIN)".into());
    }
    // The other tools (nft, nmap, ping) are each test's declared needs, checked by the harness.
    let found = Command::new("ip")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !found.is_ok_and(|s| s.success()) {
        return Err("`ip` is not installed".to_owned());
    }
    Ok(())
}

/// Runs a command and returns its output (whatever its exit status).
pub fn output(args: &[&str]) -> Output {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", args[0]))
}

pub(crate) fn run(args: &[&str]) {
    let out = output(args);
    assert!(
        out.status.success(),
        "`{}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `ip -n NS ARGS...`, the arguments split at spaces.
pub(crate) fn ip(ns: &str, args: &str) {
    let mut all = vec!["ip", "-n", ns];
    all.extend(args.split_whitespace());
    run(&all);
}

pub(crate) fn sysctl(ns: &str, settings: &[&str]) {
    let mut args = vec!["ip", "netns", "exec", ns, "sysctl", "-q", "-w"];
    args.extend_from_slice(settings);
    run(&args);
}

/// Reads a named nftables counter of table `ip TABLE` in namespace `ns`: packets counted.
pub(crate) fn counter(ns: &str, table: &str, name: &str) -> u64 {
    let out = output(&[
        "ip", "netns", "exec", ns, "nft", "list", "counter", "ip", table, name,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .skip_while(|w| *w != "packets")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no packet count in: {text}"))
}

/// A firewall at the cloud's edge `ns`, ahead of the security group, that turns away what
/// `matches` (an nftables match, e.g. `udp dport 7899`) with ICMP admin-prohibited.
pub(crate) fn edge_rejects(ns: &str, matches: &str) {
    nft(
        ns,
        &format!(
            "table ip edge_reject {{
               chain forward {{
                 type filter hook forward priority -10; policy accept;
                 {matches} reject with icmp type admin-prohibited
               }}
             }}"
        ),
    );
}

pub(crate) fn nft(ns: &str, ruleset: &str) {
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns, "nft", "-f", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nft runs");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(ruleset.as_bytes())
        .expect("nft reads its rules");
    let out = child.wait_with_output().expect("nft finishes");
    assert!(
        out.status.success(),
        "nft failed: {}\n{ruleset}",
        String::from_utf8_lossy(&out.stderr)
    );
}
