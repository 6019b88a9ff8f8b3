//! `ipdiag ping HOST`: ICMP echo with a line per reply, then loss and RTT statistics.

use super::Context;
use super::drive::runtime;
use crate::classify::{Item, parse_item};
use crate::cli::ping::PingArgs;
use crate::error::{EXIT_FAILURE, EXIT_OK, Error, InputError, Problem, Result};
use crate::output::Format;
use crate::output::ping_text::{self, EchoRecord, PingRecord};
use crate::output::probe_json::RttRecord;
use crate::plan::duration::parse_duration;
use crate::probe::icmp::{Echo, PingOutcome, Pinger};
use crate::probe::stats::RunningRtt;
use crate::resolve::{Resolver, SystemResolver};
use std::net::IpAddr;

/// Runs `ipdiag ping`.
pub fn run(args: &PingArgs, ctx: &mut Context<'_>) -> Result<u8> {
    let interval = parse_duration("--interval", &args.interval)?;
    let wait = parse_duration("--timeout", &args.timeout)?;
    if wait.is_zero() {
        return Err(InputError::new("--timeout", &args.timeout, Problem::Duration).into());
    }
    if args.count == 0 {
        return Err(InputError::new("--count", "0", Problem::NotPositive).into());
    }
    let Some(address) = address(args, ctx)? else {
        return Ok(EXIT_FAILURE);
    };
    let table = ctx.format == Format::Table;
    let rt = runtime()?;
    // Opened before the header: without the privilege, the error is all that is printed.
    let pinger = rt.block_on(async { Pinger::open(address) });
    let pinger = pinger.map_err(Error::Environment)?;
    if ctx.verbose > 0 {
        writeln!(
            ctx.err,
            "ipdiag: pinging {address} through {}: {} echo request{} {} ms apart, each waiting {} ms",
            match pinger.method() {
                "raw" => "a raw socket",
                "iphlpapi" => "IcmpSendEcho2 (the IP Helper API: no Administrator needed)",
                _ => "a ping (unprivileged) socket",
            },
            args.count,
            if args.count == 1 { "" } else { "s" },
            interval.as_millis(),
            wait.as_millis()
        )?;
    }
    if table {
        writeln!(
            ctx.out,
            "{}",
            ping_text::header(&args.host, address, args.count, interval)
        )?;
        ctx.out.flush()?;
    }
    // JSON lists every reply; the table needs only the counts (-c 0 runs on).
    let mut echoes: Vec<Echo> = Vec::new();
    // What came so far, for the summary after a Ctrl-C.
    let mut so_far = PingOutcome {
        sent: 0,
        received: 0,
        rtt: RunningRtt::default(),
        method: pinger.method(),
    };
    let mut write_error = None;
    let outcome = rt.block_on(async {
        let mut each = |echo: Echo| {
            if !table {
                echoes.push(echo);
            }
            so_far.add(echo);
            if table && write_error.is_none() {
                let line = ping_text::echo_line(address, echo);
                if let Err(e) = writeln!(ctx.out, "{line}").and_then(|()| ctx.out.flush()) {
                    write_error = Some(e);
                }
            }
        };
        tokio::select! {
            outcome = pinger.run(args.count, interval, wait, &mut each) => Some(outcome),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    if let Some(e) = write_error {
        return Err(Error::Write(e));
    }
    let outcome = match outcome {
        Some(outcome) => outcome,
        // Ctrl-C: the summary of what was sent so far, as ping does.
        None => so_far,
    };
    let rtt = outcome.rtt.stats();
    if table {
        write!(
            ctx.out,
            "{}",
            ping_text::summary(address, &outcome, rtt.as_ref())
        )?;
    } else {
        let record = PingRecord {
            host: &args.host,
            address: address.to_string(),
            method: outcome.method,
            sent: outcome.sent,
            received: outcome.received,
            loss_pct: (ping_text::loss_pct(&outcome) * 10.0).round() / 10.0,
            rtt_ms: rtt.as_ref().map(RttRecord::from),
            replies: echoes.into_iter().map(EchoRecord::from).collect(),
        };
        serde_json::to_writer(&mut *ctx.out, &record).map_err(std::io::Error::from)?;
        writeln!(ctx.out)?;
    }
    Ok(if outcome.received > 0 {
        EXIT_OK
    } else {
        EXIT_FAILURE
    })
}

/// The address to ping; `None` (with the reason on stderr) when a name does not resolve.
/// Broadcast and multicast addresses are refused: an echo to them reaches many hosts.
fn address(args: &PingArgs, ctx: &mut Context<'_>) -> Result<Option<IpAddr>> {
    let found = any_address(args, ctx)?;
    if let Some(what) = found.and_then(crate::plan::expand::fan_out) {
        return Err(InputError::new("host", &args.host, Problem::Broadcast(what)).into());
    }
    Ok(found)
}

fn any_address(args: &PingArgs, ctx: &mut Context<'_>) -> Result<Option<IpAddr>> {
    let family_ok = |a: &IpAddr| !(args.name.ipv4 && a.is_ipv6() || args.name.ipv6 && a.is_ipv4());
    match parse_item(&args.host)? {
        Item::Address(a) if family_ok(&a) => Ok(Some(a)),
        Item::Address(_) => {
            let f = if args.name.ipv4 { 4 } else { 6 };
            Err(InputError::new("host", &args.host, Problem::WrongFamily(f)).into())
        }
        Item::Network(_) => {
            Err(InputError::new("host", &args.host, Problem::NetworkNotHost).into())
        }
        Item::Host(_) if args.name.numeric => {
            Err(InputError::new("host", &args.host, Problem::NameWithNumeric).into())
        }
        Item::Host(name) => match SystemResolver.resolve(name) {
            Ok(all) => {
                if let Some(a) = all.into_iter().find(family_ok) {
                    return Ok(Some(a));
                }
                writeln!(ctx.err, "ipdiag: '{name}' has no address of that family")?;
                Ok(None)
            }
            Err(e) => {
                writeln!(ctx.err, "ipdiag: cannot resolve '{name}': {e}")?;
                Ok(None)
            }
        },
    }
}
