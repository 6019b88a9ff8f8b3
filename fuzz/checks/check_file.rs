//! The check file reader (`ipdiag::check::config::parse_check_file`, which takes the file's
//! text) on arbitrary text: never a panic; an accepted file has at least one check, unique
//! names, a port (never 0) for every check, a timeout above zero, a count of at least one,
//! and budgets only on checks expecting open or reachable; an error points at a line and
//! column inside the text and is one line long.
//! Run: `cargo +nightly fuzz run check_file -- -max_total_time=60`.

use ipdiag::check::config::parse_check_file;
use std::collections::HashSet;

/// The target's assertions on one input.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.matches('\n').count() + 1;
    match parse_check_file(text) {
        Ok(file) => {
            assert!(
                !file.checks.is_empty(),
                "a file without checks was accepted"
            );
            let mut names = HashSet::new();
            for check in &file.checks {
                assert!(
                    names.insert(check.name.as_str()),
                    "duplicate {:?}",
                    check.name
                );
                assert!(!check.name.trim().is_empty());
                assert!((1..=lines).contains(&check.line), "line {}", check.line);
                let ports = check.target.ports.as_ref().expect("every check has ports");
                assert!(!ports.is_empty() && ports.iter().all(|p| !p.ports.is_empty()));
                assert!(ports.iter().all(|p| p.ports.ports().all(|port| port != 0)));
                assert!(!check.timing.timeout.is_zero());
                assert!(check.timing.count >= 1);
                if let Some(loss) = check.budget.max_loss_pct {
                    assert!((0.0..=100.0).contains(&loss), "loss {loss}");
                }
                if let Some(rtt) = check.budget.max_rtt_ms {
                    assert!(rtt > 0.0 && rtt.is_finite(), "rtt {rtt}");
                }
                if check.budget.max_loss_pct.is_some() || check.budget.max_rtt_ms.is_some() {
                    assert!(
                        check.expect.budget_refusal().is_none(),
                        "a budget on {}",
                        check.expect
                    );
                }
            }
        }
        Err(e) => {
            assert!((1..=lines).contains(&e.line), "{e:?} in {lines} lines");
            assert!(e.column >= 1, "{e:?}");
            assert!(!e.message.contains('\n') && !e.message.is_empty(), "{e:?}");
        }
    }
}
