//! Direction of loss through the responder (`probe --loss-split`): the edge drops a share of
//! the responder's replies only (server → client), with a named nftables counter as the
//! exact truth. The split must put every lost reply on the way back, none on the way out.
//!
//! The rule matches the responder's counted replies by their header flags (session bit
//! only: bytes 6-7 of the UDP payload are 0x0002); tally replies carry 0x0006 and pass, so
//! the counter holds exactly the replies the measurement lost.

use crate::bed::{Bed, PUBLIC, Setup, nft, output, ports};
use crate::servers::enter;
use ipdiag::app::Context;
use ipdiag::cli::Command;
use ipdiag::cli::load::LoadArgs;
use ipdiag::cli::parse::{Parsed, parse_args};
use ipdiag::output::style::ColorChoice;
use ipdiag::output::{Format, Style};
use serde_json::Value;

/// Percent of the counted replies the edge drops.
const DROP_PCT: u8 = 20;
/// Requests per rate.
const COUNT: &str = "1000";
/// The send rates, a row each.
const RATES: [&str; 2] = ["500", "5000"];

/// The edge's rule: count the responder's counted replies and drop a share of them.
fn drop_replies(bed: &Bed) {
    let port = ports::UDP_ECHO;
    let counted = format!("iifname \"e1\" udp sport {port} @th,112,16 0x0002");
    nft(
        &bed.edge,
        &format!(
            "table ip direction {{
              counter replies_seen {{}}
              counter replies_dropped {{}}
              chain forward {{
                type filter hook forward priority filter - 10; policy accept;
                {counted} counter name \"replies_seen\"
                {counted} numgen random mod 100 < {DROP_PCT} counter name \"replies_dropped\" drop
              }}
            }}"
        ),
    );
}

/// A counter of the rule's table: packets counted.
fn counter(bed: &Bed, name: &str) -> u64 {
    let out = output(&[
        "ip",
        "netns",
        "exec",
        &bed.edge,
        "nft",
        "list",
        "counter",
        "ip",
        "direction",
        name,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .skip_while(|w| *w != "packets")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no packet count in: {text}"))
}

/// Runs `probe PUBLIC:7895 --loss-split --rates 500,5000 -c 1000 -w 500ms` in the client
/// namespace through the library's own entry point for the flag (the code the binary
/// runs once `--loss-split` reaches it); returns (exit code, stdout, stderr).
fn loss_split(bed: &Bed, format: Format) -> (u8, String, String) {
    let client = bed.client.clone();
    std::thread::spawn(move || {
        enter(&client);
        let target = format!("{PUBLIC}:{}", ports::UDP_ECHO);
        let argv = ["ipdiag", "probe", &target, "-n", "-c", COUNT, "-w", "500ms"];
        let Ok(Parsed::Run(cli)) = parse_args(argv) else {
            panic!("probe's flags")
        };
        let Command::Probe(probe) = cli.command else {
            unreachable!("parsed as probe")
        };
        let load = LoadArgs {
            loss_split: true,
            rates: RATES.iter().map(|r| (*r).to_owned()).collect(),
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut ctx = Context {
            quiet: false,
            verbose: 0,
            out: &mut out,
            err: &mut err,
            format,
            style: Style::decide(ColorChoice::Never, false, None),
        };
        let code = ipdiag::app::load::run(&load, &probe, &mut ctx).expect("the run works");
        (
            code,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    })
    .join()
    .expect("the client thread")
}

#[test]
fn loss_injected_server_to_client_is_split_by_direction() {
    let Some(bed) = Bed::new(
        "loss_injected_server_to_client_is_split_by_direction",
        Setup::default(),
    ) else {
        return;
    };
    let port = ports::UDP_ECHO.to_string();
    let server = bed.serve(&["--udp", &port, "--rate", "100000"]);
    drop_replies(&bed);
    let (code, stdout, stderr) = loss_split(&bed, Format::Json);
    let record: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    assert_eq!(code, 0, "{record} {stderr}");
    let (seen, dropped) = (
        counter(&bed, "replies_seen"),
        counter(&bed, "replies_dropped"),
    );
    let rows = record["rates"].as_array().expect("rates");
    assert_eq!(rows.len(), RATES.len(), "{record}");
    let field = |row: &Value, name: &str| {
        row[name]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} in {row}"))
    };
    let mut lost_back = 0;
    for row in rows {
        assert_eq!(row["tally"], true, "{row}");
        assert_eq!(field(row, "sent"), 1000, "{row}");
        assert_eq!(field(row, "server_received"), 1000, "{row}");
        assert_eq!(
            field(row, "to_server_lost"),
            0,
            "nothing lost on the way out: {row}"
        );
        assert_eq!(field(row, "withheld"), 0, "{row}");
        assert_eq!(field(row, "client_drops"), 0, "{row}");
        assert_eq!(row["duplicated"], false, "{row}");
        lost_back += field(row, "to_client_lost");
    }
    assert_eq!(seen, 2000, "one counted reply per request reached the edge");
    assert!(dropped > 0, "the rule dropped something");
    assert_eq!(
        lost_back, dropped,
        "lost on the way back = dropped by the rule: {record}"
    );
    eprintln!(
        "loss split (json): {dropped} of {seen} replies dropped by the edge; measured {lost_back} lost server→client, 0 client→server"
    );

    // The table: the same truth, measured again (the counter's increase this time).
    let (code, table, stderr) = loss_split(&bed, Format::Table);
    assert_eq!(code, 0, "{table} {stderr}");
    let dropped_now = counter(&bed, "replies_dropped") - dropped;
    eprintln!("{table}(edge counter: {dropped_now} replies dropped)");
    let measured: u64 = table
        .lines()
        .skip(2)
        .take(RATES.len())
        .map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(cells.get(5), Some(&"0"), "client→server: {line}");
            cells
                .get(7)
                .and_then(|n| n.parse::<u64>().ok())
                .expect(line)
        })
        .sum();
    assert_eq!(measured, dropped_now, "{table}");
    assert!(table.contains("Loss is on the way back only"), "{table}");
    // Killed, not stopped: `Daemon::stop` waits for the process before reading its output,
    // and 4000 logged arrivals fill the pipe, so a graceful stop would never finish.
    drop(server);
}

/// The same through the binary, once `--loss-split` is a flag of `probe` (`LoadArgs`
/// flattened into `ProbeArgs`, dispatched from `app/probe.rs`).
#[test]
fn the_probe_command_splits_loss_by_direction() {
    let Some(bed) = Bed::new(
        "the_probe_command_splits_loss_by_direction",
        Setup::default(),
    ) else {
        return;
    };
    let port = ports::UDP_ECHO.to_string();
    let server = bed.serve(&["--udp", &port, "--rate", "100000"]);
    drop_replies(&bed);
    let target = format!("{PUBLIC}:{port}");
    let (code, stdout, stderr) = bed.ipdiag(&[
        "probe",
        &target,
        "-n",
        "--loss-split",
        "-c",
        COUNT,
        "--rate",
        "2000",
        "-w",
        "500ms",
        "--json",
    ]);
    assert_eq!(code, 0, "{stdout} {stderr}");
    let record: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    let row = &record["rates"][0];
    assert_eq!(row["to_server_lost"], 0, "{record}");
    assert_eq!(
        row["to_client_lost"].as_u64(),
        Some(counter(&bed, "replies_dropped")),
        "{record}"
    );
    drop(server);
}
