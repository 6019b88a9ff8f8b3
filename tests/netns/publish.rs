//! `container_publish_bypass`: on the server a "container" (a namespace of its own behind
//! a veth, as Docker's bridge) gets ports published by DNAT — with nft and with iptables —
//! while the server's input chain drops everything new (ufw's default). The client
//! connects anyway; `local --port P` says why, and `--watch` sees the arrivals. A port
//! published for 127.0.0.1 only is `loopback_bind`.

use crate::bed::{Bed, CLIENT, PUBLIC, Setup, ip, ipdiag_in, nft, ports, run, sysctl};
use crate::servers::Servers;
use serde_json::Value;
use std::process::{Command, Stdio};

/// The container's address on the server's bridge.
const CONTAINER: &str = "10.88.0.2";

/// The container namespace, deleted when dropped (`ipdz-PID-` lets `bed` clean up after
/// a killed run).
struct Container(String);

impl Container {
    /// A namespace behind a veth of the server's, with a TCP server on port 80.
    fn start(bed: &Bed, servers: &mut Servers) -> Self {
        let name = format!("ipdz-{}-ctr", std::process::id());
        let c = Self(name.clone());
        run(&["ip", "netns", "add", &name]);
        run(&[
            "ip",
            "link",
            "add",
            "br0",
            "netns",
            &bed.server,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            &name,
        ]);
        ip(&bed.server, "addr add 10.88.0.1/24 dev br0");
        ip(&bed.server, "link set br0 up");
        ip(&name, &format!("addr add {CONTAINER}/24 dev eth0"));
        ip(&name, "link set eth0 up");
        ip(&name, "link set lo up");
        ip(&name, "route add default via 10.88.0.1");
        sysctl(&bed.server, &["net.ipv4.ip_forward=1"]);
        servers.tcp(&name, &format!("{CONTAINER}:80"));
        c
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.0])
            .stderr(Stdio::null())
            .status();
    }
}

fn local(bed: &Bed, port: u16) -> (i32, Value) {
    let port = port.to_string();
    let (code, out, err) = ipdiag_in(&bed.server, &["local", "--port", &port, "--json"]);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, v)
}

fn state(bed: &Bed, port: u16) -> String {
    let target = format!("{PUBLIC}:{port}");
    let (_, out, err) = bed.ipdiag(&["probe", "-n", "--json", &target, "-w", "500ms"]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    v[0]["state"].as_str().unwrap_or_default().to_owned()
}

/// Published by an nft `dnat` rule (7890) and by iptables' DOCKER-style rule (7891), while
/// the input chain's policy drops: reachable, and `local` names the bypass; 7892 is
/// published for 127.0.0.1 only.
pub fn published_ports_bypass_the_input_chain() {
    let Some(bed) = Bed::new("publish_bypass", Setup::default()) else {
        return;
    };
    let mut servers = Servers::default();
    let _container = Container::start(&bed, &mut servers);
    nft(
        &bed.server,
        &format!(
            "table inet filter {{
                chain input {{
                    type filter hook input priority 0; policy drop;
                    ct state established,related accept
                    iifname \"lo\" accept
                }}
            }}
            table ip nat {{
                chain prerouting {{
                    type nat hook prerouting priority dstnat; policy accept;
                    tcp dport {} dnat to {CONTAINER}:80
                }}
            }}",
            ports::TCP_OPEN
        ),
    );
    let iptables = |args: &str| {
        let mut all = vec!["ip", "netns", "exec", &bed.server, "iptables-legacy"];
        all.extend(args.split_whitespace());
        run(&all);
    };
    iptables(&format!(
        "-t nat -A PREROUTING -p tcp -m tcp --dport {} -j DNAT --to-destination {CONTAINER}:80",
        ports::TCP_LOOPBACK_BIND
    ));
    iptables(&format!(
        "-t nat -A PREROUTING -d 127.0.0.1/32 -p tcp -m tcp --dport {} -j DNAT --to-destination {CONTAINER}:80",
        ports::TCP_NOTHING
    ));

    // From outside: the two published ports open (the container answers), the third not.
    assert_eq!(state(&bed, ports::TCP_OPEN), "open");
    assert_eq!(state(&bed, ports::TCP_LOOPBACK_BIND), "open");
    assert_ne!(state(&bed, ports::TCP_NOTHING), "open");

    let (code, v) = local(&bed, ports::TCP_OPEN);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["port"]["cause"], "container_publish_bypass", "{v}");
    let detail = v["port"]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with(&format!(
            "{0}/tcp is published by DNAT to {CONTAINER}:80 (ip nat prerouting: tcp dport {0} dnat to {CONTAINER}:80): such packets are forwarded to the container and never meet the input chain, so the rule that denies it does not apply (inet filter input: policy drop)",
            ports::TCP_OPEN
        )),
        "{detail}"
    );
    let (_, v) = local(&bed, ports::TCP_LOOPBACK_BIND);
    assert_eq!(v["port"]["cause"], "container_publish_bypass", "{v}");
    let detail = v["port"]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(&format!(
            "(-A PREROUTING -p tcp -m tcp --dport {} -j DNAT --to-destination {CONTAINER}:80)",
            ports::TCP_LOOPBACK_BIND
        )),
        "{detail}"
    );
    let (_, v) = local(&bed, ports::TCP_NOTHING);
    assert_eq!(v["port"]["cause"], "loopback_bind", "{v}");
    let detail = v["port"]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with(&format!(
            "{}/tcp is published on 127.0.0.1 only (DNAT to {CONTAINER}:80",
            ports::TCP_NOTHING
        )),
        "{detail}"
    );

    // Watched: the SYNs arrive from the client, and the verdict is the same.
    let port = ports::TCP_OPEN.to_string();
    let mut watch = Command::new("ip")
        .args(["netns", "exec", &bed.server, env!("CARGO_BIN_EXE_ipdiag")])
        .args(["local", "--port", &port, "--watch", "2s", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ipdiag local starts");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(watch.stderr.as_mut().expect("piped stderr")),
        &mut line,
    )
    .expect("the armed line");
    assert_eq!(line, format!("ipdiag: watching tcp/{port} for 2s\n"));
    assert_eq!(state(&bed, ports::TCP_OPEN), "open");
    let out = watch.wait_with_output().expect("the watch ends");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["verdict"]["cause"], "container_publish_bypass", "{v}");
    assert_eq!(v["arrivals"][0]["source"], CLIENT, "{v}");
    assert!(v["arrivals"][0]["syns"].as_u64() >= Some(1), "{v}");
    assert_eq!(v["firewall"]["verdict"], "drop", "{v}");
    assert_eq!(
        v["listener"],
        Value::Null,
        "nothing listens on the host: {v}"
    );
}
