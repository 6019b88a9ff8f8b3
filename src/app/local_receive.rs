//! `ipdiag local --port P --udp [--watch D]`: gathers the port's receive side (socket
//! counters, buffer sizes, the host's UDP counters and limits), has it judged
//! (`local::overflow`), and makes the record with the fix texts.

use crate::diagnose::fixes::{BufferNumbers, receive_buffer_fix};
use crate::diagnose::{Cause, Confidence};
use crate::local::overflow::{
    ReceiveFacts, ReceiveVerdict, Sample, SocketCount, judge, socket_drops_since,
};
use crate::local::skmem::{SkMem, udp_buffers};
use crate::local::snmp::host_udp;
use crate::local::sockets::SocketEntry;
use crate::local::sysctl::rmem_limits;
use crate::output::local_receive::ReceiveRecord;
use std::collections::HashMap;
use std::time::Duration;

/// The port's UDP sockets (already filtered) and the host's counters, read now.
pub fn sample(sockets: &[SocketEntry]) -> Sample {
    Sample {
        sockets: sockets
            .iter()
            .map(|s| SocketCount {
                inode: s.inode,
                rx_queue: s.rx_queue,
                drops: s.drops.unwrap_or(0),
            })
            .collect(),
        host: host_udp(),
    }
}

/// The receive side of the port, judged.
pub struct ReceiveSide {
    /// The judgement (the port verdict builds on it).
    pub verdict: ReceiveVerdict,
    /// The JSON / text record.
    pub record: ReceiveRecord,
    buffers: HashMap<u64, SkMem>,
    before: Option<Sample>,
}

impl ReceiveSide {
    /// One socket's receive buffer, when the kernel told.
    pub fn rcvbuf(&self, inode: u64) -> Option<u64> {
        self.buffers.get(&inode).map(|m| m.rcvbuf)
    }

    /// With `--watch`: one socket's drops while watched.
    pub fn drops_delta(&self, s: &SocketEntry) -> Option<u64> {
        let before = self.before.as_ref()?;
        Some(socket_drops_since(before, s.inode, s.drops.unwrap_or(0)))
    }
}

/// Reads the rest of the facts now (`sockets` were just listed) and judges them against
/// the earlier sample, if `--watch` took one.
pub fn look(port: u16, sockets: &[SocketEntry], before: Option<(Sample, Duration)>) -> ReceiveSide {
    let now = sample(sockets);
    let buffers = udp_buffers();
    let limits = rmem_limits();
    let rcvbuf = sockets
        .iter()
        .filter_map(|s| buffers.get(&s.inode).map(|m| m.rcvbuf))
        .min();
    let verdict = judge(&ReceiveFacts {
        port,
        now: &now,
        before: before.as_ref().map(|(s, d)| (s, *d)),
        rcvbuf,
        limits,
    });
    let fix = if verdict.overflow.is_some() {
        receive_buffer_fix(
            port,
            BufferNumbers {
                suggested_rcvbuf: verdict.suggested_rcvbuf,
                rmem_max: limits.max,
                rmem_default: limits.default,
            },
        )
    } else {
        Vec::new()
    };
    let record = ReceiveRecord {
        port,
        sockets: sockets.len(),
        rx_queue_bytes: verdict.rx_queue,
        rcvbuf_bytes: rcvbuf,
        drops: verdict.drops,
        drops_delta: verdict.drops_delta,
        watch_ms: before
            .as_ref()
            .map(|(_, d)| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        rmem_default: limits.default,
        rmem_max: limits.max,
        udp_counters: now.host.into(),
        udp_counters_delta: verdict.host_delta.map(Into::into),
        cause: if verdict.overflow.is_some() {
            Cause::ReceiveBufferOverflow.as_str()
        } else {
            Cause::Ok.as_str()
        },
        confidence: verdict.overflow.map(Confidence::as_str),
        evidence: verdict.evidence.clone(),
        fix,
    };
    ReceiveSide {
        verdict,
        record,
        buffers,
        before: before.map(|(s, _)| s),
    }
}
