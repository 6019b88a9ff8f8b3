//! Whether the port's UDP receive buffer overflows, from counters read once or twice (pure).
//!
//! A UDP socket whose application reads slower than datagrams arrive fills its receive
//! buffer; the kernel then drops every further datagram and counts it in the socket's
//! `drops` (`/proc/net/udp`) and the host's `RcvbufErrors`. The counters only grow, so a
//! single reading says "it happened since the socket was opened"; two readings a while
//! apart say "it is happening now", which is the evidence worth acting on.

use super::snmp::HostUdp;
use super::sysctl::RmemLimits;
use crate::diagnose::Confidence;
use crate::diagnose::fixes::MIN_SUGGESTED_RCVBUF;
use crate::plan::duration::format_duration;
use std::time::Duration;

/// One UDP socket of the port at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketCount {
    /// The socket's inode: the same socket in two samples.
    pub inode: u64,
    /// Bytes in its receive queue.
    pub rx_queue: u64,
    /// Datagrams dropped since it was opened.
    pub drops: u64,
}

/// The port's UDP sockets and the host's counters, read together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sample {
    /// The port's sockets.
    pub sockets: Vec<SocketCount>,
    /// The host's counters.
    pub host: HostUdp,
}

/// What the judgement is made from.
#[derive(Debug, Clone, Copy)]
pub struct ReceiveFacts<'a> {
    /// The port.
    pub port: u16,
    /// The latest sample.
    pub now: &'a Sample,
    /// With `--watch`: the sample taken the given time before `now`.
    pub before: Option<(&'a Sample, Duration)>,
    /// The smallest receive buffer among the port's sockets, when the kernel told.
    pub rcvbuf: Option<u64>,
    /// The host's buffer defaults.
    pub limits: RmemLimits,
}

/// The judgement on the port's receive side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveVerdict {
    /// Bytes queued in the port's sockets now.
    pub rx_queue: u64,
    /// Datagrams the port's sockets dropped since they were opened.
    pub drops: u64,
    /// With `--watch`: datagrams they dropped while watched.
    pub drops_delta: Option<u64>,
    /// With `--watch`: how the host's counters rose while watched.
    pub host_delta: Option<HostUdp>,
    /// `Some` (how sure) when the buffer overflows.
    pub overflow: Option<Confidence>,
    /// The observations, the one behind `overflow` first.
    pub evidence: Vec<String>,
    /// The `SO_RCVBUF` to suggest: four times the buffer that overflowed (the kernel
    /// grants twice what is asked), at least [`MIN_SUGGESTED_RCVBUF`].
    pub suggested_rcvbuf: u64,
}

/// Judges the facts.
pub fn judge(f: &ReceiveFacts<'_>) -> ReceiveVerdict {
    let sum =
        |pick: fn(&SocketCount) -> u64| f.now.sockets.iter().map(pick).fold(0, u64::saturating_add);
    let (drops, rx_queue) = (sum(|s| s.drops), sum(|s| s.rx_queue));
    let port = f.port;
    let mut evidence = Vec::new();
    let mut watched = None;
    let overflow = match f.before {
        Some((before, took)) => {
            let delta = drops_since(before, f.now);
            let host = f.now.host.since(&before.host);
            let during = format!("the {} watched", format_duration(took));
            let host_rise = host.rcvbuf_errors();
            watched = Some((delta, host));
            if delta > 0 {
                evidence.push(format!(
                    "{delta} datagrams dropped on {port}/udp in {during} ({}/s), {drops} since the socket was opened",
                    per_second(delta, took)
                ));
                Some(Confidence::High)
            } else if f.now.sockets.is_empty() && host_rise > 0 {
                evidence.push(format!(
                    "no socket on {port}/udp is visible here, but this host's UDP RcvbufErrors rose by {host_rise} in {during}: some socket's receive buffer overflows (in another namespace or container?)"
                ));
                Some(Confidence::Low)
            } else {
                if host_rise > 0 {
                    evidence.push(format!(
                        "this host's UDP RcvbufErrors rose by {host_rise} in {during}: another socket overflows, not {port}/udp's"
                    ));
                }
                (drops > 0).then(|| {
                    evidence.insert(0, format!(
                        "{drops} datagrams dropped since the socket was opened, none in {during}: the buffer overflowed before (a burst?), not now"
                    ));
                    Confidence::Low
                })
            }
        }
        None => (drops > 0).then(|| {
            evidence.push(format!(
                "{drops} datagrams dropped since the socket was opened (--watch 10s shows whether it is happening now)"
            ));
            Confidence::Medium
        }),
    };
    evidence.extend(buffer_notes(rx_queue, f.rcvbuf, f.limits));
    ReceiveVerdict {
        rx_queue,
        drops,
        drops_delta: watched.map(|w| w.0),
        host_delta: watched.map(|w| w.1),
        overflow,
        evidence,
        suggested_rcvbuf: f.rcvbuf.map_or(MIN_SUGGESTED_RCVBUF, |b| {
            b.saturating_mul(2).max(MIN_SUGGESTED_RCVBUF)
        }),
    }
}

