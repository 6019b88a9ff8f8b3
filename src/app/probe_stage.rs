//! `probe`'s result stage: the one place a run's results go, from the SYN scan and the
//! engine alike. Each finished result arrives once (`take`, with its place in the plan),
//! is diagnosed once into its record, and every format renders that record as the run
//! goes: JSON lines at once; the table, JSON and CSV in plan order (results that come
//! before an earlier place wait for it: the engine and the scan keep them within a window,
//! so few wait). Nothing holds the whole run: the table keeps the rows it will show and
//! counts the rest, the diagnosis under it gathers kinds of results (`probe_hints.rs`),
//! the exit status is worked out as results come (`Expectation`), and JSON and CSV are
//! written as they come once a run outgrows [`WHOLE_RUN`]. [`Stage::finish`] is the one way
//! a run ends, Ctrl-C included: it writes out everything still waiting, says how many
//! endpoints were not probed, and gives the exit status. Everything judged (states of live
//! attempts, causes, the exit status) is decided here; `output/` only renders. Prometheus
//! metrics group every record's series under each metric's name, so they are written at
//! the end; `probe` refuses a plan of more than [`WHOLE_RUN`] endpoints in that format.

use super::Context;
use super::advise::Adviser;
use super::check::EXIT_INTERRUPTED;
use super::drive::{Driven, Observer};
use super::probe_hints::{ExpectedOpen, Hints};
use super::progress::Progress;
use crate::diagnose::HostIndex;
use crate::diagnose::names::Expectation;
use crate::error::{EXIT_FAILURE, EXIT_OK, Result};
use crate::model::{Endpoint, ProbeResult};
use crate::output::json_stream::JsonStream;
use crate::output::probe_json::{Interrupted, ProbeRecord};
use crate::output::probe_live::{self, AttemptOutcome, AttemptView};
use crate::output::probe_table::{self, Table};
use crate::output::prometheus::{ProbeMetrics, endpoint_labels, seconds, write_text};
use crate::output::{Format, probe_csv};
use crate::plan::expect::Expected;
use crate::probe::attempt::Answer;
use crate::probe::icmp_limit::{ALLOWANCE, BUDGET};
use crate::probe::reason::{Observation, judge};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// JSON and CSV results are held until a run has this many: a run that ends within it is
/// diagnosed knowing the whole run (which other ports of each host answered); beyond, each
/// record is written as it comes, diagnosed with the results before it in plan order (as
/// JSON lines always are, with those finished before it).
pub(super) const WHOLE_RUN: usize = 4096;

/// What the table shows besides the results.
#[derive(Clone)]
pub(super) struct Shown {
    /// `-c N`: tcping-style lines per attempt, and ping-style summaries.
    pub live: bool,
    /// `--all`: no summarised groups.
    pub all: bool,
    /// Diagnosis paragraphs under the table.
    pub hints: bool,
    /// The ports whose paragraphs give advice (the rest a summary).
    pub expected_open: ExpectedOpen,
}

/// How the exit status is decided.
pub(super) struct Verdict {
    /// The states every endpoint may have for exit 0 (`--expect`, `open` by default).
    pub expect: Expected,
    /// Every address of a name judged on its own (`--all-addresses`, `-4`, `-6`); otherwise
    /// a name is as reachable as its best address (happy eyeballs).
    pub strict: bool,
    /// `-c 0`: the run lasts until Ctrl-C by design, so Ctrl-C is no interruption.
    pub until_stopped: bool,
}

