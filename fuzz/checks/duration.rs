//! `ipdiag::plan::duration::parse_duration` on arbitrary text: never a panic (the value
//! goes through `Duration::from_secs_f64`, which panics on negative, NaN or huge input);
//! an accepted duration is at most 366 days, and written back in seconds it re-parses to
//! the same duration (within f64 precision).
//! Run: `cargo +nightly fuzz run duration -- -max_total_time=60`.

use ipdiag::plan::duration::parse_duration;
use std::time::Duration;

/// The target's assertions on one input.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_duration("--timeout", text) {
        Ok(d) => {
            assert!(
                d <= Duration::from_secs(86_400 * 366),
                "{text:?} gave {d:?}"
            );
            let seconds = format!("{}s", d.as_secs_f64());
            let again = parse_duration("--timeout", &seconds)
                .unwrap_or_else(|e| panic!("{text:?} = {d:?} written as {seconds:?}: {e}"));
            let diff = again.abs_diff(d);
            assert!(
                diff <= Duration::from_micros(1),
                "{text:?}: {d:?} vs {again:?}"
            );
        }
        Err(e) => {
            assert!(e.to_string().contains("--timeout"));
        }
    }
}
