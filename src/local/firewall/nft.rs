//! The nftables reader: `nft -j list ruleset` into the ruleset model.
//!
//! Pure: JSON in, chains out. Tables of the `ip`, `ip6` and `inet` families; base chains on
//! the `prerouting` and `input` hooks (not `nat` chains, which rewrite rather than filter)
//! and every regular chain a jump may reach. Named sets are looked up at read time. What
//! ipdiag does not understand becomes `Match::Unknown` / `Action::Unknown` with its text,
//! never a silent pass.

use super::model::{
    Action, Backend, Base, Chain, Hook, IpFamily, Match, Policy, Ports, Rule, Ruleset, TableFamily,
};
use super::nft_text::{render_operand, render_rule};
use ipnet::IpNet;
use serde_json::Value;
use std::fmt::Write as _;
use std::net::IpAddr;

/// Reads nft's JSON text; `None` when it is not nft's JSON.
pub fn read_nft(json: &str) -> Option<Ruleset> {
    let root: Value = serde_json::from_str(json).ok()?;
    let items = root.get("nftables")?.as_array()?;
    Some(read_items(items))
}

fn read_items(items: &[Value]) -> Ruleset {
    let mut set = Ruleset::default();
    for chain in items.iter().filter_map(|i| i.get("chain")) {
        let Some(family) = family(&chain["family"]) else {
            continue;
        };
        let base = match (chain["hook"].as_str(), chain["type"].as_str()) {
            (None, _) => None,
            (Some(_), Some("nat")) => continue,
            (Some("prerouting"), _) => Some(Hook::Prerouting),
            (Some("input"), _) => Some(Hook::Input),
            (Some(_), _) => continue,
        };
        set.chains.push(Chain {
            backend: Backend::Nftables,
            family,
            table: text(&chain["table"]),
            name: text(&chain["name"]),
            base: base.map(|hook| Base {
                hook,
                priority: chain["prio"]
                    .as_i64()
                    .and_then(|p| i32::try_from(p).ok())
                    .unwrap_or(0),
                policy: if chain["policy"] == "drop" {
                    Policy::Drop
                } else {
                    Policy::Accept
                },
            }),
            rules: Vec::new(),
        });
    }
    for rule in items.iter().filter_map(|i| i.get("rule")) {
        let Some(family) = family(&rule["family"]) else {
            continue;
        };
        let (table, name) = (text(&rule["table"]), text(&rule["chain"]));
        let Some(chain) = set
            .chains
            .iter_mut()
            .find(|c| c.family == family && c.table == table && c.name == name)
        else {
            continue;
        };
        let sets = Sets {
            items,
            family: &rule["family"],
            table: &rule["table"],
        };
        let exprs = rule["expr"].as_array().map_or(&[][..], Vec::as_slice);
        chain
            .rules
            .push(read_rule(exprs, rule["comment"].as_str(), &sets));
    }
    set
}

/// One rule of any chain (nat and other hooks too), where it lives, and its expressions:
/// for the rule counters and the DNAT rules, which the filtering model leaves out.
#[derive(Debug, Clone)]
pub struct Listed {
    /// `inet filter input`: family, table and chain, as a rule reference names them.
    pub place: String,
    /// The rule's handle (`nft -a`).
    pub handle: u64,
    /// Its expressions, as nft printed them.
    pub exprs: Vec<Value>,
    /// The rule read into the model.
    pub rule: Rule,
}

/// Every rule of nft's JSON text, in order; `None` when it is not nft's JSON.
pub fn every_rule(json: &str) -> Option<Vec<Listed>> {
    let root: Value = serde_json::from_str(json).ok()?;
    let items = root.get("nftables")?.as_array()?;
    Some(
        items
            .iter()
            .filter_map(|i| i.get("rule"))
            .filter(|r| family(&r["family"]).is_some())
            .map(|r| {
                let sets = Sets {
                    items,
                    family: &r["family"],
                    table: &r["table"],
                };
                let exprs = r["expr"].as_array().cloned().unwrap_or_default();
                Listed {
                    place: format!(
                        "{} {} {}",
                        text(&r["family"]),
                        text(&r["table"]),
                        text(&r["chain"])
                    ),
                    handle: r["handle"].as_u64().unwrap_or(0),
                    rule: read_rule(&exprs, r["comment"].as_str(), &sets),
                    exprs,
                }
            })
            .collect(),
    )
}

fn family(value: &Value) -> Option<TableFamily> {
    match value.as_str()? {
        "ip" => Some(TableFamily::Ip),
        "ip6" => Some(TableFamily::Ip6),
        "inet" => Some(TableFamily::Inet),
        _ => None,
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or("?").to_owned()
}

/// The named sets of one table, for `@name`.
struct Sets<'a> {
    items: &'a [Value],
    family: &'a Value,
    table: &'a Value,
}

