//! Does this host's firewall let a port in, and from where? The ruleset is read from
//! `nft -j list ruleset` and `iptables-save` / `ip6tables-save` (legacy, or the `nf_tables`
//! variant whose rules read better in its own words) into one model (`model.rs`), and a
//! packet is walked through it the way the kernel does (`eval.rs`, `summary.rs`): every
//! base chain on the way in, by priority, jumps and gotos followed, policies applied.
//!
//! `evaluate(&Ruleset, &Packet) -> FirewallVerdict` is pure and is the API the two-sided
//! diagnosis builds on; `read` is the only I/O, and runs the tools read-only, from the
//! system's own directories (`/usr/sbin`, `/sbin`), never from `$PATH`: as root, a `nft`
//! earlier in a user's `PATH` would run with root's rights. `trace.rs` is the one writer:
//! a temporary trace table for `local --trace-firewall`, removed again.

mod counters;
mod eval;
mod iptables;
pub mod model;
mod nft;
mod nft_text;
mod owner;
mod publish;
mod summary;
pub mod trace;

pub use counters::{Counted, grown, snapshot};
pub use eval::{Packet, protocol_number};
pub use iptables::{nft_backed, read_save};
pub use model::{Backend, IpFamily, Ruleset};
pub use nft::read_nft;
pub use owner::{Owner, fix};
pub use publish::{Dnat, Published, published};
pub use summary::{Access, Allowance, FirewallVerdict, MayApply, RuleRef, Stop, evaluate};

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The rules as read, and from where.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    /// Every table's chains, one model.
    pub ruleset: Ruleset,
    /// What was read: `nft -j list ruleset`, `iptables-save (legacy)`, ...
    pub read_from: Vec<String>,
    /// The nat rules that publish ports by DNAT (Docker, Podman), which bypass the input
    /// chain.
    pub dnats: Vec<Dnat>,
}

/// The firewall as this run could see it.
#[derive(Debug, Clone)]
pub enum FirewallView {
    /// Read.
    Read(Reading),
    /// Why the rules could not be read (not installed; without root, the tool's own error).
    Unavailable(String),
}

/// Where the tools are. By default the system's own directories only.
#[derive(Debug, Clone)]
pub struct Tools {
    /// `nft`.
    pub nft: PathBuf,
    /// `iptables-save`.
    pub iptables_save: PathBuf,
    /// `ip6tables-save`.
    pub ip6tables_save: PathBuf,
    /// `iptables-legacy-save` and `ip6tables-legacy-save`: where `iptables` is the
    /// `nf_tables` variant, rules loaded by the legacy one still filter, unseen by it.
    pub legacy_saves: [PathBuf; 2],
}

impl Tools {
    /// `/usr/sbin/TOOL`, else `/sbin/TOOL`; `IPDIAG_NFT`, `IPDIAG_IPTABLES_SAVE` and
    /// `IPDIAG_IP6TABLES_SAVE` name others (an explicit choice, unlike `$PATH`).
    pub fn system() -> Self {
        let find = |tool: &str, variable: &str| {
            std::env::var_os(variable).map_or_else(
                || {
                    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
                        .iter()
                        .map(|dir| Path::new(dir).join(tool))
                        .find(|p| p.exists())
                        .unwrap_or_else(|| Path::new("/usr/sbin").join(tool))
                },
                PathBuf::from,
            )
        };
        Self {
            nft: find("nft", "IPDIAG_NFT"),
            iptables_save: find("iptables-save", "IPDIAG_IPTABLES_SAVE"),
            ip6tables_save: find("ip6tables-save", "IPDIAG_IP6TABLES_SAVE"),
            legacy_saves: [
                find("iptables-legacy-save", "IPDIAG_IPTABLES_LEGACY_SAVE"),
                find("ip6tables-legacy-save", "IPDIAG_IP6TABLES_LEGACY_SAVE"),
            ],
        }
    }
}

