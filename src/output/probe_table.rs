//! The human view of `ipdiag probe`: one table grouped by host, nmap-style.
//!
//! In a sweep, a state that more than 25 ports of one host share is summarised in one line
//! ("Not shown: 65523 closed tcp ports (conn-refused)") unless `--all`, so the open ports
//! are not lost in 65,000 rows.

use super::probe_text::{loss_text, reason_text, rtt_text, service_name};
use super::style::Style;
use crate::model::{ProbeResult, State};
use comfy_table::Color;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

/// More ports than this in one state (per host and protocol) are summarised.
const SUMMARISE_OVER: usize = 25;

/// The colour of a state: green open, red closed, yellow filtered, magenta error.
pub fn state_color(state: State) -> Color {
    match state {
        State::Open => Color::Green,
        State::Closed => Color::Red,
        State::Filtered | State::OpenFiltered => Color::Yellow,
        State::Error => Color::Magenta,
    }
}

/// Renders the results (in plan order) as a table with summary lines.
pub fn render(results: &[ProbeResult], all: bool, style: Style) -> String {
    let mut table = Table::new(all);
    for r in results {
        table.add(r.clone());
    }
    table.render(style)
}

/// A run's table, built as its results come in plan order: it keeps the rows it will show
/// (a state that more than `SUMMARISE_OVER` ports of one host share becomes a count, its
/// rows let go), the count per group and per state, and the error lines. A sweep of
/// 4,000,000 closed ports holds a few groups, not 4,000,000 rows.
#[derive(Debug, Default)]
pub struct Table {
    /// `--all`: every row is shown.
    all: bool,
    /// The rows kept, with their group, in plan order.
    rows: Vec<(usize, ProbeResult)>,
    /// Each (host, address, protocol, state, reason) with its group number and size.
    groups: BTreeMap<GroupKey, (usize, usize)>,
    /// Groups become summarised: their rows are let go when `rows` outgrows this.
    purge_at: usize,
    /// `host: message` for each result with an error.
    errors: Vec<String>,
    /// Results per state.
    states: BTreeMap<State, usize>,
    total: usize,
}

/// Rows kept before summarised groups' rows are let go (then twice as many as remain).
const PURGE_FROM: usize = 4096;

impl Table {
    /// An empty table; `all`: no summarised groups.
    pub fn new(all: bool) -> Self {
        Self {
            all,
            purge_at: PURGE_FROM,
            ..Self::default()
        }
    }

    /// Adds the next result in plan order.
    pub fn add(&mut self, r: ProbeResult) {
        self.total += 1;
        *self.states.entry(r.state).or_default() += 1;
        if let Some(error) = &r.error {
            self.errors.push(format!("{}: {error}", host_text(&r)));
        }
        let next = self.groups.len();
        let (group, count) = self.groups.entry(group_key(&r)).or_insert((next, 0));
        *count += 1;
        if self.all || r.state == State::Open || *count <= SUMMARISE_OVER {
            self.rows.push((*group, r));
        } else if self.rows.len() > self.purge_at {
            let hidden = self.hidden();
            self.rows.retain(|(g, _)| !hidden.contains(g));
            self.purge_at = PURGE_FROM.max(2 * self.rows.len());
        }
    }

    /// The groups summarised in one line (none with `--all`).
    fn hidden(&self) -> std::collections::HashSet<usize> {
        if self.all {
            return std::collections::HashSet::new();
        }
        self.groups
            .iter()
            .filter(|((_, _, _, state, _), (_, count))| {
                *count > SUMMARISE_OVER && *state != State::Open.as_str()
            })
            .map(|(_, (group, _))| *group)
            .collect()
    }

