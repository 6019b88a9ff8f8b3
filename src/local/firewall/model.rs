//! The ruleset model the evaluator walks: chains, rules, matches and actions, as the
//! readers (`nft.rs`, `iptables.rs`) build them from what the tools print.
//!
//! Data only: no parsing of tool output and no evaluation here. Every rule keeps the text
//! the tool prints for it, so a verdict can quote the rule the user would find.

use ipnet::IpNet;
use serde::Serialize;

/// Which tool's rules these are (and so whose words a fix uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// `nft list ruleset`.
    Nftables,
    /// `iptables-save` (IPv4).
    Iptables,
    /// `ip6tables-save` (IPv6).
    Ip6tables,
}

impl Backend {
    /// The tool's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Nftables => "nftables",
            Self::Iptables => "iptables",
            Self::Ip6tables => "ip6tables",
        }
    }
}

/// The address family of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IpFamily {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

/// The families a table (or an iptables tool) applies to: `inet` is both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFamily {
    /// `ip`, `iptables`.
    Ip,
    /// `ip6`, `ip6tables`.
    Ip6,
    /// `inet`: both.
    Inet,
}

impl TableFamily {
    /// Whether packets of `family` pass this table.
    pub const fn covers(self, family: IpFamily) -> bool {
        matches!(
            (self, family),
            (Self::Inet, _) | (Self::Ip, IpFamily::V4) | (Self::Ip6, IpFamily::V6)
        )
    }

    /// nft's word.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Ip6 => "ip6",
            Self::Inet => "inet",
        }
    }
}

/// The hooks on the way in to a local socket, in the order a packet meets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Hook {
    /// Before routing (iptables `PREROUTING` of `raw` and `mangle`).
    Prerouting,
    /// Routed to this host (iptables `INPUT`).
    Input,
}

/// What a base chain does with a packet no rule decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Passes on (to the next base chain, then the socket).
    Accept,
    /// Dropped.
    Drop,
}

/// Where a chain is attached, when it is a base chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Base {
    /// The hook.
    pub hook: Hook,
    /// Lower runs first (nft's `priority`; iptables' tables have fixed ones).
    pub priority: i32,
    /// Its policy.
    pub policy: Policy,
}

/// A chain and its rules in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    /// Whose chain.
    pub backend: Backend,
    /// The table's family.
    pub family: TableFamily,
    /// The table (`filter`, `firewalld`, ...).
    pub table: String,
    /// The chain's name.
    pub name: String,
    /// Set for base chains on the way in; `None` for chains reached only by jumps.
    pub base: Option<Base>,
    /// Its rules, in order.
    pub rules: Vec<Rule>,
}

/// A whole ruleset: every chain of every table (base chains on other hooks are left out by
/// the readers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ruleset {
    /// The chains.
    pub chains: Vec<Chain>,
}

impl Ruleset {
    /// The chain called `name` in the same table as `from` (jumps never leave a table).
    pub fn find(&self, from: usize, name: &str) -> Option<usize> {
        let here = self.chains.get(from)?;
        self.chains.iter().position(|c| {
            c.name == name
                && c.table == here.table
                && c.family == here.family
                && c.backend == here.backend
        })
    }
}

/// One rule: all its matches must hold for its action to happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The rule as the tool prints it.
    pub text: String,
    /// Its conditions.
    pub matches: Vec<Match>,
    /// What it does when they hold.
    pub action: Action,
    /// Its comment (`-m comment`, nft's `comment`): it names the owner, never the verdict.
    pub comment: Option<String>,
}

/// Port ranges (inclusive), and whether some element could not be read (a service name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ports {
    /// The ranges.
    pub ranges: Vec<(u16, u16)>,
    /// An element ipdiag cannot read.
    pub unknown: bool,
}

/// One condition of a rule. `negated` is `!=` / `!`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The IP protocol number is one of these.
    Protocol {
        /// `!=`.
        negated: bool,
        /// IANA protocol numbers (6 TCP, 17 UDP, ...).
        numbers: Vec<u8>,
    },
    /// The destination port.
    DestinationPort {
        /// `!=`.
        negated: bool,
        /// The ports.
        ports: Ports,
    },
    /// The source address is in one of these networks.
    Source {
        /// `!=`.
        negated: bool,
        /// The networks (a single address is a /32 or /128).
        nets: Vec<IpNet>,
    },
    /// The destination address is in one of these networks.
    Destination {
        /// `!=`.
        negated: bool,
        /// The networks.
        nets: Vec<IpNet>,
    },
    /// The input interface's name is one of these (a trailing `*` is a prefix).
    InInterface {
        /// `!=`.
        negated: bool,
        /// The names.
        names: Vec<String>,
    },
    /// The connection-tracking state is one of these (`new`, `established`, ...).
    CtState {
        /// `!=`.
        negated: bool,
        /// Lowercase states.
        states: Vec<String>,
    },
    /// The packet is of this family (`meta nfproto ipv4`, `ip saddr` in an `inet` table).
    Family(IpFamily),
    /// Something that never holds for a new connection to a local unicast address
    /// (`ct status dnat`, `addrtype BROADCAST`), or always does (`fib ... missing` read as
    /// the packet arriving where its route points): the reader decides which.
    Known(bool),
    /// A match ipdiag does not evaluate: the rule *may* apply. The text names it.
    Unknown(String),
}

/// What a rule does when its matches hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing that decides (a counter, a log, a mark): the next rule follows.
    Continue,
    /// Accepted by this base chain (the next base chain still sees the packet).
    Accept,
    /// Dropped silently.
    Drop,
    /// Refused (ICMP error or TCP reset).
    Reject,
    /// Into a chain, and back here when it returns.
    Jump(String),
    /// Into a chain, and back to this chain's caller when it returns.
    Goto(String),
    /// Back to the caller (at a base chain: its policy).
    Return,
    /// A verdict map: the first entry whose match holds gives the action; none, `Continue`.
    Map(Vec<(Vec<Match>, Action)>),
    /// An action ipdiag does not know (`queue`, a target of an extension): it may decide.
    Unknown(String),
}
