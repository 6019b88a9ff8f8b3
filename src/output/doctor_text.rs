//! `ipdiag doctor`'s report: the verdict, the evidence gathered, and every likely cause
//! with its fix, most likely first.

use super::Style;
use super::probe_live::summary_lines;
use super::probe_table::state_color;
use super::probe_text::endpoint_text;
use crate::classify::AddrInfo;
use crate::diagnose::Diagnosis;
use crate::diagnose::hops::HopSummary;
use crate::diagnose::path::PathVerdict;
use crate::diagnose::rules::ms;
use crate::local::watch::report::WatchReport;
use crate::model::ProbeResult;
use crate::probe::icmp::PingOutcome;
use crate::probe::trace::Hop;
use std::fmt::Write as _;

/// One asked endpoint and everything gathered about it.
pub struct Asked<'a> {
    /// The probe of the asked port.
    pub result: &'a ProbeResult,
    /// Its diagnosis.
    pub diagnosis: &'a Diagnosis,
    /// The control probes of the same address.
    pub control: Vec<&'a ProbeResult>,
    /// ICMP echo to the address (`Err`: why it was not available); `None`: not tried.
    pub ping: Option<&'a Result<PingOutcome, String>>,
    /// The address, classified.
    pub target: Option<AddrInfo>,
    /// This machine's source address towards it, classified.
    pub sends_from: Option<AddrInfo>,
    /// The trace to the port and its verdict (`--trace`).
    pub trace: Option<(&'a [Hop], &'a [HopSummary], &'a PathVerdict)>,
    /// What the server saw of the probes (`--on-server`).
    pub server: Option<&'a WatchReport>,
}

/// The whole report.
pub struct Report<'a> {
    /// The asked endpoints (one per protocol and address).
    pub asked: &'a [Asked<'a>],
    /// How the cloud's fix texts were chosen.
    pub cloud_note: &'a str,
}

/// Renders the report.
pub fn render(report: &Report<'_>, style: Style) -> String {
    let mut out = String::new();
    for (i, asked) in report.asked.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        asked_text(&mut out, asked, report.cloud_note, style);
    }
    out
}

fn asked_text(out: &mut String, a: &Asked<'_>, cloud_note: &str, style: Style) {
    let r = a.result;
    let _ = writeln!(
        out,
        "{}: {} ({})",
        endpoint_text(&r.endpoint),
        r.state,
        r.reason
    );
    if let Some(top) = a.diagnosis.hints.first() {
        let tied: Vec<String> = a
            .diagnosis
            .alike()
            .iter()
            .map(ToString::to_string)
            .collect();
        // The line that matters most, in the colour of the port's state (as probe's STATE).
        let verdict = if tied.is_empty() {
            format!(
                "Verdict: {} ({} confidence): {}",
                top.cause,
                top.confidence.as_str(),
                top.cause.summary()
            )
        } else {
            format!(
                "Verdict: {} or {} ({} confidence each): the evidence from here cannot tell them apart",
                top.cause,
                tied.join(" or "),
                top.confidence.as_str(),
            )
        };
        let _ = writeln!(out, "{}", style.paint(&verdict, state_color(r.state)));
    }
    out.push('\n');
    let [_, stats] = summary_lines(r);
    let _ = writeln!(out, "  probe    {stats}");
    if let Some(error) = &r.error {
        let _ = writeln!(out, "  error    {error}");
    }
    if !a.control.is_empty() {
        let seen: Vec<String> = a.control.iter().map(|c| control_text(c)).collect();
        let _ = writeln!(out, "  control  {}", seen.join(", "));
    }
    match a.ping {
        Some(Ok(p)) => {
            let _ = writeln!(out, "  ping     {}", ping_text(p));
        }
        Some(Err(why)) => {
            let _ = writeln!(out, "  ping     not available: {why}");
        }
        None => {}
    }
    if let Some(info) = &a.target {
        let _ = writeln!(out, "  target   {}", address_text(info));
    }
    if let Some(from) = &a.sends_from {
        let _ = writeln!(out, "  client   sends from {}", address_text(from));
    }
    if let Some((_, summaries, verdict)) = a.trace {
        let _ = writeln!(out, "  path     {}", path_text(summaries));
        let _ = writeln!(out, "           {verdict}");
    }
    if let Some(server) = a.server {
        for (n, line) in server_lines(server).iter().enumerate() {
            let _ = writeln!(
                out,
                "  {}{line}",
                if n == 0 { "server   " } else { "         " }
            );
        }
    }
    let _ = writeln!(out, "  cloud    {cloud_note}");
    out.push_str("\nCauses, most likely first:\n");
    for (n, hint) in a.diagnosis.hints.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {}. {} ({}): {}",
            n + 1,
            hint.cause,
            hint.confidence.as_str(),
            hint.cause.summary()
        );
        if !hint.evidence.is_empty() {
            let _ = writeln!(out, "     evidence: {}", hint.evidence.join("; "));
        }
        if !hint.fix.is_empty() {
            let _ = writeln!(out, "     fix:");
            for line in &hint.fix {
                let _ = writeln!(out, "       {line}");
            }
        }
    }
}

