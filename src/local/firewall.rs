//! Read-only: does this host's firewall drop or reject a port? From `nft -j list ruleset`,
//! or `iptables-save` where nft is not installed.
//!
//! The question is narrow on purpose: would a new connection (TCP) or datagram (UDP) to the
//! port, from anywhere, be stopped on the way in? So only the chains a packet for this host
//! passes are read: nftables base chains on the `input` hook (tables of family `ip`, `ip6` or
//! `inet`) and the iptables `filter` table's `INPUT` chain.
//!
//! Rules are read in order, as the kernel does, so `tcp dport 22 accept` before a `drop`
//! policy means 22 is open. A rule only counts when it surely applies: its matches are all
//! on the port, the transport, or a connection state that includes `new`. A rule that also
//! needs a source address, an interface or anything else unknown here (`ip saddr 10.0.0.0/8
//! tcp dport 3306 drop`) may or may not apply and is passed over, for an accept as for a drop.
//!
//! Jumps are not followed (keeping this simple): rules in a chain reached by `jump`/`goto`
//! are not read. A hit found after such a jump says so in its text, since the chain jumped
//! to may have accepted the packet first (firewalld and ufw keep their accepts there).

use crate::model::Transport;
use serde_json::Value;
use std::io;
use std::process::{Command, Output};

/// What a rule does to the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Silently dropped: the client waits until it times out.
    Drop,
    /// Refused with an ICMP error or a TCP reset: the client fails at once.
    Reject,
}

/// A rule that stops the port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirewallHit {
    /// `nftables` or `iptables`.
    pub tool: &'static str,
    /// The rule in short, where it lives first: `inet host input: tcp dport 7890 drop`,
    /// `inet filter input: policy drop`, `-A INPUT -p tcp -m tcp --dport 7890 -j DROP`.
    pub rule: String,
    /// Drop or reject.
    pub verdict: Verdict,
    /// Jumps to other chains came first and were not followed (firewalld and ufw keep
    /// their accepts there): the packet may have been accepted before this rule.
    pub uncertain: bool,
}

/// The firewall's view of one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirewallView {
    /// The rules that drop or reject it, at most one per chain (the first that applies: the
    /// packet never reaches the rest). Empty: nothing here stops the port.
    Rules(Vec<FirewallHit>),
    /// Why the rules could not be read (not installed; without root, the tool's own error).
    Unavailable(String),
}

const NFT: &str = "nftables";
const IPTABLES: &str = "iptables";

