//! The diagnosis under `probe`'s table and in `doctor`'s report: per group of ports with
//! the same finding, the cause, its evidence, the fix and the other possibilities.

use crate::diagnose::{Cause, Confidence, Diagnosis};
use crate::model::ProbeResult;
use std::fmt::Write as _;

/// Ports with the same diagnosis on one address.
pub struct Group<'a> {
    /// The first result, in plan order.
    pub first: &'a ProbeResult,
    /// How many results.
    pub count: usize,
    /// Their ports, as ranges in any order (`port_ranges` sorts and joins them).
    pub ranges: Vec<(u16, u16)>,
    /// The diagnosis of the first (the others differ only in the port).
    pub diagnosis: &'a Diagnosis,
    /// How the cloud provider's texts were chosen, when a fix uses them.
    pub provider_note: Option<String>,
    /// The user expects these ports open (named, or `--expect open`): evidence and fix;
    /// otherwise one summary line.
    pub advised: bool,
}

/// The second line of a group the user did not name as expected open.
pub const SUMMARY_ONLY: &str = "summary only: not named as expected open (ports not meant to be open look like this); name a port (HOST:PORT, -p PORT) or add --expect open for its evidence and fix";

/// Segments of a port list shown before it is cut short.
const PORT_SEGMENTS: usize = 8;

/// Renders the groups; empty when there is nothing to say.
pub fn render(groups: &[Group<'_>]) -> String {
    let mut out = String::new();
    for group in groups {
        let first = group.first;
        let Some(top) = group.diagnosis.hints.first() else {
            continue;
        };
        let host = first
            .endpoint
            .address
            .map_or_else(|| first.endpoint.host.clone(), |a| a.to_string());
        let protocol = first.endpoint.protocol.as_str();
        let ports = if group.count == 1 {
            format!("{}/{protocol}", first.endpoint.port)
        } else {
            format!(
                "{} {protocol} ports ({})",
                group.count,
                port_ranges(&group.ranges)
            )
        };
        if !group.advised {
            let _ = writeln!(
                out,
                "{host} {ports} {} ({}), most likely {} ({})\n  {SUMMARY_ONLY}",
                first.state.as_str(),
                first.reason.as_str(),
                top.cause,
                top.confidence.as_str()
            );
            continue;
        }
        let _ = writeln!(
            out,
            "{host} {ports} {}: {} ({}): {}",
            first.state.as_str(),
            top.cause,
            top.confidence.as_str(),
            top.cause.summary()
        );
        if !top.evidence.is_empty() {
            let _ = writeln!(out, "  evidence: {}", top.evidence.join("; "));
        }
        if !top.fix.is_empty() {
            if group.count == 1 {
                let _ = writeln!(out, "  fix:");
            } else {
                let _ = writeln!(out, "  fix (shown for port {}):", first.endpoint.port);
            }
            for line in &top.fix {
                let _ = writeln!(out, "    {line}");
            }
        }
        if let Some(note) = &group.provider_note {
            let _ = writeln!(out, "  cloud: {note}");
        }
        let also: Vec<String> = group
            .diagnosis
            .hints
            .iter()
            .skip(1)
            .map(|h| format!("{} ({})", h.cause, h.confidence.as_str()))
            .collect();
        if !also.is_empty() {
            let _ = writeln!(out, "  also possible: {}", also.join(", "));
        }
    }
    if out.is_empty() {
        return out;
    }
    format!("\nDiagnosis:\n{}", indent(&out))
}

/// Whether a diagnosis is worth printing: anything but a confident `ok`.
pub fn worth_showing(diagnosis: &Diagnosis) -> bool {
    !diagnosis
        .hints
        .first()
        .is_some_and(|h| h.cause == Cause::Ok && h.confidence == Confidence::High)
}

/// Whether the top fix uses the provider's texts.
pub fn uses_provider(diagnosis: &Diagnosis) -> bool {
    matches!(
        diagnosis.cause,
        Cause::SecurityGroup | Cause::HostDownOrWrongIp | Cause::PrivateAddress
    )
}

fn indent(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        let _ = writeln!(out, "  {line}");
    }
    out
}

/// `8001-8079,8081-8100` from ranges of ports in any order, cut short after a few
/// segments.
pub fn port_ranges(ranges: &[(u16, u16)]) -> String {
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable();
    let mut segments: Vec<(u16, u16)> = Vec::new();
    for (lo, hi) in sorted {
        match segments.last_mut() {
            Some((_, last)) if u32::from(lo) <= u32::from(*last) + 1 => *last = (*last).max(hi),
            _ => segments.push((lo, hi)),
        }
    }
    let mut text: Vec<String> = segments
        .iter()
        .take(PORT_SEGMENTS)
        .map(|&(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            }
        })
        .collect();
    if segments.len() > PORT_SEGMENTS {
        text.push("…".into());
    }
    text.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let ports = |list: &[u16]| list.iter().map(|&p| (p, p)).collect::<Vec<_>>();
        assert_eq!(
            port_ranges(&ports(&[8081, 8001, 8002, 8003, 22])),
            "22,8001-8003,8081"
        );
        let many: Vec<u16> = (1..40).step_by(2).collect();
        assert_eq!(port_ranges(&ports(&many)), "1,3,5,7,9,11,13,15,…");
        // Ranges that touch or overlap join; a port twice counts once.
        assert_eq!(
            port_ranges(&[(10, 20), (1, 5), (6, 9), (15, 30), (40, 40), (40, 40)]),
            "1-30,40"
        );
    }
}
