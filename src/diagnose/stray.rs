//! `reply_from_other_address` from the client's side: the UDP probe's port also listened
//! unconnected (`probe::udp_stray`), and a reply came from another address than the one
//! dialled. The connected socket of the probe, as most clients' sockets, never sees such a
//! reply, so the port looked silent. Pure.

use super::cause::{Cause, Confidence, Finding};
use super::rules::evidence_of;
use crate::model::{ProbeResult, Protocol, State};
use std::net::{IpAddr, SocketAddr};

/// The client's words for a reply that came from another address.
pub fn stray_text(target: IpAddr, from: SocketAddr) -> String {
    format!(
        "a reply came from {from}, not from {target}: a socket listening unconnected on the probe's port took it; the probe's own (connected) socket, as most clients', drops it"
    )
}

/// The findings of a UDP result that got no reply on its own socket while `from` (another
/// address) answered on its port: `reply_from_other_address` first (`high`: the request
/// reached the server and it answered), the causes of silence it rules out left out, the
/// rest lowered to `low`.
pub fn with_stray(result: &ProbeResult, findings: Vec<Finding>, from: SocketAddr) -> Vec<Finding> {
    let Some(target) = result.endpoint.address else {
        return findings;
    };
    if result.endpoint.protocol != Protocol::Udp
        || result.state == State::Open
        || from.ip().to_canonical() == target.to_canonical()
    {
        return findings;
    }
    let mut out = vec![Finding {
        cause: Cause::ReplyFromOtherAddress,
        confidence: Confidence::High,
        evidence: vec![evidence_of(result), stray_text(target, from)],
    }];
    for mut f in findings {
        // An answer came back: the request got through and the server sent.
        if matches!(
            f.cause,
            Cause::SecurityGroup
                | Cause::HostFirewall
                | Cause::HostDownOrWrongIp
                | Cause::ServerNotReplying
                | Cause::NotListening
                | Cause::Ok
                | Cause::ReplyFromOtherAddress
        ) {
            continue;
        }
        f.confidence = Confidence::Low;
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Method, Reason};

    fn silent_udp() -> ProbeResult {
        ProbeResult {
            endpoint: Endpoint {
                target: "203.0.113.20:7895".into(),
                host: "203.0.113.20".into(),
                address: Some("203.0.113.20".parse().unwrap()),
                port: 7895,
                protocol: Protocol::Udp,
                scope_id: 0,
            },
            state: State::OpenFiltered,
            reason: Reason::NoResponse,
            icmp_from: None,
            attempts: 3,
            received: 0,
            late: 0,
            rtt: None,
            error: None,
            payload: Some("ipdiag"),
            responder: false,
            observed_source: None,
            method: Method::Connect,
            fault: None,
            reset_after_accept: false,
        }
    }

    fn finding(cause: Cause, confidence: Confidence) -> Finding {
        Finding {
            cause,
            confidence,
            evidence: Vec::new(),
        }
    }

    #[test]
    fn a_reply_from_elsewhere_is_the_cause_and_clears_the_drops() {
        let r = silent_udp();
        let client = vec![
            finding(Cause::SecurityGroup, Confidence::Medium),
            finding(Cause::HostFirewall, Confidence::Medium),
            finding(Cause::ServerNotReplying, Confidence::Medium),
            finding(Cause::SpecialAddress, Confidence::Low),
        ];
        let out = with_stray(&r, client.clone(), "172.16.0.10:7895".parse().unwrap());
        let ranked: Vec<_> = out.iter().map(|f| (f.cause, f.confidence)).collect();
        assert_eq!(
            ranked,
            [
                (Cause::ReplyFromOtherAddress, Confidence::High),
                (Cause::SpecialAddress, Confidence::Low)
            ]
        );
        assert_eq!(
            out[0].evidence[1],
            "a reply came from 172.16.0.10:7895, not from 203.0.113.20: a socket listening unconnected on the probe's port took it; the probe's own (connected) socket, as most clients', drops it"
        );
        // From the target itself, or on an open port, nothing changes.
        let same = with_stray(&r, client.clone(), "203.0.113.20:7895".parse().unwrap());
        assert_eq!(same, client);
        let open = ProbeResult {
            state: State::Open,
            ..silent_udp()
        };
        let kept = with_stray(&open, client.clone(), "172.16.0.10:7895".parse().unwrap());
        assert_eq!(kept, client);
    }
}
