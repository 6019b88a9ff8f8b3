//! `local --trace-firewall`: ask the kernel which rule decides each arriving packet. A
//! table of ipdiag's own (`ipdiag_trace_PID`, hooked before every other chain) sets
//! `meta nftrace` on new connections to the port, `nft monitor trace` reports each rule the
//! packet meets, and `parse_trace` (pure) turns that into one line per packet: accepted,
//! dropped or rejected, by which table, chain and rule.
//!
//! The only code in ipdiag that writes to the firewall, and only this table: `Session`
//! deletes it when finished or dropped, and its owner (`app/local_trace.rs`) catches
//! Ctrl-C and SIGTERM so that a signal finishes the session rather than killing the process
//! with the table in place. Legacy iptables rules are invisible to the trace.

use crate::model::Transport;
use serde::Serialize;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// What became of one traced packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TracedPacket {
    /// `198.51.100.1:47476` (the sender).
    pub source: String,
    /// `accepted`, `dropped` or `rejected`.
    pub fate: &'static str,
    /// The table of the deciding rule (`inet filter`); for `accepted`, the last base chain
    /// that accepted it.
    pub table: String,
    /// Its chain.
    pub chain: String,
    /// The rule as nft prints it, or `policy drop` / `policy accept`.
    pub rule: String,
}

/// Turns `nft monitor trace` output into one record per packet. A packet starts at the
/// `packet:` line of `own_table`'s chain (hooked first), so trace ids the kernel reuses
/// do not merge packets.
pub fn parse_trace(text: &str, own_table: &str) -> Vec<TracedPacket> {
    let mut packets: Vec<TracedPacket> = Vec::new();
    let mut decided = false;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("trace id ") else {
            continue;
        };
        // `ID FAMILY TABLE CHAIN WHAT...`
        let mut words = rest.splitn(5, ' ');
        let (Some(_), Some(family), Some(table), Some(chain), Some(what)) = (
            words.next(),
            words.next(),
            words.next(),
            words.next(),
            words.next(),
        ) else {
            continue;
        };
        let what = what.trim_end();
        if table == own_table {
            if let Some(packet) = what.strip_prefix("packet: ") {
                packets.push(TracedPacket {
                    source: source(packet),
                    fate: "accepted",
                    table: String::new(),
                    chain: String::new(),
                    rule: String::new(),
                });
                decided = false;
            }
            continue;
        }
        let Some(current) = packets.last_mut().filter(|_| !decided) else {
            continue;
        };
        let (rule, verdict) = if let Some(policy) = what.strip_prefix("policy ") {
            (format!("policy {policy}"), policy.to_owned())
        } else if let Some(rule) = what.strip_prefix("rule ") {
            match rule.rsplit_once(" (verdict ") {
                Some((text, verdict)) => {
                    (text.to_owned(), verdict.trim_end_matches(')').to_owned())
                }
                None => continue,
            }
        } else {
            continue;
        };
        let fate = match verdict.as_str() {
            "accept" => "accepted",
            // A reject is reported as the drop it ends in; the rule says which it was.
            "drop" if rule.contains("reject") => "rejected",
            "drop" => "dropped",
            _ => continue,
        };
        *current = TracedPacket {
            source: std::mem::take(&mut current.source),
            fate,
            table: format!("{family} {table}"),
            chain: chain.to_owned(),
            rule,
        };
        decided = fate != "accepted";
    }
    packets
}

/// `ip saddr 198.51.100.1 ... tcp sport 47476` → `198.51.100.1:47476` (`[v6]:port`).
fn source(packet: &str) -> String {
    let words: Vec<&str> = packet.split_whitespace().collect();
    let after = |key: &[&str]| {
        words
            .windows(key.len() + 1)
            .find(|w| w[..key.len()] == *key)
            .map(|w| w[key.len()])
    };
    let address = after(&["ip", "saddr"]).or_else(|| after(&["ip6", "saddr"]));
    let port = after(&["tcp", "sport"]).or_else(|| after(&["udp", "sport"]));
    match (address, port) {
        (Some(a), Some(p)) if a.contains(':') => format!("[{a}]:{p}"),
        (Some(a), Some(p)) => format!("{a}:{p}"),
        (Some(a), None) => a.to_owned(),
        _ => "?".to_owned(),
    }
}

/// A running trace: the table in place and `nft monitor trace` reading.
pub struct Session {
    nft: PathBuf,
    table: String,
    monitor: Option<Child>,
    lines: Receiver<String>,
    installed: bool,
}

