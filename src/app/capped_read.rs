//! Reading another program's output without trusting its size (`doctor --on-server`). A
//! server command that prints without end (`yes`, a wrong program dumping data, a hostile
//! host) must not grow this process's memory: what is over the cap is read and dropped,
//! so the program never blocks on a full pipe and ends as it would have. (Its stderr is
//! read by lines with `lines::LineReader`, bounded the same way.)

use std::io::{ErrorKind, Read};

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
}
