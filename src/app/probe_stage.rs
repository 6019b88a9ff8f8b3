//! `probe`'s result stage: the one place a run's results go, from the SYN scan and the
//! engine alike. Each finished result arrives once (`done`), is diagnosed once into its
//! record, and every format renders that record: JSON lines as results come, the table,
//! JSON and CSV at the end. [`Stage::finish`] is the one way a run ends, Ctrl-C included:
//! it writes out everything still buffered, says how many endpoints were not probed, and
//! gives the exit status. Everything judged (states of live attempts, causes, the exit
//! status) is decided here; `output/` only renders.

use super::Context;
use super::advise::Adviser;
use super::check::EXIT_INTERRUPTED;
use super::drive::{Driven, Observer};
use super::progress::Progress;
use crate::diagnose::names::all_as_expected;
use crate::diagnose::{Diagnosis, HostIndex};
use crate::error::{EXIT_FAILURE, EXIT_OK, Result};
use crate::model::{Endpoint, ProbeResult};
use crate::output::diagnosis_text::{self, Group};
use crate::output::json_stream::JsonStream;
use crate::output::probe_json::{Interrupted, ProbeRecord};
use crate::output::probe_live::{self, AttemptOutcome, AttemptView};
use crate::output::{Format, probe_csv, probe_table};
use crate::plan::expect::Expected;
use crate::probe::attempt::Answer;
use crate::probe::icmp_limit::{ALLOWANCE, BUDGET};
use crate::probe::reason::{Observation, judge};
use std::net::IpAddr;

/// What the table shows besides the results.
#[derive(Clone, Copy)]
pub(super) struct Shown {
    /// `-c N`: tcping-style lines per attempt, and ping-style summaries.
    pub live: bool,
    /// `--all`: no summarised groups.
    pub all: bool,
    /// Diagnosis paragraphs under the table.
    pub hints: bool,
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
    progress: Progress,
    pub(super) adviser: Adviser,
    /// Results streamed so far: a streamed record is diagnosed with what is known when it
    /// is written (filtered ports finish last, so the ports that answered are known then).
    index: HostIndex,
    /// JSON lines written since the last flush.
    unflushed: bool,
}