/// Drops of the sockets in `now` since `before`.
fn drops_since(before: &Sample, now: &Sample) -> u64 {
    now.sockets
        .iter()
        .map(|s| socket_drops_since(before, s.inode, s.drops))
        .fold(0, u64::saturating_add)
}

/// Drops of one socket (by inode) since `before`. A socket opened in between (not in
/// `before`) dropped all of its datagrams while watched.
pub fn socket_drops_since(before: &Sample, inode: u64, drops: u64) -> u64 {
    before
        .sockets
        .iter()
        .find(|b| b.inode == inode)
        .map_or(drops, |b| drops.saturating_sub(b.drops))
}

/// What the queue and the buffer size say about who is at fault (`socket(7)`: the kernel
/// doubles the `SO_RCVBUF` asked for and caps the request at `net.core.rmem_max`).
fn buffer_notes(rx_queue: u64, rcvbuf: Option<u64>, limits: RmemLimits) -> Vec<String> {
    let mut notes = Vec::new();
    let Some(rcvbuf) = rcvbuf else {
        return notes;
    };
    // The queue counts each datagram's kernel overhead (its `truesize`, 768 bytes or more
    // even for a tiny payload), and one more datagram must fit, so a queue can be full at
    // little more than half the buffer.
    if rcvbuf > 0 && rx_queue.saturating_mul(2) >= rcvbuf {
        notes.push(format!(
            "the receive queue holds {rx_queue} of {rcvbuf} bytes: the application is not keeping up (when it is full, every new datagram is dropped)"
        ));
    }
    if let Some(default) = limits.default.filter(|d| rcvbuf < *d) {
        notes.push(format!(
            "the socket's buffer is {rcvbuf} bytes, less than this host's default (net.core.rmem_default = {default}): the application set SO_RCVBUF small"
        ));
    }
    if let Some(max) = limits
        .max
        .filter(|m| *m > 0 && rcvbuf >= m.saturating_mul(2))
    {
        notes.push(format!(
            "the socket's buffer is {rcvbuf} bytes, the ceiling (twice net.core.rmem_max = {max}): a larger SO_RCVBUF has no effect until rmem_max is raised"
        ));
    }
    notes
}

