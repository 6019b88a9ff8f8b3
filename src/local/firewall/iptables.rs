//! The iptables side: the `filter` table's `INPUT` chain of `iptables-save`, in order.

use super::{Decision, Ending, FirewallHit, Holds, IPTABLES, Packet, Verdict, decide, hit};
use crate::model::Transport;

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
pub(super) fn words(rule: &str) -> Vec<String> {
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
