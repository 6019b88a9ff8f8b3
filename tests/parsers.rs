//! Property tests for every parser of untrusted input, on every `cargo test`: the same
//! parsers as the fuzz targets in `fuzz/` (see `fuzz/run-all.sh`), with fewer but
//! structured cases. Arbitrary text and bytes never make a parser panic; generated valid
//! inputs (addresses, CIDRs, port ranges, HOST:PORT targets, durations, check files,
//! payloads, datagrams, packets) parse to the values they were generated from; what is
//! displayed parses back to the same value.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step fails the test"
)]

use ipdiag::check::config::parse_check_file;
use ipdiag::check::expect::Expect;
use ipdiag::classify::ipv4_parse::{parse_fast, parse_strict};
use ipdiag::classify::port_spec::{PortSet, parse_port_arg};
use ipdiag::classify::{Item, parse_item};
use ipdiag::local::skmem;
use ipdiag::local::snmp::{parse_snmp, parse_snmp6};
use ipdiag::local::sockets::parse_proc_net;
use ipdiag::model::Transport;
use ipdiag::plan::duration::parse_duration;
use ipdiag::plan::target::{HostSpec, TargetSpec, parse_target};
use ipdiag::probe::icmp::{Delivery, Kind as EchoSocket, checksum, echo_request, is_reply};
use ipdiag::raw::packet::{Said, icmp4_reply, icmp6_reply, ipv4_payload, syn, tcp_reply};
use ipdiag::wire::datagram::{self, Kind};
use ipdiag::wire::payloads::{PayloadChoice, parse_payload};
use ipdiag::wire::responder::{self, Admission};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

// ---------------------------------------------------------------------------------------
// Generators.

fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn ipv6() -> impl Strategy<Value = Ipv6Addr> {
    prop_oneof![
        any::<u128>().prop_map(Ipv6Addr::from),
        // Runs of zero groups (`::`) and v4-mapped addresses display differently.
        (any::<u16>(), any::<u16>())
            .prop_map(|(a, b)| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, a, b)),
        ipv4().prop_map(|a| a.to_ipv6_mapped()),
    ]
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![ipv4().prop_map(IpAddr::V4), ipv6().prop_map(IpAddr::V6)]
}

fn network() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        (ipv4(), 0..=32u8).prop_map(|(a, p)| IpNet::V4(Ipv4Net::new(a, p).expect("prefix <= 32"))),
        (ipv6(), 0..=128u8)
            .prop_map(|(a, p)| IpNet::V6(Ipv6Net::new(a, p).expect("prefix <= 128"))),
    ]
}

/// RFC 1123 host names whose last label is not all digits.
fn host_name() -> impl Strategy<Value = String> {
    let label = "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?";
    (
        vec(label, 0..3),
        "[a-z]([a-z0-9-]{0,8}[a-z0-9])?",
        any::<bool>(),
    )
        .prop_map(|(mut labels, last, fqdn)| {
            labels.push(last);
            let name = labels.join(".");
            if fqdn { name + "." } else { name }
        })
}

/// A host as a target writes it (IPv6 in brackets), and what it must parse to.
fn target_host() -> impl Strategy<Value = (String, HostSpec)> {
    prop_oneof![
        ipv4().prop_map(|a| (a.to_string(), HostSpec::Address(a.into()))),
        ipv6().prop_map(|a| (format!("[{a}]"), HostSpec::Address(a.into()))),
        host_name().prop_map(|n| (n.clone(), HostSpec::Name(n))),
        (ipv4(), 24..=32u8).prop_map(|(a, p)| {
            let net = IpNet::V4(Ipv4Net::new(a, p).expect("prefix <= 32"));
            (net.to_string(), HostSpec::Network(net))
        }),
    ]
}