/// Reads the rules (nftables first) and finds those stopping `port`. Runs the tools
/// read-only and changes nothing.
pub fn check(protocol: Transport, port: u16) -> FirewallView {
    match run("nft", &["-j", "list", "ruleset"]) {
        Ok(out) if out.status.success() => {
            let Ok(root) = serde_json::from_slice::<Value>(&out.stdout) else {
                return FirewallView::Unavailable(
                    "nft -j printed no JSON (nftables older than 0.9.1?)".into(),
                );
            };
            if nft_input_chains(items(&root)).next().is_some() {
                return FirewallView::Rules(nft_hits_in(&root, protocol, port));
            }
            // Nothing hooks input in nftables: the rules, if any, may be in legacy iptables.
            match iptables(protocol, port) {
                FirewallView::Rules(hits) => FirewallView::Rules(hits),
                FirewallView::Unavailable(_) => FirewallView::Rules(Vec::new()),
            }
        }
        Ok(out) => FirewallView::Unavailable(failure("nft", &out)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => match iptables(protocol, port) {
            FirewallView::Unavailable(why) if why.is_empty() => {
                FirewallView::Unavailable("neither nft nor iptables-save is installed".into())
            }
            view => view,
        },
        Err(e) => FirewallView::Unavailable(format!("nft: {e}")),
    }
}

/// `iptables-save`; `Unavailable("")` when it is not installed.
fn iptables(protocol: Transport, port: u16) -> FirewallView {
    match run("iptables-save", &[]) {
        Ok(out) if out.status.success() => FirewallView::Rules(iptables_hits(
            &String::from_utf8_lossy(&out.stdout),
            protocol,
            port,
        )),
        Ok(out) => FirewallView::Unavailable(failure("iptables-save", &out)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => FirewallView::Unavailable(String::new()),
        Err(e) => FirewallView::Unavailable(format!("iptables-save: {e}")),
    }
}

/// Runs a tool from `PATH`, then from the sbin directories (often not in a user's `PATH`).
fn run(tool: &str, args: &[&str]) -> io::Result<Output> {
    let mut last = Command::new(tool).args(args).output();
    for dir in ["/usr/sbin", "/sbin"] {
        match last {
            Err(ref e) if e.kind() == io::ErrorKind::NotFound => {
                last = Command::new(format!("{dir}/{tool}")).args(args).output();
            }
            _ => break,
        }
    }
    last
}

/// `tool: its stderr` on one line, or the exit status when it said nothing.
fn failure(tool: &str, out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        format!("{tool}: {}", out.status)
    } else {
        format!("{tool}: {}", lines.join("; "))
    }
}

/// The hits in nft's JSON ruleset (`nft -j list ruleset`); text that is not such JSON has
/// none.
pub fn nft_hits(json: &str, protocol: Transport, port: u16) -> Vec<FirewallHit> {
    serde_json::from_str::<Value>(json)
        .map_or_else(|_| Vec::new(), |root| nft_hits_in(&root, protocol, port))
}

/// The hits in a parsed ruleset, base chains in priority order (the order packets see them).
fn nft_hits_in(root: &Value, protocol: Transport, port: u16) -> Vec<FirewallHit> {
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
fn items(root: &Value) -> &[Value] {
    root["nftables"].as_array().map_or(&[], Vec::as_slice)
}

/// The chains packets for this host pass: base chains on the input hook. (The `bridge` family
/// also has an input hook, for frames crossing a bridge, which is another question.)
fn nft_input_chains(items: &[Value]) -> impl Iterator<Item = &Value> {
    items.iter().map(|i| &i["chain"]).filter(|c| {
        c["hook"] == "input" && matches!(c["family"].as_str(), Some("ip" | "ip6" | "inet"))
    })
}

/// The packet in question: a new connection or datagram to `port`, from anywhere.
#[derive(Debug, Clone, Copy)]
struct Packet {
    protocol: Transport,
    port: u16,
}

/// Whether a condition holds for the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holds {
    Yes,
    No,
    /// Depends on something not known here (the source, the interface, ...).
    Maybe,
}

impl Holds {
    fn from_bool(yes: bool) -> Self {
        if yes { Self::Yes } else { Self::No }
    }

    fn not(self) -> Self {
        match self {
            Self::Yes => Self::No,
            Self::No => Self::Yes,
            Self::Maybe => Self::Maybe,
        }
    }

    /// Both: `No` wins over `Maybe`, which wins over `Yes`.
    fn and(self, other: Self) -> Self {
        match (self, other) {
            (Self::No, _) | (_, Self::No) => Self::No,
            (Self::Maybe, _) | (_, Self::Maybe) => Self::Maybe,
            _ => Self::Yes,
        }
    }
}

/// What a rule ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ending {
    Accept,
    Stop(Verdict),
    /// `jump`/`goto` (or an iptables user chain): not followed.
    Jump(String),
    /// Back to the base chain's policy.
    Return,
    /// No verdict: a counter, a log, `continue`, an extension target such as LOG.
    Nothing,
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

/// How a chain ends for the packet.
enum Decision<T> {
    /// A rule accepts it: nothing in this chain stops it.
    Accept,
    /// This rule drops or rejects it.
    Stop(T, Verdict),
    /// No rule decides (or one returns): the chain's policy does.
    Policy,
}

/// The first rule that surely decides; `jumps` collects the jumps passed on the way. A rule
/// that only may apply decides nothing, whichever its verdict.
fn decide<T>(
    rules: impl IntoIterator<Item = (T, (Holds, Ending))>,
    jumps: &mut Vec<String>,
) -> Decision<T> {
    for (rule, (holds, ending)) in rules {
        match (holds, ending) {
            (Holds::Yes | Holds::Maybe, Ending::Jump(target)) => jumps.push(target),
            (Holds::No | Holds::Maybe, _) | (_, Ending::Nothing) => {}
            (Holds::Yes, Ending::Accept) => return Decision::Accept,
            (Holds::Yes, Ending::Return) => return Decision::Policy,
            (Holds::Yes, Ending::Stop(verdict)) => return Decision::Stop(rule, verdict),
        }
    }
    Decision::Policy
}

/// A hit, with the jumps passed on the way (which may have accepted the packet first).
fn hit(tool: &'static str, rule: String, verdict: Verdict, jumps: &[String]) -> FirewallHit {
    let rule = if jumps.is_empty() {
        rule
    } else {
        format!("{rule} (after jumps not followed: {})", jumps.join(", "))
    };
    FirewallHit {
        tool,
        rule,
        verdict,
        uncertain: !jumps.is_empty(),
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

/// The hits in `iptables-save` output: the `filter` table's `INPUT` chain, its rules in order
/// and then its policy. Text from before any `*table` line is taken as `filter`.
pub fn iptables_hits(save: &str, protocol: Transport, port: u16) -> Vec<FirewallHit> {
    let packet = Packet { protocol, port };
    let mut in_filter = true;
    let mut user_chains: Vec<&str> = Vec::new();
    let mut policy_drop = false;
    let mut rules: Vec<&str> = Vec::new();
    for line in save.lines().map(str::trim) {
        if let Some(table) = line.strip_prefix('*') {
            in_filter = table.trim() == "filter";
            continue;
        }
        if !in_filter {
            continue;
        }
        if let Some(chain) = line.strip_prefix(':') {
            let mut words = chain.split_whitespace();
            match (words.next(), words.next()) {
                (Some("INPUT"), Some(policy)) => policy_drop = policy == "DROP",
                (Some(name), _) => user_chains.push(name),
                _ => {}
            }
        } else if let Some(rule) = without_counters(line).strip_prefix("-A INPUT ") {
            rules.push(rule);
        }
    }
    let mut jumps = Vec::new();
    let evaluated = rules
        .iter()
        .map(|rule| (*rule, iptables_rule(rule, &user_chains, packet)));
    match decide(evaluated, &mut jumps) {
        Decision::Stop(rule, verdict) => {
            vec![hit(IPTABLES, format!("-A INPUT {rule}"), verdict, &jumps)]
        }
        Decision::Policy if policy_drop => {
            let policy = "INPUT policy DROP".to_owned();
            vec![hit(IPTABLES, policy, Verdict::Drop, &jumps)]
        }
        Decision::Accept | Decision::Policy => Vec::new(),
    }
}

/// `iptables-save -c` puts `[packets:bytes]` before each rule.
fn without_counters(line: &str) -> &str {
    match line.strip_prefix('[').and_then(|l| l.split_once(']')) {
        Some((_, rest)) => rest.trim_start(),
        None => line,
    }
}

/// Whether one rule's matches hold for the packet, and its target.
fn iptables_rule(rule: &str, user_chains: &[&str], packet: Packet) -> (Holds, Ending) {
    let words = words(rule);
    let mut holds = Holds::Yes;
    let mut negate = false;
    let mut i = 0;
    while let Some(word) = words.get(i) {
        let value = words.get(i + 1).map_or("", String::as_str);
        i += 2;
        let this = match word.as_str() {
            "!" => {
                negate = true;
                i -= 1;
                continue;
            }
            "-p" | "--protocol" => {
                let (ours, number) = match packet.protocol {
                    Transport::Tcp => ("tcp", "6"),
                    Transport::Udp => ("udp", "17"),
                    Transport::Dccp => ("dccp", "33"),
                    Transport::Sctp => ("sctp", "132"),
                };
                Holds::from_bool(value == "all" || value == ours || value == number)
            }
            "--dport" | "--destination-port" | "--dports" | "--destination-ports" => {
                port_list(value, packet.port)
            }
            "--state" | "--ctstate" => Holds::from_bool(value.split(',').any(|s| s == "NEW")),
            // `-m tcp`, `-m comment --comment "..."`: no condition of their own.
            "-m" | "--match" | "--comment" => Holds::Yes,
            "-j" | "--jump" | "-g" | "--goto" => {
                // Whatever follows the target is the target's options.
                let ending = match value {
                    "ACCEPT" => Ending::Accept,
                    "DROP" => Ending::Stop(Verdict::Drop),
                    "REJECT" => Ending::Stop(Verdict::Reject),
                    "RETURN" => Ending::Return,
                    chain if user_chains.contains(&chain) => {
                        Ending::Jump(format!("{word} {chain}"))
                    }
                    // LOG, NFLOG, MARK, ...: carry on with the next rule.
                    _ => Ending::Nothing,
                };
                return (holds, ending);
            }
            // -s, -i, --tcp-flags, -m recent ...: depends on more than the port.
            _ => {
                // Skip the option's values, whatever their number.
                while words
                    .get(i)
                    .is_some_and(|w| !w.starts_with('-') && w != "!")
                {
                    i += 1;
                }
                Holds::Maybe
            }
        };
        holds = holds.and(if negate { this.not() } else { this });
        negate = false;
    }
    (holds, Ending::Nothing)
}

/// `7890`, `5000:5010`, `53,5000:5010` (multiport), `1024:` (open-ended).
fn port_list(list: &str, port: u16) -> Holds {
    let mut known = true;
    for part in list.split(',') {
        let held = match part.split_once(':') {
            Some((lo, hi)) => {
                let lo = if lo.is_empty() {
                    Ok(0)
                } else {
                    lo.parse::<u16>()
                };
                let hi = if hi.is_empty() {
                    Ok(u16::MAX)
                } else {
                    hi.parse::<u16>()
                };
                lo.and_then(|lo| hi.map(|hi| (lo..=hi).contains(&port)))
                    .ok()
            }
            None => part.parse::<u16>().ok().map(|p| p == port),
        };
        match held {
            Some(true) => return Holds::Yes,
            Some(false) => {}
            // A service name (`--dport ssh`): iptables-save prints numbers, a person may not.
            None => known = false,
        }
    }
    if known { Holds::No } else { Holds::Maybe }
}

/// Splits a rule into words, keeping `"quoted text"` (comments) as one.
fn words(rule: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let (mut quoted, mut escaped, mut started) = (false, false, false);
    for c in rule.chars() {
        if escaped {
            word.push(c);
            escaped = false;
        } else if c == '\\' && quoted {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
            started = true;
        } else if c.is_whitespace() && !quoted {
            if started {
                words.push(std::mem::take(&mut word));
                started = false;
            }
        } else {
            word.push(c);
            started = true;
        }
    }
    if started {
        words.push(word);
    }
    words
}

#[cfg(test)]
#[path = "firewall_tests.rs"]
mod tests;
