//! The words and numbers every human view of a probe shares: RTT, loss, the reason with its
//! ICMP sender, the service name.

use crate::classify::services::services_on;
use crate::model::{Endpoint, ProbeResult, Protocol, RttStats, Transport};

/// `0.412 ms` for one answer, `0.401/0.448/0.512 ms` (min/avg/max) for several.
pub fn rtt_text(result: &ProbeResult) -> String {
    match result.rtt {
        None => "-".to_owned(),
        Some(RttStats { min, avg, max, .. }) if result.received > 1 => {
            format!("{min:.3}/{avg:.3}/{max:.3} ms")
        }
        Some(RttStats { avg, .. }) => format!("{avg:.3} ms"),
    }
}

/// `0%`, or `10.0% (18/20)` when something was lost; `-` for a name that never resolved
/// (nothing was sent, so nothing was lost).
pub fn loss_text(result: &ProbeResult) -> String {
    if result.endpoint.address.is_none() {
        return "-".to_owned();
    }
    if result.received >= result.attempts {
        return "0%".to_owned();
    }
    format!(
        "{:.1}% ({}/{})",
        result.loss_pct(),
        result.received,
        result.attempts
    )
}

/// The reason, with the ICMP sender when it is not the target itself.
pub fn reason_text(result: &ProbeResult) -> String {
    let mut text = match (result.icmp_from, result.endpoint.address) {
        (Some(from), Some(target)) if from.to_canonical() != target.to_canonical() => {
            format!("{} from {from}", result.reason)
        }
        _ => result.reason.as_str().to_owned(),
    };
    text.push_str(&late_text(result));
    text
}

/// ` (1 late)` when answers came after their timeout (a slow path, not loss), else empty.
pub fn late_text(result: &ProbeResult) -> String {
    if result.late == 0 {
        String::new()
    } else {
        format!(" ({} late)", result.late)
    }
}

/// The IANA service name for this port and protocol, if any.
pub fn service_name(port: u16, protocol: Protocol) -> &'static str {
    let transport = match protocol {
        Protocol::Tcp => Transport::Tcp,
        Protocol::Udp => Transport::Udp,
    };
    services_on(port)
        .iter()
        .find(|s| s.protocol == transport && !s.name().is_empty())
        .map_or("", |s| s.name())
}

/// `203.0.113.10:7890/tcp`, `[2001:db8::1]:53/udp`, `web:80/tcp` (unresolved).
pub fn endpoint_text(e: &Endpoint) -> String {
    let host = match e.address {
        Some(std::net::IpAddr::V6(a)) => format!("[{a}]"),
        Some(a) => a.to_string(),
        None => e.host.clone(),
    };
    format!("{host}:{}/{}", e.port, e.protocol)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Reason, State};

    #[test]
    fn loss_is_a_dash_for_a_name_that_never_resolved() {
        let mut unresolved = ProbeResult::sample("192.0.2.1", 5432, State::Error, Reason::DnsError);
        unresolved.endpoint.address = None;
        unresolved.endpoint.host = "nosuchhost".into();
        unresolved.received = 0;
        assert_eq!(loss_text(&unresolved), "-");
        let mut lost = ProbeResult::sample("192.0.2.1", 5432, State::Filtered, Reason::NoResponse);
        (lost.attempts, lost.received) = (4, 1);
        assert_eq!(loss_text(&lost), "75.0% (1/4)");
    }
}