/// A port range `first-last` (or one port), with or without a protocol.
fn port_part() -> impl Strategy<Value = (String, u16, u16, Option<Transport>)> {
    let protocol = proptest::option::of(select(vec![
        Transport::Tcp,
        Transport::Udp,
        Transport::Sctp,
        Transport::Dccp,
    ]));
    (
        any::<u16>(),
        any::<u16>(),
        any::<bool>(),
        protocol,
        any::<bool>(),
    )
        .prop_map(|(a, b, single, protocol, upper)| {
            let (first, last) = if single { (a, a) } else { (a.min(b), a.max(b)) };
            let mut text = if single {
                first.to_string()
            } else {
                format!("{first}-{last}")
            };
            if let Some(p) = protocol {
                let name = if upper {
                    p.as_str().to_ascii_uppercase()
                } else {
                    p.as_str().to_owned()
                };
                text = format!("{text}/{name}");
            }
            (text, first, last, protocol)
        })
}

const UNITS: [(&str, u64); 9] = [
    ("", 1_000_000_000),
    ("s", 1_000_000_000),
    ("sec", 1_000_000_000),
    ("ms", 1_000_000),
    (" ms", 1_000_000),
    ("us", 1_000),
    ("µs", 1_000),
    ("m", 60_000_000_000),
    ("min", 60_000_000_000),
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::from("0x"), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn ports_of(spec: &TargetSpec) -> Vec<u16> {
    spec.ports
        .iter()
        .flatten()
        .flat_map(|s| s.ports.ports().collect::<Vec<_>>())
        .collect()
}

/// Text that is not quite an address, a port list, a target or a duration.
const NEAR_MISS: &str = "[0-9a-fA-F:./\\[\\]%, -]{0,40}[a-z]{0,4}";

// ---------------------------------------------------------------------------------------
// Arbitrary input never panics.

proptest! {
    #[test]
    fn text_parsers_never_panic(s in "\\PC{0,64}") {
        let _ = parse_item(&s);
        let _ = parse_strict(&s);
        let _ = parse_fast(s.as_bytes());
        let _ = parse_port_arg(&s);
        let _ = parse_target(&s);
        let _ = parse_duration("--timeout", &s);
        let _ = parse_payload(&s);
        let _ = parse_check_file(&s);
        let _ = parse_proc_net(&s, Transport::Udp, true);
        let _ = parse_snmp(&s);
        let _ = parse_snmp6(&s);
    }

    #[test]
    fn text_parsers_never_panic_on_near_misses(s in NEAR_MISS) {
        let _ = parse_item(&s);
        let _ = parse_strict(&s);
        let _ = parse_port_arg(&s);
        let _ = parse_target(&s);
        let _ = parse_duration("--timeout", &s);
        let _ = parse_payload(&format!("0x{s}"));
    }

    #[test]
    fn byte_parsers_never_panic(bytes in vec(any::<u8>(), 0..120)) {
        let v4 = Ipv4Addr::new(192, 0, 2, 1);
        let v6 = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
        let _ = parse_fast(&bytes);
        let _ = datagram::parse(&bytes);
        let _ = responder::parse_session_reply(&bytes);
        let _ = responder::parse_banner(&bytes);
        let source: SocketAddr = "198.51.100.2:40000".parse().expect("a literal");
        if let Ok(reply) = responder::answer(&bytes, source, None, |_| Admission::Answer(None)) {
            prop_assert!(reply.len() <= bytes.len(), "amplified");
        }
        if let Some((from, _, payload)) = ipv4_payload(&bytes) {
            let _ = tcp_reply(payload, from.into());
            let _ = icmp4_reply(payload, from);
        }
        let _ = tcp_reply(&bytes, v6.into());
        let _ = icmp4_reply(&bytes, v4);
        let _ = icmp6_reply(&bytes, v6);
        let _ = checksum(&bytes);
        let _ = skmem::parse(&bytes, &mut Vec::new());
        for v6 in [false, true] {
            for delivery in [Delivery::Filtered, Delivery::Unfiltered, Delivery::Raw] {
                let _ = is_reply(EchoSocket { v6, delivery }, 1, 1, &bytes);
            }
        }
    }

    #[test]
    fn check_file_reader_never_panics_on_near_misses(
        lines in vec(prop_oneof![
            Just("[[check]]".to_owned()),
            Just("[defaults]".to_owned()),
            "(name|target|ports|timeout|count|expect|protocol|max_rtt_ms|max_loss_pct|typo) = (\"[a-z0-9.:\\[\\]/-]{0,12}\"|[0-9.-]{1,6}|\\[[0-9, \"]{0,10}\\]|true)",
            "\\PC{0,20}",
        ], 0..10),
    ) {
        let text = lines.join("\n");
        let rows = text.matches('\n').count() + 1;
        match parse_check_file(&text) {
            Ok(file) => prop_assert!(!file.checks.is_empty()),
            Err(e) => {
                prop_assert!((1..=rows).contains(&e.line), "{:?}", e);
                prop_assert!(e.column >= 1 && !e.message.contains('\n'), "{:?}", e);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Generated valid input parses to its value; displays round-trip.

proptest! {
    #[test]
    fn addresses_parse_to_themselves(a in ip(), pad in "[ \t]{0,2}") {
        let text = format!("{pad}{a}{pad}");
        prop_assert_eq!(parse_item(&text), Ok(Item::Address(a)));
        if let IpAddr::V6(v6) = a {
            let (bracketed, zoned) = (format!("[{v6}]"), format!("{v6}%eth0"));
            prop_assert_eq!(parse_item(&bracketed), Ok(Item::Address(a)));
            prop_assert_eq!(parse_item(&zoned), Ok(Item::Address(a)));
        }
    }

    #[test]
    fn ipv4_parsers_accept_exactly_the_canonical_dotted_quad(a in ipv4(), junk in "[0-9.]{0,16}") {
        let text = a.to_string();
        prop_assert_eq!(parse_fast(text.as_bytes()), Some(a));
        prop_assert_eq!(parse_strict(&text), Ok(a));
        let fast = parse_fast(junk.as_bytes());
        prop_assert_eq!(fast, parse_strict(&junk).ok());
        if let Some(b) = fast {
            prop_assert_eq!(b.to_string(), junk);
        }
    }

    #[test]
    fn cidrs_parse_to_themselves(net in network()) {
        let text = net.to_string();
        prop_assert_eq!(parse_item(&text), Ok(Item::Network(net)));
        prop_assert_eq!(format!("{}/{}", net.addr(), net.prefix_len()), text);
    }

    #[test]
    fn cidr_prefixes_out_of_range_are_refused(a in ip(), extra in 1..=99u8) {
        let max = if a.is_ipv4() { 32 } else { 128 };
        let text = format!("{a}/{}", max + u16::from(extra));
        prop_assert!(parse_item(&text).is_err(), "{} accepted", text);
    }

    #[test]
    fn host_names_parse_to_themselves(name in host_name()) {
        prop_assert_eq!(parse_item(&name), Ok(Item::Host(name.as_str())));
    }

    #[test]
    fn port_ranges_parse_to_themselves(parts in vec(port_part(), 1..5)) {
        let text = parts.iter().map(|p| p.0.as_str()).collect::<Vec<_>>().join(",");
        let parsed = parse_port_arg(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed.len(), parts.len());
        for (selection, (label, first, last, protocol)) in parsed.iter().zip(&parts) {
            prop_assert_eq!(&selection.label, label);
            prop_assert_eq!(&selection.ports, &PortSet::Range(*first, *last));
            prop_assert_eq!(selection.ports.len(), usize::from(last - first) + 1);
            prop_assert_eq!(selection.protocol, *protocol);
        }
    }

    #[test]
    fn port_numbers_out_of_range_are_refused(p in 65_536u32..10_000_000, zeros in 0usize..3) {
        let text = format!("{}{p}", "0".repeat(zeros));
        prop_assert!(parse_port_arg(&text).is_err());
    }

    #[test]
    fn targets_parse_to_their_host_and_ports(
        (host_text, host) in target_host(),
        ports in proptest::option::of(vec(any::<u16>(), 1..4)),
    ) {
        let text = match &ports {
            Some(ports) => {
                let list = ports.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
                format!("{host_text}:{list}")
            }
            None => host_text.clone(),
        };
        if matches!(host, HostSpec::Address(IpAddr::V6(a)) if a.is_unicast_link_local()) {
            let refused = parse_target(&text).map(|t| t.text).map_err(|e| e.to_string());
            prop_assert!(
                refused.as_ref().is_err_and(|e| e.contains("a link-local address needs its interface")),
                "{:?}", refused
            );
            return Ok(());
        }
        let t = parse_target(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&t.text, &text);
        prop_assert_eq!(&t.host, &host);
        prop_assert_eq!(t.ports.is_some(), ports.is_some());
        prop_assert_eq!(ports_of(&t), ports.unwrap_or_default());
        // The host displays as written (without the brackets).
        prop_assert_eq!(t.host.text(), host_text.trim_start_matches('[').trim_end_matches(']'));
    }

    #[test]
    fn bare_ipv6_targets_carry_no_port(a in ipv6()) {
        if a.is_unicast_link_local() {
            // Refused without its interface (`fe80::1%eth0`).
            let refused = parse_target(&a.to_string()).map(|t| t.text).map_err(|e| e.to_string());
            prop_assert!(
                refused.as_ref().is_err_and(|e| e.contains("a link-local address needs its interface")),
                "{:?}", refused
            );
            return Ok(());
        }
        let t = parse_target(&a.to_string()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(t.host, HostSpec::Address(a.into()));
        prop_assert_eq!(t.ports, None);
    }

    #[test]
    fn durations_parse_to_their_value(n in 0u64..100_000, unit in select(UNITS.to_vec())) {
        let (suffix, nanos) = unit;
        let text = format!("{n}{suffix}");
        let expected = Duration::from_nanos(n * nanos);
        let parsed = parse_duration("--timeout", &text);
        if expected <= Duration::from_secs(86_400 * 366) {
            prop_assert_eq!(parsed, Ok(expected), "{}", text);
        } else {
            prop_assert!(parsed.is_err(), "{} is over a year", text);
        }
    }

    #[test]
    fn decimal_durations_parse_to_their_value(whole in 0u64..10_000, millis in 0u64..1000, hours in 1u64..=8784) {
        let text = format!("{whole}.{millis:03}s");
        prop_assert_eq!(parse_duration("-W", &text), Ok(Duration::from_millis(whole * 1000 + millis)));
        let (in_hours, negative) = (format!("{hours}h"), format!("-{whole}s"));
        prop_assert_eq!(parse_duration("-W", &in_hours), Ok(Duration::from_secs(hours * 3600)));
        prop_assert!(parse_duration("-W", &negative).is_err(), "{} accepted", negative);
    }

    #[test]
    fn check_files_parse_to_their_values(
        name in "[a-z][a-z0-9 _-]{0,15}",
        (host_text, host) in target_host(),
        // Port 0 one time in eight: its refusal is checked too.
        port in prop_oneof![1 => Just(0u16), 7 => any::<u16>()],
        timeout_ms in 1u64..10_000,
        count in 1u32..50,
        expect in select(vec![
            Expect::Open,
            Expect::Closed,
            Expect::Filtered,
            Expect::OpenOrFiltered,
            Expect::Reachable,
            Expect::Unreachable,
        ]),
        port_in_target in any::<bool>(),
    ) {
        let (target, ports) = if port_in_target {
            (format!("{host_text}:{port}"), String::new())
        } else {
            (host_text, format!("ports = [{port}]\n"))
        };
        let text = format!(
            "[defaults]\ntimeout = \"{timeout_ms}ms\"\n\n[[check]]\nname = \"{name}\"\ntarget = \"{target}\"\n{ports}count = {count}\nexpect = \"{}\"\n",
            expect.as_str(),
        );
        let file = match parse_check_file(&text) {
            Ok(file) => file,
            // A multicast or broadcast target is refused at its place (it would reach many
            // hosts); every other one must read back.
            Err(e) if e.message.contains("reaches many hosts") => {
                prop_assert_eq!((e.line, e.column), (6, 10), "{}", e.message);
                return Ok(());
            }
            // A link-local address without its interface is refused at the target.
            Err(e) if matches!(host, HostSpec::Address(IpAddr::V6(a)) if a.is_unicast_link_local())
                && e.message.contains("a link-local address needs its interface") =>
            {
                prop_assert_eq!((e.line, e.column), (6, 10), "{}", e.message);
                return Ok(());
            }
            // Port 0 is refused at its place: nothing listens there to check.
            Err(e) if port == 0 => {
                let place = if port_in_target { (6, 10) } else { (7, 10) };
                prop_assert_eq!((e.line, e.column), place, "{}", e.message);
                prop_assert!(e.message.starts_with("invalid port '0': nothing listens on port 0"), "{}", e.message);
                return Ok(());
            }
            Err(e) => {
                return Err(TestCaseError::fail(format!("{}:{}: {}\n{text}", e.line, e.column, e.message)));
            }
        };
        prop_assert_eq!(file.checks.len(), 1);
        let check = &file.checks[0];
        prop_assert_eq!(&check.name, &name);
        prop_assert_eq!(check.line, 4);
        prop_assert_eq!(&check.target.host, &host);
        prop_assert_eq!(ports_of(&check.target), vec![port]);
        prop_assert_eq!(check.timing.timeout, Duration::from_millis(timeout_ms));
        prop_assert_eq!(check.timing.count, count);
        prop_assert_eq!(check.expect, expect);
    }

    #[test]
    fn payloads_round_trip(bytes in vec(any::<u8>(), 0..64), text in "\\PC{0,32}") {
        let written = hex(&bytes);
        prop_assert_eq!(parse_payload(&written), Ok(PayloadChoice::Custom(bytes.clone())));
        prop_assert_eq!(
            parse_payload(&written.to_ascii_uppercase().replacen("0X", "0x", 1)),
            Ok(PayloadChoice::Custom(bytes))
        );
        if !text.starts_with("0x") && !text.starts_with("0X") {
            prop_assert_eq!(parse_payload(&text), Ok(PayloadChoice::Custom(text.into_bytes())));
        }
    }

    #[test]
    fn datagrams_and_replies_round_trip(nonce in any::<u64>(), source in (ip(), any::<u16>()), token in proptest::option::of(vec(any::<u8>(), 1..16))) {
        let header = datagram::parse(&datagram::probe(nonce)).expect("a probe parses");
        prop_assert_eq!((header.kind, header.flags, header.nonce), (Kind::Probe, 0, nonce));
        let source = SocketAddr::new(source.0, source.1);
        let request = responder::request(nonce, token.as_deref());
        let key = token.as_deref().map(|secret| responder::Key { secret, now: responder::unix_now() });
        let reply = responder::answer(&request, source, key, |_| Admission::Answer(None))
            .map_err(|e| TestCaseError::fail(e.as_str()))?;
        prop_assert!(reply.len() <= request.len());
        let parsed = responder::parse_reply(&reply).expect("a reply parses");
        prop_assert_eq!(parsed.nonce, nonce);
        prop_assert_eq!(parsed.observed, source);
        prop_assert_eq!(usize::from(parsed.received), request.len());
        prop_assert_eq!(responder::parse_banner(responder::banner(source).as_bytes()), Some(source));
    }

    #[test]
    fn syn_replies_are_read_back(
        ours in any::<u16>(),
        theirs in any::<u16>(),
        seq in any::<u32>(),
        rst in any::<bool>(),
        router in ipv4(),
    ) {
        let (me, target) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(198, 51, 100, 7));
        let src = SocketAddr::new(me.into(), ours);
        let dst = SocketAddr::new(target.into(), theirs);
        let packet = syn(src, dst, seq).expect("one family");
        prop_assert_eq!(tcp_reply(&packet, target.into()), None, "our SYN is no reply");

        // The target's answer: ports swapped, our sequence number + 1 acknowledged.
        let mut answer = packet;
        answer[..2].copy_from_slice(&theirs.to_be_bytes());
        answer[2..4].copy_from_slice(&ours.to_be_bytes());
        answer[8..12].copy_from_slice(&seq.wrapping_add(1).to_be_bytes());
        answer[13] = if rst { 0x14 } else { 0x12 };
        let reply = tcp_reply(&answer, target.into()).expect("a SYN-ACK or RST");
        prop_assert_eq!(reply.said, if rst { Said::Rst } else { Said::SynAck });
        prop_assert_eq!((reply.target, reply.our_port, reply.seq), (dst, ours, seq));

        // A router's ICMP error quoting our SYN, inside the IPv4 packet a raw socket reads.
        let mut quoted = vec![0x45, 0, 0, 44, 0, 0, 0, 0, 64, 6, 0, 0];
        quoted.extend_from_slice(&me.octets());
        quoted.extend_from_slice(&target.octets());
        quoted.extend_from_slice(&packet[..8]);
        let mut icmp = vec![3, 13, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&quoted);
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0];
        ip.extend_from_slice(&router.octets());
        ip.extend_from_slice(&me.octets());
        ip.extend_from_slice(&icmp);
        let (from, protocol, payload) = ipv4_payload(&ip).expect("a whole IPv4 header");
        prop_assert_eq!((from, protocol, payload), (router, 1, &icmp[..]));
        let reply = icmp4_reply(payload, from).expect("a quoted SYN");
        prop_assert_eq!(reply.said, Said::Icmp { v6: false, kind: 3, code: 13 });
        prop_assert_eq!((reply.target, reply.our_port, reply.seq), (dst, ours, seq));
        prop_assert_eq!(icmp4_reply(&payload[..payload.len() - 1], from), None, "truncated");
    }

    #[test]
    fn checksums_verify(data in vec(any::<u8>(), 0..200), id in any::<u16>(), seq in any::<u16>(), v6 in any::<bool>()) {
        let mut padded = data.clone();
        if padded.len() % 2 == 1 {
            padded.push(0);
        }
        let sum = checksum(&data);
        prop_assert_eq!(checksum(&padded), sum);
        padded.extend_from_slice(&sum.to_be_bytes());
        prop_assert_eq!(checksum(&padded), 0);
        let request = echo_request(v6, id, seq);
        prop_assert_eq!(&request[4..8], &[id.to_be_bytes(), seq.to_be_bytes()].concat()[..]);
        if !v6 {
            prop_assert_eq!(checksum(&request), 0);
        }
    }

    #[test]
    fn proc_net_lines_parse_to_their_socket(a in ipv4(), port in any::<u16>(), inode in any::<u64>(), drops in any::<u32>()) {
        let line = format!(
            "   0: {:08X}:{port:04X} 00000000:0000 07 00000000:00000010 00:00000000 00000000  1000        0 {inode} 2 0000000000000000 {drops}\n",
            u32::from_le_bytes(a.octets()),
        );
        let entries = parse_proc_net(&line, Transport::Udp, false);
        prop_assert_eq!(entries.len(), 1);
        let e = &entries[0];
        prop_assert_eq!(e.local, SocketAddr::new(a.into(), port));
        prop_assert_eq!((e.state, e.inode, e.rx_queue, e.drops), (7, inode, 16, Some(u64::from(drops))));
        prop_assert!(parse_proc_net(&line, Transport::Udp, true).is_empty(), "an IPv4 line in udp6");
    }
}
