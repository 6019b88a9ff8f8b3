use super::*;

fn tcp(ports: &[u16]) -> Arc<[PortProtocol]> {
    distinct(ports.iter().map(|p| (*p, Protocol::Tcp)))
}

fn addr(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn summary(plan: &Endpoints) -> Vec<String> {
    plan.iter()
        .map(|e| {
            let address = e.address.map_or("-".into(), |a| a.to_string());
            format!("{} {address}:{}/{}", e.target, e.port, e.protocol)
        })
        .collect()
}

#[test]
fn ports_named_twice_are_planned_once_in_order() {
    let ports = distinct([3, 1, 2, 3, 1].map(|p| (p, Protocol::Tcp)));
    assert_eq!(&*ports, [3, 1, 2].map(|p| (p, Protocol::Tcp)));
    let both = distinct([
        (53, Protocol::Udp),
        (53, Protocol::Tcp),
        (53, Protocol::Udp),
    ]);
    assert_eq!(&*both, [(53, Protocol::Udp), (53, Protocol::Tcp)]);
}

#[test]
fn an_address_named_twice_keeps_only_new_ports() {
    let mut b = Builder::default();
    let one = addr("127.0.0.1");
    b.target(
        "127.0.0.1",
        "127.0.0.1".into(),
        (None, 0),
        &[one],
        &tcp(&[1, 2]),
    );
    b.target(
        "localhost",
        "localhost".into(),
        (None, 0),
        &[one, addr("::1")],
        &tcp(&[2, 3]),
    );
    b.target(
        "127.0.0.1:1",
        "127.0.0.1".into(),
        (None, 0),
        &[one],
        &tcp(&[1]),
    );
    b.target(
        "nosuch",
        "nosuch".into(),
        (Some("no".into()), 0),
        &[],
        &tcp(&[1]),
    );
    b.target(
        "nosuch:1",
        "nosuch".into(),
        (Some("no".into()), 0),
        &[],
        &tcp(&[1, 2]),
    );
    let plan = b.finish();
    let all = summary(&plan);
    assert_eq!(
        all,
        [
            "127.0.0.1 127.0.0.1:1/tcp",
            "127.0.0.1 127.0.0.1:2/tcp",
            "localhost 127.0.0.1:3/tcp",
            "localhost ::1:2/tcp",
            "localhost ::1:3/tcp",
            "nosuch -:1/tcp",
            "nosuch:1 -:2/tcp",
        ]
    );
    assert_eq!(plan.len(), all.len());
    // Random access agrees with iteration, and says why a name has no address.
    for (i, e) in plan.iter().enumerate() {
        assert_eq!(plan.get(i), Some(e));
    }
    assert_eq!(plan.get(7), None);
    assert_eq!(plan.unresolved(4), None);
    assert_eq!(plan.unresolved(5), Some("no"));
    assert_eq!(plan.unresolved(6), Some("no"));
    assert_eq!(
        plan.count_where(|a, (_, protocol)| a.is_some() && protocol == Protocol::Tcp),
        5
    );
}

#[test]
fn four_million_endpoints_are_a_few_groups() {
    let mut b = Builder::default();
    let all: Arc<[PortProtocol]> = distinct((1..=65_535).map(|p| (p, Protocol::Tcp)));
    let addresses: Vec<IpAddr> = (1..=61).map(|i| IpAddr::from([127, 0, 1, i])).collect();
    b.target("127.0.1.x", "127.0.1.x".into(), (None, 0), &addresses, &all);
    let plan = b.finish();
    assert_eq!(plan.len(), 61 * 65_535);
    // One port list shared by the 61 groups.
    assert_eq!(Arc::strong_count(&all), 62);
    let last = plan.get(61 * 65_535 - 1).unwrap();
    assert_eq!((last.address, last.port), (Some(addresses[60]), 65_535));
    assert_eq!(plan.iter().nth(65_535).unwrap().address, Some(addresses[1]));
}

#[test]
fn a_list_is_a_plan_too() {
    let e = Endpoint {
        target: "a".into(),
        host: "a".into(),
        address: None,
        port: 1,
        protocol: Protocol::Udp,
        scope_id: 0,
    };
    let plan = Endpoints::listed(vec![e.clone()], vec![Some("why".into())]);
    assert_eq!((plan.len(), plan.get(0)), (1, Some(e.clone())));
    assert_eq!(plan.iter().collect::<Vec<_>>(), [e]);
    assert_eq!(plan.unresolved(0), Some("why"));
    assert_eq!(plan.count_where(|_, (_, p)| p == Protocol::Udp), 1);
}

#[test]
fn long_port_lists_are_de_duplicated_too() {
    let ports = distinct((1..=100).chain(50..=150).map(|p| (p, Protocol::Tcp)));
    assert_eq!(ports.len(), 150);
    assert_eq!(ports[149], (150, Protocol::Tcp));
    let udp_too = distinct(
        (1..=40).flat_map(|p| [(p, Protocol::Tcp), (p, Protocol::Udp), (p, Protocol::Tcp)]),
    );
    assert_eq!(udp_too.len(), 80);
}
