//! `ipdiag serve`: bind (explaining failures), then answer and log until Ctrl-C or `--for`.

use super::Context;
use crate::classify::port_spec::parse_port_arg;
use crate::classify::{Item, parse_item};
use crate::cli::serve::ServeArgs;
use crate::error::{EXIT_OK, Error, InputError, Problem, Result};
use crate::local::interfaces;
use crate::model::Protocol;
use crate::output::Format;
use crate::output::serve_log;
use crate::plan::duration::parse_duration;
use crate::serve::bind::{BindContext, bind, explain};
use crate::serve::{Counters, ServeConfig, Sockets, serve};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, watch};

/// Runs `ipdiag serve`.
pub fn run(args: &ServeArgs, ctx: &mut Context<'_>) -> Result<u8> {
    let tcp = ports(&args.tcp)?;
    let udp = ports(&args.udp)?;
    if tcp.is_empty() && udp.is_empty() {
        return Err(Error::Usage(
            "nothing to serve: give --tcp PORTS and/or --udp PORTS".into(),
        ));
    }
    let duration = args
        .duration
        .as_deref()
        .map(|d| parse_duration("--for", d))
        .transpose()?;
    if !(args.rate.is_finite() && args.rate > 0.0) {
        return Err(InputError::new("--rate", &args.rate.to_string(), Problem::NotPositive).into());
    }
    if args.max_connections == 0 {
        return Err(InputError::new("--max-connections", "0", Problem::NotPositive).into());
    }
    let lifetime = tcp_lifetime(args)?;
    let explicit = !args.bind.is_empty();
    let binds = if explicit {
        args.bind
            .iter()
            .map(|b| bind_address(b))
            .collect::<Result<Vec<_>>>()?
    } else {
        vec![Ipv4Addr::UNSPECIFIED.into(), Ipv6Addr::UNSPECIFIED.into()]
    };
    let token = super::options::secret(args.token.as_ref())?;
    let (sockets, listening) = bind_all(&binds, &tcp, &udp, explicit)?;
    let max_connections = connection_cap(args.max_connections, ctx)?;
    let config = ServeConfig {
        token,
        rate: args.rate,
        burst: args.rate * 2.0,
        max_connections,
        per_source: args.max_per_source,
        lifetime,
        tcp_reads: args.tcp_reads,
        ..ServeConfig::default()
    };
    say_what_runs(args, config.max_connections, ctx)?;
    let json = matches!(ctx.format, Format::Json | Format::Jsonl);
    if !json {
        writeln!(
            ctx.out,
            "{}",
            serve_log::banner(&listening, config.token.is_some(), duration)
        )?;
        ctx.out.flush()?;
    }
    let runtime = super::drive::runtime()?;
    let counters = Arc::new(Counters::default());
    runtime.block_on(async {
        let (stop_tx, stop) = watch::channel(false);
        let (log_tx, mut log) = mpsc::channel(4096);
        let server = tokio::spawn(serve(sockets, config, log_tx, stop, Arc::clone(&counters)));
        let stopper = tokio::spawn(async move {
            match duration {
                Some(d) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        () = tokio::time::sleep(d) => {}
                    }
                }
                None => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
            let _ = stop_tx.send(true);
        });
        while let Some(arrival) = log.recv().await {
            if json {
                serde_json::to_writer(&mut *ctx.out, &serve_log::record(&arrival))
                    .map_err(std::io::Error::from)?;
                writeln!(ctx.out)?;
            } else {
                writeln!(ctx.out, "{}", serve_log::line(&arrival))?;
            }
            ctx.out.flush()?;
        }
        let _ = server.await;
        stopper.abort();
        Ok::<(), Error>(())
    })?;
    if !json {
        let c = &counters;
        writeln!(
            ctx.out,
            "{}",
            stopped_line(
                c.datagrams.load(Ordering::Relaxed),
                c.bytes_in.load(Ordering::Relaxed),
                c.bytes_out.load(Ordering::Relaxed),
                c.replies.load(Ordering::Relaxed),
                c.connections.load(Ordering::Relaxed),
            )
        )?;
    }
    Ok(EXIT_OK)
}

/// `stopped: 1 datagram (48 bytes in, 25 bytes out in 1 reply), 0 TCP connections`.
fn stopped_line(datagrams: u64, bytes_in: u64, bytes_out: u64, replies: u64, tcp: u64) -> String {
    let count = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "stopped: {} ({}, {} out in {}), {}",
        count(datagrams, "datagram", "datagrams"),
        count(bytes_in, "byte in", "bytes in"),
        count(bytes_out, "byte", "bytes"),
        count(replies, "reply", "replies"),
        count(tcp, "TCP connection", "TCP connections"),
    )
}

