//! The progress line of a sweep on a terminal (issue 21): ports a second, the time left,
//! and open/closed/filtered so far, on a 40-column and a 120-column pseudo-terminal (through
//! `script`, as `wait`'s progress test). Loopback only; `--rate` makes the sweep last about
//! a second so the line is redrawn with counts.

use super::probe::listening;
use super::pty::on_terminal;
use super::wait::without_escapes;

/// The progress lines `probe` drew on a `columns`-wide terminal (`None` without `script`).
fn progress_lines(columns: u16) -> Option<Vec<String>> {
    let command = format!(
        "{} probe 127.0.0.1 -p 1-1000 --rate 1000 --no-hints",
        env!("CARGO_BIN_EXE_ipdiag")
    );
    let text = without_escapes(&on_terminal(columns, &command)?);
    Some(
        text.split(['\r', '\n'])
            .filter(|l| l.contains("/1000 "))
            .map(str::to_owned)
            .collect(),
    )
}

/// The lines drawn once something had finished (the first is drawn before any port is).
fn with_counts(lines: &[String]) -> Vec<&String> {
    lines
        .iter()
        .filter(|l| !l.starts_with("0/") && !l.contains(" 0/1000") && !l.contains("ETA ?"))
        .collect()
}

#[test]
fn a_sweep_shows_rate_time_left_and_counts_on_120_columns() {
    let _guard = listening();
    let Some(lines) = progress_lines(120) else {
        return;
    };
    let drawn = with_counts(&lines);
    assert!(!drawn.is_empty(), "{lines:?}");
    for line in &drawn {
        assert!(line.chars().count() <= 120, "{line:?}");
        assert!(line.starts_with('['), "a bar: {line:?}");
        for part in [
            " ports · ",
            "/s · ETA ",
            " open, ",
            " closed, ",
            " filtered",
        ] {
            assert!(line.contains(part), "{part:?} in {line:?}");
        }
    }
}

#[test]
fn a_sweep_shows_rate_time_left_and_counts_on_40_columns() {
    let _guard = listening();
    let Some(lines) = progress_lines(40) else {
        return;
    };
    let drawn = with_counts(&lines);
    assert!(!drawn.is_empty(), "{lines:?}");
    for line in &drawn {
        assert!(line.chars().count() <= 40, "{line:?}");
        let words: Vec<&str> = line.split_whitespace().collect();
        // 500/1000 500/s ETA 1s 0o 500c 0f
        assert_eq!(words.len(), 7, "{line:?}");
        assert!(words[1].ends_with("/s") && words[2] == "ETA", "{line:?}");
        for (word, letter) in words[4..].iter().zip(['o', 'c', 'f']) {
            assert!(
                word.strip_suffix(letter)
                    .is_some_and(|n| n.parse::<u64>().is_ok()),
                "{word:?} in {line:?}"
            );
        }
    }
}
