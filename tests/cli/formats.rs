//! The global output options, the same on every command.

use super::run;

#[test]
fn jsonl_is_one_object_per_line() {
    for args in [
        &["classify", "10.0.0.1", "10.0.0.2", "--jsonl"][..],
        &["port", "22", "80", "--format", "jsonl"],
    ] {
        let (code, out, _) = run(args);
        assert_eq!(code, 0);
        assert_eq!(out.lines().count(), 2);
        for line in out.lines() {
            assert!(
                serde_json::from_str::<serde_json::Value>(line)
                    .unwrap()
                    .is_object()
            );
        }
    }
}

#[test]
fn json_is_one_array() {
    let (_, out, _) = run(&["port", "22", "--format", "json"]);
    assert!(
        serde_json::from_str::<serde_json::Value>(&out)
            .unwrap()
            .is_array()
    );
    let (_, out, _) = run(&["classify", "10.0.0.1", "--json"]);
    assert!(
        serde_json::from_str::<serde_json::Value>(&out)
            .unwrap()
            .is_array()
    );
}

#[test]
fn csv_header_is_stable() {
    let (_, out, _) = run(&["classify", "192.168.1.103", "--format", "csv"]);
    assert_eq!(
        out.lines().next().unwrap(),
        "input,address,version,class,default_mask,classful_network,range,range_name,scope,global,\
         multicast_scope,provider,asn,embedded_ipv4,network,netmask,broadcast,first_host,last_host,hosts"
    );
}

#[test]
fn help_shows_examples() {
    for cmd in [
        &["--help"][..],
        &["classify", "--help"],
        &["port", "--help"],
    ] {
        let (code, out, _) = run(cmd);
        assert_eq!(code, 0);
        assert!(out.contains("Examples:"), "{cmd:?}: {out}");
    }
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("ipdiag "));
}
