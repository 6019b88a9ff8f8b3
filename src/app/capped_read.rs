//! Reading another program's output without trusting its size (`doctor --on-server`). A
//! server command that prints without end (`yes`, a wrong program dumping data, a hostile
//! host) must not grow this process's memory: what is over the cap is read and dropped,
//! so the program never blocks on a full pipe and ends as it would have.

use std::io::{BufRead, ErrorKind, Read};

/// Text read up to a cap, and how many bytes came after it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Capped {
    /// The first bytes read (at most the cap), invalid UTF-8 replaced.
    pub text: String,
    /// Bytes read and dropped past the cap (0: the whole output is in `text`).
    pub over: u64,
}

/// Reads `reader` to its end (or its first error), keeping at most `cap` bytes.
pub fn read_capped(mut reader: impl Read, cap: usize) -> Capped {
    let mut kept = Vec::new();
    let mut over = 0u64;
    let mut chunk = [0u8; 8192];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                let room = cap.saturating_sub(kept.len()).min(n);
                kept.extend_from_slice(&chunk[..room]);
                over += (n - room) as u64;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    Capped {
        text: String::from_utf8_lossy(&kept).into_owned(),
        over,
    }
}

/// The lines of `reader` as [`BufRead::lines`] gives them (without `\n` or `\r\n`), each
/// cut to at most `max_len` bytes: a line without end is never held whole.
pub fn capped_lines(reader: impl BufRead, max_len: usize) -> impl Iterator<Item = String> {
    CappedLines { reader, max_len }
}

struct CappedLines<R> {
    reader: R,
    max_len: usize,
}

impl<R: BufRead> Iterator for CappedLines<R> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        let mut line = Vec::new();
        let mut any = false;
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => &[],
            };
            if buf.is_empty() {
                // The end: a last line without its newline, or nothing more.
                return any.then(|| text_of(line));
            }
            any = true;
            let (part, ended) = match buf.iter().position(|&b| b == b'\n') {
                Some(at) => (&buf[..at], true),
                None => (buf, false),
            };
            let room = self.max_len.saturating_sub(line.len()).min(part.len());
            line.extend_from_slice(&part[..room]);
            let used = part.len() + usize::from(ended);
            self.reader.consume(used);
            if ended {
                return Some(text_of(line));
            }
        }
    }
}

fn text_of(mut line: Vec<u8>) -> String {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8_lossy(&line).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Cursor};

    #[test]
    fn output_within_the_cap_is_read_whole() {
        let read = read_capped(Cursor::new(b"{\"schema_version\": 1}\n"), 64);
        assert_eq!(
            read,
            Capped {
                text: "{\"schema_version\": 1}\n".into(),
                over: 0
            }
        );
    }

    #[test]
    fn output_past_the_cap_is_read_to_its_end_and_counted() {
        // 3 MB through a reader that hands out 8 KiB at most, as a pipe does.
        let data = vec![b'x'; 3_000_000];
        let read = read_capped(BufReader::with_capacity(8192, Cursor::new(data)), 1000);
        assert_eq!(read.text.len(), 1000);
        assert_eq!(read.over, 2_999_000);
    }

    #[test]
    fn lines_are_cut_at_their_cap_and_read_past() {
        let mut input = b"short\r\n".to_vec();
        input.extend(vec![b'y'; 100_000]);
        input.extend_from_slice(b"\nafter\nlast without newline");
        let lines: Vec<String> =
            capped_lines(BufReader::with_capacity(4096, Cursor::new(input)), 10).collect();
        assert_eq!(
            lines,
            ["short", "yyyyyyyyyy", "after", "last witho"].map(String::from)
        );
        assert_eq!(lines.len(), 4);
    }

    #[test]
    fn empty_lines_and_an_empty_input() {
        let lines: Vec<String> = capped_lines(Cursor::new(b"\n\na\n"), 10).collect();
        assert_eq!(lines, ["", "", "a"].map(String::from));
        assert_eq!(capped_lines(Cursor::new(b""), 10).count(), 0);
    }
}
