//! The namespace suite's own test harness (libtest-mimic): before any test runs it checks
//! what the machine has — root, and each tool a test runs besides ipdiag — and reports a
//! test whose needs are not met as *ignored*, with the package to install, so cargo's
//! summary shows it ("39 ignored") instead of a test that passes while testing nothing.
//! With `IPDIAG_REQUIRE_NETNS=1` (CI) such a test fails with the same reason.
//!
//! It must not decide anything about ipdiag: it only runs the tests it is given.

use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::BTreeSet;
use std::process::{Command, Stdio};

/// Something a namespace test needs besides the ipdiag binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// Network namespaces, veth pairs, nftables rules: root (`CAP_SYS_ADMIN`, `CAP_NET_ADMIN`).
    Root,
    /// `ip` (netns, links, addresses, routes).
    Ip,
    /// `nft`: the edge's DNAT, security group and loss rules.
    Nft,
    /// `nmap`: the reference every state is compared with.
    Nmap,
    /// The system's `ping` (iputils), the reference for RTTs.
    Ping,
    /// `iptables` (nft-backed and legacy): rulesets as ufw, Docker and kube-proxy write them.
    Iptables,
    /// OpenSSH: `/usr/sbin/sshd` in a namespace, `ssh` and `ssh-keygen` on the client
    /// (`doctor --on-server "ssh …"`).
    Ssh,
    /// `prometheus`: a real server scraping `ipdiag exporter`.
    Prometheus,
}

impl Need {
    /// The command that shows the tool is there, and the Debian package that brings it.
    fn tool(self) -> Option<(&'static str, &'static [&'static str], &'static str)> {
        match self {
            Need::Root => None,
            Need::Ip => Some(("ip", &["-V"], "iproute2")),
            Need::Nft => Some(("nft", &["-v"], "nftables")),
            Need::Nmap => Some(("nmap", &["--version"], "nmap")),
            Need::Ping => Some(("ping", &["-V"], "iputils-ping")),
            Need::Iptables => Some(("iptables-legacy", &["-V"], "iptables")),
            Need::Ssh => Some((
                "sh",
                &[
                    "-c",
                    "test -x /usr/sbin/sshd && command -v ssh && command -v ssh-keygen",
                ],
                "openssh-server openssh-client",
            )),
            Need::Prometheus => Some(("prometheus", &["--version"], "prometheus")),
        }
    }

    /// Whether this machine meets the need.
    fn met(self) -> bool {
        match self.tool() {
            None => nix::unistd::geteuid().is_root(),
            Some((cmd, args, _)) => Command::new(cmd)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
        }
    }

    /// What to do about it, in words ("run as root", "apt-get install nftables").
    fn remedy(self) -> String {
        match self.tool() {
            None => "root".to_owned(),
            Some((_, _, package)) => package.to_owned(),
        }
    }
}

/// One namespace test: its name (`module::function`), its body and what it needs.
pub struct NsTest {
    pub name: &'static str,
    pub run: fn(),
    pub needs: &'static [Need],
}

/// Declares a namespace test: `ns_test!(cases::tcp_open, Root, Ip, Nft, Nmap)`.
#[macro_export]
macro_rules! ns_test {
    ($($path:ident)::+ $(, $need:ident)* $(,)?) => {
        $crate::harness::NsTest {
            name: concat!($(stringify!($path), "::"),+),
            run: $($path)::+,
            needs: &[$($crate::harness::Need::$need),*],
        }
    };
}

/// Runs `tests` as cargo's own harness would (filters, `--list`, `--nocapture`, threads),
/// after checking every need once.
pub fn main(tests: &[NsTest]) -> ! {
    let args = Arguments::from_args();
    let required = std::env::var("IPDIAG_REQUIRE_NETNS").as_deref() == Ok("1");
    let all: BTreeSet<Need> = tests.iter().flat_map(|t| t.needs.iter().copied()).collect();
    let unmet: BTreeSet<Need> = all.into_iter().filter(|n| !n.met()).collect();
    let mut ignored = Vec::new();
    let trials = tests
        .iter()
        .map(|t| {
            let name = t.name.trim_end_matches("::").to_owned();
            let missing: Vec<String> = t
                .needs
                .iter()
                .filter(|n| unmet.contains(n))
                .map(|n| n.remedy())
                .collect();
            if missing.is_empty() {
                let run = t.run;
                return Trial::test(name, move || {
                    run();
                    Ok(())
                });
            }
            let why = format!("needs {}", missing.join(", "));
            ignored.push(name.clone());
            let reason = format!("{why} (IPDIAG_REQUIRE_NETNS=1 forbids skipping it)");
            Trial::test(name, move || Err(Failed::from(reason)))
                .with_ignored_flag(!required)
                .with_kind(why)
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    // The count of this run (a filter leaves some out), as cargo's own line gives it.
    if !ignored.is_empty() && !required && !args.list && conclusion.num_ignored > 0 {
        summarise(&unmet, conclusion.num_ignored);
    }
    conclusion.exit()
}

/// The lines after cargo's summary: how many were ignored and what brings them back.
fn summarise(unmet: &BTreeSet<Need>, count: u64) {
    let packages: Vec<String> = unmet
        .iter()
        .filter(|n| n.tool().is_some())
        .map(|n| n.remedy())
        .collect();
    println!("namespace tests ignored: {count} (marked [needs …] above)");
    if unmet.contains(&Need::Root) {
        println!("  they build network namespaces: run `cargo test` as root");
    }
    if !packages.is_empty() {
        println!("  to run them: apt-get install {}", packages.join(" "));
    }
    println!();
}
