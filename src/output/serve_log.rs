//! `ipdiag serve`'s output: the start line, one line per arrival, or JSON lines.

use crate::plan::duration::format_duration;
use crate::serve::{Action, Arrival};
use serde::Serialize;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The first line: where the responder listens.
pub fn banner(listening: &[String], token: bool, duration: Option<Duration>) -> String {
    let mut text = format!("listening on {}", listening.join(", "));
    text.push_str(if token {
        "; token required"
    } else {
        "; no token"
    });
    if let Some(d) = duration {
        let _ = write!(text, "; stops after {}", format_duration(d));
    }
    text.push_str(" (Ctrl-C stops)");
    text
}

/// `05:40:01.123Z udp 198.51.100.2:40000 -> 0.0.0.0:7895 48 bytes: replied (25 bytes)`.
pub fn line(a: &Arrival) -> String {
    let size = if a.bytes > 0 {
        format!(" {} bytes:", a.bytes)
    } else {
        ":".to_owned()
    };
    format!(
        "{} {} {} -> {}{size} {}",
        clock(a.time),
        a.protocol.as_str(),
        a.source,
        a.local,
        a.action.text()
    )
}

/// One arrival as JSON.
#[derive(Debug, Serialize)]
pub struct ArrivalRecord {
    /// Seconds since the Unix epoch (with milliseconds).
    pub time: f64,
    /// `tcp` or `udp`.
    pub protocol: &'static str,
    /// The sender as this host saw it.
    pub source: String,
    /// Where it arrived.
    pub local: String,
    /// Bytes received (UDP).
    pub bytes: usize,
    /// `replied`, `refused`, `rate_limited`, `banner`, `connection_limit`, `write_failed`,
    /// `reads`.
    pub action: &'static str,
    /// The log's words for it.
    pub detail: String,
    /// `reads` (`serve --tcp-reads`): bytes returned by each of the first reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reads: Option<Vec<usize>>,
}

/// The JSON record of an arrival.
pub fn record(a: &Arrival) -> ArrivalRecord {
    ArrivalRecord {
        time: (a
            .time
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64()
            * 1000.0)
            .round()
            / 1000.0,
        protocol: a.protocol.as_str(),
        source: a.source.to_string(),
        local: a.local.to_string(),
        bytes: a.bytes,
        action: match a.action {
            Action::Replied(_) => "replied",
            Action::Delayed(..) => "delayed",
            Action::Refused(_) => "refused",
            Action::RateLimited => "rate_limited",
            Action::Banner(_) | Action::BannerReading(_) => "banner",
            Action::ConnectionLimit => "connection_limit",
            Action::WriteFailed => "write_failed",
            Action::Reads(_) => "reads",
        },
        detail: a.action.text(),
        reads: match a.action {
            Action::Reads(log) => Some(log.shown().to_vec()),
            _ => None,
        },
    }
}

/// UTC time of day, `HH:MM:SS.mmmZ`.
fn clock(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Protocol;

    #[test]
    fn a_log_line() {
        let arrival = Arrival {
            time: UNIX_EPOCH + Duration::from_millis(86_400_000 * 3 + 3_723_456),
            protocol: Protocol::Udp,
            source: "198.51.100.2:40000".parse().unwrap(),
            local: "0.0.0.0:7895".parse().unwrap(),
            bytes: 48,
            action: Action::Replied(25),
        };
        assert_eq!(
            line(&arrival),
            "01:02:03.456Z udp 198.51.100.2:40000 -> 0.0.0.0:7895 48 bytes: replied (25 bytes)"
        );
        assert_eq!(record(&arrival).action, "replied");
        let mut log = crate::serve::reads::ReadLog::default();
        log.push(42);
        let reads = Arrival {
            protocol: Protocol::Tcp,
            bytes: 42,
            action: Action::Reads(log),
            ..arrival
        };
        assert_eq!(
            line(&reads),
            "01:02:03.456Z tcp 198.51.100.2:40000 -> 0.0.0.0:7895 42 bytes: read 1: 42 bytes; 1 read, 42 bytes, peer closed"
        );
        let json = serde_json::to_string(&record(&reads)).unwrap();
        assert!(
            json.contains(r#""action":"reads""#) && json.contains(r#""reads":[42]"#),
            "{json}"
        );
        assert!(
            !serde_json::to_string(&record(&arrival))
                .unwrap()
                .contains("reads")
        );
    }
}
