//! CSV for `ipdiag classify`: the bulk format, written without `fmt` or per-row allocation.
//!
//! Rows go into one reusable buffer that is flushed in 64 KiB chunks. Plain IPv4 rows (the
//! bulk case) take a fast path: everything after the address that depends only on the
//! registry block is rendered once per block and cached, so a row is a handful of copies.

use super::csv::{Ipv4Text, Padded, ipv4_text, push_field, push_int, push_ipv4};
use crate::classify::ipv4::Ipv4Class;
use crate::classify::record::Input;
use crate::classify::tables::{RANGE_COUNT, RangeInfo};
use crate::classify::{AddrInfo, Classified, Subnet};
use crate::model::Scope;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr};

/// The header row; the columns never change order (scripts index them).
pub const HEADER: &str = "input,address,version,class,default_mask,classful_network,range,range_name,scope,\
global,multicast_scope,provider,asn,embedded_ipv4,network,netmask,broadcast,first_host,last_host,hosts\n";

const FLUSH_AT: usize = 64 * 1024;

/// A cached row tail: padded for the fast copy when it fits, else plain.
#[derive(Debug, Clone)]
enum Tail {
    Short(Padded<96>),
    Long(Vec<u8>),
}

/// The seven columns after `asn` when nothing is embedded and there is no subnet.
const EMPTY_END: &[u8] = b",,,,,,,\n";

/// Streams classification rows as CSV.
pub struct ClassifyCsv<W: Write> {
    out: W,
    buf: Vec<u8>,
    /// `range,range_name,scope,global,multicast_scope,` per IPv4 block id; filled on first use.
    tails: Vec<Option<Tail>>,
}

impl<W: Write> ClassifyCsv<W> {
    /// A writer that starts with the header row.
    pub fn new(out: W) -> Self {
        let mut buf = Vec::with_capacity(FLUSH_AT + 4096);
        buf.extend_from_slice(HEADER.as_bytes());
        Self {
            out,
            buf,
            tails: vec![None; RANGE_COUNT],
        }
    }

