//! Folds the attempts to one endpoint into its result: state and reason from the evidence,
//! loss and RTT from the answers.
//!
//! Evidence beats silence: one answer among timeouts decides the state (the timeouts count
//! as loss). Among several answers the latest wins, so a service that came up during a
//! `--count 20` run ends `open`. An answer that came only after the kernel's SYN
//! retransmission proves the state but counts as lost (its first SYN was). Silences that a
//! spaced UDP retry showed to be the target's ICMP ration are taken back out (`not_lost`).
//!
//! Only answers from the path are answers: a probe this host could not send (no route,
//! its own firewall) or whose failure its own stack reported (no ARP reply) is neither an
//! attempt on the path nor loss, and gives no RTT sample. When nobody answered ARP, the
//! silent attempts never left this host either, so they are no loss.

use super::attempt::Answer;
use super::reason::{LocalFailure, Observation, judge};
use super::stats::RunningRtt;
use crate::model::{Endpoint, LocalFault, Method, ProbeResult, Protocol, Reason, State};

/// The attempts so far.
#[derive(Debug, Default, Clone)]
pub struct Aggregate {
    attempts: u32,
    received: u32,
    late: u32,
    /// Attempts that never reached the path (local failures).
    unsent: u32,
    /// Running statistics, not the samples: `-c 0` never ends (issue 18).
    rtt: RunningRtt,
    last_answer: Option<Observation>,
    last_local: Option<LocalFailure>,
    /// A local failure said nobody answered ARP / neighbour discovery.
    no_neighbour: bool,
    reset: bool,
    payload: Option<&'static str>,
    observed: Option<std::net::SocketAddr>,
}

impl Aggregate {
    /// Adds one attempt.
    pub fn record(&mut self, answer: &Answer) {
        self.payload = answer.payload.or(self.payload);
        self.observed = answer.observed.or(self.observed);
        if let Observation::Local(failure) = &answer.observation {
            self.unsent += 1;
            self.no_neighbour |= failure.fault == LocalFault::NoNeighbour;
            self.last_local = Some(failure.clone());
            return;
        }
        self.attempts += 1;
        self.reset |= answer.reset;
        match &answer.observation {
            Observation::Silence | Observation::Local(_) => {}
            observation => {
                if !answer.late {
                    self.received += 1;
                }
                if let Some(rtt) = answer.rtt_sample() {
                    self.rtt.add(rtt);
                }
                self.last_answer = Some(observation.clone());
            }
        }
    }

    /// Adds an answer to try `try_no` (0 = first) that came after that try's wait ended,
    /// when its silence and those of the tries after it were already recorded: it decides
    /// the state and is an RTT sample, and those silences are taken back out (the path was
    /// slow, not lossy: a server answering 1.5 s late lost nothing).
    pub fn record_late(&mut self, answer: &Answer, try_no: u32) {
        self.attempts = self.attempts.min(try_no);
        self.late += 1;
        self.record(answer);
    }

    /// Takes `silences` silent attempts back out of the count: a later answer showed them
    /// to be the target's ICMP ration (`icmp_limit.rs`), not loss on the path.
    pub fn not_lost(&mut self, silences: u32) {
        self.attempts = self.attempts.saturating_sub(silences).max(self.received);
    }

    /// Attempts recorded so far (sent or not).
    pub fn attempts(&self) -> u32 {
        self.attempts + self.unsent
    }

