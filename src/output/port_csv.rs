//! CSV for `ipdiag port`: one row per port; registrations joined as `name/protocol`.

use super::csv::{push_field, push_int};
use crate::classify::PortInfo;
use crate::classify::tables::Service;
use std::io::{self, Write};

/// The header row.
pub const HEADER: &str = "input,port,band,band_two_way,privileged,ephemeral,services,description\n";

/// Appends one row: `services` is `ssh/tcp ssh/udp`, `description` the first registration's.
pub fn push_row(buf: &mut Vec<u8>, input: &str, info: &PortInfo) {
    push_field(buf, input);
    buf.push(b',');
    push_int(buf, info.port);
    for field in [
        info.band.as_str(),
        info.band_two_way.as_str(),
        if info.privileged { "true" } else { "false" },
        if info.ephemeral { "true" } else { "false" },
    ] {
        buf.push(b',');
        buf.extend_from_slice(field.as_bytes());
    }
    buf.push(b',');
    let names: Vec<String> = info
        .services()
        .filter(|s| !s.name().is_empty())
        .map(|s| format!("{}/{}", s.name(), s.protocol))
        .collect();
    push_field(buf, &names.join(" "));
    buf.push(b',');
    push_field(buf, info.services().next().map_or("", Service::description));
    buf.push(b'\n');
}

/// Writes a whole CSV document.
pub fn write_all<'a>(
    out: &mut dyn Write,
    rows: impl Iterator<Item = (&'a str, PortInfo)>,
) -> io::Result<()> {
    let mut buf = HEADER.as_bytes().to_vec();
    for (input, info) in rows {
        push_row(&mut buf, input, &info);
        if buf.len() > 64 * 1024 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{PortFacts, classify_port};

    #[test]
    fn rows() {
        let facts = PortFacts::default();
        let mut out = Vec::new();
        write_all(
            &mut out,
            [
                ("8080", classify_port(8080, None, &facts)),
                ("7890", classify_port(7890, None, &facts)),
            ]
            .into_iter(),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(
                "{HEADER}8080,8080,registered,dynamic,false,false,http-alt/tcp http-alt/udp,HTTP Alternate (see port 80)\n\
                 7890,7890,registered,dynamic,false,false,,\n"
            )
        );
    }
}
