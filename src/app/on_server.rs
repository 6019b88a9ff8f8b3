//! `doctor --on-server CMD`: runs `CMD local --port P --watch D --format json` (ipdiag on
//! the server, reached the way the user reaches it: ssh, docker exec, kubectl exec, ip
//! netns exec), waits until its capture is armed, and after the client's probes collects
//! its report. Runs the command without a shell (`plan::server_command` splits it); every
//! failure is one line (`Error::Environment`, exit 3) saying what to do.

use super::capped_read::{Capped, read_capped};
use crate::error::{Error, Result};
use crate::lines::{Line, LineReader, MAX_LINE};
use crate::local::watch::report::{ReportProblem, SCHEMA_VERSION, WatchReport};
use crate::plan::server_command::{INSTALL_STEP, ServerCommand, failure};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the server may take to arm its capture (an ssh login, a container exec).
const ARM_WAIT: Duration = Duration::from_secs(30);
/// How long after its watch the server may take to print its report.
const REPORT_GRACE: Duration = Duration::from_secs(15);
/// The line the server prints on stderr once it watches.
const ARMED: &str = "ipdiag: watching ";
/// The most of the server's stdout read: a watch report is under 1 KiB, so this is far
/// more than any, and a command that prints without end cannot fill this process's memory.
const MAX_REPORT: usize = 1 << 20;
/// The most stderr lines kept (the last ones, which explain a failure) and waiting to be
/// read: past that, a flood's lines are dropped, never queued without end.
const KEEP_LINES: usize = 200;

/// The server's ipdiag, watching.
pub struct Witness {
    command: ServerCommand,
    child: Child,
    stderr: Receiver<String>,
    /// The last [`KEEP_LINES`] stderr lines so far (they explain a failure).
    lines: Vec<String>,
    stdout: Option<JoinHandle<Capped>>,
    watch: Duration,
    started: Instant,
}

impl Witness {
    /// Starts the server's watch of `port` for `watch` and returns once it is armed.
    pub fn start(command: ServerCommand, port: u16, udp: bool, watch: Duration) -> Result<Self> {
        let argv = command.argv(port, udp, watch);
        let mut child = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                Error::Environment(format!(
                    "--on-server: cannot run `{}`: {}",
                    command.program(),
                    if e.kind() == std::io::ErrorKind::NotFound {
                        "not found (is it installed and on PATH?)".to_owned()
                    } else {
                        e.to_string()
                    }
                ))
            })?;
        let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(Error::Environment(
                "--on-server: no pipes to the command".into(),
            ));
        };
        let stdout = std::thread::spawn(move || read_capped(out, MAX_REPORT));
        let (tx, stderr) = sync_channel(KEEP_LINES);
        // Reads stderr to its end, so the command never blocks on it; a line that finds
        // the queue full (a flood while the probes run) is dropped.
        std::thread::spawn(move || {
            let mut lines = LineReader::new(err, MAX_LINE);
            while let Ok(Some(line)) = lines.next_line() {
                let line = match line {
                    Line::Text(text) => String::from_utf8_lossy(text).into_owned(),
                    Line::TooLong => format!("(a line over {MAX_LINE} bytes)"),
                };
                if let Err(std::sync::mpsc::TrySendError::Disconnected(_)) = tx.try_send(line) {
                    break;
                }
            }
        });
        let mut witness = Self {
            command,
            child,
            stderr,
            lines: Vec::new(),
            stdout: Some(stdout),
            watch,
            started: Instant::now(),
        };
        witness.armed()?;
        Ok(witness)
    }

    /// Waits (at most [`ARM_WAIT`]) for the server's "watching" line.
    fn armed(&mut self) -> Result<()> {
        let deadline = Instant::now() + ARM_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.starts_with(ARMED) => {
                    self.started = Instant::now();
                    return Ok(());
                }
                Ok(line) => self.note(line),
                // stderr closed: the command ended without watching.
                Err(RecvTimeoutError::Disconnected) => return Err(self.ended_early()),
                Err(RecvTimeoutError::Timeout) => {
                    self.stop();
                    return Err(Error::Environment(format!(
                        "--on-server: no `{}…` line from the server within {} s (an ipdiag without `local --watch`? {INSTALL_STEP}){}",
                        ARMED.trim_end(),
                        ARM_WAIT.as_secs(),
                        self.last_line()
                    )));
                }
            }
        }
    }

    /// The command ended before it watched: why, in one line.
    fn ended_early(&mut self) -> Error {
        let status = self.child.wait().ok();
        let stdout = match self.take_stdout() {
            Ok(stdout) => stdout,
            Err(e) => return e,
        };
        // An ipdiag from before the watch report prints its own JSON, without a schema.
        if !stdout.trim().is_empty()
            && let Err(problem) = WatchReport::parse(&stdout)
        {
            return report_error(&problem);
        }
        let code = status.and_then(|s| s.code());
        Error::Environment(format!(
            "--on-server: {}",
            failure(&self.command, code, &self.lines)
        ))
    }

    /// Waits for the report (the watch's end, plus [`REPORT_GRACE`]) and reads it.
    pub fn finish(mut self) -> Result<WatchReport> {
        let deadline = self.started + self.watch + REPORT_GRACE;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => {
                    self.stop();
                    return Err(Error::Environment(format!(
                        "--on-server: no report from the server {} s after its watch ended{}",
                        REPORT_GRACE.as_secs(),
                        self.last_line()
                    )));
                }
            }
        };
        while let Ok(line) = self.stderr.try_recv() {
            self.note(line);
        }
        let stdout = self.take_stdout()?;
        if !status.success() && stdout.trim().is_empty() {
            return Err(Error::Environment(format!(
                "--on-server: {}",
                failure(&self.command, status.code(), &self.lines)
            )));
        }
        WatchReport::parse(&stdout).map_err(|p| report_error(&p))
    }

    /// The server's stdout, once the command has ended; refused when it is larger than
    /// any report.
    fn take_stdout(&mut self) -> Result<String> {
        let read = self
            .stdout
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        if read.over > 0 {
            return Err(Error::Environment(format!(
                "--on-server: the server printed {} bytes, more than the {} KiB a watch report can take: is the command `ipdiag local --watch` on the server?",
                read.over + read.text.len() as u64,
                MAX_REPORT / 1024
            )));
        }
        Ok(read.text)
    }

    /// Keeps a stderr line, and only the last [`KEEP_LINES`].
    fn note(&mut self, line: String) {
        if self.lines.len() == KEEP_LINES {
            self.lines.remove(0);
        }
        self.lines.push(line);
    }

    fn last_line(&self) -> String {
        self.lines
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map_or_else(String::new, |l| format!("; it said: {}", l.trim()))
    }

    /// Ends the command this run started (by its own handle, never by name).
    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}

fn report_error(problem: &ReportProblem) -> Error {
    Error::Environment(match problem {
        ReportProblem::NotAReport => format!(
            "--on-server: the server's ipdiag is older than this one (its output has no schema_version); upgrade it: {INSTALL_STEP}"
        ),
        ReportProblem::Newer(v) => format!(
            "--on-server: the server's report has schema_version {v}, newer than this ipdiag reads ({SCHEMA_VERSION}): upgrade ipdiag on this machine"
        ),
        ReportProblem::Malformed(why) => {
            format!("--on-server: the server's report cannot be read: {why}")
        }
    })
}
