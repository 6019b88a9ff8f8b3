//! A line reader for streams of millions of lines, with bounded memory.
//!
//! `BufRead::read_line` grows its buffer to the longest line, so one 2 GB line without a
//! newline would take 2 GB. This reader keeps one fixed buffer, hands out lines as borrowed
//! slices (no copy, no allocation per line), and reports an over-long line as
//! [`Line::TooLong`] after skipping to its end, so the stream goes on.
//!
//! Newlines are found for a whole buffer at once (one SIMD pass), not once per line: lines
//! of 10-20 bytes would otherwise pay `memchr`'s call and set-up every time.

use memchr::{memchr, memchr_iter};
use std::io::{self, Read};
use std::ops::Range;

/// The longest line ipdiag accepts in an input file (longer lines are reported, skipped).
pub const MAX_LINE: usize = 4096;

const BUFFER: usize = 256 * 1024;

/// One line of input.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// The line without its `\n` or `\r\n`.
    Text(&'a [u8]),
    /// A line longer than the limit; it was skipped.
    TooLong,
}

/// What [`LineReader::next_range`] found.
enum Next {
    End,
    TooLong,
    Line(Range<usize>),
}

/// Reads lines from any reader (see the module docs).
pub struct LineReader<R> {
    reader: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    max: usize,
    /// Positions of the newlines in `buf[start..scanned]`, not yet handed out.
    newlines: Vec<usize>,
    /// The next entry of `newlines` to use.
    next_newline: usize,
    /// How far `buf` has been searched for newlines.
    scanned: usize,
}

impl<R: Read> LineReader<R> {
    /// A reader that accepts lines of at most `max` bytes.
    pub fn new(reader: R, max: usize) -> Self {
        let size = BUFFER.max(max.saturating_mul(2).saturating_add(2));
        Self {
            reader,
            buf: vec![0; size],
            start: 0,
            end: 0,
            eof: false,
            max,
            newlines: Vec::new(),
            next_newline: 0,
            scanned: 0,
        }
    }

    /// The next line, or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        Ok(match self.next_range()? {
            Next::End => None,
            Next::TooLong => Some(Line::TooLong),
            Next::Line(range) => {
                let line = &self.buf[range];
                Some(Line::Text(line.strip_suffix(b"\r").unwrap_or(line)))
            }
        })
    }

    /// Finds the next line's bytes in the buffer (indices, so the borrow ends here).
    fn next_range(&mut self) -> io::Result<Next> {
        loop {
            if self.next_newline == self.newlines.len() && self.scanned < self.end {
                self.newlines.clear();
                self.next_newline = 0;
                let from = self.scanned;
                let found = memchr_iter(b'\n', &self.buf[from..self.end]).map(|i| from + i);
                self.newlines.extend(found);
                self.scanned = self.end;
            }
            if let Some(&newline) = self.newlines.get(self.next_newline) {
                self.next_newline += 1;
                let range = self.start..newline;
                self.start = newline + 1;
                return Ok(if range.len() <= self.max {
                    Next::Line(range)
                } else {
                    Next::TooLong
                });
            }
            let pending = self.end - self.start;
            if self.eof {
                let range = self.start..self.end;
                self.start = self.end;
                return Ok(match pending {
                    0 => Next::End,
                    n if n <= self.max => Next::Line(range),
                    _ => Next::TooLong,
                });
            }
            if pending > self.max {
                self.skip_rest_of_line()?;
                return Ok(Next::TooLong);
            }
            self.fill()?;
        }
    }

    /// Moves the unread bytes to the front and reads more after them.
    /// Only called when every known newline has been handed out, so the unread bytes hold
    /// none and need not be searched again.
    fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        self.scanned = self.end;
        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            return Ok(());
        }
    }

    /// Discards input up to and including the next newline (or the end).
    fn skip_rest_of_line(&mut self) -> io::Result<()> {
        self.newlines.clear();
        self.next_newline = 0;
        loop {
            if let Some(pos) = memchr(b'\n', &self.buf[self.start..self.end]) {
                self.start += pos + 1;
                self.scanned = self.start;
                return Ok(());
            }
            (self.start, self.end, self.scanned) = (0, 0, 0);
            if self.eof {
                return Ok(());
            }
            self.fill()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<Result<String, ()>> {
        let mut reader = LineReader::new(input, max);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line().unwrap() {
            out.push(match line {
                Line::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
                Line::TooLong => Err(()),
            });
        }
        out
    }

    #[test]
    fn splits_lines_and_strips_crlf() {
        assert_eq!(
            lines(b"a\nb\r\n\nc", 10),
            [
                Ok("a".into()),
                Ok("b".into()),
                Ok(String::new()),
                Ok("c".into())
            ]
        );
        assert!(lines(b"", 10).is_empty());
        assert_eq!(lines(b"x\n", 10), [Ok("x".into())]);
    }

    #[test]
    fn over_long_lines_are_skipped_and_reading_goes_on() {
        let mut input = vec![b'y'; BUFFER * 3];
        input.extend_from_slice(b"\nnext\n");
        input.extend(vec![b'z'; 20]);
        assert_eq!(lines(&input, 10), [Err(()), Ok("next".into()), Err(())]);
    }

    #[test]
    fn lines_across_buffer_boundaries() {
        let mut input = Vec::new();
        for i in 0..100_000 {
            input.extend_from_slice(format!("line{i}\n").as_bytes());
        }
        let got = lines(&input, 64);
        assert_eq!(got.len(), 100_000);
        assert_eq!(got[99_999], Ok("line99999".into()));
        assert!(
            got.iter()
                .enumerate()
                .all(|(i, l)| *l == Ok(format!("line{i}")))
        );
    }

    /// Returns its data in chunks of the given sizes, to hit every buffer boundary.
    struct Chunky {
        data: Vec<u8>,
        pos: usize,
        sizes: Vec<usize>,
        turn: usize,
    }

    impl Read for Chunky {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let want = self.sizes[self.turn % self.sizes.len()].max(1);
            self.turn += 1;
            let n = want.min(out.len()).min(self.data.len() - self.pos);
            out[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    /// What the reader must produce: split on newlines, drop one `\r` before each, a final
    /// line without newline counts, over-long lines become errors.
    fn reference(data: &[u8], max: usize) -> Vec<Result<Vec<u8>, ()>> {
        let mut parts: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
        if parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
        parts
            .into_iter()
            .map(|p| {
                if p.len() > max {
                    Err(())
                } else {
                    Ok(p.strip_suffix(b"\r").unwrap_or(p).to_vec())
                }
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_a_reference_splitter(
            data in proptest::collection::vec(proptest::sample::select(b"ab\r\n\n".to_vec()), 0..3000),
            max in 0usize..40,
            sizes in proptest::collection::vec(1usize..700, 1..8),
        ) {
            let mut reader = LineReader::new(Chunky { data: data.clone(), pos: 0, sizes, turn: 0 }, max);
            let mut got = Vec::new();
            while let Some(line) = reader.next_line().unwrap() {
                got.push(match line {
                    Line::Text(t) => Ok(t.to_vec()),
                    Line::TooLong => Err(()),
                });
            }
            proptest::prop_assert_eq!(got, reference(&data, max));
        }
    }

    #[test]
    fn a_line_exactly_at_the_limit_is_kept() {
        assert_eq!(lines(b"12345\n123456\n", 5), [Ok("12345".into()), Err(())]);
    }
}
