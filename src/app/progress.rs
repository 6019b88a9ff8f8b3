//! The progress line of a probe run on a terminal: ports done of all, ports a second, the
//! time left, and what was found so far (`1500/3000 · 2,140/s · ETA 1s · 3 open, 1497
//! closed, 0 filtered`), with a bar where the terminal is wide enough. A run the host's ICMP
//! ration slows (a UDP sweep) shows the line even when it is short, with why it is slow.
//!
//! Redrawn only from the consumer (a result, or the consumer's idle tick), never by a
//! ticker thread, as `checking::waiting_line` explains; at most five times a second, so a
//! 65,535-port loopback sweep formats a few dozen lines, not a line per port. `line` is a
//! pure function of the counts and the width, tested at 40 and 120 columns.

use crate::model::State;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::{Duration, Instant};

/// Runs with more endpoints than this show the line from the start (on a terminal).
pub(super) const PROGRESS_OVER: usize = 100;

/// The shortest time between two redraws.
const REDRAW: Duration = Duration::from_millis(200);

/// The time left is shown once this many ports are done.
const ESTIMATE_AFTER: u64 = 10;

/// Width of the bar drawn where the terminal has room for it (`[#####.....] `).
const BAR: usize = 20;

/// What a run found so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tally {
    pub(super) done: u64,
    pub(super) total: u64,
    pub(super) open: u64,
    pub(super) closed: u64,
    /// `filtered` and `open|filtered`: no answer either way.
    pub(super) filtered: u64,
}

impl Tally {
    fn add(&mut self, state: State) {
        self.done += 1;
        match state {
            State::Open => self.open += 1,
            State::Closed => self.closed += 1,
            State::Filtered | State::OpenFiltered => self.filtered += 1,
            State::Error => {}
        }
    }
}

/// The progress of one probe run: hidden off a terminal, with `-q`, or with live lines.
pub(super) struct Progress {
    /// Whether a line may be shown at all.
    visible: bool,
    bar: Option<ProgressBar>,
    tally: Tally,
    start: Instant,
    drawn: Option<Instant>,
    /// Why the run is slow, once known (the ICMP ration).
    slow: Option<String>,
}

impl Progress {
    /// A run of `total` endpoints; `visible` when stderr is a terminal and nothing else
    /// writes there line by line.
    pub(super) fn new(total: usize, visible: bool) -> Self {
        let mut progress = Self {
            visible,
            bar: None,
            tally: Tally {
                total: total as u64,
                ..Tally::default()
            },
            start: Instant::now(),
            drawn: None,
            slow: None,
        };
        if total > PROGRESS_OVER {
            progress.show();
        }
        progress
    }