    /// The table, its summary lines, the errors and the totals line.
    pub fn render(&self, style: Style) -> String {
        let hidden = self.hidden();
        let mut table = style.table();
        table.set_header(["HOST", "PORT", "STATE", "REASON", "RTT", "LOSS", "SERVICE"]);
        let mut last_host = String::new();
        for (_, r) in self.rows.iter().filter(|(g, _)| !hidden.contains(g)) {
            let host = host_text(r);
            let shown_host = if host == last_host {
                String::new()
            } else {
                host.clone()
            };
            last_host = host;
            table.add_row(vec![
                style.cell(shown_host, None),
                style.cell(format!("{}/{}", r.endpoint.port, r.endpoint.protocol), None),
                style.cell(r.state.as_str(), Some(state_color(r.state))),
                style.cell(reason_text(r), None),
                style.cell(rtt_text(r), None),
                style.cell(loss_text(r), None),
                style.cell(service_name(r.endpoint.port, r.endpoint.protocol), None),
            ]);
        }
        let mut text = String::new();
        if table.row_count() > 0 {
            text.push_str(&style.render(&table));
            text.push('\n');
        }
        for ((host, address, protocol, state, reason), (group, count)) in &self.groups {
            if hidden.contains(group) {
                let _ = writeln!(
                    text,
                    "{}: not shown: {count} {state} {protocol} ports ({reason})",
                    host_label(host, *address)
                );
            }
        }
        for line in &self.errors {
            let _ = writeln!(text, "{line}");
        }
        let _ = writeln!(text, "{}", totals(&self.states, self.total));
        text
    }
}

/// Host name, address, protocol, state, reason.
type GroupKey = (
    String,
    Option<IpAddr>,
    &'static str,
    &'static str,
    &'static str,
);

fn group_key(r: &ProbeResult) -> GroupKey {
    (
        r.endpoint.host.clone(),
        r.endpoint.address,
        r.endpoint.protocol.as_str(),
        r.state.as_str(),
        r.reason.as_str(),
    )
}

/// `203.0.113.10`, or `web (198.51.100.7)` for a name.
fn host_text(r: &ProbeResult) -> String {
    host_label(&r.endpoint.host, r.endpoint.address)
}

fn host_label(host: &str, address: Option<IpAddr>) -> String {
    match address {
        Some(a) if host.parse::<IpAddr>() != Ok(a) => format!("{host} ({a})"),
        Some(a) => a.to_string(),
        None => host.to_owned(),
    }
}

/// `3 ports: 1 open, 1 closed, 1 filtered`.
fn totals(states: &BTreeMap<State, usize>, total: usize) -> String {
    let parts: Vec<String> = states
        .iter()
        .map(|(state, n)| format!("{n} {state}"))
        .collect();
    let noun = if total == 1 { "port" } else { "ports" };
    format!("{total} {noun}: {}", parts.join(", "))
}

/// `interrupted: 17036 of 20000 endpoints not probed` (after Ctrl-C).
pub fn not_probed(probed: usize, not_probed: usize) -> String {
    format!(
        "interrupted: {not_probed} of {} endpoints not probed",
        probed + not_probed
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Reason, RttStats};

    fn result(port: u16, state: State, reason: Reason) -> ProbeResult {
        let mut r = ProbeResult::sample("127.0.0.1", port, state, reason);
        r.endpoint.target = "127.0.0.1".into();
        r.rtt = (state != State::Filtered).then_some(RttStats {
            min: 0.05,
            avg: 0.05,
            max: 0.05,
            stddev: 0.0,
        });
        r
    }

    #[test]
    fn a_sweep_summarises_the_closed_ports() {
        let mut results: Vec<ProbeResult> = (1..=100)
            .map(|p| result(p, State::Closed, Reason::ConnRefused))
            .collect();
        results[21] = result(22, State::Open, Reason::SynAck);
        let text = render(&results, false, Style::default());
        insta::assert_snapshot!(text, @r"
        HOST       PORT    STATE  REASON   RTT       LOSS  SERVICE
        127.0.0.1  22/tcp  open   syn-ack  0.050 ms  0%    ssh
        127.0.0.1: not shown: 99 closed tcp ports (conn-refused)
        100 ports: 1 open, 99 closed
        ");
        assert_eq!(
            render(&results, true, Style::default()).lines().count(),
            102
        );
    }

    #[test]
    fn icmp_senders_other_than_the_target_are_named() {
        let mut r = result(7890, State::Filtered, Reason::AdminProhibited);
        r.icmp_from = Some("198.51.100.1".parse().unwrap());
        let text = render(&[r], false, Style::default());
        assert!(
            text.contains("admin-prohibited from 198.51.100.1"),
            "{text}"
        );
        assert!(text.ends_with("1 port: 1 filtered\n"));
    }
}
