//! Every input committed for the fuzz targets, through the targets' own assertions, on every
//! `cargo test` (stable Rust, no libFuzzer): `fuzz/corpus/<target>/` (the seed corpora,
//! grown by fuzzing runs) and `fuzz/regressions/<target>/` (inputs that once crashed a
//! target: each stays a test here). The assertions are `fuzz/checks/<target>.rs`, shared
//! with the fuzz targets, so the two cannot drift apart. A proptest also runs them on
//! mutated corpus inputs, so each parser meets new input on every run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step fails the test"
)]

#[path = "../fuzz/checks/check_file.rs"]
mod check_file;
#[path = "../fuzz/checks/cidr.rs"]
mod cidr;
#[path = "../fuzz/checks/classify_item.rs"]
mod classify_item;
#[path = "../fuzz/checks/datagram.rs"]
mod datagram;
#[path = "../fuzz/checks/duration.rs"]
mod duration;
#[path = "../fuzz/checks/escaping.rs"]
mod escaping;
#[path = "../fuzz/checks/firewall.rs"]
mod firewall;
#[path = "../fuzz/checks/icmp_echo.rs"]
mod icmp_echo;
#[path = "../fuzz/checks/ipv4.rs"]
mod ipv4;
#[path = "../fuzz/checks/payload.rs"]
mod payload;
#[path = "../fuzz/checks/port_spec.rs"]
mod port_spec;
#[path = "../fuzz/checks/probe_target.rs"]
mod probe_target;
#[path = "../fuzz/checks/proc_net.rs"]
mod proc_net;
#[path = "../fuzz/checks/raw_packet.rs"]
mod raw_packet;
#[path = "../fuzz/checks/responder.rs"]
mod responder;
#[path = "../fuzz/checks/snmp.rs"]
mod snmp;
#[path = "../fuzz/checks/sock_diag.rs"]
mod sock_diag;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use std::path::{Path, PathBuf};

/// A fuzz target's assertions on one input.
type Check = fn(&[u8]);

/// Each fuzz target and its assertions.
const TARGETS: &[(&str, Check)] = &[
    ("check_file", check_file::run),
    ("cidr", cidr::run),
    ("classify_item", classify_item::run),
    ("datagram", datagram::run),
    ("duration", duration::run),
    ("escaping", escaping::run),
    ("firewall", firewall::run),
    ("icmp_echo", icmp_echo::run),
    ("ipv4", ipv4::run),
    ("payload", payload::run),
    ("port_spec", port_spec::run),
    ("probe_target", probe_target::run),
    ("proc_net", proc_net::run),
    ("raw_packet", raw_packet::run),
    ("responder", responder::run),
    ("snmp", snmp::run),
    ("sock_diag", sock_diag::run),
];

/// The files of `dir` (none when it does not exist), sorted; READMEs are not inputs.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    files
}

/// Each target's corpus files, listed once: 512 listings of a few hundred files took
/// three minutes under wine, where every `stat` is slow.
fn corpora() -> &'static [Vec<PathBuf>] {
    static CORPORA: std::sync::OnceLock<Vec<Vec<PathBuf>>> = std::sync::OnceLock::new();
    CORPORA.get_or_init(|| {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        TARGETS
            .iter()
            .map(|(name, _)| inputs(&corpus.join(name)))
            .collect()
    })
}

#[test]
fn every_committed_fuzz_input_passes_its_target() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut failures = Vec::new();
    for &(name, run) in TARGETS {
        let corpus = inputs(&fuzz.join("corpus").join(name));
        assert!(!corpus.is_empty(), "fuzz/corpus/{name}/ has no inputs");
        let regressions = inputs(&fuzz.join("regressions").join(name));
        for path in corpus.iter().chain(&regressions) {
            let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if std::panic::catch_unwind(|| run(&data)).is_err() {
                failures.push(path.display().to_string());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "inputs that fail their fuzz target: {failures:?}"
    );
}

#[test]
fn every_fuzz_target_is_replayed_here() {
    let listed =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/Cargo.toml"))
            .expect("fuzz/Cargo.toml");
    let bins: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|n| *n != "ipdiag-fuzz")
        .collect();
    let mut replayed: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
    let mut bins = bins;
    bins.sort_unstable();
    replayed.sort_unstable();
    assert_eq!(
        bins, replayed,
        "a fuzz target without a replay here (or the reverse)"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The fuzz targets' assertions on every `cargo test`, beyond the committed inputs: a
    /// corpus input of a target with some bytes overwritten, cut or extended (libFuzzer's
    /// commonest mutations), so each parser meets near-valid input it has not seen.
    #[test]
    fn every_fuzz_check_holds_on_mutated_corpus_inputs(
        target in 0..TARGETS.len(),
        pick in any::<Index>(),
        writes in vec((any::<Index>(), any::<u8>()), 0..8),
        cut in any::<Index>(),
        tail in vec(any::<u8>(), 0..16),
    ) {
        let (_, run) = TARGETS[target];
        let corpus = &corpora()[target];
        let mut data = corpus
            .get(pick.index(corpus.len().max(1)))
            .and_then(|p| std::fs::read(p).ok())
            .unwrap_or_default();
        if !data.is_empty() {
            for (at, byte) in &writes {
                let i = at.index(data.len());
                data[i] = *byte;
            }
            data.truncate(cut.index(data.len()) + 1);
        }
        data.extend_from_slice(&tail);
        run(&data);
    }
}
