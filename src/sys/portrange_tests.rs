//! BSD port ranges from sysctl's text, and each system's notes.

use super::*;

/// `sysctl net.inet.ip.portrange` on macOS 14 (xnu's six values and one flag).
const MACOS: &str = "net.inet.ip.portrange.lowfirst: 1023
net.inet.ip.portrange.lowlast: 600
net.inet.ip.portrange.first: 49152
net.inet.ip.portrange.last: 65535
net.inet.ip.portrange.hifirst: 49152
net.inet.ip.portrange.hilast: 65535
net.inet.ip.portrange.ipport_allow_udp_port_exhaustion: 0
";

/// The same on FreeBSD 14, after an administrator changed `first` and `reservedhigh`.
const FREEBSD: &str = "net.inet.ip.portrange.randomtime: 1
net.inet.ip.portrange.randomcps: 9999
net.inet.ip.portrange.randomized: 1
net.inet.ip.portrange.reservedlow: 0
net.inet.ip.portrange.reservedhigh: 499
net.inet.ip.portrange.hilast: 65535
net.inet.ip.portrange.hifirst: 49152
net.inet.ip.portrange.last: 65535
net.inet.ip.portrange.first: 20000
net.inet.ip.portrange.lowlast: 600
net.inet.ip.portrange.lowfirst: 1023
";

#[test]
fn macos_values_are_read_and_its_rule_is_the_specific_address_one() {
    let read = parse(MACOS);
    assert_eq!(
        read,
        PortRange {
            first: Some(49152),
            last: Some(65535),
            hifirst: Some(49152),
            hilast: Some(65535),
            lowfirst: Some(1023),
            lowlast: Some(600),
            reservedhigh: None,
            reservedlow: None,
        }
    );
    let facts = bsd_facts(System::MacOs, &read);
    assert_eq!(facts.system, System::MacOs);
    assert_eq!(
        (facts.ephemeral, facts.ephemeral_source),
        ((49152, 65535), FactSource::Kernel)
    );
    assert_eq!(
        (facts.high, facts.low),
        (Some((49152, 65535)), Some((600, 1023)))
    );
    assert_eq!(
        (facts.unprivileged_start, facts.unprivileged_source),
        (1024, FactSource::Default)
    );
    assert_eq!(
        privileged_note(&facts),
        "privileged: binding a port below 1024 to a specific address needs root; the \
         wildcard address (0.0.0.0, ::) needs none since macOS 10.14 (IPPORT_RESERVED = 1024)."
    );
    assert_eq!(
        ephemeral_note(&facts),
        "ephemeral: this OS picks client ports from 49152-65535 \
         (net.inet.ip.portrange.first/last); a server listening there can clash with outgoing \
         connections. Programs that ask for IP_PORTRANGE_HIGH get 49152-65535 \
         (net.inet.ip.portrange.hifirst/hilast), IP_PORTRANGE_LOW 600-1023 (lowlast/lowfirst, \
         root)."
    );
}

#[test]
fn freebsd_reservedhigh_is_its_privileged_limit() {
    let facts = bsd_facts(System::FreeBsd, &parse(FREEBSD));
    assert_eq!(
        (facts.ephemeral, facts.ephemeral_source),
        ((20000, 65535), FactSource::Kernel)
    );
    assert_eq!(
        (facts.unprivileged_start, facts.unprivileged_source),
        (500, FactSource::Kernel)
    );
    assert_eq!(
        privileged_note(&facts),
        "privileged: binding a port below 500 needs root \
         (net.inet.ip.portrange.reservedhigh = 499)."
    );
}

#[test]
fn what_sysctl_does_not_say_is_the_systems_default() {
    let macos = bsd_facts(System::MacOs, &parse(""));
    assert_eq!(
        (macos.ephemeral, macos.ephemeral_source),
        ((49152, 65535), FactSource::Default)
    );
    assert!(ephemeral_note(&macos).contains("(net.inet.ip.portrange.first/last, macOS default)"));
    let freebsd = bsd_facts(
        System::FreeBsd,
        &parse("garbage\nnet.inet.ip.portrange.first: x\n"),
    );
    assert_eq!(freebsd.ephemeral, (10000, 65535));
    assert!(privileged_note(&freebsd).contains("= 1023, FreeBSD default"));
    // A range given upside down, or a port beyond 65535, is not believed.
    let odd = parse(
        "net.inet.ip.portrange.first: 60000\nnet.inet.ip.portrange.last: 50000\n\
         net.inet.ip.portrange.hifirst: 70000\nnet.inet.ip.portrange.hilast: 65535\n",
    );
    let facts = bsd_facts(System::MacOs, &odd);
    assert_eq!(facts.ephemeral_source, FactSource::Default);
    assert_eq!(facts.high, Some((49152, 65535)));
}

#[test]
fn linux_and_windows_notes_name_their_settings() {
    let linux = PortFacts::default();
    assert_eq!(
        privileged_note(&linux),
        "privileged: binding a port below 1024 needs root or CAP_NET_BIND_SERVICE \
         (net.ipv4.ip_unprivileged_port_start = 1024, Linux default)."
    );
    assert!(
        ephemeral_note(&linux)
            .contains("32768-60999 (net.ipv4.ip_local_port_range, Linux default)")
    );
    let windows = PortFacts {
        system: System::Windows,
        unprivileged_start: 0,
        ephemeral: (49152, 65535),
        ..PortFacts::default()
    };
    assert!(ephemeral_note(&windows).contains("netsh int ipv4 show dynamicport tcp"));
    assert_eq!(
        privileged_note(&windows),
        "privileged: Windows has no privileged ports."
    );
}