/// The result stage of one `probe` run.
pub(super) struct Stage<'a, 'b> {
    ctx: &'a mut Context<'b>,
    shown: Shown,
    verdict: Verdict,
    /// Endpoints planned.
    total: usize,
    progress: Progress,
    pub(super) adviser: Adviser,
    /// The results so far (JSON lines: as they finished; the other formats: in plan
    /// order). Bounded: a few samples per host and kind of state.
    index: HostIndex,
    /// Output written since the last flush.
    unflushed: bool,
    /// Results that came before an earlier place of the plan, until it comes.
    waiting: BTreeMap<usize, ProbeResult>,
    /// The next place of the plan to release.
    next: usize,
    /// JSON and CSV: the results held while the run may still be judged whole (`None`
    /// once it outgrew [`WHOLE_RUN`] and records are written as they come).
    held: Option<Vec<ProbeResult>>,
    /// JSON records or CSV rows written.
    written: usize,
    table: Table,
    hints: Hints,
    /// `-c N`: each endpoint's summary lines, shown above the table.
    summaries: Vec<[String; 2]>,
    expectation: Expectation,
    /// Results taken.
    probed: usize,
    /// `--format prometheus`: each endpoint's RTT samples in seconds (the histogram).
    samples: Option<HashMap<Endpoint, Vec<f64>>>,
}

impl<'a, 'b> Stage<'a, 'b> {
    pub(super) fn new(
        ctx: &'a mut Context<'b>,
        (shown, verdict): (Shown, Verdict),
        total: usize,
        progress: Progress,
        adviser: Adviser,
    ) -> Self {
        let all = shown.all;
        let samples = (ctx.format == Format::Prometheus).then(HashMap::new);
        let hints = Hints::new(shown.expected_open.clone());
        Self {
            ctx,
            shown,
            verdict,
            total,
            progress,
            adviser,
            index: HostIndex::default(),
            unflushed: false,
            waiting: BTreeMap::new(),
            next: 0,
            held: Some(Vec::new()),
            written: 0,
            table: Table::new(all),
            hints,
            summaries: Vec::new(),
            expectation: Expectation::default(),
            probed: 0,
            samples,
        }
    }

    /// `ipdiag: note: TEXT` on stderr, above the progress bar (nothing with `-q`).
    pub(super) fn note(&mut self, text: &str) -> Result<()> {
        if self.ctx.quiet {
            return Ok(());
        }
        let err = &mut *self.ctx.err;
        self.progress
            .suspend(|| writeln!(err, "ipdiag: note: {text}"))?;
        Ok(())
    }

    /// A finished result and its place in the plan.
    pub(super) fn take(&mut self, place: usize, result: ProbeResult) -> Result<()> {
        self.progress.done(result.state);
        self.probed += 1;
        if self.ctx.format == Format::Jsonl {
            self.expect(&result);
            self.index.add(&result);
            let diagnosis = self.adviser.diagnose(&result, &self.index, None);
            JsonStream::new(&mut *self.ctx.out, false)
                .record(&ProbeRecord::new(&result, &diagnosis))?;
            self.unflushed = true;
            return Ok(());
        }
        self.waiting.insert(place, result);
        while let Some(r) = self.waiting.remove(&self.next) {
            self.next += 1;
            self.release(r)?;
        }
        Ok(())
    }

    /// A result of the SYN scan, which reports no attempts: its one answered SYN's RTT is
    /// the histogram's sample.
    pub(super) fn take_scanned(&mut self, place: usize, result: ProbeResult) -> Result<()> {
        if let (Some(samples), Some(rtt), 1) = (self.samples.as_mut(), result.rtt, result.received)
        {
            samples
                .entry(result.endpoint.clone())
                .or_default()
                .push(seconds(rtt.min));
        }
        self.take(place, result)
    }

    fn expect(&mut self, r: &ProbeResult) {
        let expect = &self.verdict.expect;
        self.expectation
            .add(r, |s| expect.allows(s), self.verdict.strict);
    }

    /// The next result in plan order (table, JSON, CSV).
    fn release(&mut self, r: ProbeResult) -> Result<()> {
        if !self.verdict.strict {
            self.adviser.learn_name(&r);
        }
        self.expect(&r);
        self.index.add(&r);
        if self.ctx.format == Format::Table {
            if self.shown.live {
                self.summaries.push(probe_live::summary_lines(&r));
            }
            if self.shown.hints {
                self.hints.add(&r);
            }
            self.table.add(r);
            return Ok(());
        }
        if self.ctx.format == Format::Prometheus {
            // Within WHOLE_RUN: `probe` refused a larger plan.
            self.held.get_or_insert_with(Vec::new).push(r);
            return Ok(());
        }
        match &mut self.held {
            Some(held) if held.len() < WHOLE_RUN => held.push(r),
            _ => {
                for held in self.held.take().unwrap_or_default() {
                    self.write(&held)?;
                }
                self.write(&r)?;
            }
        }
        Ok(())
    }

