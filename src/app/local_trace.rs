//! `local --watch D [--trace-firewall]`: the pause while watching, which Ctrl-C (or
//! SIGTERM) ends early instead of killing the process, and the trace session around it, so
//! the trace table is always removed.
//!
//! I/O only: the session (`local::firewall::trace`) and the signals; what a traced packet
//! means is the parser's, and rendering is the report's.

use crate::error::{Error, Result};
use crate::local::firewall::Tools;
use crate::local::firewall::trace::{Session, TracedPacket};
use crate::model::Transport;
use std::time::Duration;

/// Waits that a signal ends early. The handlers are installed when it is made, before
/// any trace table exists, so from then on Ctrl-C never kills the process.
pub struct Watch {
    runtime: tokio::runtime::Runtime,
    #[cfg(unix)]
    signals: (tokio::signal::unix::Signal, tokio::signal::unix::Signal),
    /// A signal came: later pauses return at once.
    pub interrupted: bool,
}

impl Watch {
    /// Installs the handlers.
    pub fn new() -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Environment(format!("cannot start a runtime: {e}")))?;
        #[cfg(unix)]
        let signals = {
            use tokio::signal::unix::{SignalKind, signal};
            let _inside = runtime.enter();
            let handler = |kind| {
                signal(kind).map_err(|e| Error::Environment(format!("cannot catch signals: {e}")))
            };
            (
                handler(SignalKind::interrupt())?,
                handler(SignalKind::terminate())?,
            )
        };
        Ok(Self {
            runtime,
            #[cfg(unix)]
            signals,
            interrupted: false,
        })
    }

    /// Sleeps for `pause`, or until a signal.
    pub fn pause(&mut self, pause: Duration) {
        if self.interrupted {
            return;
        }
        #[cfg(unix)]
        {
            let (interrupt, terminate) = &mut self.signals;
            self.interrupted = self.runtime.block_on(async {
                tokio::select! {
                    () = tokio::time::sleep(pause) => false,
                    _ = interrupt.recv() => true,
                    _ = terminate.recv() => true,
                }
            });
        }
        #[cfg(not(unix))]
        self.runtime.block_on(tokio::time::sleep(pause));
    }
}

/// A trace in progress and the pause it lasts.
pub struct Tracing {
    watch: Watch,
    session: Session,
}

impl Tracing {
    /// With `--trace-firewall`: the signal handlers, then the trace table.
    pub fn begin(asked: bool, protocol: Transport, port: Option<u16>) -> Result<Option<Self>> {
        let Some(port) = port.filter(|_| asked) else {
            return Ok(None);
        };
        let watch = Watch::new()?;
        let session = start(protocol, port)?;
        Ok(Some(Self { watch, session }))
    }

    /// Traces for `pause`, or until Ctrl-C / SIGTERM.
    pub fn pause(&mut self, pause: Duration) {
        self.watch.pause(pause);
    }

    /// Removes the table and returns the packets seen.
    pub fn end(self, notes: &mut Vec<String>) -> Vec<TracedPacket> {
        if self.watch.interrupted {
            notes.push("interrupted: the trace ended early".into());
        }
        finish(self.session, notes)
    }
}

/// Sleeps for `pause`; while tracing, a signal ends it early.
pub fn pause(tracing: Option<&mut Tracing>, pause: Duration) {
    match tracing {
        Some(t) => t.pause(pause),
        None => std::thread::sleep(pause),
    }
}

/// Starts tracing new connections to the port (root; nftables).
fn start(protocol: Transport, port: u16) -> Result<Session> {
    #[cfg(unix)]
    let root = nix::unistd::geteuid().is_root();
    #[cfg(not(unix))]
    let root = false;
    if !root {
        return Err(Error::Environment(
            "--trace-firewall needs root (it adds a temporary nftables table)".into(),
        ));
    }
    Session::start(&Tools::system().nft, protocol, port)
        .map_err(|why| Error::Environment(format!("cannot trace the firewall: {why}")))
}

/// Ends the trace: the table removed, the packets seen; a failure to remove is a note.
fn finish(session: Session, notes: &mut Vec<String>) -> Vec<TracedPacket> {
    let table = session.table().to_owned();
    let (packets, problem) = session.finish();
    if let Some(why) = problem {
        notes.push(format!(
            "the trace table inet {table} could not be removed ({why}): nft delete table inet {table}"
        ));
    }
    if packets.is_empty() {
        notes.push("no new connection to the port arrived while tracing".into());
    }
    packets
}
