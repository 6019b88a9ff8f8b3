//! `ipdiag ping` on loopback: the text and JSON it prints for 127.0.0.1 and `::1`, `-c`
//! honoured, and as user `nobody` either a ping socket (when `net.ipv4.ping_group_range`
//! lets gid 65534 in) or exit 3 with one line saying what is missing and how to fix it;
//! with `CAP_NET_RAW` alone (no root), ping and `probe --raw` work. The sysctl is read,
//! never changed. On Windows the same text and JSON come through `IcmpSendEcho2`, for any
//! user (the `nobody` and capability tests are Linux's).

#[cfg(target_os = "linux")]
use super::probe::{closed_tcp, listening, tcp_listener};
#[cfg(target_os = "linux")]
use super::raw::{as_nobody, fields};
use super::run;
use serde_json::Value;

/// Whether this test can ping: Linux needs root here (raw socket, or a ping socket in
/// root's group); Windows' `IcmpSendEcho2` needs nothing.
fn privileged(test: &str) -> bool {
    #[cfg(target_os = "linux")]
    return super::raw::privileged(test);
    #[cfg(not(target_os = "linux"))]
    {
        let _ = test;
        true
    }
}

/// Whether `host` can be pinged on this system; under wine, `Icmp6CreateFile` is a stub
/// (error 120, "call not implemented"), so `::1` cannot (Windows itself has it).
fn pingable(host: &str) -> bool {
    !(cfg!(windows)
        && host.contains(':')
        && super::skip_under_wine("wine's Icmp6CreateFile is a stub (error 120): no ICMPv6 echo"))
}

/// Whether `net.ipv4.ping_group_range` lets group `gid` open ping sockets.
#[cfg(target_os = "linux")]
fn ping_group_allows(gid: u32) -> bool {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").unwrap_or_default();
    let bounds: Vec<u32> = range
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    matches!(bounds[..], [low, high] if low <= gid && gid <= high)
}

/// The method root's ping uses: the ping socket when root's group may, else raw;
/// Windows' IP Helper API (`iphlpapi`) there.
fn root_method() -> &'static str {
    #[cfg(target_os = "linux")]
    return if ping_group_allows(0) { "ping" } else { "raw" };
    #[cfg(not(target_os = "linux"))]
    "iphlpapi"
}

/// `a/b/c/d` as four numbers.
fn four(text: &str) -> Vec<f64> {
    text.split('/').map(|n| n.parse().unwrap()).collect()
}

#[test]
fn ping_prints_a_line_per_reply_and_the_summary() {
    if !privileged("ping_prints_a_line_per_reply_and_the_summary") {
        return;
    }
    let (code, stdout, stderr) = run(&["ping", "127.0.0.1", "-c", "3", "-i", "10ms"]);
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 6, "{stdout}");
    assert_eq!(lines[0], "PING 127.0.0.1: 3 echo requests, 10 ms apart");
    for (seq, line) in lines[1..4].iter().enumerate() {
        let time = line
            .strip_prefix(&format!("reply from 127.0.0.1: seq={seq} time="))
            .and_then(|t| t.strip_suffix(" ms"))
            .unwrap_or_else(|| panic!("not a reply line: {line}"));
        assert!(time.parse::<f64>().unwrap() >= 0.0, "{line}");
    }
    let socket = match root_method() {
        "raw" => "raw socket",
        "iphlpapi" => "IcmpSendEcho2",
        _ => "ping socket",
    };
    assert_eq!(
        lines[4],
        format!("--- 127.0.0.1: 3 sent, 3 received, 0.0% loss ({socket})")
    );
    let stats = lines[5]
        .strip_prefix("rtt min/avg/max/stddev = ")
        .and_then(|s| s.strip_suffix(" ms"))
        .unwrap_or_else(|| panic!("not an rtt line: {}", lines[5]));
    let [min, avg, max, stddev] = four(stats)[..] else {
        panic!("four numbers: {stats}")
    };
    assert!(
        0.0 <= min && min <= avg && avg <= max && stddev >= 0.0,
        "{stats}"
    );
}

#[test]
fn ping_json_for_both_loopbacks() {
    if !privileged("ping_json_for_both_loopbacks") {
        return;
    }
    for host in ["127.0.0.1", "::1"] {
        if !pingable(host) {
            continue;
        }
        let (code, stdout, stderr) = run(&["ping", host, "-c", "2", "-i", "10ms", "--json"]);
        assert_eq!((code, stderr.as_str()), (0, ""), "{host}: {stdout}");
        assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
        let r: Value = serde_json::from_str(&stdout).unwrap();
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "address", "host", "loss_pct", "method", "received", "replies", "rtt_ms", "sent"
            ],
            "{r}"
        );
        assert_eq!(
            (&r["host"], &r["address"], &r["method"]),
            (
                &Value::from(host),
                &Value::from(host),
                &Value::from(root_method())
            ),
            "{r}"
        );
        assert_eq!(
            (&r["sent"], &r["received"], &r["loss_pct"]),
            (&2.into(), &2.into(), &0.0.into())
        );
        let rtt = |k: &str| {
            r["rtt_ms"][k]
                .as_f64()
                .unwrap_or_else(|| panic!("rtt_ms.{k}: {r}"))
        };
        assert!(
            0.0 <= rtt("min") && rtt("min") <= rtt("avg") && rtt("avg") <= rtt("max"),
            "{r}"
        );
        assert!(rtt("stddev") >= 0.0, "{r}");
        let replies = r["replies"].as_array().unwrap();
        let seqs: Vec<&Value> = replies.iter().map(|e| &e["seq"]).collect();
        assert_eq!(seqs, [&Value::from(0), &Value::from(1)], "{r}");
        assert!(
            replies.iter().all(|e| e["rtt_ms"].as_f64().is_some()),
            "{r}"
        );
    }
}

