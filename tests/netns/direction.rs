//! Direction of loss through the responder (`probe --loss-split`): the edge drops a share of
//! the responder's replies only (server → client), with a named nftables counter as the
//! exact truth. The split must put every lost reply on the way back, none on the way out.
//!
//! The rule matches the responder's counted replies by their header flags (session bit
//! only: bytes 6-7 of the UDP payload are 0x0002); tally replies carry 0x0006 and pass, so
//! the counter holds exactly the replies the measurement lost. It drops every fifth one
//! (a counter, not a random draw): each run of 1000 loses exactly 200, so the loss is the
//! same at both rates and "does not grow with the send rate" is certain, not likely.

use crate::bed::{Bed, PUBLIC, Setup, nft, ports};
use serde_json::Value;

/// The edge drops one counted reply in this many.
const DROP_EVERY: u8 = 5;
/// Requests per rate (a multiple of `DROP_EVERY`: every run loses the same number).
const COUNT: &str = "1000";
/// The send rates, a row each.
const RATES: &str = "500,5000";
/// How many rates that is.
const RATE_ROWS: usize = 2;

/// The edge's rule: count the responder's counted replies and drop every fifth.
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
                {counted} numgen inc mod {DROP_EVERY} 0 counter name \"replies_dropped\" drop
              }}
            }}"
        ),
    );
}

/// A counter of the rule's table: packets counted.
fn counter(bed: &Bed, name: &str) -> u64 {
    bed.edge_counter_in("direction", name)
}

/// Runs `probe PUBLIC:7895 --loss-split --rates 500,5000 -c 1000 -w 500ms` in the client
/// namespace, with `extra` flags; returns (exit code, stdout, stderr).
fn loss_split(bed: &Bed, extra: &[&str]) -> (i32, String, String) {
    let target = format!("{PUBLIC}:{}", ports::UDP_ECHO);
    let mut args = vec![
        "probe",
        &target,
        "-n",
        "--loss-split",
        "--rates",
        RATES,
        "-c",
        COUNT,
        "-w",
        "500ms",
    ];
    args.extend_from_slice(extra);
    bed.ipdiag(&args)
}

pub fn loss_injected_server_to_client_is_split_by_direction() {
    let Some(bed) = Bed::new(
        "loss_injected_server_to_client_is_split_by_direction",
        Setup::default(),
    ) else {
        return;
    };
    let port = ports::UDP_ECHO.to_string();
    let server = bed.serve(&["--udp", &port, "--rate", "100000"]);
    drop_replies(&bed);
    let (code, stdout, stderr) = loss_split(&bed, &["--json"]);
    let record: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    assert_eq!(code, 0, "{record} {stderr}");
    let (seen, dropped) = (
        counter(&bed, "replies_seen"),
        counter(&bed, "replies_dropped"),
    );
    let rows = record["rates"].as_array().expect("rates");
    assert_eq!(rows.len(), RATE_ROWS, "{record}");
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
        assert_eq!(
            field(row, "to_client_lost"),
            200,
            "every fifth reply: {row}"
        );
        lost_back += field(row, "to_client_lost");
    }
    assert_eq!(seen, 2000, "one counted reply per request reached the edge");
    assert_eq!(
        record["loss_grows_with_rate"], false,
        "the same loss at both rates: {record}"
    );
    assert_eq!(
        lost_back, dropped,
        "lost on the way back = dropped by the rule: {record}"
    );
    eprintln!(
        "loss split (json): {dropped} of {seen} replies dropped by the edge; measured {lost_back} lost server→client, 0 client→server"
    );

    // The table: the same truth, measured again (the counter's increase this time).
    let (code, table, stderr) = loss_split(&bed, &[]);
    assert_eq!(code, 0, "{table} {stderr}");
    let dropped_now = counter(&bed, "replies_dropped") - dropped;
    eprintln!("{table}(edge counter: {dropped_now} replies dropped)");
    let measured: u64 = table
        .lines()
        .skip(2)
        .take(RATE_ROWS)
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
    assert!(
        table.ends_with(
            "Loss does not grow with the send rate (20.0% at 500/s, 20.0% at 5000/s: within chance).\n"
        ),
        "{table}"
    );
    // Killed, not stopped: `Daemon::stop` waits for the process before reading its output,
    // and 4000 logged arrivals fill the pipe, so a graceful stop would never finish.
    drop(server);
}

/// One rate (`--rate`, not `--rates`): the split alone, and no claim about the rate.
pub fn the_probe_command_splits_loss_by_direction() {
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
    assert!(record["loss_grows_with_rate"].is_null(), "{record}");
    drop(server);
}
