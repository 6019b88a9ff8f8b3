//! `serve --tcp-reads`: after the banner, read what the client sends and report how many
//! bytes each `read()` returned, so a user sees that TCP is a byte stream: two `send()`s
//! often arrive as one read, and one large send as several (README "Troubleshooting: recv
//! loses packets"). Bounded like the rest of the responder: a byte budget per connection,
//! an idle timeout, a lifetime (a client trickling a byte before each idle timeout is
//! still closed), and nothing is ever sent back.

use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// Reads listed one by one in the log; beyond these only the totals are kept, so the log
/// entry stays a fixed size however the client trickles its bytes.
pub const SHOWN_READS: usize = 16;
/// Bytes read per connection at most (`serve --tcp-reads`).
pub const READ_LIMIT: usize = 64 * 1024;
/// A connection that sends nothing for this long is closed.
pub const READ_IDLE: Duration = Duration::from_secs(10);
/// A connection is closed this long after it was accepted, however it behaves.
pub const LIFETIME: Duration = Duration::from_secs(30);
/// The largest single read: big enough that whatever is queued comes back in one read
/// (so merged sends show), small enough for a few hundred connections at once.
const READ_BUFFER: usize = 16 * 1024;

/// Why reading a connection stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadEnd {
    /// The client closed its side (read returned 0).
    #[default]
    PeerClosed,
    /// Nothing arrived for the idle timeout.
    Idle,
    /// The byte budget was used up.
    Limit,
    /// The connection failed (reset, say).
    Failed,
    /// It reached its lifetime.
    Lifetime,
    /// The table was full and it was the one idle the longest (`conns.rs`).
    Evicted,
}

/// What the reads of one connection returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadLog {
    /// Bytes returned by the first [`SHOWN_READS`] reads.
    pub sizes: [usize; SHOWN_READS],
    /// Reads that returned data.
    pub reads: usize,
    /// Bytes read in all.
    pub bytes: usize,
    /// Why it stopped.
    pub end: ReadEnd,
}

impl ReadLog {
    /// Adds one read of `n` bytes.
    pub fn push(&mut self, n: usize) {
        if let Some(slot) = self.sizes.get_mut(self.reads) {
            *slot = n;
        }
        self.reads += 1;
        self.bytes += n;
    }

    /// The sizes of the reads that are listed.
    pub fn shown(&self) -> &[usize] {
        self.sizes
            .get(..self.reads.min(SHOWN_READS))
            .unwrap_or_default()
    }

    /// `read 1: 12 bytes, read 2: 30 bytes; 2 reads, 42 bytes, peer closed`.
    pub fn text(&self) -> String {
        let mut parts: Vec<String> = self
            .shown()
            .iter()
            .enumerate()
            .map(|(i, n)| format!("read {}: {n} {}", i + 1, bytes_word(*n)))
            .collect();
        if self.reads > SHOWN_READS {
            parts.push(format!("... ({} more)", self.reads - SHOWN_READS));
        }
        let list = if parts.is_empty() {
            "no data".to_owned()
        } else {
            parts.join(", ")
        };
        let reads = if self.reads == 1 { "read" } else { "reads" };
        let end = match self.end {
            ReadEnd::PeerClosed => "peer closed".to_owned(),
            ReadEnd::Idle => format!("closed after {} s idle", READ_IDLE.as_secs()),
            ReadEnd::Limit => format!("closed at the {} KiB limit", READ_LIMIT / 1024),
            ReadEnd::Failed => "connection failed".to_owned(),
            ReadEnd::Lifetime => "closed at the connection lifetime".to_owned(),
            ReadEnd::Evicted => "closed: idle the longest when a new client came".to_owned(),
        };
        format!(
            "{list}; {} {reads}, {} {}, {end}",
            self.reads,
            self.bytes,
            bytes_word(self.bytes)
        )
    }
}

fn bytes_word(n: usize) -> &'static str {
    if n == 1 { "byte" } else { "bytes" }
}

/// How long reading one connection may go on.
#[derive(Debug, Clone, Copy)]
pub struct ReadBounds {
    /// Bytes at most.
    pub limit: usize,
    /// Close after this long without data.
    pub idle: Duration,
    /// Close at this instant (the connection's lifetime).
    pub until: tokio::time::Instant,
}

/// Reads until the client closes, goes quiet for `idle`, `limit` bytes have come, the
/// lifetime ends or `stop` is notified (evicted); `active` is called after each read.
pub async fn read_all(
    stream: &mut TcpStream,
    bounds: ReadBounds,
    stop: &tokio::sync::Notify,
    mut active: impl FnMut(),
) -> ReadLog {
    let ReadBounds { limit, idle, until } = bounds;
    let mut log = ReadLog::default();
    let mut buf = vec![0u8; READ_BUFFER.min(limit.max(1))];
    loop {
        let room = limit.saturating_sub(log.bytes).min(buf.len());
        if room == 0 {
            log.end = ReadEnd::Limit;
            return log;
        }
        let Some(target) = buf.get_mut(..room) else {
            log.end = ReadEnd::Limit;
            return log;
        };
        log.end = tokio::select! {
            read = tokio::time::timeout(idle, stream.read(target)) => match read {
                Ok(Ok(0)) => ReadEnd::PeerClosed,
                Ok(Ok(n)) => {
                    log.push(n);
                    active();
                    continue;
                }
                Ok(Err(_)) => ReadEnd::Failed,
                Err(_) => ReadEnd::Idle,
            },
            () = tokio::time::sleep_until(until) => ReadEnd::Lifetime,
            () = stop.notified() => ReadEnd::Evicted,
        };
        return log;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_line() {
        let mut log = ReadLog::default();
        assert_eq!(log.text(), "no data; 0 reads, 0 bytes, peer closed");
        log.push(12);
        log.push(30);
        assert_eq!(
            log.text(),
            "read 1: 12 bytes, read 2: 30 bytes; 2 reads, 42 bytes, peer closed"
        );
        let mut many = ReadLog {
            end: ReadEnd::Limit,
            ..ReadLog::default()
        };
        for _ in 0..20 {
            many.push(1);
        }
        let text = many.text();
        assert!(
            text.starts_with("read 1: 1 byte, read 2: 1 byte,"),
            "{text}"
        );
        assert!(
            text.ends_with(
                "read 16: 1 byte, ... (4 more); 20 reads, 20 bytes, closed at the 64 KiB limit"
            ),
            "{text}"
        );
        assert_eq!(many.shown().len(), SHOWN_READS);
    }
}
