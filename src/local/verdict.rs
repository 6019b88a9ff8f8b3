//! What the host's listeners and firewall mean for one port (pure).

use super::firewall::{Access, Allowance, FirewallVerdict, Published, Stop};
use super::overflow::ReceiveVerdict;
use crate::diagnose::Cause;
use std::net::SocketAddr;

/// Who a bind address can be reached from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// `0.0.0.0` / `::`: every interface.
    Everywhere,
    /// `127.0.0.1` / `::1`: this machine only.
    ThisMachine,
    /// One interface's address.
    OneAddress,
}

impl Reach {
    /// Of a bind address.
    pub fn of(local: SocketAddr) -> Self {
        if local.ip().is_unspecified() {
            Self::Everywhere
        } else if local.ip().is_loopback() {
            Self::ThisMachine
        } else {
            Self::OneAddress
        }
    }

    /// The words in the table.
    pub const fn text(self) -> &'static str {
        match self {
            Self::Everywhere => "every interface",
            Self::ThisMachine => "this machine only (loopback_bind)",
            Self::OneAddress => "that address only",
        }
    }

    /// The JSON word.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Everywhere => "everywhere",
            Self::ThisMachine => "this_machine",
            Self::OneAddress => "one_address",
        }
    }
}

/// The verdict on one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortVerdict {
    /// `ok`, `not_listening`, `loopback_bind`, `host_firewall` or
    /// `receive_buffer_overflow`.
    pub cause: Cause,
    /// One sentence: what was seen and what to do.
    pub detail: String,
}

/// From the bind addresses on the port (protocol already filtered), the firewall's verdict
/// on a new connection to it, and (UDP) what its receive counters say. An overflowing buffer
/// is the cause only when nothing stops the datagrams before they reach the socket: with
/// a wrong bind or a firewall rule, that is what the user must fix first (the receive
/// side is still reported on its own).
pub fn verdict(
    port: u16,
    protocol: &str,
    binds: &[SocketAddr],
    firewall: Option<&FirewallVerdict>,
    receive: Option<&ReceiveVerdict>,
) -> PortVerdict {
    let listening = if binds.is_empty() {
        Err(PortVerdict {
            cause: Cause::NotListening,
            detail: format!(
                "nothing listens on {port}/{protocol}: start the server, bound to 0.0.0.0 (or the private IP)"
            ),
        })
    } else if binds.iter().all(|b| Reach::of(*b) == Reach::ThisMachine) {
        Err(PortVerdict {
            cause: Cause::LoopbackBind,
            detail: format!(
                "{port}/{protocol} listens on {} only: other machines cannot connect; bind 0.0.0.0 or the private IP",
                list(binds)
            ),
        })
    } else {
        Ok(format!("{port}/{protocol} listens on {}", list(binds)))
    };
    let stopped = firewall.filter(|f| f.access != Access::Open);
    match (listening, stopped) {
        (Err(v), _) => v,
        (Ok(seen), Some(f)) => PortVerdict {
            cause: Cause::HostFirewall,
            detail: format!("{seen}, but {}", firewall_text(f)),
        },
        (Ok(seen), None) => match receive.filter(|r| r.overflow.is_some()) {
            Some(r) => PortVerdict {
                cause: Cause::ReceiveBufferOverflow,
                detail: format!(
                    "{seen}, but its receive buffer overflows: {}; read faster or raise SO_RCVBUF",
                    r.evidence.first().map_or("", String::as_str)
                ),
            },
            None => PortVerdict {
                cause: Cause::Ok,
                detail: match firewall.and_then(|f| f.may_apply.first()) {
                    Some(m) => format!(
                        "{seen}; the firewall lets it in unless this rule applies, which would {} it: {} (ipdiag cannot evaluate {})",
                        m.would,
                        m.rule.text(),
                        m.unknown
                    ),
                    None => format!("{seen}; no firewall rule here stops it"),
                },
            },
        },
    }
}

