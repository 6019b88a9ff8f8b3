//! `ipdiag probe HOST:PORT --udp --idle-test [--idle-max D]`: how long the path keeps a UDP
//! flow idle, through the responder. Arguments → one target → a delayed request per silence
//! of `probe::idle::schedule`, on one connected socket (so every request and reply is one
//! flow, as an application's would be) → a line per silence as it ends → the verdict and,
//! for a path that forgets, the `nat_idle_timeout` fix.

use super::Context;
use super::check::EXIT_INTERRUPTED;
use super::drive::runtime;
use super::load::{one_target, parse_wait, resolve_one};
use crate::cli::load::LoadArgs;
use crate::cli::probe::ProbeArgs;
use crate::diagnose::fixes::{FixParams, Source, fix};
use crate::diagnose::{Cause, Finding};
use crate::error::{EXIT_ENVIRONMENT, EXIT_FAILURE, EXIT_OK, Error, InputError, Problem, Result};
use crate::model::Protocol;
use crate::output::Format;
use crate::output::idle_text::{self, IdleRecord};
use crate::plan::duration::parse_duration;
use crate::probe::idle::{DEFAULT_MAX, Outcome, Step, Verdict, honoured, judge, schedule};
use crate::probe::load::socket;
use crate::wire::responder::{MAX_DELAY, delayed_request, parse_reply, request};
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

/// Runs `probe --idle-test`.
pub fn run(load: &LoadArgs, args: &ProbeArgs, ctx: &mut Context<'_>) -> Result<u8> {
    let refused = match ctx.format {
        Format::Csv => Some("csv"),
        Format::Prometheus => Some("prometheus"),
        Format::Table | Format::Json | Format::Jsonl => None,
    };
    if let Some(word) = refused {
        return Err(Error::Usage(format!(
            "--idle-test writes a table or JSON (--json, --jsonl): leave out --format {word}"
        )));
    }
    let spec = one_target("--idle-test", Problem::IdleTestOnePort, args)?;
    let max = idle_max(load)?;
    let wait = parse_wait(args)?;
    let token = super::options::secret(args.responder.token.as_ref())?;
    let Some(target) = resolve_one(&spec, Problem::IdleTestOnePort, args)? else {
        writeln!(ctx.err, "ipdiag: cannot resolve '{}'", spec.text)?;
        return Ok(EXIT_FAILURE);
    };
    if ctx.format == Format::Table {
        writeln!(
            ctx.out,
            "{}",
            idle_text::header(&spec.text, target, max, wait)
        )?;
        ctx.out.flush()?;
    }
    let mut steps = Vec::new();
    let ended = runtime()?.block_on(async {
        let socket = socket(target).map_err(|e| {
            Error::Environment(format!("cannot open a UDP socket to {target}: {e}"))
        })?;
        let mut exchange = Exchange {
            socket: &socket,
            wait,
            token: token.as_deref(),
            nonce: RandomState::new().hash_one(("idle", target)) & !0xffff,
        };
        for idle in schedule(max) {
            let outcome = tokio::select! {
                outcome = exchange.step(idle) => outcome,
                _ = tokio::signal::ctrl_c() => return Ok::<_, Error>(Ended::Interrupted),
            };
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    return Ok(Ended::Refused);
                }
                Err(e) => return Err(Error::Environment(format!("{target}: {e}"))),
            };
            let step = Step { idle, outcome };
            if ctx.format == Format::Table {
                writeln!(ctx.out, "{}", idle_text::step_line(&step))?;
                ctx.out.flush()?;
            }
            steps.push(step);
            if outcome != Outcome::Answered {
                break;
            }
        }
        Ok(Ended::Done)
    })?;
    match ended {
        Ended::Interrupted => {
            writeln!(ctx.err, "ipdiag: interrupted")?;
            return Ok(EXIT_INTERRUPTED);
        }
        Ended::Refused => {
            writeln!(
                ctx.err,
                "ipdiag: {target} refused the request (ICMP port unreachable): nothing listens on udp/{port} there; run `ipdiag serve --udp {port}` on the server first",
                port = target.port()
            )?;
            return Ok(EXIT_FAILURE);
        }
        Ended::Done => {}
    }
    let verdict = judge(&steps);
    let finding = finding(verdict, target);
    let fixes = finding
        .as_ref()
        .map(|_| fix_lines(target))
        .unwrap_or_default();
    match ctx.format {
        Format::Table => {
            let text = idle_text::verdict_text(verdict, finding.as_ref(), &fixes);
            write!(ctx.out, "{text}")?;
        }
        Format::Json | Format::Jsonl => {
            let record = IdleRecord::new(&spec.text, target, max, &steps, verdict, finding);
            serde_json::to_writer(&mut *ctx.out, &record).map_err(io::Error::from)?;
            writeln!(ctx.out)?;
        }
        Format::Csv | Format::Prometheus => {}
    }
    Ok(match verdict {
        Verdict::KeptAll { .. } => EXIT_OK,
        Verdict::OldResponder => EXIT_ENVIRONMENT,
        Verdict::Forgets { .. } | Verdict::Inconclusive { .. } => EXIT_FAILURE,
    })
}

