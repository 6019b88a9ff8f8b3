use super::*;
use crate::probe::load_split::{ClientCounts, split};
use crate::probe::load_trend::{loss_grows, trend_of};
use crate::wire::responder::Tally;

/// The notes, with the trend the caller tests.
fn noted(rows: &[Row], port: u16) -> String {
    notes(
        rows,
        port,
        trend_of(rows.iter().map(|r| (&r.run, &r.split))),
    )
}

fn run(rate: f64, sent: u32, answered: u32) -> LoadRun {
    LoadRun {
        rate,
        achieved: rate,
        counts: ClientCounts {
            sent,
            answered,
            duplicates: 0,
        },
        tally: None,
        sessions_known: true,
        send_errors: 0,
        refused: false,
        client_drops: Some(0),
    }
}

fn row(run: LoadRun, tally: Option<Tally>) -> Row {
    Row {
        run: LoadRun { tally, ..run },
        split: split(run.counts, tally),
    }
}

fn tally(received: u32, withheld: u32) -> Tally {
    Tally { received, withheld }
}

#[test]
fn a_table_with_loss_on_the_way_back_that_grows_with_the_rate() {
    let rows = [
        row(run(100.0, 500, 500), Some(tally(500, 0))),
        row(run(1000.0, 500, 401), Some(tally(500, 0))),
        row(
            LoadRun {
                achieved: 3870.0,
                ..run(5000.0, 500, 300)
            },
            Some(tally(500, 100)),
        ),
    ];
    let address: SocketAddr = "203.0.113.10:7895".parse().unwrap();
    let mut text = header("203.0.113.10:7895", address, 500, Duration::from_secs(1));
    text.push('\n');
    for r in &rows {
        text.push_str(&super::row(r));
        text.push('\n');
    }
    text.push_str(&noted(&rows, 7895));
    insta::assert_snapshot!(text, @r"
    LOSS SPLIT 203.0.113.10:7895 udp through the ipdiag responder: 500 requests per rate, replies awaited 1000 ms after the last
      rate/s     sent  server got  withheld  replies     client→server     server→client
         100      500         500         0      500          0 (0.0%)          0 (0.0%)
        1000      500         500         0      401          0 (0.0%)        99 (19.8%)
        5000      500         500       100      300          0 (0.0%)       100 (25.0%)  (sent at 3870/s)
    at 5000/s: the responder withheld 100 replies (20.0% of what it got) because of its rate limit: not network loss; raise `ipdiag serve --rate` (replies per second per source)
    Loss is on the way back only: the server received the requests and replied, and the replies were lost (the return path, a NAT or firewall on the way back, or this host's receive side).
    Loss grows with the send rate (0.0% at 100/s, 25.0% at 5000/s): a queue, a policer or a receive buffer overflows at the higher rate; send slower or in smaller bursts.
    ");
}

#[test]
fn rows_without_a_tally_say_why() {
    let refused = LoadRun {
        refused: true,
        ..run(100.0, 10, 0)
    };
    let silent = run(100.0, 10, 0);
    let old = LoadRun {
        sessions_known: false,
        ..run(100.0, 10, 10)
    };
    let lost = run(100.0, 10, 9);
    let text = noted(
        &[
            row(refused, None),
            row(silent, None),
            row(old, None),
            row(lost, None),
        ],
        7895,
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "no verdict without a tally: {text}");
    assert!(lines[0].contains("nothing listens on UDP 7895"), "{text}");
    assert!(lines[1].starts_with("at 100/s: no reply at all"), "{text}");
    assert!(lines[2].contains("predates --loss-split"), "{text}");
    assert!(lines[3].contains("tally did not come back"), "{text}");
    assert_eq!(
        super::row(&row(lost, None)),
        "     100       10           ?         ?        9                 ?                 ?"
    );
}

#[test]
fn records() {
    let r = row(
        LoadRun {
            achieved: 99.876,
            ..run(100.0, 3, 1)
        },
        Some(tally(3, 1)),
    );
    let record = RateRecord::from(&r);
    let json = serde_json::to_value(RateLine {
        target: "t",
        address: "203.0.113.10".into(),
        port: 7895,
        record,
    })
    .unwrap();
    assert_eq!(json["achieved_rate"], 99.88);
    assert_eq!(json["loss_pct"], 66.67);
    assert_eq!(json["to_client_loss_pct"], 50.0);
    assert_eq!(json["withheld"], 1);
    assert_eq!(json["port"], 7895);
    let unknown = serde_json::to_value(RateRecord::from(&row(run(100.0, 3, 1), None))).unwrap();
    assert_eq!(unknown["tally"], false);
    assert!(unknown["to_client_lost"].is_null());
    assert!(noted(&[row(run(100.0, 3, 3), Some(tally(3, 0)))], 1).starts_with("No loss"));
}

/// The trend line and `loss_grows_with_rate` say the same, whatever the counts.
#[test]
fn the_trend_line_and_the_json_agree() {
    let two = |low_answered: u32, high_answered: u32, count: u32| {
        [
            row(run(500.0, count, low_answered), Some(tally(count, 0))),
            row(run(5000.0, count, high_answered), Some(tally(count, 0))),
        ]
    };
    let last_line = |rows: &[Row]| noted(rows, 7895).lines().last().unwrap_or("").to_owned();
    let record = |rows: &[Row]| {
        let record = LoadRecord {
            target: "t",
            address: "203.0.113.10".into(),
            port: 7895,
            count: 1000,
            wait_ms: 500,
            rates: rows.iter().map(RateRecord::from).collect(),
            loss_grows_with_rate: loss_grows(trend_of(rows.iter().map(|r| (&r.run, &r.split)))),
        };
        serde_json::to_value(record).unwrap()["loss_grows_with_rate"].clone()
    };
    // 20 % and 23 % lost of 1000: the old one-point margin said "grows".
    let noise = two(800, 770, 1000);
    assert_eq!(
        last_line(&noise),
        "Loss does not grow with the send rate (20.0% at 500/s, 23.0% at 5000/s: within chance)."
    );
    assert_eq!(record(&noise), false);
    let rising = two(800, 700, 1000);
    assert!(
        last_line(&rising).starts_with(
            "Loss grows with the send rate (20.0% at 500/s, 30.0% at 5000/s): a queue"
        ),
        "{}",
        last_line(&rising)
    );
    assert_eq!(record(&rising), true);
    let tiny = two(20, 5, 20);
    assert_eq!(
        last_line(&tiny),
        "Too few datagrams to say whether loss grows with the send rate (fewer than 30 at a rate, withheld replies not counted): raise -c."
    );
    assert!(record(&tiny).is_null());
    let clean = two(1000, 1000, 1000);
    assert_eq!(last_line(&clean), "No loss in either direction.");
    assert_eq!(record(&clean), false);
    let one = [row(run(500.0, 1000, 800), Some(tally(1000, 0)))];
    assert!(!noted(&one, 7895).contains("send rate"));
    assert!(record(&one).is_null());
}