/// Reads every ruleset on the way in. Changes nothing.
pub fn read(tools: &Tools) -> FirewallView {
    let mut problems = Vec::new();
    let mut dnats = Vec::new();
    let nft = match run(&tools.nft, &["-j", "list", "ruleset"]) {
        Ok(text) => {
            dnats.extend(publish::nft_dnats(&text));
            let set = read_nft(&text);
            if set.is_none() {
                problems.push("nft -j printed no JSON (nftables older than 0.9.1?)".to_owned());
            }
            set
        }
        Err(why) => {
            problems.extend(why);
            None
        }
    };
    let mut saves: Vec<(String, Backend)> = Vec::new();
    for (path, backend) in [
        (&tools.iptables_save, Backend::Iptables),
        (&tools.ip6tables_save, Backend::Ip6tables),
    ] {
        match run(path, &[]) {
            Ok(text) => saves.push((text, backend)),
            Err(why) => problems.extend(why),
        }
    }
    // The legacy tools too (not installed is the usual case); where the ordinary ones are
    // the legacy ones, the same tables are not read twice.
    for (path, backend) in [
        (&tools.legacy_saves[0], Backend::Iptables),
        (&tools.legacy_saves[1], Backend::Ip6tables),
    ] {
        let rules = |t: &str| {
            t.lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>()
                .join("\n")
        };
        if let Ok(text) = run(path, &[])
            && !saves
                .iter()
                .any(|(t, b)| *b == backend && rules(t) == rules(&text))
        {
            saves.push((text, backend));
        }
    }
    if nft.is_none() && saves.is_empty() {
        return FirewallView::Unavailable(if problems.is_empty() {
            "neither nft nor iptables-save is installed".to_owned()
        } else {
            problems.join("; ")
        });
    }
    for (text, _) in &saves {
        dnats.extend(publish::save_dnats(text));
    }
    let mut reading = merge(nft, &saves);
    reading.dnats = dnats;
    FirewallView::Read(reading)
}

/// One model from nft's ruleset and the `*-save` texts. A legacy iptables' tables are
/// hooks of their own, added; an `nf_tables` iptables' tables are already in nft's ruleset,
/// where its extensions show as opaque `xt` expressions, so they are taken from its own
/// text instead (unless it calls a table incompatible: nft made it, nft's reading stands).
pub fn merge(nft: Option<Ruleset>, saves: &[(String, Backend)]) -> Reading {
    let mut reading = Reading::default();
    if let Some(set) = nft {
        reading.ruleset = set;
        reading.read_from.push("nft -j list ruleset".to_owned());
    }
    for (text, backend) in saves {
        let tool = if *backend == Backend::Ip6tables {
            "ip6tables-save"
        } else {
            "iptables-save"
        };
        let set = read_save(text, *backend);
        if set.chains.is_empty() || text.contains("incompatible") {
            continue;
        }
        if nft_backed(text) {
            let family = set.chains[0].family;
            let tables = iptables::tables(text);
            reading.ruleset.chains.retain(|c| {
                !(c.backend == Backend::Nftables && c.family == family && tables.contains(&c.table))
            });
            reading.read_from.push(format!("{tool} (nf_tables)"));
        } else {
            reading.read_from.push(format!("{tool} (legacy)"));
        }
        reading.ruleset.chains.extend(set.chains);
    }
    reading
}

/// A tool's standard output; `Err(None)` when it is not installed, `Err(Some(why))` when
/// it failed.
fn run(tool: &Path, args: &[&str]) -> Result<String, Option<String>> {
    let name = tool.file_name().map_or_else(
        || tool.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    match Command::new(tool).args(args).output() {
        Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        Ok(out) => Err(Some(failure(&name, &out))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(None),
        Err(e) => Err(Some(format!("{name}: {e}"))),
    }
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

#[cfg(test)]
#[path = "firewall_tests.rs"]
mod tests;
