//! What the host's listeners and firewall mean for one port (pure).

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

/// From the bind addresses on the port (protocol already filtered), the firewall rules
/// that drop or reject it, and (UDP) what its receive counters say. An overflowing buffer
/// is the cause only when nothing stops the datagrams before they reach the socket: with
/// a wrong bind or a firewall rule, that is what the user must fix first (the receive
/// side is still reported on its own).
pub fn verdict(
    port: u16,
    protocol: &str,
    binds: &[SocketAddr],
    firewall_hits: &[String],
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
    match (listening, firewall_hits.first()) {
        (Err(v), _) => v,
        (Ok(seen), Some(rule)) => PortVerdict {
            cause: Cause::HostFirewall,
            detail: format!(
                "{seen}, but this host's firewall stops it ({rule}): allow the port in the firewall"
            ),
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
                detail: format!("{seen}; no firewall rule here stops it"),
            },
        },
    }
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

    #[test]
    fn verdicts() {
        assert_eq!(
            verdict(7890, "tcp", &[], &[], None).cause,
            Cause::NotListening
        );
        let v = verdict(7890, "tcp", &[a("127.0.0.1:7890")], &[], None);
        assert_eq!(v.cause, Cause::LoopbackBind);
        assert_eq!(
            v.detail,
            "7890/tcp listens on 127.0.0.1 only: other machines cannot connect; bind 0.0.0.0 or the private IP"
        );
        assert_eq!(
            verdict(7890, "tcp", &[a("0.0.0.0:7890")], &[], None).cause,
            Cause::Ok
        );
        let v = verdict(
            7890,
            "tcp",
            &[a("[::]:7890")],
            &["nftables: tcp dport 7890 drop".into()],
            None,
        );
        assert_eq!(v.cause, Cause::HostFirewall);
        assert!(
            v.detail.contains("(nftables: tcp dport 7890 drop)"),
            "{}",
            v.detail
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
        let v = verdict(7901, "udp", &[a("0.0.0.0:7901")], &[], Some(&over));
        assert_eq!(v.cause, Cause::ReceiveBufferOverflow);
        assert_eq!(
            v.detail,
            "7901/udp listens on 0.0.0.0, but its receive buffer overflows: 730 datagrams dropped since the socket was opened; read faster or raise SO_RCVBUF"
        );
        let fine = receive(None);
        let v = verdict(7901, "udp", &[a("0.0.0.0:7901")], &[], Some(&fine));
        assert_eq!(v.cause, Cause::Ok);
        let v = verdict(7901, "udp", &[a("127.0.0.1:7901")], &[], Some(&over));
        assert_eq!(v.cause, Cause::LoopbackBind);
        let hits = ["nftables: udp dport 7901 drop".to_owned()];
        let v = verdict(7901, "udp", &[a("0.0.0.0:7901")], &hits, Some(&over));
        assert_eq!(v.cause, Cause::HostFirewall);
    }
}
