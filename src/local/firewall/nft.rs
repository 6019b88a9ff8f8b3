//! The nftables side: base chains on the input hook of `nft -j list ruleset`, rule by rule.

use super::{Decision, Ending, FirewallHit, Holds, NFT, Packet, Verdict, decide, hit};
use crate::model::Transport;
use serde_json::Value;

/// The hits in nft's JSON ruleset (`nft -j list ruleset`); text that is not such JSON has
/// none.
pub fn nft_hits(json: &str, protocol: Transport, port: u16) -> Vec<FirewallHit> {
    serde_json::from_str::<Value>(json)
        .map_or_else(|_| Vec::new(), |root| nft_hits_in(&root, protocol, port))
}

/// The hits in a parsed ruleset, base chains in priority order (the order packets see them).
pub(super) fn nft_hits_in(root: &Value, protocol: Transport, port: u16) -> Vec<FirewallHit> {
    let items = items(root);
    let mut chains: Vec<&Value> = nft_input_chains(items).collect();
    chains.sort_by_key(|c| c["prio"].as_i64().unwrap_or(0));
    let packet = Packet { protocol, port };
    chains
        .into_iter()
        .filter_map(|chain| nft_chain_hit(items, chain, packet))
        .collect()
}

/// The top-level array: `{"nftables": [{"metainfo": ..}, {"table": ..}, {"chain": ..}, ..]}`.
pub(super) fn items(root: &Value) -> &[Value] {
    root["nftables"].as_array().map_or(&[], Vec::as_slice)
}

/// The chains packets for this host pass: base chains on the input hook. (The `bridge` family
/// also has an input hook, for frames crossing a bridge, which is another question.)
pub(super) fn nft_input_chains(items: &[Value]) -> impl Iterator<Item = &Value> {
    items.iter().map(|i| &i["chain"]).filter(|c| {
        c["hook"] == "input" && matches!(c["family"].as_str(), Some("ip" | "ip6" | "inet"))
    })
}

/// Walks one chain's rules in order to the first that surely accepts, drops or rejects the
/// packet, then its policy.
fn nft_chain_hit(items: &[Value], chain: &Value, packet: Packet) -> Option<FirewallHit> {
    let (family, table, name) = (&chain["family"], &chain["table"], &chain["name"]);
    let place = format!(
        "{} {} {}",
        family.as_str().unwrap_or("?"),
        table.as_str().unwrap_or("?"),
        name.as_str().unwrap_or("?")
    );
    let sets = NamedSets {
        items,
        family,
        table,
    };
    let mut jumps = Vec::new();
    let rules = items
        .iter()
        .map(|i| &i["rule"])
        .filter(|r| r["family"] == *family && r["table"] == *table && r["chain"] == *name)
        .map(|rule| {
            let exprs = rule["expr"].as_array().map_or(&[][..], Vec::as_slice);
            (exprs, nft_rule(exprs, &sets, packet))
        });
    match decide(rules, &mut jumps) {
        Decision::Accept => None,
        Decision::Stop(exprs, verdict) => {
            let text: Vec<String> = exprs.iter().map(render_expr).collect();
            Some(hit(
                NFT,
                format!("{place}: {}", text.join(" ")),
                verdict,
                &jumps,
            ))
        }
        Decision::Policy => (chain["policy"] == "drop")
            .then(|| hit(NFT, format!("{place}: policy drop"), Verdict::Drop, &jumps)),
    }
}

/// Whether all of a rule's matches hold for the packet, and its verdict.
fn nft_rule(exprs: &[Value], sets: &NamedSets<'_>, packet: Packet) -> (Holds, Ending) {
    let mut holds = Holds::Yes;
    let mut ending = Ending::Nothing;
    for expr in exprs {
        let Some((key, value)) = expr.as_object().and_then(|o| o.iter().next()) else {
            holds = Holds::Maybe;
            continue;
        };
        match key.as_str() {
            "match" => holds = holds.and(nft_match(value, sets, packet)),
            "vmap" => {
                let (held, end) = nft_vmap(value, sets, packet);
                holds = holds.and(held);
                ending = end;
            }
            // Statements that let every packet through unchanged in verdict.
            "counter" | "log" | "notrack" | "mangle" | "continue" => {}
            // A verdict, or `limit`, `quota`, `xt` (iptables-nft), `queue`, ...: things that
            // may or may not stop the packet.
            key => match verdict_ending(key, value) {
                Some(end) => ending = end,
                None => holds = Holds::Maybe,
            },
        }
    }
    (holds, ending)
}

/// `{"drop": null}`, `{"reject": {...}}`, `{"jump": {"target": "x"}}`, ...
fn verdict_ending(key: &str, value: &Value) -> Option<Ending> {
    Some(match key {
        "accept" => Ending::Accept,
        "drop" => Ending::Stop(Verdict::Drop),
        "reject" => Ending::Stop(Verdict::Reject),
        "return" => Ending::Return,
        "jump" | "goto" => {
            Ending::Jump(format!("{key} {}", value["target"].as_str().unwrap_or("?")))
        }
        _ => return None,
    })
}

