//! Read-only: does this host's firewall drop or reject a port? From `nft -j list ruleset`,
//! or `iptables-save` where nft is not installed.
//!
//! The question is narrow on purpose: would a new connection (TCP) or datagram (UDP) to the
//! port, from anywhere, be stopped on the way in? So only the chains a packet for this host
//! passes are read: nftables base chains on the `input` hook (tables of family `ip`, `ip6` or
//! `inet`) and the iptables `filter` table's `INPUT` chain.
//!
//! Rules are read in order, as the kernel does, so `tcp dport 22 accept` before a `drop`
//! policy means 22 is open. A rule only counts when it surely applies: its matches are all
//! on the port, the transport, or a connection state that includes `new`. A rule that also
//! needs a source address, an interface or anything else unknown here (`ip saddr 10.0.0.0/8
//! tcp dport 3306 drop`) may or may not apply and is passed over, for an accept as for a drop.
//!
//! Jumps are not followed (keeping this simple): rules in a chain reached by `jump`/`goto`
//! are not read. A hit found after such a jump says so in its text, since the chain jumped
//! to may have accepted the packet first (firewalld and ufw keep their accepts there).

use crate::model::Transport;
use serde_json::Value;
use std::io;
use std::process::{Command, Output};

mod iptables;
mod nft;

pub use iptables::iptables_hits;
pub use nft::nft_hits;
use nft::{items, nft_hits_in, nft_input_chains};

/// What a rule does to the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Silently dropped: the client waits until it times out.
    Drop,
    /// Refused with an ICMP error or a TCP reset: the client fails at once.
    Reject,
}

/// A rule that stops the port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirewallHit {
    /// `nftables` or `iptables`.
    pub tool: &'static str,
    /// The rule in short, where it lives first: `inet host input: tcp dport 7890 drop`,
    /// `inet filter input: policy drop`, `-A INPUT -p tcp -m tcp --dport 7890 -j DROP`.
    pub rule: String,
    /// Drop or reject.
    pub verdict: Verdict,
    /// Jumps to other chains came first and were not followed (firewalld and ufw keep
    /// their accepts there): the packet may have been accepted before this rule.
    pub uncertain: bool,
}

/// The firewall's view of one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirewallView {
    /// The rules that drop or reject it, at most one per chain (the first that applies: the
    /// packet never reaches the rest). Empty: nothing here stops the port.
    Rules(Vec<FirewallHit>),
    /// Why the rules could not be read (not installed; without root, the tool's own error).
    Unavailable(String),
}

const NFT: &str = "nftables";
const IPTABLES: &str = "iptables";

/// Reads the rules (nftables first) and finds those stopping `port`. Runs the tools
/// read-only and changes nothing.
pub fn check(protocol: Transport, port: u16) -> FirewallView {
    match run("nft", &["-j", "list", "ruleset"]) {
        Ok(out) if out.status.success() => {
            let Ok(root) = serde_json::from_slice::<Value>(&out.stdout) else {
                return FirewallView::Unavailable(
                    "nft -j printed no JSON (nftables older than 0.9.1?)".into(),
                );
            };
            if nft_input_chains(items(&root)).next().is_some() {
                return FirewallView::Rules(nft_hits_in(&root, protocol, port));
            }
            // Nothing hooks input in nftables: the rules, if any, may be in legacy iptables.
            match iptables(protocol, port) {
                FirewallView::Rules(hits) => FirewallView::Rules(hits),
                FirewallView::Unavailable(_) => FirewallView::Rules(Vec::new()),
            }
        }
        Ok(out) => FirewallView::Unavailable(failure("nft", &out)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => match iptables(protocol, port) {
            FirewallView::Unavailable(why) if why.is_empty() => {
                FirewallView::Unavailable("neither nft nor iptables-save is installed".into())
            }
            view => view,
        },
        Err(e) => FirewallView::Unavailable(format!("nft: {e}")),
    }
}

/// `iptables-save`; `Unavailable("")` when it is not installed.
fn iptables(protocol: Transport, port: u16) -> FirewallView {
    match run("iptables-save", &[]) {
        Ok(out) if out.status.success() => FirewallView::Rules(iptables_hits(
            &String::from_utf8_lossy(&out.stdout),
            protocol,
            port,
        )),
        Ok(out) => FirewallView::Unavailable(failure("iptables-save", &out)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => FirewallView::Unavailable(String::new()),
        Err(e) => FirewallView::Unavailable(format!("iptables-save: {e}")),
    }
}

/// Runs a tool from `PATH`, then from the sbin directories (often not in a user's `PATH`).
fn run(tool: &str, args: &[&str]) -> io::Result<Output> {
    let mut last = Command::new(tool).args(args).output();
    for dir in ["/usr/sbin", "/sbin"] {
        match last {
            Err(ref e) if e.kind() == io::ErrorKind::NotFound => {
                last = Command::new(format!("{dir}/{tool}")).args(args).output();
            }
            _ => break,
        }
    }
    last
}

/// `tool: its stderr` on one line, or the exit status when it said nothing.
fn failure(tool: &str, out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        format!("{tool}: {}", out.status)
    } else {
        format!("{tool}: {}", lines.join("; "))
    }
}

/// The packet in question: a new connection or datagram to `port`, from anywhere.
#[derive(Debug, Clone, Copy)]
struct Packet {
    protocol: Transport,
    port: u16,
}

/// Whether a condition holds for the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holds {
    Yes,
    No,
    /// Depends on something not known here (the source, the interface, ...).
    Maybe,
}