/// Whole datagrams per second, in integers (no float rounding to explain).
fn per_second(count: u64, took: Duration) -> u128 {
    u128::from(count) * 1000 / took.as_millis().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::snmp::UdpCounters;

    fn sample(sockets: &[(u64, u64, u64)], rcvbuf_errors: u64) -> Sample {
        Sample {
            sockets: sockets
                .iter()
                .map(|&(inode, rx_queue, drops)| SocketCount {
                    inode,
                    rx_queue,
                    drops,
                })
                .collect(),
            host: HostUdp {
                udp: Some(UdpCounters {
                    rcvbuf_errors,
                    ..UdpCounters::default()
                }),
                udp6: None,
            },
        }
    }

    const LIMITS: RmemLimits = RmemLimits {
        default: Some(212_992),
        max: Some(4_194_304),
    };

    fn facts<'a>(now: &'a Sample, before: Option<&'a Sample>) -> ReceiveFacts<'a> {
        ReceiveFacts {
            port: 7901,
            now,
            before: before.map(|b| (b, Duration::from_millis(1500))),
            rcvbuf: None,
            limits: LIMITS,
        }
    }

    #[test]
    fn rising_drops_are_an_overflow_now() {
        let before = sample(&[(11, 0, 100)], 100);
        let now = sample(&[(11, 2304, 1600), (12, 0, 20)], 1620);
        let v = judge(&facts(&now, Some(&before)));
        assert_eq!(v.overflow, Some(Confidence::High));
        assert_eq!(
            (v.drops, v.drops_delta, v.rx_queue),
            (1620, Some(1520), 2304),
            "socket 12 opened while watched: all its drops count"
        );
        assert_eq!(
            v.evidence[0],
            "1520 datagrams dropped on 7901/udp in the 1.5s watched (1013/s), 1620 since the socket was opened"
        );
        assert_eq!(
            v.host_delta.and_then(|h| h.udp).map(|u| u.rcvbuf_errors),
            Some(1520)
        );
    }

    #[test]
    fn past_drops_without_watching_are_medium_and_when_watched_low() {
        let now = sample(&[(11, 0, 730)], 730);
        let v = judge(&facts(&now, None));
        assert_eq!(
            (v.overflow, v.drops_delta),
            (Some(Confidence::Medium), None)
        );
        assert_eq!(
            v.evidence,
            [
                "730 datagrams dropped since the socket was opened (--watch 10s shows whether it is happening now)"
            ]
        );
        let v = judge(&facts(&now, Some(&now)));
        assert_eq!(
            (v.overflow, v.drops_delta),
            (Some(Confidence::Low), Some(0))
        );
        assert!(v.evidence[0].contains("none in the 1.5s watched"), "{v:?}");
    }

    #[test]
    fn no_drops_is_no_overflow() {
        let now = sample(&[(11, 0, 0)], 5);
        assert_eq!(judge(&facts(&now, None)).overflow, None);
        // Other sockets overflowing is noted but does not blame this port.
        let v = judge(&facts(&now, Some(&sample(&[(11, 0, 0)], 1))));
        assert_eq!(v.overflow, None);
        assert_eq!(
            v.evidence,
            [
                "this host's UDP RcvbufErrors rose by 4 in the 1.5s watched: another socket overflows, not 7901/udp's"
            ]
        );
    }

    #[test]
    fn unmatched_socket_falls_back_to_the_host_counter() {
        let (before, now) = (sample(&[], 10), sample(&[], 60));
        let v = judge(&facts(&now, Some(&before)));
        assert_eq!(v.overflow, Some(Confidence::Low));
        assert!(v.evidence[0].contains("rose by 50"), "{v:?}");
        assert_eq!(judge(&facts(&now, None)).overflow, None);
    }

    #[test]
    fn buffer_size_notes_and_suggestion() {
        let now = sample(&[(11, 4400, 9)], 9);
        let mut f = facts(&now, None);
        assert_eq!(
            judge(&f).suggested_rcvbuf,
            MIN_SUGGESTED_RCVBUF,
            "size unknown"
        );
        f.rcvbuf = Some(4608);
        let v = judge(&f);
        assert_eq!(
            v.evidence[1..],
            [
                "the receive queue holds 4400 of 4608 bytes: the application is not keeping up (when it is full, every new datagram is dropped)",
                "the socket's buffer is 4608 bytes, less than this host's default (net.core.rmem_default = 212992): the application set SO_RCVBUF small",
            ]
        );
        f.rcvbuf = Some(8_388_608);
        let v = judge(&f);
        assert!(v.evidence[1].contains("the ceiling (twice net.core.rmem_max = 4194304)"));
        assert_eq!(v.suggested_rcvbuf, 16_777_216);
    }

    #[test]
    fn rates_never_divide_by_zero() {
        assert_eq!(per_second(5, Duration::ZERO), 5000);
    }
}