impl Session {
    /// Starts the monitor, then adds the trace table (so no packet is missed). Needs root.
    pub fn start(nft: &Path, protocol: Transport, port: u16) -> Result<Self, String> {
        let table = format!("ipdiag_trace_{}", std::process::id());
        let mut monitor = Command::new(nft)
            .args(["monitor", "trace"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", nft.display()))?;
        let (tx, lines) = mpsc::channel();
        if let Some(out) = monitor.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let mut session = Self {
            nft: nft.to_owned(),
            table,
            monitor: Some(monitor),
            lines,
            installed: false,
        };
        // Only the first packet of a TCP connection; every datagram for UDP.
        let first = match protocol {
            Transport::Tcp => "tcp flags & (syn | ack) == syn ",
            _ => "",
        };
        let ruleset = format!(
            "table inet {t} {{\n chain pre {{\n  type filter hook prerouting priority -350; policy accept;\n  {p} dport {port} {first}meta nftrace set 1\n }}\n}}\n",
            t = session.table,
            p = protocol.as_str(),
        );
        session.installed = true;
        nft_stdin(nft, &ruleset)?;
        Ok(session)
    }

    /// The trace table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Removes the table, stops the monitor and returns what it saw.
    pub fn finish(mut self) -> (Vec<TracedPacket>, Option<String>) {
        let removed = self.remove();
        // Lines already read are in the channel; give the reader a moment for the rest.
        let deadline = Instant::now() + Duration::from_millis(300);
        let mut text = String::new();
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            text.push_str(&line);
            text.push('\n');
        }
        self.stop_monitor();
        (parse_trace(&text, &self.table), removed.err())
    }

    fn remove(&mut self) -> Result<(), String> {
        if !std::mem::take(&mut self.installed) {
            return Ok(());
        }
        let out = Command::new(&self.nft)
            .args(["delete", "table", "inet", &self.table])
            .output()
            .map_err(|e| format!("nft delete table: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "nft delete table inet {}: {}",
                self.table,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    fn stop_monitor(&mut self) {
        if let Some(mut child) = self.monitor.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.remove();
        self.stop_monitor();
    }
}

/// `nft -f -` with the ruleset on its standard input.
fn nft_stdin(nft: &Path, ruleset: &str) -> Result<(), String> {
    let mut child = Command::new(nft)
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", nft.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(ruleset.as_bytes())
            .map_err(|e| format!("nft -f: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("nft -f: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "nft -f: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `nft monitor trace` (nftables 1.0.6) in a namespace: three SYNs from 198.51.100.1 to
    /// 8081 (dropped), 8082 (rejected) and 8083 (accepted after a jump), and an ACK of the
    /// last connection that reuses its trace id.
    const TRACE: &str = "\
trace id eec95381 inet ipdiag_trace_7 pre packet: iif \"va1\" ip saddr 198.51.100.1 ip daddr 198.51.100.2 ip protocol tcp tcp sport 47476 tcp dport 8081 tcp flags == syn
trace id eec95381 inet ipdiag_trace_7 pre rule tcp dport 8081 tcp flags & (syn | ack) == syn meta nftrace set 1 (verdict continue)
trace id eec95381 inet ipdiag_trace_7 pre policy accept 
trace id eec95381 ip filter INPUT packet: iif \"va1\" ip saddr 198.51.100.1 tcp sport 47476 tcp dport 8081
trace id eec95381 ip filter INPUT policy accept 
trace id eec95381 inet filter input packet: iif \"va1\" ip saddr 198.51.100.1 tcp sport 47476 tcp dport 8081
trace id eec95381 inet filter input rule tcp dport 8081 drop (verdict drop)
trace id 34213c2a inet ipdiag_trace_7 pre packet: iif \"va1\" ip saddr 198.51.100.1 tcp sport 53890 tcp dport 8082 tcp flags == syn
trace id 34213c2a inet filter input rule tcp dport 8082 reject with tcp reset (verdict drop)
trace id 73b630f8 inet ipdiag_trace_7 pre packet: iif \"va1\" ip6 saddr 2001:db8::1 tcp sport 36602 tcp dport 8083 tcp flags == syn
trace id 73b630f8 ip filter INPUT policy accept 
trace id 73b630f8 inet filter input rule jump user (verdict jump user)
trace id 73b630f8 inet filter user rule tcp dport 8083 accept (verdict accept)
trace id 73b630f8 ip filter OTHER policy drop 
";

    #[test]
    fn one_record_per_packet_with_the_deciding_rule() {
        let packets = parse_trace(TRACE, "ipdiag_trace_7");
        let short: Vec<(&str, &str, &str, &str)> = packets
            .iter()
            .map(|p| (p.source.as_str(), p.fate, p.chain.as_str(), p.rule.as_str()))
            .collect();
        assert_eq!(
            short,
            [
                (
                    "198.51.100.1:47476",
                    "dropped",
                    "input",
                    "tcp dport 8081 drop"
                ),
                (
                    "198.51.100.1:53890",
                    "rejected",
                    "input",
                    "tcp dport 8082 reject with tcp reset"
                ),
                ("[2001:db8::1]:36602", "dropped", "OTHER", "policy drop"),
            ]
        );
        assert_eq!(packets[0].table, "inet filter");
        let accepted = parse_trace(
            &TRACE.replace("ip filter OTHER policy drop", ""),
            "ipdiag_trace_7",
        );
        assert_eq!(
            (
                accepted[2].fate,
                accepted[2].chain.as_str(),
                accepted[2].rule.as_str()
            ),
            ("accepted", "user", "tcp dport 8083 accept")
        );
        assert!(parse_trace("trace id x\nnonsense\n", "t").is_empty());
    }
}
