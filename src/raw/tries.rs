//! Which try of a SYN a reply answers, when that try left, and when the reply came (pure).
//!
//! A silent port is retried from a new source port per try (`sockets.rs`), so a reply's
//! destination port names the try it answers. A SYN-ACK to the first try that arrives
//! after the retry left is timed from the first try: timed from the retry it would look
//! faster than the path is, and shrink the adaptive timeout on exactly the slow path that
//! needed it. Per endpoint only the last two sends are kept, as nmap keeps `sent` and
//! `prevSent`. An answer whose send time is unknown (to an older try, or from a port
//! several tries shared because there were more tries than reserved ports) still decides
//! the port, but gives no RTT sample: Karn's algorithm, as nmap does for a reply it cannot
//! tie to one probe.

use std::time::{Duration, Instant};

/// When a reply came, on the monotonic clock the sends are timed by: the kernel stamps a
/// packet on the real-time clock (`kernel`, since the Unix epoch), read here against a pair
/// of readings of both clocks taken together (`now`, `now_real`). Replies are read between
/// batches of sends, up to 256 SYNs (or a pacing pause) after they came: timed by the read
/// they would carry that wait.
pub fn arrival(now: Instant, now_real: Duration, kernel: Duration) -> Instant {
    match now_real.checked_sub(kernel) {
        Some(before) => now.checked_sub(before).unwrap_or(now),
        None => now + kernel.saturating_sub(now_real),
    }
}

/// When an endpoint's SYNs left: the latest two, and how many were sent.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sends {
    latest: Option<Instant>,
    previous: Option<Instant>,
    count: u32,
}

impl Sends {
    /// Notes a SYN sent at `at`.
    pub fn record(&mut self, at: Instant) {
        self.previous = self.latest;
        self.latest = Some(at);
        self.count = self.count.saturating_add(1);
    }

    /// SYNs sent so far.
    pub const fn count(&self) -> u32 {
        self.count
    }

    /// When try `try_no` (0 = first) left, if it is one of the last two.
    pub fn sent_at(&self, try_no: u32) -> Option<Instant> {
        let latest = self.count.checked_sub(1)?;
        if try_no == latest {
            self.latest
        } else if try_no.checked_add(1) == Some(latest) {
            self.previous
        } else {
            None
        }
    }
}

/// The try (0 = first) whose SYN left from `port`, when one can tell: `ports` holds one
/// source port per try and the last one serves every later try, so once more than
/// `ports.len()` tries were sent, an answer to the last port is ambiguous (`None`), as
/// is a port we did not send from.
pub fn try_of(ports: &[u16], port: u16, tries_sent: u32) -> Option<u32> {
    let at = ports.iter().position(|&p| p == port)?;
    let try_no = u32::try_from(at).ok()?;
    let shared = at + 1 == ports.len() && usize::try_from(tries_sent).ok()? > ports.len();
    (try_no < tries_sent && !shared).then_some(try_no)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_kernel_time_is_placed_on_the_monotonic_clock() {
        let now = Instant::now();
        let real = Duration::from_secs(1_700_000_000);
        let ms = Duration::from_millis;
        assert_eq!(arrival(now, real, real), now);
        assert_eq!(
            arrival(now, real, real.saturating_sub(ms(995))),
            now.checked_sub(ms(995)).unwrap(),
            "came before the read"
        );
        assert_eq!(
            arrival(now, real, real + ms(2)),
            now + ms(2),
            "stamped after the pair"
        );
    }

    #[test]
    fn the_last_two_sends_are_known() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut sends = Sends::default();
        assert_eq!(sends.sent_at(0), None, "nothing sent");
        sends.record(t0);
        assert_eq!(sends.sent_at(0), Some(t0));
        assert_eq!(sends.sent_at(1), None, "not sent yet");
        sends.record(ms(300));
        assert_eq!(
            (sends.sent_at(0), sends.sent_at(1)),
            (Some(t0), Some(ms(300)))
        );
        sends.record(ms(600));
        assert_eq!(sends.count(), 3);
        assert_eq!(
            (sends.sent_at(0), sends.sent_at(1), sends.sent_at(2)),
            (None, Some(ms(300)), Some(ms(600))),
            "the first try is forgotten once two more left"
        );
    }

    #[test]
    fn the_port_names_the_try_unless_tries_shared_it() {
        let ports = [40000, 40001, 40002];
        assert_eq!(try_of(&ports, 40000, 2), Some(0));
        assert_eq!(try_of(&ports, 40001, 2), Some(1));
        assert_eq!(try_of(&ports, 40002, 2), None, "try 2 was never sent");
        assert_eq!(
            try_of(&ports, 40002, 3),
            Some(2),
            "the last port, used once"
        );
        assert_eq!(
            try_of(&ports, 40002, 4),
            None,
            "tries 2 and 3 both left from the last port"
        );
        assert_eq!(
            try_of(&ports, 40001, 9),
            Some(1),
            "earlier ports stay unique"
        );
        assert_eq!(try_of(&ports, 41000, 1), None, "not our port");
        assert_eq!(try_of(&[40000], 40000, 1), Some(0));
        assert_eq!(try_of(&[40000], 40000, 2), None);
    }
}
