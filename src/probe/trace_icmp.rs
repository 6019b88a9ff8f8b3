//! `ipdiag trace --icmp`: ICMP echo requests with a growing TTL, as Windows' tracert sends
//! them (`IcmpSendEcho2` with `IP_OPTION_INFORMATION.Ttl`, no Administrator). A router
//! where the TTL runs out answers `IP_TTL_EXPIRED_TRANSIT` from its own address (the hop);
//! the destination answers the echo. What each `IP_STATUS` means is `sys::ip_status`'s
//! table; what that means for a hop is `classify_echo`, pure and tested everywhere. Only
//! Windows sends these for now (elsewhere `--icmp` is refused before a trace starts).

use super::reason::{IcmpReport, icmp_reason};
use super::trace::{HopAnswer, HopProbe};
use crate::model::{Reason, State};
use crate::sys::{EchoStatus, echo_status};
use std::net::IpAddr;
use std::time::Duration;

/// The echo request's data (tracert sends 32 bytes; the size does not matter here).
#[cfg(windows)]
const DATA: &[u8] = b"ipdiag-trace-v1.";

/// What one echo request with a TTL came to, for a hop (pure): the status `status` for a
/// request to `target`, answered by `from` after `rtt`.
pub fn classify_echo(target: IpAddr, status: u32, from: Option<IpAddr>, rtt: Duration) -> HopProbe {
    let v6 = target.is_ipv6();
    let answered = |answer| HopProbe {
        from,
        rtt: Some(rtt),
        answer,
    };
    let nothing = |answer| HopProbe {
        from: None,
        rtt: None,
        answer,
    };
    match echo_status(v6, status) {
        EchoStatus::Reply => answered(HopAnswer::Destination(State::Open, Reason::EchoReply)),
        EchoStatus::Icmp { kind, code } => {
            let reason = icmp_reason(&IcmpReport {
                v6,
                kind,
                code,
                from,
            });
            if reason == Reason::TimeExceeded {
                answered(HopAnswer::TimeExceeded)
            } else {
                answered(HopAnswer::Unreachable(reason))
            }
        }
        EchoStatus::NoReply => nothing(HopAnswer::Silent),
        EchoStatus::Local(why) => nothing(HopAnswer::Local(why.to_owned())),
        EchoStatus::Unknown(code) => {
            let text = i32::try_from(code).map_or_else(
                |_| format!("status {code}"),
                |c| std::io::Error::from_raw_os_error(c).to_string(),
            );
            nothing(HopAnswer::Local(text))
        }
    }
}

/// One echo request to `target` with `ttl`, waiting at most `wait` (on a blocking thread:
/// the call blocks until its answer).
#[cfg(windows)]
pub async fn probe(target: IpAddr, wait: Duration, ttl: u8) -> HopProbe {
    let sent = tokio::task::spawn_blocking(move || {
        crate::sys::IcmpEcho::open(target).map(|echo| echo.send(target, DATA, Some(ttl), wait))
    })
    .await;
    match sent {
        Ok(Ok(answer)) => classify_echo(target, answer.status, answer.from, answer.rtt),
        Ok(Err(why)) => local(why),
        Err(e) => local(format!("the probe task failed: {e}")),
    }
}

/// ICMP echo with a TTL is sent through Windows' `IcmpSendEcho2` only, for now (`trace`
/// refuses `--icmp` elsewhere before it starts; this answers a caller that did not ask).
#[cfg(not(windows))]
#[allow(clippy::unused_async, reason = "the signature of the Windows probe")]
pub async fn probe(_target: IpAddr, _wait: Duration, _ttl: u8) -> HopProbe {
    local(crate::sys::icmp_trace_here().err().map_or_else(
        || "ICMP echo with a TTL is not written for this system".to_owned(),
        |e| e.to_string(),
    ))
}

fn local(why: String) -> HopProbe {
    HopProbe {
        from: None,
        rtt: None,
        answer: HopAnswer::Local(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_is_a_hops_answer() {
        let target: IpAddr = "203.0.113.10".parse().unwrap();
        let router: IpAddr = "198.51.100.1".parse().unwrap();
        let rtt = Duration::from_millis(4);
        let c = |status, from| classify_echo(target, status, from, rtt);
        // IP_TTL_EXPIRED_TRANSIT: an intermediate hop, at the router's address.
        assert_eq!(
            c(11013, Some(router)),
            HopProbe {
                from: Some(router),
                rtt: Some(rtt),
                answer: HopAnswer::TimeExceeded
            }
        );
        // IP_SUCCESS: the destination itself.
        assert_eq!(
            c(0, Some(target)),
            HopProbe {
                from: Some(target),
                rtt: Some(rtt),
                answer: HopAnswer::Destination(State::Open, Reason::EchoReply)
            }
        );
        let answer = |status, from| c(status, from).answer;
        for (status, from, reason, name) in [
            (
                11003,
                router,
                Reason::HostUnreach,
                "IP_DEST_HOST_UNREACHABLE",
            ),
            (11002, router, Reason::NetUnreach, "IP_DEST_NET_UNREACHABLE"),
            (
                11004,
                router,
                Reason::ProtoUnreach,
                "IP_DEST_PROT_UNREACHABLE",
            ),
            (
                11005,
                target,
                Reason::PortUnreach,
                "IP_DEST_PORT_UNREACHABLE",
            ),
        ] {
            assert_eq!(
                answer(status, Some(from)),
                HopAnswer::Unreachable(reason),
                "{name}"
            );
        }
        // IP_REQ_TIMED_OUT: a silent hop, no RTT.
        assert_eq!(
            c(11010, None),
            HopProbe {
                from: None,
                rtt: None,
                answer: HopAnswer::Silent
            }
        );
        assert_eq!(
            answer(11050, None),
            HopAnswer::Local(
                "a general failure (IP_GENERAL_FAILURE: no route, or the request was blocked \
                 on this host)"
                    .to_owned()
            )
        );
        assert!(
            matches!(answer(120, None), HopAnswer::Local(why) if !why.is_empty()),
            "a Win32 error is named by the system's message"
        );
    }

    #[test]
    fn icmpv6_statuses_are_read_as_icmpv6() {
        let target: IpAddr = "2001:db8::10".parse().unwrap();
        let router: IpAddr = "2001:db8::1".parse().unwrap();
        let rtt = Duration::from_millis(4);
        let answer = |status| classify_echo(target, status, Some(router), rtt).answer;
        for (status, want, name) in [
            (11013, HopAnswer::TimeExceeded, "IP_HOP_LIMIT_EXCEEDED"),
            (
                11004,
                HopAnswer::Unreachable(Reason::AdminProhibited),
                "IP_DEST_PROHIBITED",
            ),
            (
                11002,
                HopAnswer::Unreachable(Reason::NetUnreach),
                "IP_DEST_NO_ROUTE",
            ),
        ] {
            assert_eq!(answer(status), want, "{name}");
        }
    }
}