impl Sets<'_> {
    /// The elements of `@name` (a set or a map: a map's keys), if it is there.
    fn elements(&self, name: &str) -> Option<Vec<Value>> {
        let found = self
            .items
            .iter()
            .filter_map(|i| i.get("set").or_else(|| i.get("map")))
            .find(|s| {
                s["family"] == *self.family && s["table"] == *self.table && s["name"] == name
            })?;
        let elements = found["elem"].as_array().map_or(&[][..], Vec::as_slice);
        Some(
            elements
                .iter()
                .map(|e| {
                    // A map's element is `[key, value]`; an element with options `{"elem": {"val"}}`.
                    let e = if found.get("map").is_some() { &e[0] } else { e };
                    e.get("elem").map_or(e, |inner| &inner["val"]).clone()
                })
                .collect(),
        )
    }
}

fn read_rule(exprs: &[Value], comment: Option<&str>, sets: &Sets<'_>) -> Rule {
    let mut matches = Vec::new();
    let mut action = Action::Continue;
    for expr in exprs {
        let Some((key, value)) = expr.as_object().and_then(|o| o.iter().next()) else {
            matches.push(Match::Unknown("an empty expression".into()));
            continue;
        };
        match key.as_str() {
            "match" => matches.extend(read_match(value, sets)),
            "vmap" => action = read_vmap(value, sets),
            // No effect on whether the packet passes.
            "counter" | "log" | "notrack" | "mangle" | "continue" | "set" | "meta" | "ct"
            | "nftrace" => {}
            "xt" => match (value["type"].as_str(), value["name"].as_str()) {
                (Some("target"), Some("REJECT")) => action = Action::Reject,
                (Some("target"), Some("DROP")) => action = Action::Drop,
                (Some("target"), Some("LOG" | "NFLOG")) => {}
                _ => matches.push(Match::Unknown(render_rule(std::slice::from_ref(expr)))),
            },
            key => match verdict(key, value) {
                Some(a) => action = a,
                // `limit`, `quota`, ...: conditions ipdiag does not evaluate.
                None => matches.push(Match::Unknown(render_rule(std::slice::from_ref(expr)))),
            },
        }
    }
    let mut text = render_rule(exprs);
    if let Some(c) = comment {
        let _ = write!(text, " comment {c:?}");
    }
    Rule {
        text,
        matches,
        action,
        comment: comment.map(str::to_owned),
    }
}

/// `{"accept": null}`, `{"jump": {"target": "x"}}`, ...
fn verdict(key: &str, value: &Value) -> Option<Action> {
    Some(match key {
        "accept" => Action::Accept,
        "drop" => Action::Drop,
        "reject" => Action::Reject,
        "return" => Action::Return,
        "jump" => Action::Jump(text(&value["target"])),
        "goto" => Action::Goto(text(&value["target"])),
        "queue" | "dnat" | "snat" | "redirect" | "masquerade" | "tproxy" | "synproxy" => {
            Action::Unknown(key.to_owned())
        }
        _ => return None,
    })
}

/// `tcp dport vmap { 22 : accept, 7004 : drop }`, `ct state vmap { ... }`, or `@map`.
fn read_vmap(vmap: &Value, sets: &Sets<'_>) -> Action {
    let key = &vmap["key"];
    let entries: Vec<Value> = match &vmap["data"] {
        Value::String(name) => {
            let Some(map) = name.strip_prefix('@').and_then(|n| named_map(sets, n)) else {
                return Action::Unknown(format!("vmap {name}"));
            };
            map
        }
        data => data["set"].as_array().cloned().unwrap_or_default(),
    };
    let mut out = Vec::new();
    for entry in &entries {
        let matched = serde_json::json!({"op": "==", "left": key, "right": entry[0]});
        let action = entry[1]
            .as_object()
            .and_then(|o| o.iter().next())
            .and_then(|(k, v)| verdict(k, v))
            .unwrap_or_else(|| Action::Unknown(render_operand(&entry[1])));
        out.push((read_match(&matched, sets), action));
    }
    Action::Map(out)
}

/// A named verdict map's `[key, verdict]` pairs.
fn named_map(sets: &Sets<'_>, name: &str) -> Option<Vec<Value>> {
    let map =
        sets.items.iter().filter_map(|i| i.get("map")).find(|m| {
            m["family"] == *sets.family && m["table"] == *sets.table && m["name"] == name
        })?;
    Some(map["elem"].as_array().cloned().unwrap_or_default())
}

