//! The floor for bench/classify.sh: parse each line with the standard library and print
//! one CSV field (the first octet), reusing buffers. No classification, so a full
//! classifier can only approach this speed.
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::net::Ipv4Addr;

fn main() {
    let mut input = BufReader::with_capacity(1 << 16, std::io::stdin().lock());
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut line = Vec::new();
    let mut field = [0u8; 4];
    while input.read_until(b'\n', &mut line).expect("stdin is readable") > 0 {
        let text = std::str::from_utf8(&line).unwrap_or("").trim_end();
        if let Ok(addr) = text.parse::<Ipv4Addr>() {
            let octet = addr.octets()[0];
            let digits = [octet / 100, octet / 10 % 10, octet % 10];
            let skip = if octet >= 100 { 0 } else if octet >= 10 { 1 } else { 2 };
            let n = 3 - skip;
            for (slot, d) in field.iter_mut().zip(&digits[skip..]) {
                *slot = b'0' + d;
            }
            field[n] = b'\n';
            out.write_all(&field[..=n]).expect("stdout is writable");
        }
        line.clear();
    }
}