impl<'a, 'b> Stage<'a, 'b> {
    pub(super) fn new(
        ctx: &'a mut Context<'b>,
        shown: Shown,
        progress: Progress,
        adviser: Adviser,
    ) -> Self {
        Self {
            ctx,
            shown,
            progress,
            adviser,
            index: HostIndex::default(),
            unflushed: false,
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

    /// Ends the run: renders what only the whole run can give (table, JSON, CSV), writes
    /// out everything buffered, says what Ctrl-C left unprobed; returns the exit status
    /// (130 when Ctrl-C cut a run that was meant to end by itself).
    pub(super) fn finish(mut self, driven: &Driven, total: usize, verdict: &Verdict) -> Result<u8> {
        self.progress.finish();
        let results = &driven.results;
        if !verdict.strict {
            self.adviser.judge_names(results);
        }
        let not_probed = total.saturating_sub(results.len());
        let cut = driven.interrupted && !verdict.until_stopped;
        let summary = (cut || not_probed > 0).then_some(Interrupted {
            interrupted: true,
            probed: results.len(),
            not_probed,
        });
        self.render(results, summary.as_ref())?;
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
        Ok(if cut {
            EXIT_INTERRUPTED
        } else if all_as_expected(results, |s| verdict.expect.allows(s), verdict.strict) {
            EXIT_OK
        } else {
            EXIT_FAILURE
        })
    }

    fn render(&mut self, results: &[ProbeResult], summary: Option<&Interrupted>) -> Result<()> {
        let out = &mut *self.ctx.out;
        match self.ctx.format {
            Format::Jsonl => {
                if let Some(s) = summary {
                    JsonStream::new(out, false).record(s)?;
                }
            }
            Format::Json => {
                let index = HostIndex::new(results);
                let mut json = JsonStream::new(out, true);
                for r in results {
                    let diagnosis = self.adviser.diagnose(r, &index, None);
                    json.record(&ProbeRecord::new(r, &diagnosis))?;
                }
                if let Some(s) = summary {
                    json.record(s)?;
                }
                json.finish()?;
            }
            Format::Csv => {
                let index = HostIndex::new(results);
                out.write_all(probe_csv::HEADER.as_bytes())?;
                for r in results {
                    let cause = self.adviser.cause(r, &index);
                    out.write_all(probe_csv::row(r, cause).as_bytes())?;
                }
            }
            Format::Table => self.table(results, summary)?,
        }
        Ok(())
    }

    fn table(&mut self, results: &[ProbeResult], summary: Option<&Interrupted>) -> Result<()> {
        let out = &mut *self.ctx.out;
        if self.shown.live {
            for r in results {
                let [head, stats] = probe_live::summary_lines(r);
                writeln!(out, "\n{head}\n{stats}")?;
            }
            writeln!(out)?;
        }
        write!(
            out,
            "{}",
            probe_table::render(results, self.shown.all, self.ctx.style)
        )?;
        if let Some(s) = summary {
            writeln!(out, "{}", probe_table::not_probed(s.probed, s.not_probed))?;
        }
        if self.shown.hints {
            let index = HostIndex::new(results);
            let (groups, diagnoses) = group_by_cause(results, &index, &mut self.adviser);
            let groups: Vec<Group<'_>> = groups
                .into_iter()
                .zip(&diagnoses)
                .map(|((results, provider_note), diagnosis)| Group {
                    results,
                    diagnosis,
                    provider_note,
                })
                .collect();
            write!(out, "{}", diagnosis_text::render(&groups))?;
        }
        Ok(())
    }
}

impl Observer for Stage<'_, '_> {
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
        if self.shown.live {
            let view = attempt_view(endpoint, seq, try_no, answer);
            writeln!(self.ctx.out, "{}", probe_live::attempt_line(&view))?;
            self.ctx.out.flush()?;
        }
        Ok(())
    }

    fn done(&mut self, result: &ProbeResult) -> Result<()> {
        self.progress.done(result.state);
        if self.ctx.format != Format::Jsonl {
            return Ok(());
        }
        self.index.add(result);
        let diagnosis = self.adviser.diagnose(result, &self.index, None);
        JsonStream::new(&mut *self.ctx.out, false).record(&ProbeRecord::new(result, &diagnosis))?;
        self.unflushed = true;
        Ok(())
    }

    /// Shows the JSON lines written so far (the output is buffered).
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

/// Ports of one address with the same state, reason and most likely cause, in plan order;
/// only the first of each group is diagnosed in full (a sweep has tens of thousands of
/// ports and a handful of groups; the others' causes are looked up once per kind of
/// result). Confident `ok`s are left out.
#[expect(clippy::type_complexity, reason = "a private pair of parallel lists")]
pub fn group_by_cause<'a>(
    results: &'a [ProbeResult],
    index: &HostIndex,
    adviser: &mut Adviser,
) -> (Vec<(Vec<&'a ProbeResult>, Option<String>)>, Vec<Diagnosis>) {
    let mut groups: Vec<(Vec<&'a ProbeResult>, Option<String>)> = Vec::new();
    let mut diagnoses: Vec<Diagnosis> = Vec::new();
    // Each key with its group, or `None` for a group not worth showing.
    let mut keys: Vec<(_, Option<usize>)> = Vec::new();
    for r in results {
        let key = (
            r.endpoint.address,
            r.endpoint.protocol,
            r.state,
            r.reason,
            adviser.cause(r, index),
        );
        if let Some((_, group)) = keys.iter().find(|(k, _)| *k == key) {
            if let Some(i) = *group {
                groups[i].0.push(r);
            }
            continue;
        }
        let first = adviser.diagnose(r, index, None);
        if !diagnosis_text::worth_showing(&first) {
            keys.push((key, None));
            continue;
        }
        keys.push((key, Some(groups.len())));
        let note = diagnosis_text::uses_provider(&first)
            .then(|| adviser.provider_note(r.endpoint.address));
        groups.push((vec![r], note));
        diagnoses.push(first);
    }
    (groups, diagnoses)
}