/// One `{"match": {"op", "left", "right"}}` as the model's matches (`tcp dport 22` is two:
/// the protocol and the port).
fn read_match(m: &Value, sets: &Sets<'_>) -> Vec<Match> {
    let (op, left, right) = (m["op"].as_str().unwrap_or("=="), &m["left"], &m["right"]);
    let negated = op == "!=";
    let unknown = || {
        let op = if matches!(op, "==" | "in") {
            String::new()
        } else {
            format!("{op} ")
        };
        vec![Match::Unknown(format!(
            "{} {op}{}",
            render_operand(left),
            render_operand(right)
        ))]
    };
    let right = &expand(right, sets);
    if let Some(payload) = left.get("payload") {
        return read_payload(payload, op, right).unwrap_or_else(unknown);
    }
    let words = strings(right);
    let read = match (left["meta"]["key"].as_str(), left["ct"]["key"].as_str()) {
        (Some("l4proto"), _) => protocols(op, right),
        (Some("nfproto"), _) if op == "==" && words.len() == 1 => match words[0].as_str() {
            "ipv4" => Some(Match::Family(IpFamily::V4)),
            "ipv6" => Some(Match::Family(IpFamily::V6)),
            _ => None,
        },
        (Some("iifname" | "iif"), _) if !words.is_empty() && matches!(op, "==" | "!=" | "in") => {
            Some(Match::InInterface {
                negated,
                names: words,
            })
        }
        // A packet from another machine to this one is addressed to the host.
        (Some("pkttype"), _) if matches!(op, "==" | "!=" | "in") => {
            Some(Match::Known(words.iter().any(|w| w == "host") != negated))
        }
        (_, Some("state")) if matches!(op, "==" | "!=" | "in") => Some(Match::CtState {
            negated,
            states: words.iter().map(|w| w.to_lowercase()).collect(),
        }),
        // `ct status dnat accept` (firewalld): a packet to this host's own port was not
        // translated on its way.
        (_, Some("status"))
            if matches!(op, "==" | "in") && words.iter().all(|w| w == "dnat" || w == "snat") =>
        {
            Some(Match::Known(false))
        }
        _ => fib(left, op, right),
    };
    read.map_or_else(unknown, |m| vec![m])
}

/// A match on a header field: `tcp dport`, `ip saddr`, `ip protocol`; `None` when not
/// understood.
fn read_payload(payload: &Value, op: &str, right: &Value) -> Option<Vec<Match>> {
    let negated = op == "!=";
    let (proto, field) = (
        payload["protocol"].as_str().unwrap_or(""),
        payload["field"].as_str().unwrap_or(""),
    );
    let transport = transport_number(proto).or(match proto {
        "icmp" => Some(1),
        "icmpv6" => Some(58),
        _ => None,
    });
    Some(match (proto, field) {
        (_, "dport") if transport_number(proto).is_some() || proto == "th" => {
            let ports = ports(op, right)?;
            let mut out: Vec<Match> = transport
                .map(|n| Match::Protocol {
                    negated: false,
                    numbers: vec![n],
                })
                .into_iter()
                .collect();
            out.push(Match::DestinationPort { negated, ports });
            out
        }
        ("ip" | "ip6", "saddr" | "daddr") => {
            let nets = nets(right).filter(|_| matches!(op, "==" | "!=" | "in"))?;
            let family = Match::Family(if proto == "ip" {
                IpFamily::V4
            } else {
                IpFamily::V6
            });
            let m = if field == "saddr" {
                Match::Source { negated, nets }
            } else {
                Match::Destination { negated, nets }
            };
            vec![family, m]
        }
        ("ip", "protocol") | ("ip6", "nexthdr") => {
            let family = Match::Family(if proto == "ip" {
                IpFamily::V4
            } else {
                IpFamily::V6
            });
            vec![family, protocols(op, right)?]
        }
        // Any other field of a transport header still says which transport.
        _ if transport.is_some() => vec![
            Match::Protocol {
                negated: false,
                numbers: transport.into_iter().collect(),
            },
            Match::Unknown(format!("{proto} {field} {}", render_operand(right))),
        ],
        _ => return None,
    })
}

/// `fib saddr . iif oif missing` (reverse-path filter): taken as passing, since a client's
/// packet arrives where its route points; `fib daddr type local`: the packet is to this host.
fn fib(left: &Value, op: &str, right: &Value) -> Option<Match> {
    let fib = left.get("fib")?;
    let negated = op == "!=";
    match (fib["result"].as_str()?, right) {
        ("oif" | "oifname", Value::Bool(exists)) => Some(Match::Known(*exists != negated)),
        ("type", _) if matches!(op, "==" | "!=" | "in") => Some(Match::Known(
            strings(right).iter().any(|t| t == "local") != negated,
        )),
        _ => None,
    }
}