    /// Appends one row.
    #[inline]
    pub fn record(&mut self, c: &Classified<'_>) -> io::Result<()> {
        match (c.info.address, c.subnet) {
            (IpAddr::V4(a), None) => self.ipv4_row(c.input, a, &c.info),
            _ => row(&mut self.buf, c),
        }
        if self.buf.len() >= FLUSH_AT {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes what is buffered.
    pub fn finish(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()
    }

    /// The fast path for a plain IPv4 address; same bytes as [`row`].
    #[inline]
    fn ipv4_row(&mut self, input: Input<'_>, a: Ipv4Addr, info: &AddrInfo) {
        let buf = &mut self.buf;
        let address = ipv4_text(a);
        match input {
            Input::Text(text) => push_field(buf, text),
            Input::Canonical => address.text.push_to(buf),
        }
        buf.push(b',');
        address.text.push_to(buf);
        buf.extend_from_slice(b",4,");
        class_fields(buf, info.class, &address);
        match info.range {
            Some(range) => {
                let tail = self.tails[usize::from(range.id)].get_or_insert_with(|| {
                    let mut text = Vec::new();
                    range_fields(
                        &mut text,
                        Some(range),
                        info.scope,
                        info.global,
                        info.multicast_scope,
                    );
                    Padded::new(&text).map_or(Tail::Long(text), Tail::Short)
                });
                match tail {
                    Tail::Short(padded) => padded.push_to(buf),
                    Tail::Long(text) => buf.extend_from_slice(text),
                }
            }
            None => buf.extend_from_slice(b",,public,true,,"),
        }
        cloud_fields(buf, info);
        buf.extend_from_slice(EMPTY_END);
    }
}

/// `class,default_mask,classful_network,`: constants per class, and the classful network's
/// text is a prefix of the address's text (`192.168.1` + `.0/24`): nothing is formatted.
#[inline]
fn class_fields(buf: &mut Vec<u8>, class: Option<Ipv4Class>, address: &Ipv4Text) {
    match class {
        None => buf.extend_from_slice(b",,,"),
        Some(Ipv4Class::A) => {
            buf.extend_from_slice(b"A,255.0.0.0,");
            address.push_prefix(buf, 1);
            buf.extend_from_slice(b".0.0.0/8,");
        }
        Some(Ipv4Class::B) => {
            buf.extend_from_slice(b"B,255.255.0.0,");
            address.push_prefix(buf, 2);
            buf.extend_from_slice(b".0.0/16,");
        }
        Some(Ipv4Class::C) => {
            buf.extend_from_slice(b"C,255.255.255.0,");
            address.push_prefix(buf, 3);
            buf.extend_from_slice(b".0/24,");
        }
        Some(Ipv4Class::D) => buf.extend_from_slice(b"D,,,"),
        Some(Ipv4Class::E) => buf.extend_from_slice(b"E,,,"),
    }
}

/// `range,range_name,scope,global,multicast_scope,`
fn range_fields(
    buf: &mut Vec<u8>,
    range: Option<&RangeInfo>,
    scope: Scope,
    global: bool,
    mscope: Option<&str>,
) {
    push_opt(buf, range.map(|r| r.prefix));
    push_opt(buf, range.map(|r| r.name));
    buf.extend_from_slice(scope.as_str().as_bytes());
    buf.extend_from_slice(if global { b",true," } else { b",false," });
    push_opt(buf, mscope);
}

/// `provider,asn`
#[inline]
fn cloud_fields(buf: &mut Vec<u8>, info: &AddrInfo) {
    if let Some(m) = info.cloud {
        buf.extend_from_slice(m.provider.id.as_bytes());
        buf.push(b',');
        push_int(buf, m.asn);
    } else {
        buf.push(b',');
    }
}

fn push_addr(buf: &mut Vec<u8>, addr: IpAddr) {
    match addr {
        IpAddr::V4(a) => push_ipv4(buf, a),
        // Writing to a Vec cannot fail.
        IpAddr::V6(a) => drop(write!(buf, "{a}")),
    }
}

fn push_opt(buf: &mut Vec<u8>, text: Option<&str>) {
    if let Some(t) = text {
        push_field(buf, t);
    }
    buf.push(b',');
}

/// Any row: IPv6, CIDR, embedded addresses.
fn row(buf: &mut Vec<u8>, c: &Classified<'_>) {
    let info = &c.info;
    push_field(buf, &c.input_text());
    buf.push(b',');
    push_addr(buf, info.address);
    buf.extend_from_slice(if info.address.is_ipv4() {
        b",4,"
    } else {
        b",6,"
    });
    match info.address {
        IpAddr::V4(a) => class_fields(buf, info.class, &ipv4_text(a)),
        IpAddr::V6(_) => buf.extend_from_slice(b",,,"),
    }
    range_fields(
        buf,
        info.range,
        info.scope,
        info.global,
        info.multicast_scope,
    );
    cloud_fields(buf, info);
    buf.push(b',');
    for (i, (kind, addr)) in info.embedded.addresses().enumerate() {
        if i > 0 {
            buf.push(b' ');
        }
        buf.extend_from_slice(kind.as_bytes());
        buf.push(b':');
        push_ipv4(buf, addr);
    }
    buf.push(b',');
    subnet_fields(buf, c.subnet);
    buf.push(b'\n');
}

fn subnet_fields(buf: &mut Vec<u8>, subnet: Option<Subnet>) {
    match subnet {
        None => buf.extend_from_slice(b",,,,,"),
        Some(Subnet::V4(s)) => {
            drop(write!(buf, "{},{},", s.network, s.netmask));
            if let Some(b) = s.broadcast {
                push_ipv4(buf, b);
            }
            drop(write!(buf, ",{},{},{}", s.first_host, s.last_host, s.hosts));
        }
        Some(Subnet::V6(s)) => {
            drop(write!(
                buf,
                "{},{},,{},{},{}",
                s.network,
                s.network.netmask(),
                s.first,
                s.last,
                s.addresses()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(items: &[Classified<'_>]) -> String {
        let mut out = Vec::new();
        let mut sink = ClassifyCsv::new(&mut out);
        for c in items {
            sink.record(c).unwrap();
        }
        sink.finish().unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rows_have_every_column() {
        let text = csv(&[
            Classified::address("192.168.1.103", "192.168.1.103".parse().unwrap()),
            Classified::address("0.0.0.1", "0.0.0.1".parse().unwrap()),
            Classified::network("10.1.2.3/31", "10.1.2.3/31".parse().unwrap()),
            Classified::address("2002:c000:204::1", "2002:c000:204::1".parse().unwrap()),
            Classified::network("2001:db8::/126", "2001:db8::/126".parse().unwrap()),
            Classified::address("1.1.1.1", "1.1.1.1".parse().unwrap()),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], HEADER.trim_end());
        assert_eq!(
            lines[1],
            "192.168.1.103,192.168.1.103,4,C,255.255.255.0,192.168.1.0/24,192.168.0.0/16,Private-Use,private,false,,,,,,,,,,"
        );
        assert_eq!(
            lines[2],
            "0.0.0.1,0.0.0.1,4,A,255.0.0.0,0.0.0.0/8,0.0.0.0/8,\"\"\"This network\"\"\",this-network,false,,,,,,,,,,"
        );
        assert_eq!(
            lines[3],
            "10.1.2.3/31,10.1.2.3,4,A,255.0.0.0,10.0.0.0/8,10.0.0.0/8,Private-Use,private,false,,,,,10.1.2.2/31,255.255.255.254,,10.1.2.2,10.1.2.3,2"
        );
        assert_eq!(
            lines[4],
            "2002:c000:204::1,2002:c000:204::1,6,,,,2002::/16,6to4,public,true,,,,6to4:192.0.2.4,,,,,,"
        );
        assert_eq!(
            lines[5],
            "2001:db8::/126,2001:db8::,6,,,,2001:db8::/32,Documentation,documentation,false,,,,,2001:db8::/126,ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc,,2001:db8::,2001:db8::3,4"
        );
        assert_eq!(
            lines[6],
            "1.1.1.1,1.1.1.1,4,A,255.0.0.0,1.0.0.0/8,,,public,true,,cloudflare,13335,,,,,,,"
        );
    }

    #[test]
    fn fast_ipv4_rows_equal_the_general_rows() {
        let mut x: u32 = 12345;
        let mut fast = ClassifyCsv::new(Vec::new());
        let mut general = Vec::new();
        for i in 0..300_000u32 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            // Every block's first address too, so every cached tail is exercised.
            let a = Ipv4Addr::from(if i < 256 { i << 24 } else { x });
            let text = a.to_string();
            let c = Classified::address(&text, a.into());
            // Alternate the two input forms; both must give the general row's bytes.
            let input = if i % 2 == 0 {
                Input::Text(&text)
            } else {
                Input::Canonical
            };
            fast.ipv4_row(input, a, &c.info);
            row(&mut general, &c);
        }
        assert_eq!(
            String::from_utf8_lossy(&fast.buf[HEADER.len()..]),
            String::from_utf8_lossy(&general)
        );
    }
}
