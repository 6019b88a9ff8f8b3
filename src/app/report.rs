//! Reports bad lines of a stream on stderr without flooding it: the first hundred are
//! shown, the rest counted, and a summary closes the run (ripgrep's report-and-continue).

use crate::error::{EXIT_FAILURE, EXIT_OK};
use std::fmt;
use std::io::{self, Write};

const SHOWN: u64 = 100;

/// Counts and prints per-item failures.
#[derive(Debug, Default)]
pub struct Reporter {
    failures: u64,
}

impl Reporter {
    /// Reports one failure (printed if it is among the first hundred).
    pub fn failure(&mut self, err: &mut dyn Write, message: fmt::Arguments<'_>) -> io::Result<()> {
        self.failures += 1;
        if self.failures <= SHOWN {
            writeln!(err, "ipdiag: error: {message}")?;
        }
        if self.failures == SHOWN + 1 {
            writeln!(
                err,
                "ipdiag: more errors follow; they are counted, not shown"
            )?;
        }
        Ok(())
    }

    /// Prints the summary and returns the exit code: 0 without failures, 1 with.
    pub fn finish(&self, err: &mut dyn Write) -> io::Result<u8> {
        if self.failures > SHOWN {
            writeln!(
                err,
                "ipdiag: {} items could not be classified",
                self.failures
            )?;
        }
        Ok(if self.failures == 0 {
            EXIT_OK
        } else {
            EXIT_FAILURE
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_the_messages_and_summarises() {
        let mut err = Vec::new();
        let mut reporter = Reporter::default();
        for i in 0..150 {
            reporter.failure(&mut err, format_args!("bad {i}")).unwrap();
        }
        assert_eq!(reporter.finish(&mut err).unwrap(), EXIT_FAILURE);
        let text = String::from_utf8(err).unwrap();
        assert_eq!(text.lines().count(), 102);
        assert!(text.ends_with("ipdiag: 150 items could not be classified\n"));
        assert_eq!(
            Reporter::default().finish(&mut Vec::new()).unwrap(),
            EXIT_OK
        );
    }
}
