//! The human view of `ipdiag port`: one row per port, then notes that explain the columns
//! that need explaining (privileges, the ephemeral range, port 0).

use super::style::Style;
use crate::classify::{PortFacts, PortInfo};
use crate::sys::{netsh, portrange};
use comfy_table::Color;
use std::fmt::Write as _;

/// Renders the table and its notes.
pub fn render<'a>(
    rows: impl Iterator<Item = (&'a str, PortInfo)>,
    facts: &PortFacts,
    style: Style,
) -> String {
    let mut table = style.table();
    table.set_header([
        "PORT",
        "BAND (IANA)",
        "TWO-WAY",
        "PRIVILEGED",
        "EPHEMERAL",
        "SERVICES",
    ]);
    let (mut any_privileged, mut any_ephemeral, mut any_zero) = (false, false, false);
    let mut any_excluded = false;
    for (_input, info) in rows {
        any_excluded |= netsh::is_excluded(facts, info.port);
        any_privileged |= info.privileged;
        any_ephemeral |= info.ephemeral;
        any_zero |= info.port == 0;
        table.add_row(vec![
            style.cell(info.port, None),
            style.cell(info.band.as_str(), None),
            style.cell(info.band_two_way.as_str(), None),
            style.cell(
                yes_no(info.privileged),
                info.privileged.then_some(Color::Yellow),
            ),
            style.cell(
                yes_no(info.ephemeral),
                info.ephemeral.then_some(Color::Yellow),
            ),
            style.cell(services_text(&info), None),
        ]);
    }
    let mut text = style.render(&table);
    text.push('\n');
    for note in notes(facts, any_privileged, any_ephemeral, any_zero) {
        let _ = writeln!(text, "{note}");
    }
    if any_excluded {
        let _ = writeln!(text, "{}", netsh::excluded_note(facts));
    }
    text
}

fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

/// Registrations grouped by name and description: `ssh (tcp/udp/sctp) The Secure Shell ...`.
fn services_text(info: &PortInfo) -> String {
    let mut groups: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    for s in info.services() {
        match groups
            .iter_mut()
            .find(|(n, d, _)| *n == s.name() && *d == s.description())
        {
            Some(group) => group.2.push(s.protocol.as_str()),
            None => groups.push((s.name(), s.description(), vec![s.protocol.as_str()])),
        }
    }
    if groups.is_empty() {
        return "unassigned".to_owned();
    }
    groups
        .iter()
        .map(|(name, description, protocols)| match *name {
            "" => format!("{description} ({})", protocols.join("/")),
            name => format!("{name} ({}) {description}", protocols.join("/")),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The notes under the table: what the bands mean, and the columns that need a why (in
/// the words of the system the facts are about).
pub fn notes(facts: &PortFacts, privileged: bool, ephemeral: bool, zero: bool) -> Vec<String> {
    let mut notes = vec![
        "bands: IANA (RFC 6335) well-known 0-1023, registered 1024-49151, dynamic 49152-65535; \
         two-way: the 0-1023 / 1024-65535 split many tutorials use."
            .to_owned(),
    ];
    if privileged {
        notes.push(portrange::privileged_note(facts));
    }
    if ephemeral {
        notes.push(portrange::ephemeral_note(facts));
    }
    if zero {
        notes.push("port 0: binding it asks the OS for any free port; nothing listens on or connects to port 0.".to_owned());
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::classify_port;

    #[test]
    fn tutorial_ports() {
        let facts = PortFacts::default();
        let rows = [7788u16, 7890, 8080, 22].map(|p| ("x", classify_port(p, None, &facts)));
        let text = render(rows.into_iter(), &facts, Style::default());
        insta::assert_snapshot!(text, @"
        PORT  BAND (IANA)  TWO-WAY     PRIVILEGED  EPHEMERAL  SERVICES
        7788  registered   dynamic     no          no         unassigned
        7890  registered   dynamic     no          no         unassigned
        8080  registered   dynamic     no          no         http-alt (tcp/udp) HTTP Alternate (see port 80)
        22    well-known   well-known  yes         no         ssh (tcp/udp) The Secure Shell (SSH) Protocol
                                                              ssh (sctp) SSH
        bands: IANA (RFC 6335) well-known 0-1023, registered 1024-49151, dynamic 49152-65535; two-way: the 0-1023 / 1024-65535 split many tutorials use.
        privileged: binding a port below 1024 needs root or CAP_NET_BIND_SERVICE (net.ipv4.ip_unprivileged_port_start = 1024, Linux default).
        ");
    }

    #[test]
    fn notes_explain_what_is_flagged() {
        let facts = PortFacts::default();
        assert_eq!(notes(&facts, false, false, false).len(), 1);
        let all = notes(&facts, true, true, true);
        assert!(all[1].contains("below 1024 needs root or CAP_NET_BIND_SERVICE"));
        assert!(all[1].contains("Linux default"));
        assert!(all[2].contains("32768-60999"));
        assert!(all[3].starts_with("port 0"));
    }
}
