//! Criterion benchmarks for the pure classification path: parse, classify, render.
//!
//! Whole-program comparisons with Python live in `bench/classify.sh`; these isolate the
//! pieces so a regression points at its cause.
//!
//! criterion is a Linux-only dev-dependency (its C helper would need each target's C
//! toolchain to cross-check macOS and FreeBSD): elsewhere this bench only says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark of known inputs"
)]

#[cfg(target_os = "linux")]
mod on_linux {
    use super::black_box;
    use criterion::{Criterion, Throughput, criterion_group};
    use ipdiag::classify::ipv4::classify_v4;
    use ipdiag::classify::ipv4_parse::parse_fast;
    use ipdiag::classify::{Classified, classify, parse_item};
    use ipdiag::output::classify_csv::ClassifyCsv;
    use std::net::Ipv4Addr;

    /// Deterministic pseudo-random addresses (xorshift), the same in every run.
    fn addresses(n: usize) -> Vec<Ipv4Addr> {
        let mut x: u32 = 0x2545_f491;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                Ipv4Addr::from(x)
            })
            .collect()
    }

    fn benches(c: &mut Criterion) {
        let addrs = addresses(100_000);
        let texts: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        let mut group = c.benchmark_group("ipv4");
        group.throughput(Throughput::Elements(addrs.len() as u64));
        group.bench_function("parse_fast", |b| {
            b.iter(|| {
                texts
                    .iter()
                    .filter_map(|t| parse_fast(black_box(t.as_bytes())))
                    .count()
            });
        });
        group.bench_function("classify_v4", |b| {
            b.iter(|| {
                addrs
                    .iter()
                    .filter(|a| classify_v4(black_box(**a)).global)
                    .count()
            });
        });
        group.bench_function("parse_classify_csv", |b| {
            let mut sink = ClassifyCsv::new(std::io::sink());
            b.iter(|| {
                for t in &texts {
                    if let Some(a) = parse_fast(t.as_bytes()) {
                        sink.record(&Classified::canonical(a.into())).ok();
                    }
                }
            });
        });
        group.finish();

        let mut group = c.benchmark_group("general");
        let mixed = [
            "192.168.1.103/24",
            "2001:db8::1",
            "::ffff:10.0.0.1",
            "fe80::1%eth0",
            "localhost",
        ];
        group.bench_function("parse_item_mixed", |b| {
            b.iter(|| {
                mixed
                    .iter()
                    .filter(|t| parse_item(black_box(t)).is_ok())
                    .count()
            });
        });
        group.bench_function("classify_v6", |b| {
            let v6 = "2600:1f18::1".parse().unwrap();
            b.iter(|| classify(black_box(v6)));
        });
        group.finish();
    }

    criterion_group!(classify_benches, benches);

    /// What `criterion_main!` would write, callable from the crate's `main`.
    pub fn run() {
        classify_benches();
        Criterion::default().configure_from_args().final_summary();
    }
}

use std::hint::black_box;

#[cfg(target_os = "linux")]
fn main() {
    on_linux::run();
}

#[cfg(not(target_os = "linux"))]
fn main() {
    black_box(());
    eprintln!("the criterion benchmarks run on Linux only");
}