/// `--tcp-lifetime`, after checking `--max-per-source`.
fn tcp_lifetime(args: &ServeArgs) -> Result<std::time::Duration> {
    if args.max_per_source == 0 {
        return Err(InputError::new("--max-per-source", "0", Problem::NotPositive).into());
    }
    let lifetime = parse_duration("--tcp-lifetime", &args.tcp_lifetime)?;
    if lifetime.is_zero() {
        let problem = Problem::NotPositive;
        return Err(InputError::new("--tcp-lifetime", &args.tcp_lifetime, problem).into());
    }
    Ok(lifetime)
}

/// Raises the soft open-file limit as `probe` does and lowers `--max-connections` to what
/// it allows (with a note): past it `accept` fails with EMFILE and real clients wait.
fn connection_cap(asked: usize, ctx: &mut Context<'_>) -> Result<usize> {
    let allowed = usize::try_from(crate::sys::raise_open_files()).unwrap_or(usize::MAX);
    if asked <= allowed {
        return Ok(asked);
    }
    writeln!(
        ctx.err,
        "ipdiag: note: --max-connections {asked} lowered to {allowed}: the open-file limit allows no more ({})",
        crate::sys::System::HERE.words().file_limit
    )?;
    Ok(allowed)
}

fn ports(args: &[String]) -> Result<Vec<u16>> {
    let mut out = Vec::new();
    for arg in args {
        for selection in parse_port_arg(arg)? {
            out.extend(selection.ports.ports());
        }
    }
    out.dedup();
    Ok(out)
}

fn bind_address(text: &str) -> Result<IpAddr> {
    match parse_item(text)? {
        Item::Address(address) => Ok(address),
        _ => Err(InputError::new("--bind", text, Problem::NotOneAddress).into()),
    }
}

/// Binds every (address, port, protocol). A failure is explained (exit 3), except that the
/// default `::` is skipped quietly on a host without IPv6.
fn bind_all(
    binds: &[IpAddr],
    tcp: &[u16],
    udp: &[u16],
    explicit: bool,
) -> Result<(Sockets, Vec<String>)> {
    let mut sockets = Sockets::default();
    let mut listening = Vec::new();
    for &address in binds {
        for (protocol, port) in tcp
            .iter()
            .map(|p| (Protocol::Tcp, *p))
            .chain(udp.iter().map(|p| (Protocol::Udp, *p)))
        {
            let at = SocketAddr::new(address, port);
            match bind(protocol, at) {
                Ok(socket) => {
                    // The port the kernel picked when asked for 0, so a client can be told.
                    let bound = socket
                        .local_addr()
                        .ok()
                        .and_then(|a| a.as_socket())
                        .unwrap_or(at);
                    listening.push(format!("{} {bound}", protocol.as_str()));
                    match protocol {
                        Protocol::Tcp => sockets.tcp.push(socket.into()),
                        Protocol::Udp => sockets.udp.push(socket.into()),
                    }
                }
                Err(e) if !explicit && address.is_ipv6() && no_ipv6(&e) => {}
                Err(e) => {
                    return Err(Error::Environment(explain(
                        protocol,
                        at,
                        &e,
                        &bind_context(protocol, port),
                    )));
                }
            }
        }
    }
    Ok((sockets, listening))
}

fn no_ipv6(error: &std::io::Error) -> bool {
    use crate::sys::{Failure, HERE, failure};
    error.kind() == std::io::ErrorKind::AddrNotAvailable
        || error.raw_os_error().is_some_and(|code| {
            failure(HERE.system, crate::model::Protocol::Tcp, code) == Failure::FamilyUnsupported
        })
}

fn bind_context(protocol: Protocol, port: u16) -> BindContext {
    BindContext {
        addresses: interfaces::networks(),
        holder: crate::local::holder::holder(protocol, port),
        ports: crate::local::sysctl::port_facts(),
    }
}

/// `-v`: what this run reads or does, on stderr.
fn say_what_runs(args: &ServeArgs, max_connections: usize, ctx: &mut Context<'_>) -> Result<()> {
    if ctx.verbose > 0 {
        writeln!(
            ctx.err,
            "ipdiag: replies and banners at most {} a second per source (bursts of {}), {max_connections} TCP connections at once at most ({} per source, each for {} at most), {}",
            args.rate,
            args.rate * 2.0,
            args.max_per_source,
            args.tcp_lifetime,
            if args.tcp_reads {
                "TCP reads logged"
            } else {
                "TCP closed after the banner"
            }
        )?;
    }
    Ok(())
}
