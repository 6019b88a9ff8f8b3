//! What `doctor` is asked, parsed and checked before any packet: the plan (one port), the
//! engine, the payload and advice options, the control endpoints and pings beside the
//! asked port, and `--on-server`'s command with how long the server watches.

use super::doctor::{PING_INTERVAL, PINGS, TRACE_MAX_HOPS};
use super::options::{Defaults, advice, engine_config, protocols};
use crate::cli::doctor::DoctorArgs;
use crate::diagnose::CloudChoice;
use crate::diagnose::rules::CANARY_PORTS;
use crate::error::{InputError, Problem, Result};
use crate::model::{Endpoint, Protocol};
use crate::plan::expand::{Plan, PlanOptions, build_plan};
use crate::plan::server_command::ServerCommand;
use crate::plan::target::{HostSpec, parse_target};
use crate::probe::EngineConfig;
use crate::resolve::SystemResolver;
use crate::wire::payloads::{PayloadChoice, parse_payload};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// `doctor`'s defaults: a few attempts close together, enough to see loss.
const DOCTOR_DEFAULTS: Defaults = Defaults {
    count: 3,
    interval: "200ms",
};

/// The control ports: SSH, HTTP, HTTPS, RDP — one of them is open on most servers (with
/// `diagnose::rules::CANARY_PORTS` beside them, which should never be).
const CONTROL_PORTS: [u16; 4] = [22, 80, 443, 3389];

/// Everything `doctor` needs, parsed and checked.
pub(super) struct Request {
    pub(super) plan: Plan,
    pub(super) engine: EngineConfig,
    pub(super) payload: PayloadChoice,
    pub(super) cloud: CloudChoice,
    pub(super) source: Option<IpNet>,
    pub(super) control: Vec<Endpoint>,
    /// Addresses to ping (none with `--no-control`).
    pub(super) ping: Vec<IpAddr>,
    /// An ipdiag responder runs on the target (`--responder`).
    pub(super) responder: bool,
    /// Its token.
    pub(super) token: Option<Vec<u8>>,
    /// Trace the path to each asked endpoint (`--trace`).
    pub(super) trace: bool,
    /// `--on-server`: the server's side to start, and how long it watches.
    pub(super) on_server: Option<OnServer>,
}

/// `--on-server`: what the server watches.
pub(super) struct OnServer {
    pub(super) command: ServerCommand,
    /// The port as the server sees it (`--server-port`, else the target's).
    pub(super) port: u16,
    pub(super) protocol: Protocol,
    /// Long enough to cover every probe of the run.
    pub(super) watch: Duration,
}

pub(super) fn request(args: &DoctorArgs) -> Result<Request> {
    let spec = parse_target(&args.target)?;
    if args.numeric && matches!(spec.host, HostSpec::Name(_)) {
        return Err(InputError::new("target", &spec.text, Problem::NameWithNumeric).into());
    }
    if spec.ports.is_none() {
        return Err(InputError::new("target", &spec.text, Problem::NoPortGiven).into());
    }
    if matches!(spec.host, HostSpec::Network(_)) {
        return Err(InputError::new("target", &spec.text, Problem::NetworkNotHost).into());
    }
    let (protocols, family) = protocols(&args.protocol);
    let options = PlanOptions {
        default_ports: Vec::new(),
        protocols,
        family,
        allow_broadcast: false,
    };
    let plan = build_plan(std::slice::from_ref(&spec), &options, &SystemResolver)?;
    if plan.endpoints.windows(2).any(|w| w[0].port != w[1].port) {
        return Err(InputError::new("target", &spec.text, Problem::OnePort).into());
    }
    let engine = engine_config(&args.timing, DOCTOR_DEFAULTS)?;
    let payload = args
        .payload
        .as_deref()
        .map(parse_payload)
        .transpose()?
        .unwrap_or_default();
    let (cloud, source) = advice(&args.advice)?;
    let addresses = distinct_addresses(&plan.endpoints);
    let (control, ping) = if args.no_control {
        (Vec::new(), Vec::new())
    } else {
        (control_endpoints(&plan.endpoints, &addresses), addresses)
    };
    let on_server = args
        .on_server
        .as_deref()
        .map(|cmd| on_server(cmd, args, &plan, &engine))
        .transpose()?;
    Ok(Request {
        on_server,
        plan,
        engine,
        payload,
        cloud,
        source,
        control,
        ping,
        responder: args.responder.responder,
        token: super::options::secret(args.responder.token.as_ref())?,
        trace: args.trace,
    })
}

/// `--on-server`: the command, and the port, protocol and watch for the server.
fn on_server(cmd: &str, args: &DoctorArgs, plan: &Plan, engine: &EngineConfig) -> Result<OnServer> {
    let command = ServerCommand::parse(cmd)?;
    let Some(first) = plan.endpoints.first() else {
        return Err(InputError::new("target", &args.target, Problem::NoPortGiven).into());
    };
    if plan.endpoints.iter().any(|e| e.protocol != first.protocol) {
        return Err(
            InputError::new("--on-server command", cmd, Problem::OnServerOneProtocol).into(),
        );
    }
    Ok(OnServer {
        command,
        port: args.server_port.unwrap_or(first.port),
        protocol: first.protocol,
        watch: watch_for(engine, args.trace),
    })
}

/// How long the server watches: every attempt at the longest timeout after its interval,
/// the pings, a margin of 2 s (retries, used only when loss is seen, may outlast it: the
/// server has counted most by then); a trace adds half its hops' timeouts. Whole seconds,
/// at least 3.
pub(super) fn watch_for(engine: &EngineConfig, trace: bool) -> Duration {
    let count = engine.count.unwrap_or(1).max(1);
    let probes = (engine.interval + engine.timing.max) * count;
    let pings = PING_INTERVAL * PINGS + engine.timing.max;
    let mut watch = probes.max(pings) + Duration::from_secs(2);
    if trace {
        watch += engine.timing.max * u32::from(TRACE_MAX_HOPS) / 2;
    }
    let whole = watch.as_secs() + u64::from(watch.subsec_nanos() > 0);
    Duration::from_secs(whole.max(3))
}

pub(super) fn distinct_addresses(endpoints: &[Endpoint]) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    for a in endpoints.iter().filter_map(|e| e.address) {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// TCP 22, 80, 443 and 3389 on every address, except the asked ports themselves.
pub(super) fn control_endpoints(asked: &[Endpoint], addresses: &[IpAddr]) -> Vec<Endpoint> {
    let mut out = Vec::new();
    for &address in addresses {
        let same = asked.iter().find(|e| e.address == Some(address));
        let host = same.map_or_else(|| address.to_string(), |e| e.host.clone());
        let scope_id = same.map_or(0, |e| e.scope_id);
        // The canaries (ports nothing should listen on) tell a middlebox that answers
        // every port from a server that answers this one.
        for port in CONTROL_PORTS.into_iter().chain(CANARY_PORTS) {
            let taken = asked.iter().any(|e| {
                e.address == Some(address) && e.port == port && e.protocol == Protocol::Tcp
            });
            if !taken {
                out.push(Endpoint {
                    target: SocketAddr::new(address, port).to_string(),
                    host: host.clone(),
                    address: Some(address),
                    port,
                    protocol: Protocol::Tcp,
                    scope_id,
                });
            }
        }
    }
    out
}