/// `@name` replaced by the named set's elements (once: a set cannot name a set).
fn expand(right: &Value, sets: &Sets<'_>) -> Value {
    match right.as_str().and_then(|s| s.strip_prefix('@')) {
        Some(name) => sets
            .elements(name)
            .map_or_else(|| right.clone(), |e| serde_json::json!({ "set": e })),
        None => right.clone(),
    }
}

fn transport_number(name: &str) -> Option<u8> {
    match name {
        "tcp" => Some(6),
        "udp" => Some(17),
        "dccp" => Some(33),
        "udplite" => Some(136),
        "sctp" => Some(132),
        _ => None,
    }
}

/// The elements of a right-hand side: itself, or the members of `{"set": [...]}` / an array.
fn elements(right: &Value) -> Vec<&Value> {
    if let Some(set) = right.get("set").and_then(Value::as_array) {
        set.iter()
            .map(|e| e.get("elem").map_or(e, |inner| &inner["val"]))
            .collect()
    } else if let Some(list) = right.as_array() {
        list.iter().collect()
    } else {
        vec![right]
    }
}

/// Strings of a right-hand side (`ct state established,related`, `iifname { "a", "b" }`).
fn strings(right: &Value) -> Vec<String> {
    elements(right)
        .into_iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// `tcp dport 22`, `{ 22, 7000-7100 }`, `< 1024`; `None` for shapes not understood.
fn ports(op: &str, right: &Value) -> Option<Ports> {
    let port = |v: &Value| v.as_u64().and_then(|n| u16::try_from(n).ok());
    if let Some(n) = port(right) {
        let range = match op {
            "==" | "!=" | "in" => (n, n),
            "<" => (0, n.checked_sub(1)?),
            "<=" => (0, n),
            ">" => (n.checked_add(1)?, u16::MAX),
            ">=" => (n, u16::MAX),
            _ => return None,
        };
        return Some(Ports {
            ranges: vec![range],
            unknown: false,
        });
    }
    if !matches!(op, "==" | "!=" | "in") {
        return None;
    }
    let mut out = Ports::default();
    for e in elements(right) {
        if let Some(n) = port(e) {
            out.ranges.push((n, n));
        } else if let (Some(lo), Some(hi)) = (port(&e["range"][0]), port(&e["range"][1])) {
            out.ranges.push((lo, hi));
        } else {
            // A service name (`ssh`) or a shape not read here.
            out.unknown = true;
        }
    }
    Some(out)
}

/// `ip saddr 192.0.2.0/24`, `{ 10.0.0.1, 198.51.100.0/24 }`, a range of addresses.
fn nets(right: &Value) -> Option<Vec<IpNet>> {
    let mut out = Vec::new();
    for e in elements(right) {
        if let Some(a) = e.as_str().and_then(|s| s.parse::<IpAddr>().ok()) {
            out.push(IpNet::from(a));
        } else if let Some(p) = e.get("prefix") {
            let addr: IpAddr = p["addr"].as_str()?.parse().ok()?;
            let len = u8::try_from(p["len"].as_u64()?).ok()?;
            out.push(IpNet::new(addr, len).ok()?.trunc());
        } else if let Some(r) = e.get("range") {
            let lo: IpAddr = r[0].as_str()?.parse().ok()?;
            let hi: IpAddr = r[1].as_str()?.parse().ok()?;
            out.extend(range_nets(lo, hi)?);
        } else {
            return None;
        }
    }
    Some(out)
}

/// An address range as networks.
fn range_nets(lo: IpAddr, hi: IpAddr) -> Option<Vec<IpNet>> {
    Some(match (lo, hi) {
        (IpAddr::V4(a), IpAddr::V4(b)) => ipnet::Ipv4Subnets::new(a, b, 0).map(IpNet::V4).collect(),
        (IpAddr::V6(a), IpAddr::V6(b)) => ipnet::Ipv6Subnets::new(a, b, 0).map(IpNet::V6).collect(),
        _ => return None,
    })
}

/// `meta l4proto tcp`, `ip protocol { tcp, udp }`, `meta l4proto 6`.
fn protocols(op: &str, right: &Value) -> Option<Match> {
    if !matches!(op, "==" | "!=" | "in") {
        return None;
    }
    let mut numbers = Vec::new();
    for e in elements(right) {
        let n = match e.as_str() {
            Some("icmp") => 1,
            Some("ipv6-icmp" | "icmpv6") => 58,
            Some("gre") => 47,
            Some("esp") => 50,
            Some("ah") => 51,
            Some(name) => transport_number(name)?,
            None => u8::try_from(e.as_u64()?).ok()?,
        };
        numbers.push(n);
    }
    Some(Match::Protocol {
        negated: op == "!=",
        numbers,
    })
}