/// `--idle-max`: above zero, at most what a responder holds a reply.
fn idle_max(load: &LoadArgs) -> Result<Duration> {
    let Some(text) = load.idle_max.as_deref() else {
        return Ok(DEFAULT_MAX);
    };
    let max = parse_duration("--idle-max", text)?;
    if max.is_zero() || max > MAX_DELAY {
        return Err(InputError::new("--idle-max", text, Problem::IdleMax).into());
    }
    Ok(max)
}

/// How the run ended.
enum Ended {
    Done,
    Interrupted,
    /// ICMP port unreachable: no responder on that port.
    Refused,
}

/// The `nat_idle_timeout` finding of a path that forgets a flow, with its evidence.
fn finding(verdict: Verdict, target: SocketAddr) -> Option<Finding> {
    let Verdict::Forgets { kept, forgotten } = verdict else {
        return None;
    };
    Some(Finding {
        cause: Cause::NatIdleTimeout,
        confidence: crate::diagnose::Confidence::High,
        evidence: vec![format!(
            "a reply to {target} after {} s of silence was lost twice while an immediate \
             request between them was answered; after {} s it came",
            forgotten.as_secs_f64(),
            kept.as_secs_f64()
        )],
    })
}

/// The fix texts of `nat_idle_timeout` for this port.
fn fix_lines(target: SocketAddr) -> Vec<String> {
    let source = Source::Unknown(String::new());
    let params = FixParams {
        provider: "generic",
        protocol: Protocol::Udp,
        port: target.port(),
        address: Some(target.ip()),
        source: &source,
        udp_silence: false,
        client: crate::sys::System::HERE,
    };
    fix(Cause::NatIdleTimeout, &params)
}

/// One flow's requests: a connected socket, the wait beyond each delay, the token.
struct Exchange<'a> {
    socket: &'a UdpSocket,
    wait: Duration,
    token: Option<&'a [u8]>,
    /// The last nonce used; each request takes the next.
    nonce: u64,
}

impl Exchange<'_> {
    /// One silence: the delayed request; when its reply is lost, an immediate request
    /// (answered: the path works) and the delayed one again.
    async fn step(&mut self, idle: Duration) -> io::Result<Outcome> {
        for _ in 0..2 {
            if let Some(waited) = self.ask(idle).await? {
                return Ok(if honoured(idle, waited) {
                    Outcome::Answered
                } else {
                    Outcome::Early
                });
            }
            if self.ask(Duration::ZERO).await?.is_none() {
                return Ok(Outcome::PathLost);
            }
        }
        Ok(Outcome::Forgotten)
    }

    /// Sends a request for a reply after `delay`; how long the reply took, or `None` when
    /// none came within `delay` and the wait. A port unreachable is an error
    /// (`ConnectionRefused`): no responder there.
    async fn ask(&mut self, delay: Duration) -> io::Result<Option<Duration>> {
        self.nonce = self.nonce.wrapping_add(1);
        let nonce = self.nonce;
        let bytes = if delay.is_zero() {
            request(nonce, self.token)
        } else {
            delayed_request(nonce, self.token, delay)
        };
        let sent = Instant::now();
        self.socket.send(&bytes).await?;
        let deadline = sent + delay + self.wait;
        let mut buf = [0u8; 128];
        loop {
            let Ok(received) = timeout_at(deadline, self.socket.recv(&mut buf)).await else {
                return Ok(None);
            };
            let n = received?;
            let reply = buf.get(..n).and_then(parse_reply);
            if reply.is_some_and(|r| r.nonce == nonce) {
                return Ok(Some(sent.elapsed()));
            }
        }
    }
}
