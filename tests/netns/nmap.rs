//! nmap as the reference: the state it reports for one port, run from the client namespace.

use crate::bed::Bed;

/// nmap's state for `port` on `host` (`udp`: a -sU scan, otherwise -sT).
pub fn state(bed: &Bed, host: &str, port: u16, udp: bool) -> String {
    scan_state(bed, host, port, if udp { "-sU" } else { "-sT" })
}

/// nmap's state for `port` on `host` by a SYN scan (-sS, raw packets).
pub fn syn_state(bed: &Bed, host: &str, port: u16) -> String {
    scan_state(bed, host, port, "-sS")
}

fn scan_state(bed: &Bed, host: &str, port: u16, scan: &str) -> String {
    let port = port.to_string();
    let out = bed.in_client(&[
        "nmap", "-Pn", "-n", "-T4", scan, "-p", &port, host, "-oG", "-",
    ]);
    grepable_state(&out, &port)
        .unwrap_or_else(|| panic!("no state for port {port} in nmap's output:\n{out}"))
}

/// nmap -sS's verdict for `port` on `host` with its reason and, when someone other than
/// the target answered, that sender (`--reason`, XML output); `extra` are more options.
pub fn syn_verdict(
    bed: &Bed,
    host: &str,
    port: u16,
    extra: &[&str],
) -> (String, String, Option<String>) {
    let port = port.to_string();
    let mut args = vec![
        "nmap", "-Pn", "-n", "-T4", "-sS", "--reason", "-p", &port, host, "-oX", "-",
    ];
    args.extend_from_slice(extra);
    let out = bed.in_client(&args);
    xml_verdict(&out).unwrap_or_else(|| panic!("no state for port {port} in nmap's XML:\n{out}"))
}

/// `state`, `reason` and `reason_ip` of the `<state .../>` element of a one-port scan.
fn xml_verdict(xml: &str) -> Option<(String, String, Option<String>)> {
    // With a space in front, every attribute is found by ` NAME="`.
    let element = format!(" {}", xml.split("<state ").nth(1)?.split("/>").next()?);
    let attribute = |name: &str| {
        let (_, rest) = element.split_once(&format!(" {name}=\""))?;
        rest.split('"').next().map(str::to_owned)
    };
    Some((
        attribute("state")?,
        attribute("reason")?,
        attribute("reason_ip"),
    ))
}

/// The state field of `PORT/STATE/PROTO//...` in nmap's grepable output.
fn grepable_state(out: &str, port: &str) -> Option<String> {
    let ports = out
        .lines()
        .find_map(|l| l.split_once("Ports: ").map(|(_, p)| p))?;
    ports.split(", ").find_map(|entry| {
        let mut fields = entry.split('/');
        (fields.next()?.trim() == port).then(|| fields.next().map(str::to_owned))?
    })
}

pub fn reads_grepable_output() {
    let out = "# Nmap 7.93\nHost: 203.0.113.10 ()\tStatus: Up\nHost: 203.0.113.10 ()\tPorts: 7897/open|filtered/udp//unknown///\n";
    assert_eq!(
        grepable_state(out, "7897").as_deref(),
        Some("open|filtered")
    );
    assert_eq!(grepable_state(out, "7898"), None);
}

pub fn reads_the_xml_state_with_reason_and_sender() {
    let xml = r#"<port protocol="tcp" portid="7901"><state state="filtered" reason="port-unreach" reason_ttl="64" reason_ip="198.51.100.1"/><service name="x"/></port>"#;
    assert_eq!(
        xml_verdict(xml),
        Some((
            "filtered".into(),
            "port-unreach".into(),
            Some("198.51.100.1".into())
        ))
    );
    let from_target = r#"<state state="open" reason="syn-ack" reason_ttl="63"/>"#;
    assert_eq!(
        xml_verdict(from_target),
        Some(("open".into(), "syn-ack".into(), None))
    );
}