impl Holds {
    fn from_bool(yes: bool) -> Self {
        if yes { Self::Yes } else { Self::No }
    }

    fn not(self) -> Self {
        match self {
            Self::Yes => Self::No,
            Self::No => Self::Yes,
            Self::Maybe => Self::Maybe,
        }
    }

    /// Both: `No` wins over `Maybe`, which wins over `Yes`.
    fn and(self, other: Self) -> Self {
        match (self, other) {
            (Self::No, _) | (_, Self::No) => Self::No,
            (Self::Maybe, _) | (_, Self::Maybe) => Self::Maybe,
            _ => Self::Yes,
        }
    }
}

/// What a rule ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ending {
    Accept,
    Stop(Verdict),
    /// `jump`/`goto` (or an iptables user chain): not followed.
    Jump(String),
    /// Back to the base chain's policy.
    Return,
    /// No verdict: a counter, a log, `continue`, an extension target such as LOG.
    Nothing,
}

/// How a chain ends for the packet.
enum Decision<T> {
    /// A rule accepts it: nothing in this chain stops it.
    Accept,
    /// This rule drops or rejects it.
    Stop(T, Verdict),
    /// No rule decides (or one returns): the chain's policy does.
    Policy,
}

/// The first rule that surely decides; `jumps` collects the jumps passed on the way. A rule
/// that only may apply decides nothing, whichever its verdict.
fn decide<T>(
    rules: impl IntoIterator<Item = (T, (Holds, Ending))>,
    jumps: &mut Vec<String>,
) -> Decision<T> {
    for (rule, (holds, ending)) in rules {
        match (holds, ending) {
            (Holds::Yes | Holds::Maybe, Ending::Jump(target)) => jumps.push(target),
            (Holds::No | Holds::Maybe, _) | (_, Ending::Nothing) => {}
            (Holds::Yes, Ending::Accept) => return Decision::Accept,
            (Holds::Yes, Ending::Return) => return Decision::Policy,
            (Holds::Yes, Ending::Stop(verdict)) => return Decision::Stop(rule, verdict),
        }
    }
    Decision::Policy
}

/// A hit, with the jumps passed on the way (which may have accepted the packet first).
fn hit(tool: &'static str, rule: String, verdict: Verdict, jumps: &[String]) -> FirewallHit {
    let rule = if jumps.is_empty() {
        rule
    } else {
        format!("{rule} (after jumps not followed: {})", jumps.join(", "))
    };
    FirewallHit {
        tool,
        rule,
        verdict,
        uncertain: !jumps.is_empty(),
    }
}

#[cfg(test)]
#[path = "firewall_tests.rs"]
mod tests;