    fn show(&mut self) {
        if self.visible && self.bar.is_none() {
            let bar =
                ProgressBar::with_draw_target(Some(self.tally.total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            self.bar = Some(bar);
            self.draw();
        }
    }

    /// One endpoint finished in `state`.
    pub(super) fn done(&mut self, state: State) {
        self.tally.add(state);
        self.tick();
    }

    /// The run is slow for this reason (said on the line); the line shows from now on, also
    /// for a run too short to have one otherwise.
    pub(super) fn slow(&mut self, why: &str) {
        self.slow = Some(why.to_owned());
        self.show();
    }

    /// Redraws when the last drawing is old enough (the time left moves while nothing ends).
    pub(super) fn tick(&mut self) {
        if self.bar.is_some() && self.drawn.is_none_or(|at| at.elapsed() >= REDRAW) {
            self.draw();
        }
    }

    fn draw(&mut self) {
        let Some(bar) = &self.bar else {
            return;
        };
        let width = usize::from(console_width());
        bar.set_position(self.tally.done);
        bar.set_message(line(
            &self.tally,
            self.start.elapsed(),
            self.slow.as_deref(),
            width,
        ));
        self.drawn = Some(Instant::now());
    }

    /// Runs `f` with the line out of the way (for a note on stderr).
    pub(super) fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    /// Removes the line.
    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The terminal's width in columns (80 when it cannot be told).
fn console_width() -> u16 {
    crossterm::terminal::size().map_or(80, |(columns, _)| columns)
}

/// The line for `tally` after `elapsed`, cut to `width` columns. Wide terminals get a bar
/// and words; narrow ones the same numbers in short (`1500/3000 2140/s ETA 1s 3o 1497c 0f`).
pub(super) fn line(tally: &Tally, elapsed: Duration, slow: Option<&str>, width: usize) -> String {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        count(tally.done) / seconds
    } else {
        0.0
    };
    let left = tally.total.saturating_sub(tally.done);
    // Too few ports done to tell a rate from the start-up.
    let eta = if tally.done < ESTIMATE_AFTER || rate <= 0.0 {
        "?".to_owned()
    } else {
        duration_text(count(left) / rate)
    };
    let rate = format!("{rate:.0}/s");
    let words = |why: Option<&str>| {
        format!(
            "{}/{} ports · {rate} · ETA {eta} · {} open, {} closed, {} filtered{}",
            tally.done,
            tally.total,
            tally.open,
            tally.closed,
            tally.filtered,
            why.map_or_else(String::new, |why| format!(" · slow: {why}"))
        )
    };
    let wide = words(slow);
    let short = words(slow.map(|_| "ICMP ration"));
    let text = if width > wide.chars().count() + BAR + 1 {
        format!("{} {wide}", bar_text(tally))
    } else if width > wide.chars().count() {
        wide
    } else if width > short.chars().count() {
        short
    } else {
        format!(
            "{}/{} {rate} ETA {eta} {}o {}c {}f{}",
            tally.done,
            tally.total,
            tally.open,
            tally.closed,
            tally.filtered,
            if slow.is_some() { " slow:ICMP" } else { "" }
        )
    };
    text.chars().take(width.saturating_sub(1).max(1)).collect()
}

/// A count as a float (exact to 2^32, far beyond any run's port count).
fn count(n: u64) -> f64 {
    f64::from(u32::try_from(n).unwrap_or(u32::MAX))
}

/// `[#######.............]`
fn bar_text(tally: &Tally) -> String {
    let filled = (tally.done.min(tally.total) * BAR as u64)
        .checked_div(tally.total)
        .map_or(0, |n| usize::try_from(n).unwrap_or(BAR));
    format!("[{}{}]", "#".repeat(filled), ".".repeat(BAR - filled))
}

/// `45s`, `3m20s`, `2h05m`.
fn duration_text(seconds: f64) -> String {
    let s = Duration::try_from_secs_f64(seconds.ceil()).map_or(0, |d| d.as_secs());
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally() -> Tally {
        Tally {
            done: 1500,
            total: 3000,
            open: 3,
            closed: 1490,
            filtered: 7,
        }
    }

    #[test]
    fn wide_terminals_get_a_bar_and_words() {
        assert_eq!(
            line(&tally(), Duration::from_secs(2), None, 120),
            "[##########..........] 1500/3000 ports · 750/s · ETA 2s · 3 open, 1490 closed, 7 filtered"
        );
    }

    #[test]
    fn narrow_terminals_get_the_same_numbers_in_short() {
        let text = line(&tally(), Duration::from_secs(2), None, 40);
        assert_eq!(text, "1500/3000 750/s ETA 2s 3o 1490c 7f");
        assert!(text.chars().count() < 40);
    }

    #[test]
    fn a_slow_run_says_why() {
        let slow = Tally {
            done: 11,
            total: 22,
            open: 0,
            closed: 11,
            filtered: 0,
        };
        let why = Some("the host rations ICMP (a port a second)");
        let at = Duration::from_secs(11);
        assert_eq!(
            line(&slow, at, why, 120),
            "11/22 ports · 1/s · ETA 11s · 0 open, 11 closed, 0 filtered · slow: the host rations ICMP (a port a second)",
            "no room for the bar: the words stay whole"
        );
        assert_eq!(
            line(&slow, at, why, 80),
            "11/22 ports · 1/s · ETA 11s · 0 open, 11 closed, 0 filtered · slow: ICMP ration",
            "no room for the reason: it is named in short"
        );
        assert_eq!(
            line(&slow, at, why, 40),
            "11/22 1/s ETA 11s 0o 11c 0f slow:ICMP"
        );
    }

    #[test]
    fn time_left_reads_in_minutes_and_hours() {
        assert_eq!(duration_text(59.2), "1m00s");
        assert_eq!(duration_text(200.0), "3m20s");
        assert_eq!(duration_text(7500.0), "2h05m");
        let start = Tally {
            total: 10,
            ..Tally::default()
        };
        assert!(line(&start, Duration::ZERO, None, 120).contains("ETA ?"));
    }
}