/// `tcp dport vmap { 22 : accept, 7004 : drop }`: `{"vmap": {"key": <payload>, "data":
/// {"set": [[22, {"accept": null}], ...]}}}`. The entry holding the port gives the verdict;
/// none holding it, the rule does nothing. A named map (`vmap @ports`) is not looked up.
fn nft_vmap(vmap: &Value, sets: &NamedSets<'_>, packet: Packet) -> (Holds, Ending) {
    let payload = &vmap["key"]["payload"];
    let (proto, ours) = (payload["protocol"].as_str(), packet.protocol.as_str());
    match proto {
        Some(p) if is_transport(p) && p != ours => return (Holds::No, Ending::Nothing),
        Some(p) if (p == ours || p == "th") && payload["field"] == "dport" => {}
        _ => return (Holds::Maybe, Ending::Nothing),
    }
    let Some(entries) = vmap["data"]["set"].as_array() else {
        return (Holds::Maybe, Ending::Nothing);
    };
    for entry in entries {
        let verdict = entry[1]
            .as_object()
            .and_then(|o| o.iter().next())
            .and_then(|(key, value)| verdict_ending(key, value));
        match (member(&entry[0], sets, u64::from(packet.port)), verdict) {
            (Some(true), Some(end)) => return (Holds::Yes, end),
            (Some(false), _) => {}
            _ => return (Holds::Maybe, Ending::Nothing),
        }
    }
    (Holds::Yes, Ending::Nothing)
}

/// One `{"match": {"op", "left", "right"}}`.
fn nft_match(m: &Value, sets: &NamedSets<'_>, packet: Packet) -> Holds {
    let (op, left, right) = (m["op"].as_str().unwrap_or("=="), &m["left"], &m["right"]);
    let ours = packet.protocol.as_str();
    if let Some(payload) = left.get("payload") {
        let (proto, field) = (payload["protocol"].as_str(), payload["field"].as_str());
        return match (proto, field) {
            // `tcp dport` carries "and the packet is TCP", whatever the operator.
            (Some(p), _) if is_transport(p) && p != ours => Holds::No,
            (Some(p), Some("dport")) if p == ours || p == "th" => {
                compare(op, right, sets, u64::from(packet.port))
            }
            (Some("ip"), Some("protocol")) | (Some("ip6"), Some("nexthdr")) => {
                protocol_match(op, right, packet.protocol)
            }
            _ => Holds::Maybe,
        };
    }
    match (left["meta"]["key"].as_str(), left["ct"]["key"].as_str()) {
        (Some("l4proto"), _) => protocol_match(op, right, packet.protocol),
        (_, Some("state")) => {
            let new = strings(right).any(|s| s == "new");
            match op {
                "==" | "in" => Holds::from_bool(new),
                "!=" => Holds::from_bool(!new),
                _ => Holds::Maybe,
            }
        }
        _ => Holds::Maybe,
    }
}

/// The transports nft names in payload matches (`th` is "any of them").
fn is_transport(name: &str) -> bool {
    matches!(name, "tcp" | "udp" | "udplite" | "sctp" | "dccp")
}

/// `meta l4proto tcp`, `ip protocol { tcp, udp }`, `meta l4proto 6`.
fn protocol_match(op: &str, right: &Value, protocol: Transport) -> Holds {
    let number = match protocol {
        Transport::Tcp => 6,
        Transport::Udp => 17,
        Transport::Dccp => 33,
        Transport::Sctp => 132,
    };
    let one = |v: &Value| v.as_str() == Some(protocol.as_str()) || v.as_u64() == Some(number);
    let member = one(right) || right["set"].as_array().is_some_and(|s| s.iter().any(one));
    match op {
        "==" | "in" => Holds::from_bool(member),
        "!=" => Holds::from_bool(!member),
        _ => Holds::Maybe,
    }
}

/// A string or an array of strings (`ct state new`, `ct state established,related`).
fn strings(value: &Value) -> impl Iterator<Item = &str> {
    value.as_str().into_iter().chain(
        value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str),
    )
}

/// The named sets of one table, for `tcp dport @blocked`.
struct NamedSets<'a> {
    items: &'a [Value],
    family: &'a Value,
    table: &'a Value,
}

impl NamedSets<'_> {
    /// The elements of `@name` (`{"set": {"name", "elem": [...]}}`), if the set is there.
    fn elements(&self, name: &str) -> Option<&[Value]> {
        let set = self.items.iter().map(|i| &i["set"]).find(|s| {
            s["family"] == *self.family && s["table"] == *self.table && s["name"] == name
        })?;
        // A set with no elements has no "elem" at all.
        Some(set["elem"].as_array().map_or(&[][..], Vec::as_slice))
    }
}

