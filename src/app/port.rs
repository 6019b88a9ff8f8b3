//! `ipdiag port`: arguments → port selections → classification under this kernel's
//! settings → the chosen format.

use super::Context;
use crate::classify::classify_port;
use crate::classify::port_spec::{PortSelection, parse_port_arg};
use crate::cli::port::PortArgs;
use crate::error::{EXIT_OK, Result};
use crate::local::sysctl::port_facts;
use crate::output::json_stream::JsonStream;
use crate::output::port_json::PortRecord;
use crate::output::{Format, port_csv, port_table};

/// Runs `ipdiag port`.
pub fn run(args: &PortArgs, ctx: &mut Context<'_>) -> Result<u8> {
    let mut selections: Vec<PortSelection> = Vec::new();
    for arg in &args.ports {
        selections.extend(parse_port_arg(arg)?);
    }
    let facts = &port_facts();
    let rows = || {
        selections.iter().flat_map(move |s| {
            s.ports
                .ports()
                .map(move |port| (s.label.as_str(), classify_port(port, s.protocol, facts)))
        })
    };
    match ctx.format {
        // `app::formats` refuses Prometheus metrics for port before this.
        Format::Table | Format::Prometheus => {
            write!(ctx.out, "{}", port_table::render(rows(), facts, ctx.style))?;
        }
        Format::Csv => port_csv::write_all(ctx.out, rows())?,
        Format::Json | Format::Jsonl => {
            let mut stream = JsonStream::new(&mut *ctx.out, ctx.format == Format::Json);
            for (input, info) in rows() {
                stream.record(&PortRecord::new(input, &info))?;
            }
            stream.finish()?;
        }
    }
    Ok(EXIT_OK)
}