    /// Writes a JSON record or CSV row, diagnosed with the results so far.
    fn write(&mut self, r: &ProbeResult) -> Result<()> {
        let out = &mut *self.ctx.out;
        if self.ctx.format == Format::Json {
            let diagnosis = self.adviser.diagnose(r, &self.index, None);
            JsonStream::resume(out, true, self.written).record(&ProbeRecord::new(r, &diagnosis))?;
        } else {
            if self.written == 0 {
                out.write_all(probe_csv::HEADER.as_bytes())?;
            }
            let cause = self.adviser.cause(r, &self.index);
            out.write_all(probe_csv::row(r, cause).as_bytes())?;
        }
        self.written += 1;
        self.unflushed = true;
        Ok(())
    }

    /// Ends the run: writes out what is still waiting or held, renders what only the end
    /// can give (the table, the closing of the JSON array), says what Ctrl-C left unprobed;
    /// returns the exit status (130 when Ctrl-C cut a run that was meant to end by itself).
    pub(super) fn finish(mut self, driven: Driven) -> Result<u8> {
        self.progress.finish();
        // After a Ctrl-C, places before these were never probed: they go out in order.
        for (_, r) in std::mem::take(&mut self.waiting) {
            self.release(r)?;
        }
        let held = self.held.take().unwrap_or_default();
        if self.ctx.format == Format::Prometheus {
            self.metrics(&held)?;
        } else {
            for r in &held {
                self.write(r)?;
            }
        }
        let total = self.total;
        let not_probed = total.saturating_sub(self.probed);
        let cut = driven.interrupted && !self.verdict.until_stopped;
        let summary = (cut || not_probed > 0).then_some(Interrupted {
            interrupted: true,
            probed: self.probed,
            not_probed,
        });
        self.render_end(summary.as_ref())?;
        self.ctx.out.flush()?;
        if let Some(s) = &summary
            && !self.ctx.quiet
        {
            writeln!(
                self.ctx.err,
                "ipdiag: interrupted: {} of {total} endpoints not probed",
                s.not_probed
            )?;
        }
        let expect = &self.verdict.expect;
        Ok(if cut {
            EXIT_INTERRUPTED
        } else if self.expectation.holds(|s| expect.allows(s)) {
            EXIT_OK
        } else {
            EXIT_FAILURE
        })
    }

    /// The whole run as Prometheus metrics, each result diagnosed knowing the whole run
    /// and judged against `--expect` (`probe_success`).
    fn metrics(&mut self, results: &[ProbeResult]) -> Result<()> {
        let expect = &self.verdict.expect;
        let mut records = Vec::with_capacity(results.len());
        for r in results {
            let diagnosis = self.adviser.diagnose(r, &self.index, None);
            let mut m = ProbeMetrics::new(r, &diagnosis, expect.words(), expect.allows(r.state));
            m.labels = endpoint_labels(r);
            m.samples = self
                .samples
                .as_mut()
                .map(|s| s.remove(&r.endpoint).unwrap_or_default());
            records.push(m);
        }
        write_text(&mut *self.ctx.out, records)?;
        Ok(())
    }

    fn render_end(&mut self, summary: Option<&Interrupted>) -> Result<()> {
        let out = &mut *self.ctx.out;
        match self.ctx.format {
            // Written by `metrics`; an interrupted run says so on stderr only.
            Format::Prometheus => {}
            Format::Jsonl => {
                if let Some(s) = summary {
                    JsonStream::new(out, false).record(s)?;
                }
            }
            Format::Json => {
                let mut json = JsonStream::resume(out, true, self.written);
                if let Some(s) = summary {
                    json.record(s)?;
                }
                json.finish()?;
            }
            Format::Csv => {
                if self.written == 0 {
                    out.write_all(probe_csv::HEADER.as_bytes())?;
                }
            }
            Format::Table => {
                if self.shown.live {
                    for [head, stats] in &self.summaries {
                        writeln!(out, "\n{head}\n{stats}")?;
                    }
                    writeln!(out)?;
                }
                write!(out, "{}", self.table.render(self.ctx.style))?;
                if let Some(s) = summary {
                    writeln!(out, "{}", probe_table::not_probed(s.probed, s.not_probed))?;
                }
                if self.shown.hints {
                    let text = self.hints.render(&self.index, &mut self.adviser);
                    write!(self.ctx.out, "{text}")?;
                }
            }
        }
        Ok(())
    }

