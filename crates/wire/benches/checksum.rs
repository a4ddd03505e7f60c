//! The Internet checksum (RFC 1071): via6-wire against smoltcp, side by side in
//! one run, on a minimal frame (64 B), an Ethernet MTU (1500 B) and a maximal
//! IPv4 datagram / TSO-sized buffer (64 KiB).
//!
//! Both sides compute over the same deterministic, unaligned-start buffer.
//! via6's `checksum` includes the final complement, smoltcp's `data` does not;
//! one `!` is noise at every size measured.
//!
//! Run: `cargo bench -p via6-wire --bench checksum`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const SIZES: [(usize, &str); 3] = [(64, "64B"), (1500, "1500B"), (65536, "64KiB")];

/// Deterministic bytes (xorshift), so every run sums the same data.
fn buffer(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn bench_checksum(c: &mut Criterion) {
    let mut group = c.benchmark_group("checksum");
    for (len, name) in SIZES {
        let data = buffer(len);
        // Both implementations must agree before we time them.
        assert_eq!(
            via6_wire::checksum::checksum(&data),
            !smoltcp::wire::checksum::data(&data),
            "via6 and smoltcp disagree at {len} bytes"
        );
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("via6", name), &data, |b, d| {
            b.iter(|| via6_wire::checksum::checksum(black_box(d)))
        });
        group.bench_with_input(BenchmarkId::new("smoltcp", name), &data, |b, d| {
            b.iter(|| smoltcp::wire::checksum::data(black_box(d)))
        });
    }
    group.finish();
}

/// The fused copy-and-checksum against a copy followed by a checksum pass
/// (what TCP emit did before), and against the plain checksum alone: the
/// fused pass should cost no more than the checksum alone.
fn bench_copy_and_sum(c: &mut Criterion) {
    let mut group = c.benchmark_group("copy_and_sum");
    for (len, name) in SIZES {
        let data = buffer(len);
        let mut dst = vec![0u8; len];
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(BenchmarkId::new("fused", name), |b| {
            b.iter(|| via6_wire::checksum::copy_and_sum(black_box(&mut dst[..]), black_box(&data[..])))
        });
        group.bench_function(BenchmarkId::new("copy_then_sum", name), |b| {
            b.iter(|| {
                black_box(&mut dst[..]).copy_from_slice(black_box(&data[..]));
                via6_wire::checksum::ones_sum(&dst)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_checksum, bench_copy_and_sum);
criterion_main!(benches);
