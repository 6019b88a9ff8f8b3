//! Tests of the fix texts: every provider key, the templates and their snapshots.

use super::*;
use std::fmt::Write as _;

fn params(provider: &str, source: &Source) -> FixParams<'static> {
    FixParams {
        provider: Box::leak(provider.to_owned().into_boxed_str()),
        protocol: Protocol::Tcp,
        port: 7890,
        address: Some("203.0.113.10".parse().unwrap()),
        source: Box::leak(Box::new(source.clone())),
        udp_silence: false,
        client: System::Linux,
    }
}

#[test]
fn the_file_parses_and_every_provider_is_there() {
    let table = parse(FIXES_TOML).unwrap();
    for key in PROVIDERS.iter().chain(["generic"].iter()) {
        let p = table.provider.get(*key).unwrap_or_else(|| panic!("{key}"));
        assert!(!p.name.is_empty() && !p.security_group.is_empty() && !p.instance.is_empty());
    }
    for cause in [
        Cause::Ok,
        Cause::NotListening,
        Cause::SecurityGroup,
        Cause::HostFirewall,
    ] {
        assert!(table.cause.contains_key(cause.as_str()), "{cause}");
    }
}

#[test]
fn no_placeholder_is_left_unfilled() {
    let source = Source::Local("198.51.100.2".parse().unwrap());
    for key in PROVIDERS.iter().chain(["generic"].iter()) {
        for cause in [
            Cause::SecurityGroup,
            Cause::HostFirewall,
            Cause::NotListening,
            Cause::LoopbackBind,
            Cause::PrivateAddress,
            Cause::HostDownOrWrongIp,
            Cause::LossyPath,
            Cause::Dns,
            Cause::NoRoute,
            Cause::ReceiveBufferOverflow,
            Cause::ServerNotReplying,
            Cause::AcceptQueueOverflow,
            Cause::AnswersEveryPort,
            Cause::ReplyFromOtherAddress,
            Cause::ContainerPublishBypass,
            Cause::NatIdleTimeout,
            Cause::ProxiedCdn,
        ] {
            let lines = fix(cause, &params(key, &source));
            assert!(!lines.is_empty(), "{key} {cause}: no fix text");
            for line in lines {
                assert!(!line.contains('{'), "{key} {cause}: {line}");
            }
        }
    }
}

/// The rendered texts of every provider, reviewed as snapshots.
#[test]
fn provider_texts() {
    let known = Source::Local("198.51.100.2".parse().unwrap());
    let unknown = Source::Unknown("this machine's address 192.168.1.5 is private".into());
    for key in PROVIDERS.iter().chain(["generic"].iter()) {
        let mut text = String::new();
        for (cause, source) in [
            (Cause::SecurityGroup, &known),
            (Cause::SecurityGroup, &unknown),
            (Cause::HostDownOrWrongIp, &known),
        ] {
            let _ = write!(
                text,
                "[{cause}]\n{}\n",
                fix(cause, &params(key, source)).join("\n")
            );
        }
        insta::assert_snapshot!(format!("provider_{key}"), text);
    }
}

#[test]
fn receive_buffer_texts_quote_the_numbers_seen() {
    let seen = receive_buffer_fix(
        7901,
        BufferNumbers {
            suggested_rcvbuf: 16_777_216,
            rmem_max: Some(4_194_304),
            rmem_default: Some(212_992),
        },
    );
    let text = seen.join("\n");
    assert!(seen.len() >= 3 && !text.contains('{'), "{text}");
    for part in [
        "recvmmsg",
        "SO_RCVBUF, 16777216)",
        "net.core.rmem_max (4194304 bytes here)",
        "sysctl -w net.core.rmem_max=16777216",
        "net.core.rmem_default (212992 bytes here)",
        "--port 7901 --udp --watch 10s",
    ] {
        assert!(text.contains(part), "{part} missing in:\n{text}");
    }
    let high = BufferNumbers {
        rmem_max: Some(67_108_864),
        ..BufferNumbers::default()
    };
    let lines = receive_buffer_fix(7901, high);
    assert_eq!(lines.len(), seen.len() - 1, "no step lowers the ceiling");
    assert!(!lines.join("\n").contains("sysctl -w"), "{lines:?}");
    let generic = fix(
        Cause::ReceiveBufferOverflow,
        &params("generic", &Source::Unknown(String::new())),
    )
    .join("\n");
    assert!(
        generic.contains("SO_RCVBUF, 8388608)")
            && generic.contains("(sysctl net.core.rmem_max shows it)"),
        "{generic}"
    );
}