    /// The result for `endpoint`.
    pub fn finish(&self, endpoint: Endpoint) -> ProbeResult {
        let protocol = endpoint.protocol;
        let observation = match (&self.last_answer, &self.last_local) {
            (Some(answer), _) => answer.clone(),
            (None, Some(local)) => Observation::Local(local.clone()),
            _ => Observation::Silence,
        };
        // Silences while the next hop's address could not be resolved never left.
        let attempts = if self.no_neighbour && self.received == 0 {
            0
        } else {
            self.attempts
        };
        let (state, reason) = match endpoint.address {
            Some(address) => judge(protocol, address, &observation),
            None => (State::Error, Reason::DnsError),
        };
        let icmp_from = match &observation {
            Observation::Icmp(report) => report.from,
            _ => None,
        };
        let (error, fault) = match observation {
            Observation::Local(failure) => (Some(failure.message), Some(failure.fault)),
            _ => (None, None),
        };
        ProbeResult {
            endpoint,
            state,
            reason,
            icmp_from,
            attempts,
            received: self.received,
            late: self.late,
            rtt: self.rtt.stats(),
            error,
            payload: (protocol == Protocol::Udp)
                .then_some(self.payload)
                .flatten(),
            responder: self.observed.is_some(),
            observed_source: self.observed,
            method: Method::Connect,
            fault,
            reset_after_accept: self.reset && state == State::Open,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::reason::IcmpReport;
    use std::time::Duration;

    fn endpoint(protocol: Protocol) -> Endpoint {
        Endpoint {
            target: "203.0.113.10:7890".into(),
            host: "203.0.113.10".into(),
            address: Some("203.0.113.10".parse().unwrap()),
            port: 7890,
            protocol,
            scope_id: 0,
        }
    }

    fn answer(observation: Observation, ms: u64) -> Answer {
        Answer::new(observation, Duration::from_millis(ms))
    }

    #[test]
    fn evidence_beats_silence_and_silence_is_loss() {
        let mut agg = Aggregate::default();
        agg.record(&answer(Observation::Silence, 1000));
        agg.record(&answer(Observation::Connected, 40));
        agg.record(&answer(Observation::Connected, 60));
        let r = agg.finish(endpoint(Protocol::Tcp));
        assert_eq!(
            (r.state, r.reason, r.attempts, r.received),
            (State::Open, Reason::SynAck, 3, 2)
        );
        assert!((r.loss_pct() - 100.0 / 3.0).abs() < 1e-9);
        let rtt = r.rtt.unwrap();
        assert!(
            (rtt.avg - 50.0).abs() < 1e-9
                && (rtt.min - 40.0).abs() < 1e-9
                && (rtt.max - 60.0).abs() < 1e-9
        );
    }

    #[test]
    fn all_silent() {
        let mut agg = Aggregate::default();
        agg.record(&answer(Observation::Silence, 1000));
        agg.record(&answer(Observation::Silence, 1000));
        let tcp = agg.finish(endpoint(Protocol::Tcp));
        assert_eq!(
            (tcp.state, tcp.reason, tcp.received, tcp.rtt),
            (State::Filtered, Reason::NoResponse, 0, None)
        );
        let udp = agg.finish(endpoint(Protocol::Udp));
        assert_eq!(udp.state, State::OpenFiltered);
    }

    #[test]
    fn icmp_sender_is_reported() {
        let mut agg = Aggregate::default();
        let from = Some("198.51.100.1".parse().unwrap());
        agg.record(&answer(
            Observation::Icmp(IcmpReport {
                v6: false,
                kind: 3,
                code: 13,
                from,
            }),
            5,
        ));
        let r = agg.finish(endpoint(Protocol::Tcp));
        assert_eq!(
            (r.state, r.reason, r.icmp_from),
            (State::Filtered, Reason::AdminProhibited, from)
        );
    }

    #[test]
    fn late_answers_prove_the_state_but_count_as_lost() {
        let mut agg = Aggregate::default();
        agg.record(&Answer {
            late: true,
            ..answer(Observation::Connected, 1040)
        });
        let r = agg.finish(endpoint(Protocol::Tcp));
        assert_eq!((r.state, r.received, r.rtt), (State::Open, 0, None));
    }

    #[test]
    fn an_answer_after_its_timeout_is_late_not_lost() {
        // Try 0 timed out (silence recorded) and was retried; then try 0's answer came.
        let mut agg = Aggregate::default();
        agg.record(&answer(Observation::Silence, 1000));
        agg.record_late(&answer(Observation::Connected, 1500), 0);
        let r = agg.finish(endpoint(Protocol::Tcp));
        assert_eq!(
            (r.state, r.attempts, r.received, r.late),
            (State::Open, 1, 1, 1)
        );
        assert!(r.loss_pct().abs() < 1e-9);
        assert!((r.rtt.unwrap().avg - 1500.0).abs() < 1e-9);
        // An answer to the retry after the first try's silence: that first try was lost.
        let mut agg = Aggregate::default();
        agg.record(&answer(Observation::Silence, 1000));
        agg.record(&answer(Observation::Silence, 1000));
        agg.record_late(&answer(Observation::Connected, 1200), 1);
        let r = agg.finish(endpoint(Protocol::Tcp));
        assert_eq!((r.attempts, r.received, r.late), (2, 1, 1));
    }

    #[test]
    fn local_errors_and_unresolved_names() {
        let mut agg = Aggregate::default();
        agg.record(&answer(
            Observation::Local("Network is unreachable (os error 101)".into()),
            0,
        ));
        let r = agg.finish(endpoint(Protocol::Tcp));
        assert_eq!((r.state, r.reason), (State::Error, Reason::LocalError));
        assert_eq!(
            r.error.as_deref(),
            Some("Network is unreachable (os error 101)")
        );
        let unresolved = Endpoint {
            address: None,
            ..endpoint(Protocol::Tcp)
        };
        let r = Aggregate::default().finish(unresolved);
        assert_eq!((r.state, r.reason), (State::Error, Reason::DnsError));
    }

    fn local(fault: LocalFault) -> Answer {
        answer(
            Observation::Local(LocalFailure {
                fault,
                message: "no ARP reply on the local network eth0".into(),
            }),
            664,
        )
    }

    #[test]
    fn our_own_failures_are_neither_answers_nor_loss() {
        let mut agg = Aggregate::default();
        agg.record(&local(LocalFault::NoRoute));
        agg.record(&local(LocalFault::NoRoute));
        let r = agg.finish(endpoint(Protocol::Udp));
        assert_eq!(
            (r.state, r.reason, r.fault, r.attempts, r.received, r.rtt),
            (
                State::Error,
                Reason::LocalError,
                Some(LocalFault::NoRoute),
                0,
                0,
                None
            )
        );
        assert!(r.loss_pct().abs() < 1e-9);
        assert_eq!(
            agg.attempts(),
            2,
            "the engine still knows something was tried"
        );
    }

    #[test]
    fn silences_while_nobody_answered_arp_never_left() {
        let mut agg = Aggregate::default();
        agg.record(&answer(Observation::Silence, 1000));
        agg.record(&answer(Observation::Silence, 1000));
        agg.record(&local(LocalFault::NoNeighbour));
        let r = agg.finish(endpoint(Protocol::Tcp));
        assert_eq!(
            (r.state, r.fault, r.attempts, r.received, r.rtt),
            (State::Error, Some(LocalFault::NoNeighbour), 0, 0, None)
        );
    }

    #[test]
    fn a_reset_after_the_handshake_is_open_and_not_lost() {
        let mut agg = Aggregate::default();
        agg.record(&answer(Observation::Connected, 2));
        agg.record(&Answer {
            untimed: true,
            reset: true,
            ..answer(Observation::Connected, 9)
        });
        let r = agg.finish(endpoint(Protocol::Tcp));
        assert_eq!(
            (
                r.state,
                r.reason,
                r.attempts,
                r.received,
                r.reset_after_accept
            ),
            (State::Open, Reason::SynAck, 2, 2, true)
        );
        assert!(
            (r.rtt.unwrap().avg - 2.0).abs() < 1e-9,
            "the reset is no RTT sample"
        );
    }
}