/// A port published by DNAT (Docker, Podman) is reachable through its nat rule whatever
/// listens here: packets to it are forwarded to the container and never meet the input
/// chain, so an input rule that denies it does not apply (`container_publish_bypass`); one
/// published for 127.0.0.1 only is `loopback_bind`. Otherwise `base` stands.
pub fn published_verdict(
    port: u16,
    protocol: &str,
    published: &[Published<'_>],
    firewall: Option<&FirewallVerdict>,
    base: PortVerdict,
) -> PortVerdict {
    let outside = published.iter().find(|p| !p.loopback_only);
    match (outside, published.first()) {
        (Some(p), _) => {
            let seen = format!(
                "{port}/{protocol} is published by DNAT to {} ({})",
                p.dnat.to, p.dnat.text
            );
            match firewall.filter(|f| f.access != Access::Open) {
                Some(f) => PortVerdict {
                    cause: Cause::ContainerPublishBypass,
                    detail: format!(
                        "{seen}: such packets are forwarded to the container and never meet the input chain, so the rule that denies it does not apply ({}): reachable from outside although the firewall says denied; to restrict it, filter in the forward path (Docker: the DOCKER-USER chain) or publish on 127.0.0.1",
                        f.rule
                            .as_ref()
                            .map_or_else(String::new, super::firewall::RuleRef::text)
                    ),
                },
                None => PortVerdict {
                    cause: Cause::Ok,
                    detail: format!("{seen}: reachable from outside"),
                },
            }
        }
        (None, Some(p)) if matches!(base.cause, Cause::Ok | Cause::NotListening) => PortVerdict {
            cause: Cause::LoopbackBind,
            detail: format!(
                "{port}/{protocol} is published on 127.0.0.1 only (DNAT to {}: {}): other machines cannot connect; publish it on 0.0.0.0 or the private IP (docker run -p {port}:...)",
                p.dnat.to, p.dnat.text
            ),
        },
        _ => base,
    }
}

/// What the firewall does to a port it does not let in from everywhere, and the fix.
pub fn firewall_text(f: &FirewallVerdict) -> String {
    let does = match f.stop {
        Some(Stop::Reject) => "rejects",
        _ => "drops",
    };
    let rule = f
        .rule
        .as_ref()
        .map_or_else(String::new, super::firewall::RuleRef::text);
    let whose = match &f.owner {
        Some(o) if o.zone.is_some() => {
            format!(" ({}, zone {})", o.tool, o.zone.as_deref().unwrap_or(""))
        }
        Some(o) if !matches!(o.tool, "nftables" | "iptables" | "ip6tables") => {
            format!(" ({}'s rule)", o.tool)
        }
        _ => String::new(),
    };
    let unless = f.may_apply.first().map_or_else(String::new, |m| {
        format!(
            "; unless {} applies, which would {} it (ipdiag cannot evaluate {})",
            m.rule.text(),
            m.would,
            m.unknown
        )
    });
    let fix = f
        .fix
        .as_ref()
        .map_or_else(String::new, |fix| format!("; fix: {fix}"));
    match f.access {
        Access::Restricted => format!(
            "this host's firewall lets it in only from some places: allowed only {}; it {does} the rest: {rule}{whose}{unless}{fix}",
            allowed_text(&f.allowed)
        ),
        _ => format!("this host's firewall {does} it: {rule}{whose}{unless}{fix}"),
    }
}

/// `from 192.0.2.0/24`, `on eth1`, `from 10.0.0.0/8 on eth1`, joined by `or`.
pub fn allowed_text(allowed: &[Allowance]) -> String {
    let parts: Vec<String> = allowed
        .iter()
        .map(|a| {
            let from = (!a.sources.is_empty()).then(|| format!("from {}", a.sources.join(", ")));
            let on = a.interface.as_ref().map(|i| format!("on {i}"));
            [from, on]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    parts.join(" or ")
}

fn list(binds: &[SocketAddr]) -> String {
    let mut text: Vec<String> = binds.iter().map(|b| b.ip().to_string()).collect();
    text.dedup();
    text.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::Confidence;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn blocked() -> FirewallVerdict {
        let set = crate::local::firewall::read_nft(
            r#"{"nftables": [{"chain": {"family": "inet", "table": "filter", "name": "input", "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 7890}}, {"drop": null}]}}]}"#,
        )
        .unwrap();
        let packet = crate::local::firewall::Packet::new(
            crate::local::firewall::IpFamily::V4,
            crate::model::Transport::Tcp,
            7890,
        );
        crate::local::firewall::evaluate(&set, &packet)
    }

    #[test]
    fn verdicts() {
        assert_eq!(
            verdict(7890, "tcp", &[], None, None).cause,
            Cause::NotListening
        );
        let v = verdict(7890, "tcp", &[a("127.0.0.1:7890")], None, None);
        assert_eq!(v.cause, Cause::LoopbackBind);
        assert_eq!(
            v.detail,
            "7890/tcp listens on 127.0.0.1 only: other machines cannot connect; bind 0.0.0.0 or the private IP"
        );
        assert_eq!(
            verdict(7890, "tcp", &[a("0.0.0.0:7890")], None, None).cause,
            Cause::Ok
        );
        let v = verdict(7890, "tcp", &[a("[::]:7890")], Some(&blocked()), None);
        assert_eq!(v.cause, Cause::HostFirewall);
        assert_eq!(
            v.detail,
            "7890/tcp listens on ::, but this host's firewall drops it: inet filter input: tcp dport 7890 drop; fix: nft insert rule inet filter input tcp dport 7890 accept"
        );
        assert_eq!(Reach::of(a("172.16.0.10:1")), Reach::OneAddress);
    }

    #[test]
    fn an_overflow_is_the_cause_only_when_nothing_stops_the_datagrams_first() {
        let receive = |overflow| ReceiveVerdict {
            rx_queue: 0,
            drops: 730,
            drops_delta: None,
            host_delta: None,
            overflow,
            evidence: vec!["730 datagrams dropped since the socket was opened".into()],
            suggested_rcvbuf: 0,
        };
        let over = receive(Some(Confidence::Medium));
        let v = verdict(7901, "udp", &[a("0.0.0.0:7901")], None, Some(&over));
        assert_eq!(v.cause, Cause::ReceiveBufferOverflow);
        assert_eq!(
            v.detail,
            "7901/udp listens on 0.0.0.0, but its receive buffer overflows: 730 datagrams dropped since the socket was opened; read faster or raise SO_RCVBUF"
        );
        let fine = receive(None);
        let v = verdict(7901, "udp", &[a("0.0.0.0:7901")], None, Some(&fine));
        assert_eq!(v.cause, Cause::Ok);
        let v = verdict(7901, "udp", &[a("127.0.0.1:7901")], None, Some(&over));
        assert_eq!(v.cause, Cause::LoopbackBind);
        let v = verdict(
            7901,
            "udp",
            &[a("0.0.0.0:7901")],
            Some(&blocked()),
            Some(&over),
        );
        assert_eq!(v.cause, Cause::HostFirewall);
    }
}
