//! The real prober: TCP connect or a UDP datagram to the endpoint's address.

use super::attempt::{Answer, Busy};
use super::engine::Prober;
use super::reason::Observation;
use super::udp_stray::{self, Strays};
use super::{tcp, udp};
use crate::model::{Endpoint, Protocol};
use crate::wire::payloads::{PayloadChoice, payload_for};
use crate::wire::responder;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Probes with ordinary sockets (no privileges needed).
#[derive(Debug)]
pub struct SocketProber {
    payload: PayloadChoice,
    token: Option<Vec<u8>>,
    nonces: Nonces,
    /// Collects UDP replies from other addresses of the target (`doctor`).
    strays: Option<Strays>,
    /// Whether a TCP attempt waits for a responder's banner.
    banner: tcp::Banner,
}

impl SocketProber {
    /// A prober that sends `payload` to UDP ports.
    pub fn new(payload: PayloadChoice) -> Self {
        Self {
            payload,
            token: None,
            nonces: Nonces::default(),
            strays: None,
            banner: tcp::Banner::Read,
        }
    }

    /// TCP attempts stop at the handshake, with no wait for a responder's banner: for a
    /// caller that expects no responder, so an open port answers as fast as it connects.
    #[must_use]
    pub fn without_banner(mut self) -> Self {
        self.banner = tcp::Banner::Skip;
        self
    }

    /// A responder is said to run on the target (`--responder`): TCP attempts give its
    /// banner up to 250 ms, not about a round trip (a loaded server may write it late).
    #[must_use]
    pub fn expecting_responder(mut self, responder: bool) -> Self {
        if responder {
            self.banner = tcp::Banner::Expect;
        }
        self
    }

    /// Listens on each UDP probe's port for replies from other addresses too
    /// (`probe::udp_stray`), collected in `strays`.
    #[must_use]
    pub fn with_strays(mut self, strays: Strays) -> Self {
        self.strays = Some(strays);
        self
    }

    /// Tags ipdiag's probe datagrams with this token (`ipdiag serve --token`).
    #[must_use]
    pub fn with_token(mut self, token: Option<Vec<u8>>) -> Self {
        self.token = token;
        self
    }
}

impl Prober for SocketProber {
    async fn attempt(&self, endpoint: &Endpoint, wait: Duration) -> Result<Answer, Busy> {
        let Some(target) = endpoint.socket_addr() else {
            return Ok(Answer::new(
                Observation::Local("no address to probe".into()),
                Duration::ZERO,
            ));
        };
        match endpoint.protocol {
            Protocol::Tcp => {
                let mut answer = tcp::attempt_banner(target, wait, self.banner).await?;
                answer.observed = answer
                    .reply_head
                    .as_deref()
                    .and_then(responder::parse_banner);
                Ok(answer)
            }
            Protocol::Udp => {
                let nonce = self.nonces.next();
                let (name, bytes) =
                    payload_for(&self.payload, endpoint.port, nonce, self.token.as_deref());
                let mut answer = match &self.strays {
                    Some(strays) => udp_stray::attempt(target, &bytes, wait, strays).await?,
                    None => udp::attempt(target, &bytes, wait).await?,
                };
                // A responder's reply to this very request says how the server saw us.
                answer.observed = answer
                    .reply_head
                    .as_deref()
                    .and_then(responder::parse_reply)
                    .filter(|r| r.nonce == nonce)
                    .map(|r| r.observed);
                Ok(Answer {
                    payload: Some(name),
                    ..answer
                })
            }
        }
    }
}

/// Unpredictable per-attempt nonces without a random-number crate: std's hasher keys are
/// random per process; a counter makes every value distinct. Not for cryptography.
#[derive(Debug)]
pub(crate) struct Nonces {
    keys: RandomState,
    counter: AtomicU64,
}

impl Default for Nonces {
    fn default() -> Self {
        Self {
            keys: RandomState::new(),
            counter: AtomicU64::new(0),
        }
    }
}

impl Nonces {
    /// The next nonce.
    pub(crate) fn next(&self) -> u64 {
        let mut hasher = self.keys.build_hasher();
        hasher.write_u64(self.counter.fetch_add(1, Ordering::Relaxed));
        hasher.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_differ() {
        let nonces = Nonces::default();
        let a: Vec<u64> = (0..1000).map(|_| nonces.next()).collect();
        let mut sorted = a.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 1000);
    }
}