/// `port <op> right`: a number, `{"range": [lo, hi]}`, `{"set": [...]}` or `"@name"`.
fn compare(op: &str, right: &Value, sets: &NamedSets<'_>, port: u64) -> Holds {
    match op {
        "==" | "in" => member(right, sets, port).map_or(Holds::Maybe, Holds::from_bool),
        "!=" => member(right, sets, port).map_or(Holds::Maybe, |m| Holds::from_bool(!m)),
        "<" | ">" | "<=" | ">=" => right.as_u64().map_or(Holds::Maybe, |n| {
            Holds::from_bool(match op {
                "<" => port < n,
                ">" => port > n,
                "<=" => port <= n,
                _ => port >= n,
            })
        }),
        _ => Holds::Maybe,
    }
}

/// Whether `right` holds the port; `None` when it cannot be told (an unknown shape).
fn member(right: &Value, sets: &NamedSets<'_>, port: u64) -> Option<bool> {
    if let Some(n) = right.as_u64() {
        return Some(n == port);
    }
    if let Some(name) = right.as_str().and_then(|s| s.strip_prefix('@')) {
        // Inside a named set, no further names: a set naming itself would never end.
        let inner = NamedSets {
            items: &[],
            ..*sets
        };
        return any_member(sets.elements(name)?, &inner, port);
    }
    if let Some(range) = right.get("range") {
        let (lo, hi) = (range[0].as_u64()?, range[1].as_u64()?);
        return Some((lo..=hi).contains(&port));
    }
    if let Some(elem) = right.get("elem") {
        // A set element with options (timeout, counter): `{"elem": {"val": 22, ...}}`.
        return member(&elem["val"], sets, port);
    }
    any_member(right.get("set")?.as_array()?, sets, port)
}

/// Any element holds the port: `Some(true)` as soon as one does, even if others are unknown.
fn any_member(elements: &[Value], sets: &NamedSets<'_>, port: u64) -> Option<bool> {
    let mut known = true;
    for element in elements {
        match member(element, sets, port) {
            Some(true) => return Some(true),
            Some(false) => {}
            None => known = false,
        }
    }
    known.then_some(false)
}

/// One expression the way `nft list ruleset` writes it (near enough for a reader to find it).
fn render_expr(expr: &Value) -> String {
    let Some((key, value)) = expr.as_object().and_then(|o| o.iter().next()) else {
        return "?".into();
    };
    match key.as_str() {
        "match" => {
            let op = match value["op"].as_str() {
                Some("==" | "in") | None => String::new(),
                Some(op) => format!("{op} "),
            };
            format!(
                "{} {op}{}",
                render_operand(&value["left"]),
                render_operand(&value["right"])
            )
        }
        "reject" => match (value["type"].as_str(), value["expr"].as_str()) {
            (None | Some("icmpx"), None | Some("port-unreachable")) => "reject".into(),
            (Some(kind), Some(code)) => format!("reject with {kind} {code}"),
            (Some(kind), None) => format!("reject with {kind}"),
            (None, Some(code)) => format!("reject with {code}"),
        },
        "jump" | "goto" => format!("{key} {}", value["target"].as_str().unwrap_or("?")),
        "vmap" => {
            let entries: Vec<String> = value["data"]["set"]
                .as_array()
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .map(|e| format!("{} : {}", render_operand(&e[0]), render_expr(&e[1])))
                .collect();
            format!(
                "{} vmap {{ {} }}",
                render_operand(&value["key"]),
                entries.join(", ")
            )
        }
        other => other.to_owned(),
    }
}

/// The left or right side of a match.
fn render_operand(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(render_operand)
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(o) => {
            if let Some(p) = o.get("payload") {
                format!(
                    "{} {}",
                    render_operand(&p["protocol"]),
                    render_operand(&p["field"])
                )
            } else if let Some(k) = o.get("meta") {
                format!("meta {}", render_operand(&k["key"]))
            } else if let Some(k) = o.get("ct") {
                format!("ct {}", render_operand(&k["key"]))
            } else if let Some(r) = o.get("range") {
                format!("{}-{}", render_operand(&r[0]), render_operand(&r[1]))
            } else if let Some(p) = o.get("prefix") {
                format!(
                    "{}/{}",
                    render_operand(&p["addr"]),
                    render_operand(&p["len"])
                )
            } else if let Some(s) = o.get("set").and_then(Value::as_array) {
                let items: Vec<String> = s.iter().map(render_operand).collect();
                format!("{{ {} }}", items.join(", "))
            } else if let Some(e) = o.get("elem") {
                render_operand(&e["val"])
            } else {
                "?".into()
            }
        }
        Value::Null | Value::Bool(_) => "?".into(),
    }
}
