//! Runs checks for `ipdiag check` and `ipdiag wait`: a round probes every pending check at
//! once (one engine per distinct timing, all running concurrently); [`until_hold`] repeats
//! the failing ones with a backoff until all hold, time runs out, or Ctrl-C. The time limit
//! is a hard one: the engines get it as their deadline, so a round under way ends with it
//! (`wait --timeout 500ms` against a silent port once took a whole 2 s round).

use super::drive::{Observer, drive};
use super::options::check_engine;
use crate::check::{Check, CheckTiming, Outcome, judge_check};
use crate::error::{Error, Result};
use crate::model::{Endpoint, ProbeResult, Reason};
use crate::plan::expand::{PlanOptions, build_plan};
use crate::probe::SocketProber;
use crate::resolve::{SystemResolver, TimedResolver};
use crate::wire::payloads::PayloadChoice;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::{Duration, Instant};

/// The first pause between rounds; it grows by half each round up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest pause between rounds: a service that comes up is seen within this (as
/// wait-for-it, which tries once a second).
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Sees each round that left checks failing: the checks, their outcomes, the time so far.
pub type Progress<'a> = dyn FnMut(&[Check], &[Outcome], Duration) + 'a;

/// How long to keep trying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// One round.
    Once,
    /// Rounds until this much time has passed (a round under way is cut there: no wait for
    /// an answer outlasts it).
    Deadline(Duration),
    /// Rounds until all hold or Ctrl-C.
    Forever,
}

/// Settings every check of a run shares.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Ports probed at once at most, per timing group.
    pub concurrency: usize,
    /// The responder's token.
    pub token: Option<Vec<u8>>,
}

/// What the rounds found.
#[derive(Debug, Clone)]
pub struct Report {
    /// One per check, in file order: from the round in which it held, or the last round.
    pub outcomes: Vec<Outcome>,
    /// Rounds run.
    pub rounds: u32,
    /// From the first probe to the last answer.
    pub elapsed: Duration,
    /// One per check: how long after the start it held (the end of the round in which it
    /// did), so `wait` tells each target's own ready time.
    pub held_at: Vec<Option<Duration>>,
    /// Ctrl-C stopped the run.
    pub interrupted: bool,
}

impl Report {
    /// Every check holds.
    pub fn all_hold(&self) -> bool {
        self.outcomes.iter().all(Outcome::holds)
    }
}

/// The one-line progress of a run that waits, on stderr when it is a terminal (hidden
/// otherwise, or when `hidden`). It is redrawn by each round's message, never by a ticker
/// thread: the command holds the stderr lock for its whole run, and a ticker blocked on
/// that lock while holding the bar's would deadlock the next update. The message is cut to
/// the terminal's width (`wide_msg`): a line that wrapped would leave its first part behind
/// at every redraw.
pub fn waiting_line(hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{spinner} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(style)
}

/// `3 s`, `1.5 s`: whole seconds unless the fraction matters.
pub fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 10.0 || d.subsec_millis() == 0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// Runs rounds until every check holds or `until` says stop. `progress` sees each round
/// that left checks failing, with the time spent so far.
pub async fn until_hold(
    checks: &[Check],
    settings: &Settings,
    until: Until,
    progress: &mut Progress<'_>,
) -> Result<Report> {
    let start = Instant::now();
    let deadline = match until {
        Until::Deadline(limit) => Some(tokio::time::Instant::now() + limit),
        Until::Once | Until::Forever => None,
    };
    let mut outcomes = vec![Outcome::default(); checks.len()];
    let mut held_at = vec![None; checks.len()];
    let mut pending: Vec<usize> = (0..checks.len()).collect();
    let mut rounds = 0;
    let mut backoff = FIRST_BACKOFF;
    loop {
        rounds += 1;
        let (found, interrupted) = round(checks, &pending, settings, deadline).await?;
        for (&i, outcome) in pending.iter().zip(found) {
            // A round stopped before it reached a check leaves what an earlier one saw.
            if !outcome.rows.is_empty() || outcomes[i].rows.is_empty() {
                outcomes[i] = outcome;
            }
        }
        for &i in &pending {
            if outcomes[i].holds() {
                held_at[i] = Some(start.elapsed());
            }
        }
        pending.retain(|&i| !outcomes[i].holds());
        let report = |interrupted| Report {
            outcomes: outcomes.clone(),
            rounds,
            elapsed: start.elapsed(),
            held_at: held_at.clone(),
            interrupted,
        };
        if interrupted || pending.is_empty() {
            return Ok(report(interrupted));
        }
        let pause = match until {
            Until::Once => return Ok(report(false)),
            Until::Forever => backoff,
            Until::Deadline(limit) => match limit.checked_sub(start.elapsed()) {
                Some(left) if !left.is_zero() => backoff.min(left),
                _ => return Ok(report(false)),
            },
        };
        progress(checks, &outcomes, start.elapsed());
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = tokio::signal::ctrl_c() => return Ok(report(true)),
        }
        backoff = (backoff * 3 / 2).min(MAX_BACKOFF);
    }
}

