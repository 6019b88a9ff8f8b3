//! A middle router that limits its ICMP time exceeded (an nftables `limit` on its own
//! output, as routers police their control plane): the trace labels that hop, its silence
//! is not loss, and the verdict is the one the same path gives without the limit.

use crate::bed::nft;
use crate::chain::{Chain, SERVER};
use crate::servers::Servers;
use serde_json::Value;

const PORT: u16 = 7890;

/// Router 2 sends one time exceeded a minute at most; every other one it drops.
fn limit_time_exceeded_at_r2(chain: &Chain) {
    nft(
        &chain.routers[1],
        "table inet ration {
          chain output {
            type filter hook output priority filter; policy accept;
            icmp type time-exceeded limit rate over 1/minute burst 1 packets drop
          }
        }",
    );
}

fn trace(chain: &Chain, format: &str) -> (i32, String) {
    let target = format!("{SERVER}:{PORT}");
    let (code, stdout, stderr) = chain.ipdiag(&[
        "trace",
        &target,
        "--queries",
        "3",
        "-w",
        "300ms",
        "--max-silent",
        "2",
        format,
    ]);
    assert!(stderr.is_empty(), "{stderr}");
    (code, stdout)
}

pub fn a_router_limiting_its_icmp_is_labelled_and_the_verdict_stands() {
    let Some(chain) = Chain::new("icmp_limited") else {
        return;
    };
    let mut servers = Servers::default();
    servers.tcp(&chain.server, &format!("0.0.0.0:{PORT}"));
    let (code, before) = trace(&chain, "--json");
    let before: Value = serde_json::from_str(&before).expect("JSON");
    assert_eq!(code, 0, "{before}");
    limit_time_exceeded_at_r2(&chain);
    let (code, after) = trace(&chain, "--json");
    let after: Value = serde_json::from_str(&after).expect("JSON");
    assert_eq!(code, 0, "{after}");
    let hops = after["hops"].as_array().expect("hops");
    let limited: Vec<bool> = hops
        .iter()
        .map(|h| h["icmp_limited"].as_bool().expect("icmp_limited"))
        .collect();
    assert_eq!(limited, [false, true, false, false], "{after}");
    // Router 2 answered its first probe only (the limit's one packet); the rest went on.
    assert_eq!(hops[1]["addresses"][0], "192.0.2.2", "{after}");
    assert_eq!(hops[1]["loss_pct"], 66.7, "{after}");
    assert_eq!(hops[2]["loss_pct"], 0.0, "{after}");
    assert_eq!(after["verdict"], before["verdict"], "{after}");
    assert_eq!(after["verdict"]["kind"], "reached", "{after}");
    // The table says it in words, after the hop lines and before the verdict; the
    // limit's one packet is spent, so router 2 now answers nothing.
    let (code, text) = trace(&chain, "--format=table");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("\nhop 2: no probe answered, yet later hops answer: its router limits (or does not send) ICMP time exceeded; not loss on the path\n"),
        "{text}"
    );
    assert!(
        text.ends_with("verdict: the destination answered at hop 4: open (syn-ack)\n"),
        "{text}"
    );
}
