//! `ipdiag port` end to end.

use super::{json, run};

#[test]
fn tutorial_ports() {
    let v = json(&["port", "7788", "7890", "8080"]);
    assert_eq!(v.as_array().unwrap().len(), 3);
    for row in v.as_array().unwrap() {
        assert_eq!(row["band"], "registered");
        assert_eq!(row["band_two_way"], "dynamic");
        assert_eq!(row["privileged"], false);
    }
    assert_eq!(v[2]["services"][0]["name"], "http-alt");
    assert_eq!(v[0]["services"].as_array().unwrap().len(), 0);
}

#[test]
fn json_has_the_documented_fields() {
    let v = json(&["port", "22"]);
    let row = v[0].as_object().unwrap();
    for field in [
        "port",
        "band",
        "band_two_way",
        "privileged",
        "ephemeral",
        "services",
    ] {
        assert!(row.contains_key(field), "missing {field}");
    }
    assert_eq!(v[0]["services"][0]["protocol"], "tcp");
    assert_eq!(
        v[0]["services"][0]["description"],
        "The Secure Shell (SSH) Protocol"
    );
}

#[test]
fn band_boundaries() {
    let v = json(&["port", "0,1023,1024,49151,49152,65535"]);
    let bands: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["band"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        bands,
        [
            "well-known",
            "well-known",
            "registered",
            "registered",
            "dynamic",
            "dynamic"
        ]
    );
}

#[test]
fn names_ranges_and_protocols() {
    let v = json(&["port", "ssh", "http-alt", "8000-8002", "53/udp"]);
    let ports: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, [22, 591, 8008, 8080, 8000, 8001, 8002, 53]);
    let dns = v.as_array().unwrap().last().unwrap();
    assert_eq!(dns["input"], "53/udp");
    assert_eq!(dns["services"].as_array().unwrap().len(), 1);
    assert_eq!(dns["services"][0]["protocol"], "udp");
    assert_eq!(dns["services"][0]["name"], "domain");
}

#[test]
fn table_explains_privileged_ports() {
    let (code, out, _) = run(&["port", "22", "7890"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("PORT  BAND (IANA)  TWO-WAY"), "{out}");
    assert!(out.contains("ssh (tcp/udp) The Secure Shell (SSH) Protocol"));
    // Each system's own rule (`sys::portrange` tests each one's exact note): Windows has no
    // privileged ports, so 22 is not one and no note explains the column.
    if cfg!(windows) {
        assert!(
            out.contains("\n22    well-known   well-known  no          no"),
            "{out}"
        );
        assert!(!out.contains("privileged:"), "{out}");
    } else if cfg!(target_os = "linux") {
        assert!(out.contains("needs root or CAP_NET_BIND_SERVICE"), "{out}");
    }
    assert!(!out.contains("ephemeral:"));
}

#[test]
fn csv_rows() {
    let (code, out, _) = run(&["port", "8080", "--format", "csv"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "input,port,band,band_two_way,privileged,ephemeral,services,description\n\
         8080,8080,registered,dynamic,false,false,http-alt/tcp http-alt/udp,HTTP Alternate (see port 80)\n"
    );
}
