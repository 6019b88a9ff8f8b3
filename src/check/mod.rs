//! `ipdiag check`: a file of endpoints with the states they must be in (CI reachability
//! checks). This module is pure: reading the file ([`config`]) and judging results against
//! it ([`expect`]); `app::check` does the probing and `output::check_*` the reports.

pub mod config;
mod duplicate;
pub mod expect;
pub(crate) mod fields;
pub mod outcome;
mod split;

pub use config::{Check, CheckFile, CheckTiming, ConfigError, parse_check_file, validate};
pub use expect::{Budget, Expect, Verdict, judge, most_reachable, reachability};
pub use outcome::{Outcome, Row, judge_check};