#[test]
fn ping_sends_as_many_requests_as_c_says() {
    if !privileged("ping_sends_as_many_requests_as_c_says") {
        return;
    }
    for count in [1u64, 5] {
        let c = count.to_string();
        let (code, stdout, stderr) = run(&["ping", "127.0.0.1", "-c", &c, "-i", "10ms", "--json"]);
        assert_eq!(code, 0, "{stderr}");
        let r: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(
            (&r["sent"], &r["received"]),
            (&count.into(), &count.into()),
            "{r}"
        );
        assert_eq!(
            r["replies"].as_array().map(Vec::len),
            Some(usize::try_from(count).unwrap())
        );
    }
}

/// As `nobody` with the sysctl as it is: a ping socket when gid 65534 is in the range,
/// else exit 3 at once with one line naming the sysctl, the capability and the fix.
#[cfg(target_os = "linux")]
#[test]
fn unprivileged_ping_uses_the_ping_socket_or_says_how_to_get_one() {
    if !privileged("unprivileged_ping_uses_the_ping_socket_or_says_how_to_get_one") {
        return;
    }
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").unwrap();
    let range = range.split_whitespace().collect::<Vec<_>>().join(" ");
    for host in ["127.0.0.1", "::1"] {
        let Some((code, stdout, stderr)) = as_nobody(false, &["ping", host, "-c", "1", "--json"])
        else {
            eprintln!("skipping: setpriv is not installed");
            return;
        };
        if ping_group_allows(65534) {
            assert_eq!(code, 0, "{host}: {stderr}");
            let r: Value = serde_json::from_str(&stdout).unwrap();
            assert_eq!(
                (&r["method"], &r["received"]),
                (&"ping".into(), &1.into()),
                "{r}"
            );
        } else {
            assert_eq!(
                (code, stdout.as_str(), stderr),
                (
                    3,
                    "",
                    format!(
                        "ipdiag: error: ICMP echo needs a ping socket or a raw socket and this \
                         user may open neither: none of its groups (gid 65534) is in \
                         net.ipv4.ping_group_range ({range}) and it lacks CAP_NET_RAW; allow \
                         ping sockets with: sudo sysctl -w \
                         net.ipv4.ping_group_range='0 2147483647' (or run as root or with \
                         CAP_NET_RAW)\n"
                    )
                ),
                "{host}"
            );
        }
    }
}

/// `CAP_NET_RAW` and nothing else, as a user other than root: a SYN scan of loopback and
/// a ping work.
#[cfg(target_os = "linux")]
#[test]
fn cap_net_raw_alone_is_enough_for_raw_mode_and_ping() {
    if !privileged("cap_net_raw_alone_is_enough_for_raw_mode_and_ping") {
        return;
    }
    let _guard = listening();
    let (_listener, open) = tcp_listener();
    let closed = closed_tcp();
    let targets = [format!("127.0.0.1:{open}"), format!("127.0.0.1:{closed}")];
    let Some((code, stdout, stderr)) = as_nobody(
        true,
        &[
            "probe",
            &targets[0],
            &targets[1],
            "--raw",
            "--json",
            "--no-hints",
        ],
    ) else {
        eprintln!("skipping: setpriv is not installed");
        return;
    };
    assert_eq!(
        (code, stderr.as_str()),
        (1, ""),
        "one port is closed: {stdout}"
    );
    let records: Value = serde_json::from_str(&stdout).unwrap();
    let got: Vec<_> = records.as_array().unwrap().iter().map(fields).collect();
    let want = |state: &str, reason: &str| ("syn".to_owned(), state.to_owned(), reason.to_owned());
    assert_eq!(
        got,
        [want("open", "syn-ack"), want("closed", "conn-refused")]
    );
    let (code, stdout, stderr) = as_nobody(true, &["ping", "::1", "-c", "1", "--json"]).unwrap();
    assert_eq!(code, 0, "{stderr}");
    let r: Value = serde_json::from_str(&stdout).unwrap();
    let method = if ping_group_allows(65534) {
        "ping"
    } else {
        "raw"
    };
    assert_eq!(
        (&r["method"], &r["received"]),
        (&method.into(), &1.into()),
        "{r}"
    );
}
