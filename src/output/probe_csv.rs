//! CSV for `ipdiag probe`: one row per endpoint, the JSON fields flattened.

use super::csv::push_field;
use super::probe_json::ProbeRecord;
use crate::diagnose::{Cause, Diagnosis};
use crate::model::ProbeResult;
use std::fmt::Write as _;

/// The header row.
pub const HEADER: &str = "target,host,address,port,protocol,method,state,reason,icmp_from,attempts,received,\
loss_pct,rtt_min_ms,rtt_avg_ms,rtt_max_ms,rtt_stddev_ms,payload,error,responder,observed_source,cause,late\n";

/// One row.
pub fn row(result: &ProbeResult, cause: Cause) -> String {
    let no_hints = Diagnosis {
        cause,
        hints: Vec::new(),
    };
    let r = ProbeRecord::new(result, &no_hints);
    let mut fields: Vec<String> = vec![
        r.target.to_owned(),
        r.host.to_owned(),
        r.address.unwrap_or_default(),
        r.port.to_string(),
        r.protocol.to_owned(),
        r.method.to_owned(),
        r.state.to_owned(),
        r.reason.to_owned(),
        r.icmp_from.unwrap_or_default(),
        r.attempts.to_string(),
        r.received.to_string(),
        r.loss_pct.to_string(),
    ];
    match r.rtt_ms {
        Some(rtt) => fields.extend([rtt.min, rtt.avg, rtt.max, rtt.stddev].map(|v| v.to_string())),
        None => fields.extend(std::iter::repeat_n(String::new(), 4)),
    }
    fields.push(r.payload.unwrap_or_default().to_owned());
    fields.push(r.error.unwrap_or_default().to_owned());
    fields.push(r.responder.to_string());
    fields.push(r.observed_source.unwrap_or_default());
    fields.push(r.cause.to_owned());
    fields.push(r.late.to_string());
    let mut buf = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        push_field(&mut buf, f);
    }
    let mut line = String::from_utf8_lossy(&buf).into_owned();
    let _ = writeln!(line);
    line
}
