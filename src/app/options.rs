//! Turns the option groups `probe` and `doctor` share into engine and advice settings.

use crate::check::CheckTiming;
use crate::classify::{Item, parse_item};
use crate::cli::probe::{AdviceArgs, ProtocolArgs, TimingArgs};
use crate::diagnose::CloudChoice;
use crate::error::{InputError, Problem, Result};
use crate::model::Protocol;
use crate::plan::duration::parse_duration;
use crate::probe::EngineConfig;
use crate::probe::timing::TimingConfig;
use ipnet::IpNet;
use std::time::Duration;

/// The default packet-rate cap for non-loopback targets.
const DEFAULT_RATE: f64 = 20_000.0;

/// A command's defaults for the options it leaves optional.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    /// Attempts per port.
    pub count: u32,
    /// Pause between attempts.
    pub interval: &'static str,
}

/// The responder's secret (`--token`) as bytes: an empty or short one is refused (exit 2),
/// without echoing it, since anyone who captures one tagged request can guess it offline.
pub fn secret(token: Option<&String>) -> Result<Option<Vec<u8>>> {
    let Some(token) = token else {
        return Ok(None);
    };
    let min = crate::wire::responder::MIN_SECRET_LEN;
    if token.len() < min {
        return Err(crate::error::Error::Usage(format!(
            "--token: the secret is {} bytes; give at least {min} (a short one is guessed from one captured probe)",
            token.len()
        )));
    }
    Ok(Some(token.as_bytes().to_vec()))
}

/// The engine settings from the timing options.
pub fn engine_config(args: &TimingArgs, defaults: Defaults) -> Result<EngineConfig> {
    let timeout = parse_duration("--timeout", &args.timeout)?;
    let interval = parse_duration(
        "--interval",
        args.interval.as_deref().unwrap_or(defaults.interval),
    )?;
    if timeout.is_zero() {
        return Err(InputError::new("--timeout", &args.timeout, Problem::Duration).into());
    }
    let rate = match args.rate.as_deref() {
        None => None,
        Some(text) => match text.trim().parse::<f64>() {
            Ok(rate) if rate.is_finite() && rate > 0.0 => Some(rate),
            Ok(_) => return Err(InputError::new("--rate", text, Problem::NotPositive).into()),
            Err(_) => return Err(InputError::new("--rate", text, Problem::NotANumber).into()),
        },
    };
    if args.concurrency == 0 {
        return Err(InputError::new("--concurrency", "0", Problem::NotPositive).into());
    }
    let sockets = usize::try_from(crate::sys::raise_open_files()).unwrap_or(usize::MAX);
    let count = args.count.unwrap_or(defaults.count);
    Ok(EngineConfig {
        concurrency: args.concurrency.min(sockets),
        rate: Some(rate.unwrap_or(DEFAULT_RATE)),
        pace_loopback: rate.is_some(),
        count: (count > 0).then_some(count),
        interval,
        timing: TimingConfig {
            initial: timeout,
            min: timeout.min(Duration::from_millis(100)),
            max: timeout,
            max_retries: args.retries,
        },
        deadline: None,
    })
}

/// The engine settings of a check (`ipdiag check`, `ipdiag wait`): its own timing, the
/// default rate cap, loopback unpaced. The engine is one of `engines` running at once
/// (checks with different timings): they split `concurrency`, the open-file limit and the
/// rate cap, so together they stay within them.
pub fn check_engine(t: &CheckTiming, concurrency: usize, engines: usize) -> EngineConfig {
    let engines = engines.max(1);
    let sockets = usize::try_from(crate::sys::raise_open_files()).unwrap_or(usize::MAX) / engines;
    let share = concurrency / engines;
    EngineConfig {
        concurrency: share.clamp(1, sockets.max(1)),
        rate: Some(DEFAULT_RATE / f64::from(u32::try_from(engines).unwrap_or(u32::MAX))),
        pace_loopback: false,
        count: Some(t.count),
        interval: t.interval,
        timing: TimingConfig {
            initial: t.timeout,
            min: t.timeout.min(Duration::from_millis(100)),
            max: t.timeout,
            max_retries: t.retries,
        },
        deadline: None,
    }
}

/// Whether every address of a name is judged on its own: `--all-addresses`, or `-4`/`-6`.
pub fn strict_addresses(args: &ProtocolArgs) -> bool {
    args.all_addresses || args.ipv4 || args.ipv6
}

/// The protocols to probe and the address family names are limited to.
pub fn protocols(args: &ProtocolArgs) -> (Vec<Protocol>, Option<u8>) {
    let protocols = match (args.udp, args.both) {
        (_, true) => vec![Protocol::Tcp, Protocol::Udp],
        (true, false) => vec![Protocol::Udp],
        (false, false) => vec![Protocol::Tcp],
    };
    let family = if args.ipv4 {
        Some(4)
    } else if args.ipv6 {
        Some(6)
    } else {
        None
    };
    (protocols, family)
}

/// `--cloud` and `--source`.
pub fn advice(args: &AdviceArgs) -> Result<(CloudChoice, Option<IpNet>)> {
    let cloud = args
        .cloud
        .key()
        .map_or(CloudChoice::Auto, CloudChoice::Named);
    let source = match args.source.as_deref() {
        None => None,
        Some(text) => Some(match parse_item(text)? {
            Item::Address(address) => IpNet::from(address),
            Item::Network(net) => net.trunc(),
            Item::Host(_) => {
                return Err(InputError::new("--source", text, Problem::NotAnAddress).into());
            }
        }),
    };
    Ok((cloud, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_running_at_once_split_the_concurrency_and_the_rate() {
        let timing = CheckTiming::default();
        let one = check_engine(&timing, 256, 1);
        assert_eq!((one.concurrency, one.rate), (256, Some(DEFAULT_RATE)));
        let third = check_engine(&timing, 256, 3);
        assert_eq!(third.concurrency, 85);
        assert_eq!(third.rate, Some(DEFAULT_RATE / 3.0));
        assert_eq!(check_engine(&timing, 2, 4).concurrency, 1, "never zero");
    }
}
