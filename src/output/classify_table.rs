//! The human view of `ipdiag classify`: one card per address, key on the left.
//!
//! A card rather than one wide row because an address has a dozen facts and a note worth
//! reading; cards also stream (each is printed as soon as its address is classified).

use super::style::{Style, scope_color};
use crate::classify::explain::scope_note;
use crate::classify::ipv4::Ipv4Class;
use crate::classify::tables::{Registry, RegistryFlags};
use crate::classify::{AddrInfo, Classified, Subnet};
use comfy_table::Color;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;

/// One line of a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRow {
    /// The fact's name.
    pub key: &'static str,
    /// Its value.
    pub value: String,
    /// Colour for the value, when colour is on.
    pub color: Option<Color>,
}

fn row(key: &'static str, value: impl Into<String>) -> CardRow {
    CardRow {
        key,
        value: value.into(),
        color: None,
    }
}

/// The rows of one card, in display order.
pub fn card_rows(c: &Classified<'_>) -> Vec<CardRow> {
    let info = &c.info;
    let mut rows = Vec::new();
    if c.input_text() != info.address.to_string() {
        rows.push(row("address", info.address.to_string()));
    }
    rows.push(row(
        "version",
        if info.address.is_ipv4() {
            "IPv4"
        } else {
            "IPv6"
        },
    ));
    if let (Some(class), IpAddr::V4(a)) = (info.class, info.address) {
        rows.push(row("class", class_text(class)));
        if let Some(net) = class.network_of(u32::from(a)) {
            rows.push(row("classful net", net.to_string()));
        }
    }
    rows.push(row("range", range_text(info)));
    if let Some(flags) = info
        .range
        .filter(|r| r.registry == Registry::SpecialPurpose)
        .map(|r| r.flags)
    {
        rows.push(row("flags", flags_text(flags)));
    }
    let mut scope = info.scope.as_str().to_owned();
    if let Some(m) = info.multicast_scope {
        let _ = write!(scope, " ({m} scope)");
    }
    rows.push(CardRow {
        key: "scope",
        value: scope,
        color: scope_color(info.scope),
    });
    rows.push(row("global", if info.global { "yes" } else { "no" }));
    if let Some(m) = info.cloud {
        rows.push(row(
            "provider",
            format!("likely {} (AS{})", m.provider.name, m.asn),
        ));
    }
    for (kind, e) in info.embedded_infos() {
        rows.push(row(
            "embedded",
            format!("{kind} {} ({})", e.address, e.scope),
        ));
    }
    if let Some(subnet) = c.subnet {
        subnet_rows(&mut rows, subnet);
    }
    rows.push(row("note", scope_note(info)));
    rows
}

fn class_text(class: Ipv4Class) -> String {
    let bits = class.leading_bits();
    match (class.default_mask(), class.default_prefix()) {
        (Some(mask), Some(len)) => format!(
            "{} (leading bits {bits}, default mask {mask} = /{len})",
            class.letter()
        ),
        _ if class == Ipv4Class::D => {
            format!("D (leading bits {bits}: multicast, no default mask)")
        }
        _ => format!("E (leading bits {bits}: reserved, no default mask)"),
    }
}

fn range_text(info: &AddrInfo) -> String {
    match info.range {
        Some(r) => format!("{} {} ({})", r.prefix, r.name, r.rfc),
        None if info.address.is_ipv4() => "none: ordinary unicast space".to_owned(),
        None => "none: outside 2000::/3, reserved by the IETF".to_owned(),
    }
}

fn flags_text(flags: RegistryFlags) -> String {
    let word = |f: Option<bool>| match f {
        Some(true) => "yes",
        Some(false) => "no",
        None => "n/a",
    };
    format!(
        "source {}, destination {}, forwardable {}, globally reachable {}, reserved-by-protocol {}",
        word(flags.source),
        word(flags.destination),
        word(flags.forwardable),
        word(flags.globally_reachable),
        word(flags.reserved_by_protocol)
    )
}