    /// Whether the run shows each attempt (`-c N`).
    fn live(&self) -> bool {
        self.shown.live
    }
}

impl Observer for Stage<'_, '_> {
    fn wants_attempts(&self) -> bool {
        self.live() || self.samples.is_some()
    }

    fn take(&mut self, place: usize, result: ProbeResult) -> Result<()> {
        Stage::take(self, place, result)
    }

    fn icmp_rationed(&mut self, address: IpAddr) -> Result<()> {
        self.progress.slow(&format!(
            "{address} rations ICMP (retries {:.1} s apart)",
            ALLOWANCE.as_secs_f64()
        ));
        self.note(&format!(
            "{address} rations its ICMP port unreachable messages (Linux: about one a second \
             after a burst of 6), so its silent UDP ports are asked again, one every {:.1} s, \
             lest closed ports pass for open|filtered (--retries 0 skips this)",
            ALLOWANCE.as_secs_f64()
        ))
    }

    fn icmp_budget_spent(&mut self, address: IpAddr) -> Result<()> {
        self.note(&format!(
            "{address}: {BUDGET} silent UDP ports were asked again (about {:.0} s); the rest \
             were not, and some may be closed rather than open|filtered: probe fewer ports \
             at a time, or with --rate 1 (a probe a second stays within the ration)",
            (ALLOWANCE * BUDGET).as_secs_f64()
        ))
    }

    fn attempt(
        &mut self,
        endpoint: &Endpoint,
        seq: u32,
        try_no: u32,
        answer: &Answer,
    ) -> Result<()> {
        if let (Some(samples), Some(rtt)) = (self.samples.as_mut(), answer.rtt_sample()) {
            samples
                .entry(endpoint.clone())
                .or_default()
                .push(rtt.as_secs_f64());
        }
        if self.shown.live {
            let view = attempt_view(endpoint, seq, try_no, answer);
            writeln!(self.ctx.out, "{}", probe_live::attempt_line(&view))?;
            self.ctx.out.flush()?;
        }
        Ok(())
    }

    /// Shows the records written so far (the output is buffered).
    fn idle(&mut self) -> Result<()> {
        self.progress.tick();
        if std::mem::take(&mut self.unflushed) {
            self.ctx.out.flush()?;
        }
        Ok(())
    }
}

/// One attempt, judged for the live view: the state and reason its evidence proves, and
/// the ICMP sender when it is not the target.
fn attempt_view<'e>(
    endpoint: &'e Endpoint,
    seq: u32,
    try_no: u32,
    answer: &'e Answer,
) -> AttemptView<'e> {
    let outcome = match (endpoint.address, &answer.observation) {
        (None, _) => AttemptOutcome::NoAddress,
        (Some(_), Observation::Silence) => AttemptOutcome::Silence,
        (Some(_), Observation::Local(failure)) => AttemptOutcome::Local(&failure.message),
        (Some(address), observation) => {
            let (state, reason) = judge(endpoint.protocol, address, observation);
            let icmp_from = match observation {
                Observation::Icmp(report) => report
                    .from
                    .filter(|f| f.to_canonical() != address.to_canonical()),
                _ => None,
            };
            AttemptOutcome::Answered {
                state,
                reason,
                icmp_from,
                reply_bytes: answer.reply_bytes,
                after_retransmission: answer.late,
            }
        }
    };
    AttemptView {
        endpoint,
        seq,
        try_no,
        ms: answer.rtt.as_secs_f64() * 1000.0,
        outcome,
    }
}
