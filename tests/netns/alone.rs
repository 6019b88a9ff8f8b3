//! A client namespace on its own: only `lo` up (no route anywhere), optionally a LAN
//! (`c0` 172.16.0.2/24, its peer in a second namespace with no address, so nothing
//! answers ARP), and a hosts file of its own (`/etc/netns/NS/hosts`, which `ip netns exec`
//! mounts over /etc/hosts). Deleted on drop, hosts file included.

use crate::bed::{ip, ipdiag_in, may_build, run, sysctl};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The client's address on the LAN of [`Lone::with_lan`].
pub const LAN_CLIENT: &str = "172.16.0.2";

pub struct Lone {
    pub ns: String,
    /// The LAN's other end (`with_lan`).
    peer: Option<String>,
}

impl Lone {
    /// A namespace with only `lo` up, or `None` (the reason printed) when this machine
    /// cannot make namespaces.
    pub fn new(test: &str) -> Option<Lone> {
        if !may_build(test) {
            return None;
        }
        // `ipdc-PID-…`: the prefix the stale-namespace sweep knows.
        let id = format!(
            "{}-lone{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let lone = Lone {
            ns: format!("ipdc-{id}"),
            peer: None,
        };
        run(&["ip", "netns", "add", &lone.ns]);
        ip(&lone.ns, "link set lo up");
        Some(lone)
    }

    /// Adds a LAN 172.16.0.0/24 on `c0` where nothing answers ARP; the kernel gives up on
    /// a neighbour after 3 probes 100 ms apart (instead of 1 s).
    pub fn with_lan(mut self) -> Self {
        let peer = self.ns.replacen("ipdc-", "ipds-", 1);
        run(&["ip", "netns", "add", &peer]);
        self.peer = Some(peer.clone());
        run(&[
            "ip", "link", "add", "c0", "netns", &self.ns, "type", "veth", "peer", "name", "p0",
            "netns", &peer,
        ]);
        ip(&self.ns, &format!("addr add {LAN_CLIENT}/24 dev c0"));
        ip(&self.ns, "link set c0 up");
        ip(&peer, "link set p0 up");
        sysctl(
            &self.ns,
            &[
                "net.ipv4.neigh.c0.retrans_time_ms=100",
                "net.ipv4.neigh.c0.mcast_solicit=3",
            ],
        );
        self
    }

    /// Gives the namespace a hosts file of its own.
    pub fn hosts(&self, lines: &str) {
        self.etc("hosts", lines);
    }

    /// Gives the namespace a file of its own in place of /etc/NAME (`resolv.conf`).
    pub fn etc(&self, name: &str, text: &str) {
        let dir = format!("/etc/netns/{}", self.ns);
        std::fs::create_dir_all(&dir).expect("/etc/netns/NS is writable as root");
        std::fs::write(format!("{dir}/{name}"), text).expect("the file is written");
    }

    /// Runs ipdiag here; returns (exit code, stdout, stderr).
    pub fn ipdiag(&self, args: &[&str]) -> (i32, String, String) {
        ipdiag_in(&self.ns, args)
    }

    /// Starts ipdiag here with its output piped.
    pub fn spawn(&self, args: &[&str]) -> Child {
        Command::new("ip")
            .args(["netns", "exec", &self.ns, env!("CARGO_BIN_EXE_ipdiag")])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ipdiag starts")
    }
}

impl Drop for Lone {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(format!("/etc/netns/{}", self.ns));
        for ns in std::iter::once(&self.ns).chain(self.peer.as_ref()) {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Sends SIGINT to `child` and polls (every 10 ms, 1 s at most) until it has exited;
/// returns its exit code, or `None` if it still runs (then it is killed).
pub fn interrupt(child: &mut Child) -> Option<i32> {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("the signal is sent");
    for _ in 0..100 {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status.code().unwrap_or(-1));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}
