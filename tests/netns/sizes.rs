//! "recv loses packets", part one: datagram sizes. The link between the cloud's edge and
//! the server has MTU 1400 and the edge drops IP fragments (as many security groups and
//! NATs do): datagrams up to 1372 bytes of payload arrive, larger ones travel as fragments
//! and are lost. The size probe must find the path MTU from the edge's ICMP message, the
//! largest size that arrives, and the cause `fragmentation`.

use crate::bed::{Bed, PUBLIC, Setup, ip, nft, ports};
use serde_json::Value;

/// MTU 1400 on the edge–server link, and a rule before reassembly that drops fragments.
fn narrow_link_dropping_fragments(bed: &Bed) {
    ip(&bed.edge, "link set e1 mtu 1400");
    ip(&bed.server, "link set s0 mtu 1400");
    // Priority -450 runs before conntrack's reassembly (-400), so fragments are seen.
    nft(
        &bed.edge,
        "table ip fragments {
          counter dropped {}
          chain prerouting {
            type filter hook prerouting priority -450; policy accept;
            ip frag-off & 0x3fff != 0 counter name \"dropped\" drop
          }
        }",
    );
}

fn sizes(bed: &Bed, extra: &[&str]) -> (i32, Value) {
    let target = format!("{PUBLIC}:{}", ports::UDP_ECHO);
    let mut args = vec!["probe", &target, "-w", "300ms", "--retries", "2", "--json"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = bed.ipdiag(&args);
    let record = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    (code, record)
}

/// (size, arrived, bytes the server got) of every row.
fn rows(r: &Value) -> Vec<(u64, bool, Option<u64>)> {
    r["sizes"]
        .as_array()
        .expect("sizes")
        .iter()
        .map(|s| {
            (
                s["size"].as_u64().unwrap_or(0),
                s["arrived"] == true,
                s["received"].as_u64(),
            )
        })
        .collect()
}

pub fn sizes_above_the_path_mtu_are_lost_as_fragments() {
    let Some(bed) = Bed::new("sizes_fragments", Setup::default()) else {
        return;
    };
    narrow_link_dropping_fragments(&bed);
    let udp = ports::UDP_ECHO.to_string();
    let _server = bed.serve(&["--udp", &udp, "--rate", "1000"]);
    let (code, r) = sizes(&bed, &["--sizes", "64,512,1024,1372,1373,4000"]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["path_mtu"]["mtu"], 1400, "{r}");
    // The edge said so; its NAT translates the ICMP message like the rest of the flow, so
    // it arrives from the public address.
    assert_eq!(r["path_mtu"]["from"], PUBLIC, "{r}");
    assert_eq!(r["max_payload_per_packet"], 1372, "{r}");
    assert_eq!(
        rows(&r),
        [
            (64, true, Some(64)),
            (512, true, Some(512)),
            (1024, true, Some(1024)),
            (1372, true, Some(1372)),
            (1373, false, None),
            (4000, false, None),
        ],
        "the responder reports every byte of what arrives: {r}"
    );
    assert_eq!(r["sizes"][4]["fragmented"], true, "{r}");
    assert_eq!(r["largest_arrived"], 1372, "{r}");
    assert_eq!(r["cause"], "fragmentation", "{r}");
    assert_eq!(r["hints"][0]["confidence"], "high", "{r}");
    assert!(
        r["hints"][0]["fix"][0]
            .as_str()
            .is_some_and(|f| f.contains("at or below 1372 bytes")),
        "{r}"
    );

    // One size alone, above the path MTU: the path-MTU probe's 1372 bytes arrived, so the
    // target answers and the lost 4000 bytes are fragments (it said "nothing answers").
    let (code, r) = sizes(&bed, &["--sizes", "4000"]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(
        rows(&r),
        [(1372, true, Some(1372)), (4000, false, None)],
        "{r}"
    );
    assert_eq!(r["sizes"][0]["mtu_probe"], true, "{r}");
    assert_eq!(r["largest_arrived"], 1372, "{r}");
    assert_eq!(r["cause"], "fragmentation", "{r}");
    assert_eq!(r["hints"][0]["confidence"], "high", "{r}");
    assert_eq!(
        r["hints"][0]["evidence"][0],
        "datagrams of up to 1372 bytes arrive; 4000 bytes and more are lost",
        "{r}"
    );
}

pub fn the_size_sweep_finds_the_largest_datagram_that_arrives() {
    let Some(bed) = Bed::new("sizes_sweep", Setup::default()) else {
        return;
    };
    narrow_link_dropping_fragments(&bed);
    let udp = ports::UDP_ECHO.to_string();
    let _server = bed.serve(&["--udp", &udp, "--rate", "1000"]);
    let (code, r) = sizes(&bed, &["--size-sweep"]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["largest_arrived"], 1372, "{r}");
    assert_eq!(r["cause"], "fragmentation", "{r}");
    let tried: Vec<u64> = r["sizes"]
        .as_array()
        .expect("sizes")
        .iter()
        .filter_map(|s| s["size"].as_u64())
        .collect();
    assert_eq!(
        tried,
        [64, 1372, 1373],
        "the path MTU's boundary first: {r}"
    );
    assert_eq!(
        r["sizes"][1]["mtu_probe"], true,
        "1372 is the path-MTU probe's own answer, not sent again: {r}"
    );
}