/// The server's report as it came: what arrived, the firewall, the socket, its verdict.
fn server_lines(s: &WatchReport) -> Vec<String> {
    let arrivals = if s.arrivals.is_empty() {
        "none".to_owned()
    } else {
        s.arrivals
            .iter()
            .map(|a| format!("{} from {}", a.packets, a.source))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut lines = vec![format!(
        "watched {}/{} for {:.0} s (ipdiag {}): arrivals {arrivals} (capture: {})",
        s.port,
        s.protocol,
        s.watch_seconds,
        s.ipdiag_version,
        s.capture.as_str()
    )];
    let rule = s
        .firewall
        .rule
        .as_deref()
        .map_or_else(String::new, |r| format!(": {r}"));
    lines.push(format!("firewall {}{rule}", s.firewall.verdict.as_str()));
    match &s.listener {
        Some(l) => {
            let who = match (&l.process, l.pid) {
                (Some(p), Some(pid)) => format!(" by {p} (pid {pid})"),
                (Some(p), None) => format!(" by {p}"),
                _ => String::new(),
            };
            lines.push(format!("listening on {}{who}", l.bound));
        }
        None => lines.push("nothing listening".to_owned()),
    }
    if let Some(u) = &s.udp_socket {
        lines.push(format!(
            "datagrams in {}, out {}{}",
            u.datagrams_in,
            u.datagrams_out,
            if u.reply_sources.is_empty() {
                String::new()
            } else {
                let from: Vec<String> = u.reply_sources.iter().map(ToString::to_string).collect();
                format!(" (from {})", from.join(", "))
            }
        ));
    }
    if let Some(q) = &s.accept_queue {
        lines.push(format!(
            "accept queue {}/{}, overflows {}, drops {}",
            q.queued, q.backlog, q.overflows, q.drops
        ));
    }
    lines.push(format!(
        "its verdict: {} ({})",
        s.verdict.cause, s.verdict.detail
    ));
    lines
}

/// `198.51.100.1 → 192.0.2.2 → 3.5.140.2 (aws) → * → *`: the first answer of each hop, and
/// whether its router limits its ICMP.
fn path_text(hops: &[HopSummary]) -> String {
    let hop = |s: &HopSummary| {
        let shown = match (s.addresses.first(), s.network) {
            (None, _) => "*".to_owned(),
            (Some(a), None) => a.to_string(),
            (Some(a), Some((provider, _))) => format!("{a} ({provider})"),
        };
        if s.icmp_limited {
            format!("{shown} (ICMP limited, not loss)")
        } else {
            shown
        }
    };
    hops.iter().map(hop).collect::<Vec<_>>().join(" → ")
}

fn control_text(c: &ProbeResult) -> String {
    let mut text = format!("{}/{} {}", c.endpoint.port, c.endpoint.protocol, c.state);
    if let Some(rtt) = c.rtt {
        let _ = write!(text, " {}", ms(rtt.avg));
    }
    text
}

fn ping_text(p: &PingOutcome) -> String {
    let mut text = format!("{}/{} answered", p.received, p.sent);
    if let Some(rtt) = p.rtt.stats() {
        let _ = write!(text, ", rtt {}", ms(rtt.avg));
    }
    let _ = write!(
        text,
        " (ICMP echo, {})",
        super::ping_text::method_words(p.method)
    );
    text
}

/// `203.0.113.10: documentation, TEST-NET-3 (RFC 5737); likely Google Cloud (AS396982)`.
fn address_text(info: &AddrInfo) -> String {
    let mut text = format!("{}: {}", info.address, info.scope.as_str());
    if let Some(range) = info.range {
        let _ = write!(text, ", {} ({})", range.name, range.rfc);
    }
    if let Some(cloud) = info.cloud {
        let _ = write!(text, "; likely {} (AS{})", cloud.provider.name, cloud.asn);
    }
    text
}