fn subnet_rows(rows: &mut Vec<CardRow>, subnet: Subnet) {
    match subnet {
        Subnet::V4(s) => {
            rows.push(row("network", s.network.to_string()));
            rows.push(row(
                "netmask",
                format!("{} (wildcard {})", s.netmask, s.wildcard),
            ));
            rows.push(row(
                "broadcast",
                s.broadcast.map_or_else(
                    || "none (RFC 3021: /31 and /32 have no broadcast)".to_owned(),
                    |b| b.to_string(),
                ),
            ));
            rows.push(row(
                "hosts",
                format!(
                    "{} - {} ({} usable of {})",
                    s.first_host, s.last_host, s.hosts, s.addresses
                ),
            ));
            rows.push(row("classful view", s.classful.to_string()));
        }
        Subnet::V6(s) => {
            rows.push(row("network", s.network.to_string()));
            rows.push(row(
                "addresses",
                format!(
                    "{} - {} (2^{} = {})",
                    s.first,
                    s.last,
                    s.size_log2,
                    s.addresses()
                ),
            ));
        }
    }
}

/// Streams cards.
pub struct ClassifyTable<W: Write> {
    out: W,
    style: Style,
    count: usize,
}

impl<W: Write> ClassifyTable<W> {
    /// A card writer.
    pub fn new(out: W, style: Style) -> Self {
        Self {
            out,
            style,
            count: 0,
        }
    }

    /// Prints one card.
    pub fn record(&mut self, c: &Classified<'_>) -> io::Result<()> {
        if self.count > 0 {
            writeln!(self.out)?;
        }
        self.count += 1;
        let mut table = self.style.table();
        for r in card_rows(c) {
            table.add_row(vec![
                self.style.cell(r.key, Some(Color::DarkGrey)),
                self.style.cell(r.value, r.color),
            ]);
        }
        writeln!(self.out, "{}", self.style.bold(&c.input_text()))?;
        writeln!(self.out, "{}", self.style.render(&table))
    }

    /// Flushes.
    pub fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(items: &[Classified<'_>]) -> String {
        let mut out = Vec::new();
        let mut table = ClassifyTable::new(&mut out, Style::default());
        for c in items {
            table.record(c).unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn tutorial_address_card() {
        let text = render(&[Classified::address(
            "192.168.1.103",
            "192.168.1.103".parse().unwrap(),
        )]);
        insta::assert_snapshot!(text, @"
        192.168.1.103
        version       IPv4
        class         C (leading bits 110, default mask 255.255.255.0 = /24)
        classful net  192.168.1.0/24
        range         192.168.0.0/16 Private-Use (RFC 1918)
        flags         source yes, destination yes, forwardable yes, globally reachable no, reserved-by-protocol no
        scope         private
        global        no
        note          Private (RFC 1918 / unique-local): reachable only inside its own network. A cloud VM's private IP looks like this: the server may bind it, but clients outside must dial the VM's public IP.
        ");
    }

    #[test]
    fn cidr_card_rows() {
        let c = Classified::network("192.168.1.103/24", "192.168.1.103/24".parse().unwrap());
        let rows = card_rows(&c);
        let get = |k: &str| rows.iter().find(|r| r.key == k).map(|r| r.value.clone());
        assert_eq!(get("address").as_deref(), Some("192.168.1.103"));
        assert_eq!(get("network").as_deref(), Some("192.168.1.0/24"));
        assert_eq!(
            get("netmask").as_deref(),
            Some("255.255.255.0 (wildcard 0.0.0.255)")
        );
        assert_eq!(get("broadcast").as_deref(), Some("192.168.1.255"));
        assert_eq!(
            get("hosts").as_deref(),
            Some("192.168.1.1 - 192.168.1.254 (254 usable of 256)")
        );
        assert_eq!(
            get("classful view").as_deref(),
            Some("exactly one class C network")
        );
    }

    #[test]
    fn loopback_and_class_d_cards() {
        let rows = card_rows(&Classified::address(
            "127.0.0.1",
            "127.0.0.1".parse().unwrap(),
        ));
        assert!(
            rows.iter()
                .any(|r| r.key == "scope" && r.value == "loopback")
        );
        let rows = card_rows(&Classified::address(
            "224.0.0.251",
            "224.0.0.251".parse().unwrap(),
        ));
        assert!(
            rows.iter()
                .any(|r| r.key == "class" && r.value.starts_with("D (leading bits 1110"))
        );
        assert!(
            rows.iter()
                .any(|r| r.key == "scope" && r.value == "multicast (link-local scope)")
        );
    }
}
