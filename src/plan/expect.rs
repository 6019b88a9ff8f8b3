//! `probe --expect`: the states a run's ports may end in for exit status 0.
//!
//! By default only `open` is as expected, so a sweep of a thousand ports where most are
//! closed exits 1 (nmap exits 0 after any completed scan). `--expect open,closed` or
//! `--expect any` lets a sweep's exit status mean "as expected". Pure parsing and judging;
//! nothing here probes or prints.

use crate::error::{InputError, Problem};
use crate::model::State;

/// The states a run's ports may end in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected(Vec<State>);

impl Default for Expected {
    /// Every port open.
    fn default() -> Self {
        Self(vec![State::Open])
    }
}

impl Expected {
    /// `open`, `open,closed`, `any` (every state but `error`: each port got an answer or a
    /// silence, none failed to be probed).
    pub fn parse(text: &str) -> Result<Self, InputError> {
        let mut states = Vec::new();
        for word in text.split(',') {
            let word = word.trim();
            if word.is_empty() {
                return Err(InputError::new("--expect", text, Problem::EmptyItem));
            }
            if word.eq_ignore_ascii_case("any") {
                states.extend([
                    State::Open,
                    State::Closed,
                    State::Filtered,
                    State::OpenFiltered,
                ]);
                continue;
            }
            let state = State::parse(word).ok_or_else(|| {
                InputError::new("--expect", text, Problem::UnknownState(word.into()))
            })?;
            states.push(state);
        }
        states.sort_unstable_by_key(|s| s.as_str());
        states.dedup();
        Ok(Self(states))
    }

    /// The states in words, as `--expect` takes them (`open`, `closed,open`).
    pub fn words(&self) -> String {
        let words: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        words.join(",")
    }

    /// Whether `state` is one of the expected states.
    pub fn allows(&self, state: State) -> bool {
        self.0.contains(&state)
    }

    /// Whether every port of a run is as expected (a run that probed nothing is not).
    pub fn holds(&self, states: impl IntoIterator<Item = State>) -> bool {
        let mut any = false;
        for state in states {
            if !self.0.contains(&state) {
                return false;
            }
            any = true;
        }
        any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::{Closed, Error, Filtered, Open, OpenFiltered};

    #[test]
    fn parses_lists_and_any() {
        assert_eq!(Expected::parse("open").unwrap(), Expected::default());
        let both = Expected::parse("closed,open").unwrap();
        assert!(both.holds([Open, Closed, Closed]));
        assert!(!both.holds([Open, Filtered]));
        let any = Expected::parse("any").unwrap();
        assert!(any.holds([Open, Closed, Filtered, OpenFiltered]));
        assert!(
            !any.holds([Open, Error]),
            "any is every answer, not a failed probe"
        );
        assert!(Expected::parse("any,error").unwrap().holds([Error]));
        assert!(
            Expected::parse("open|filtered")
                .unwrap()
                .holds([OpenFiltered])
        );
        assert!(!Expected::default().holds([]), "nothing probed");
    }

    #[test]
    fn names_the_bad_word() {
        let e = |t| Expected::parse(t).unwrap_err().to_string();
        assert_eq!(
            e("open,up"),
            "invalid --expect 'open,up': unknown state 'up' (open, closed, filtered, open|filtered, error, or any)"
        );
        assert_eq!(
            e("open,"),
            "invalid --expect 'open,': an empty item in the list (two commas, or one at an end)"
        );
    }
}