#[test]
fn size_texts_quote_the_sizes_seen() {
    let between = size_fix(SizeNumbers::Fragmentation {
        largest: 1024,
        per_packet: Some(1372),
    });
    let text = between.join("\n");
    assert_eq!(between.len(), 3, "{text}");
    assert!(!text.contains('{'), "{text}");
    assert!(between[0].starts_with("Keep every datagram at or below 1024 bytes:"));
    assert_eq!(
        between[1],
        "Up to 1372 bytes fit one packet on this path: --size-sweep finds the exact limit."
    );
    let exact = size_fix(SizeNumbers::Fragmentation {
        largest: 1372,
        per_packet: None,
    });
    assert_eq!(
        exact.len(),
        2,
        "no line about a limit already found: {exact:?}"
    );
    assert!(
        exact[1].starts_with("Many cloud security groups"),
        "{exact:?}"
    );
    let cut = size_fix(SizeNumbers::Truncation { received: 1024 }).join("\n");
    assert!(
        cut.contains("recvfrom(1024) (Python: sock.recvfrom(1024))") && !cut.contains('{'),
        "{cut}"
    );
    let source = Source::Unknown(String::new());
    assert!(fix(Cause::Fragmentation, &params("generic", &source)).is_empty());
    assert!(fix(Cause::Truncation, &params("generic", &source)).is_empty());
}

#[test]
fn a_lossy_path_points_udp_to_the_loss_split() {
    let source = Source::Unknown(String::new());
    let mut udp = params("generic", &source);
    udp.protocol = Protocol::Udp;
    assert_eq!(
        fix(Cause::LossyPath, &udp),
        [
            "The port is open; the loss is on the path, not a rule. Measure longer (ipdiag probe 203.0.113.10:7890 --udp -c 100) and compare with another network.",
            "Which way the datagrams are lost (to the server or back): ipdiag probe 203.0.113.10:7890 --loss-split, with `ipdiag serve --udp 7890` on the server.",
        ]
    );
    let tcp = fix(Cause::LossyPath, &params("generic", &source));
    assert_eq!(tcp.len(), 2, "{tcp:?}");
    assert!(tcp[0].contains("(ipdiag probe 203.0.113.10:7890 --tcp -c 100)"));
    assert_eq!(
        tcp[1],
        "Retransmissions hide this loss from TCP applications but add latency."
    );
    udp.address = Some("2001:db8::10".parse().unwrap());
    assert!(
        fix(Cause::LossyPath, &udp)[1].contains("ipdiag probe [2001:db8::10]:7890 --loss-split"),
        "an IPv6 target in brackets"
    );
}

#[test]
fn host_firewall_and_udp_silence() {
    let source = Source::Given("198.51.100.0/24".parse().unwrap());
    let mut udp = params("generic", &source);
    udp.protocol = Protocol::Udp;
    udp.udp_silence = true;
    insta::assert_snapshot!("host_firewall", fix(Cause::HostFirewall, &udp).join("\n"));
    insta::assert_snapshot!(
        "udp_silence_security_group",
        fix(Cause::SecurityGroup, &udp).join("\n")
    );
}

#[test]
fn the_clients_own_commands_are_in_its_systems_words() {
    let source = Source::Unknown(String::new());
    let on = |cause, client| {
        fix(
            cause,
            &FixParams {
                client,
                ..params("generic", &source)
            },
        )
    };
    let route = |system| on(Cause::NoRoute, system)[0].clone();
    let routes =
        "This machine cannot send to 203.0.113.10: check its network connection and routes";
    assert_eq!(
        route(System::Linux),
        format!("{routes} (ip route get 203.0.113.10).")
    );
    assert_eq!(
        route(System::Windows),
        format!("{routes} (Find-NetRoute -RemoteIPAddress 203.0.113.10).")
    );
    assert_eq!(
        route(System::MacOs),
        format!("{routes} (route -n get 203.0.113.10).")
    );
    assert_eq!(
        route(System::FreeBsd),
        format!("{routes} (route -n get 203.0.113.10).")
    );
    let dns = |system| on(Cause::Dns, system)[0].clone();
    let spelling = "Check the name's spelling and your resolver";
    let public = "or use the server's public IP directly.";
    assert_eq!(
        dns(System::Linux),
        format!("{spelling} (getent hosts <name>); {public}")
    );
    assert_eq!(
        dns(System::Windows),
        format!("{spelling} (Resolve-DnsName <name>); {public}")
    );
    assert_eq!(
        dns(System::MacOs),
        format!("{spelling} (dscacheutil -q host -a name <name>); {public}")
    );
    // The server's firewall is named in the server's words, whatever the client runs.
    for system in [System::Linux, System::Windows, System::MacOs] {
        let steps = on(Cause::HostFirewall, system);
        assert_eq!(steps.len(), 5, "{steps:?}");
        assert_eq!(steps[1], "  ufw:       sudo ufw allow 7890/tcp");
    }
}
