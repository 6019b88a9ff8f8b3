//! Writes records as a JSON array or as JSON lines, one at a time, so memory stays
//! bounded however many records a run produces.
//!
//! The array form puts one record per line (`[\n{..},\n{..}\n]`): valid JSON for `jq`, and
//! still greppable.

use serde::Serialize;
use std::io::{self, Write};

/// A JSON array or JSON-lines writer.
pub struct JsonStream<W: Write> {
    out: W,
    array: bool,
    count: usize,
}

impl<W: Write> JsonStream<W> {
    /// `array`: a JSON array (`--format json`); otherwise JSON lines (`--format jsonl`).
    pub fn new(out: W, array: bool) -> Self {
        Self {
            out,
            array,
            count: 0,
        }
    }

    /// Goes on with a stream of which `count` records were written already (by a writer
    /// made for one record at a time, so the stream need not hold the output).
    pub fn resume(out: W, array: bool, count: usize) -> Self {
        Self { out, array, count }
    }

    /// Writes one record.
    pub fn record<T: Serialize>(&mut self, value: &T) -> io::Result<()> {
        if self.array {
            self.out
                .write_all(if self.count == 0 { b"[\n" } else { b",\n" })?;
        }
        serde_json::to_writer(&mut self.out, value).map_err(io::Error::from)?;
        if !self.array {
            self.out.write_all(b"\n")?;
        }
        self.count += 1;
        Ok(())
    }

    /// The writer, so a caller streaming into a buffer can drain it between records.
    pub fn buffer(&mut self) -> &mut W {
        &mut self.out
    }

    /// Closes the array (an empty run prints `[]`) and flushes.
    pub fn finish(&mut self) -> io::Result<()> {
        if self.array {
            self.out
                .write_all(if self.count == 0 { b"[]\n" } else { b"\n]\n" })?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(array: bool, n: u32) -> String {
        let mut out = Vec::new();
        let mut stream = JsonStream::new(&mut out, array);
        for i in 0..n {
            stream.record(&serde_json::json!({ "n": i })).unwrap();
        }
        stream.finish().unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn array_and_lines() {
        assert_eq!(render(true, 0), "[]\n");
        assert_eq!(render(true, 2), "[\n{\"n\":0},\n{\"n\":1}\n]\n");
        assert_eq!(render(false, 2), "{\"n\":0}\n{\"n\":1}\n");
        assert_eq!(render(false, 0), "");
    }
}