/// Probes the checks `which` once, ending at `deadline` at the latest; returns their
/// outcomes (in `which` order) and whether Ctrl-C cut the round short.
async fn round(
    checks: &[Check],
    which: &[usize],
    settings: &Settings,
    deadline: Option<tokio::time::Instant>,
) -> Result<(Vec<Outcome>, bool)> {
    // Checks with the same timing and responder setting share one engine.
    let mut groups: Vec<((CheckTiming, bool), Vec<usize>)> = Vec::new();
    for &i in which {
        let key = (checks[i].timing, checks[i].responder);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    let engines = groups.len();
    let mut tasks = Vec::new();
    for ((timing, responder), members) in groups {
        let mut endpoints = Vec::new();
        let mut unresolved = Vec::new();
        let mut spans = Vec::new();
        for &i in &members {
            let plan = plan(&checks[i], deadline)?;
            spans.push((i, endpoints.len(), plan.endpoints.len()));
            endpoints.extend(plan.endpoints);
            unresolved.extend(plan.unresolved);
        }
        let mut engine = check_engine(&timing, settings.concurrency, engines);
        engine.deadline = deadline;
        let prober = SocketProber::new(PayloadChoice::default()).with_token(settings.token.clone());
        let planned = endpoints.clone();
        let task = tokio::spawn(async move {
            let mut cut = CutShort {
                deadline,
                endpoints: Vec::new(),
            };
            let results =
                drive(endpoints, &unresolved, prober, engine, responder, &mut cut).await?;
            Ok::<_, Error>((align(&planned, results), cut.endpoints))
        });
        tasks.push((spans, task));
    }
    let mut by_check: Vec<Option<Outcome>> = vec![None; checks.len()];
    let mut gaps = false;
    for (spans, task) in tasks {
        let (results, cut) = task
            .await
            .map_err(|e| Error::Environment(format!("a check round failed: {e}")))??;
        for (i, start, len) in spans {
            let slice = results.get(start..start + len).unwrap_or_default();
            let finished: Vec<ProbeResult> = slice.iter().flatten().cloned().collect();
            gaps |= finished.len() < len;
            let mut outcome = judge_check(&checks[i], &finished);
            outcome.unprobed = len - finished.len();
            for row in &mut outcome.rows {
                if let Some(why) = row.verdict.why.as_mut()
                    && cut.contains(&row.result.endpoint)
                {
                    why.push_str("; the time ran out while waiting for an answer");
                }
            }
            by_check[i] = Some(outcome);
        }
    }
    let outcomes = which
        .iter()
        .map(|&i| by_check[i].take().unwrap_or_default())
        .collect();
    // Endpoints left out by the deadline are a timeout, not an interruption.
    let timed_out = deadline.is_some_and(|d| tokio::time::Instant::now() >= d);
    Ok((outcomes, gaps && !timed_out))
}

/// Notes the silent endpoints whose wait the deadline cut short: their result came at the
/// deadline, so their last wait ended there rather than at its timeout, and "no response"
/// means only "none in the time left".
struct CutShort {
    deadline: Option<tokio::time::Instant>,
    endpoints: Vec<Endpoint>,
}

impl Observer for CutShort {
    fn done(&mut self, result: &ProbeResult) -> Result<()> {
        if result.reason == Reason::NoResponse
            && self
                .deadline
                .is_some_and(|d| tokio::time::Instant::now() >= d)
        {
            self.endpoints.push(result.endpoint.clone());
        }
        Ok(())
    }
}

/// The endpoints of a check; names are resolved again every round (a container that is not
/// up yet has no address yet). A lookup ends at the deadline too: a resolver that hangs
/// must not stretch `wait --timeout`.
fn plan(
    check: &Check,
    deadline: Option<tokio::time::Instant>,
) -> Result<crate::plan::expand::Plan> {
    let options = PlanOptions {
        default_ports: Vec::new(),
        protocols: vec![check.protocol],
        family: None,
        allow_broadcast: false,
    };
    let targets = std::slice::from_ref(&check.target);
    Ok(match deadline {
        Some(d) => {
            let left = d.saturating_duration_since(tokio::time::Instant::now());
            build_plan(targets, &options, &TimedResolver::new(SystemResolver, left))?
        }
        None => build_plan(targets, &options, &SystemResolver)?,
    })
}

/// Puts results (plan order, with gaps where Ctrl-C stopped the engine) beside the planned
/// endpoints.
fn align(planned: &[Endpoint], results: Vec<ProbeResult>) -> Vec<Option<ProbeResult>> {
    let mut results = results.into_iter().peekable();
    planned
        .iter()
        .map(|e| results.next_if(|r| r.endpoint == *e))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Protocol, Reason, State};

    fn endpoint(port: u16) -> Endpoint {
        Endpoint {
            target: format!("127.0.0.1:{port}"),
            host: "127.0.0.1".into(),
            address: Some([127, 0, 0, 1].into()),
            port,
            protocol: Protocol::Tcp,
            scope_id: 0,
        }
    }

    fn result(port: u16) -> ProbeResult {
        ProbeResult::sample("127.0.0.1", port, State::Closed, Reason::ConnRefused)
    }

    #[test]
    fn seconds_show_a_fraction_only_when_it_matters() {
        assert_eq!(seconds(Duration::from_secs(60)), "60 s");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(seconds(Duration::from_millis(12_345)), "12 s");
        assert_eq!(seconds(Duration::ZERO), "0 s");
    }

    #[test]
    fn results_are_aligned_with_their_endpoints() {
        let planned = [endpoint(1), endpoint(2), endpoint(3)];
        let aligned = align(&planned, vec![result(1), result(3)]);
        let ports: Vec<_> = aligned
            .iter()
            .map(|r| r.as_ref().map(|r| r.endpoint.port))
            .collect();
        assert_eq!(ports, [Some(1), None, Some(3)]);
    }
}
