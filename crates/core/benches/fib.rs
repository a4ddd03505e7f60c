//! FIB benchmark on the full RIPE RIS tables: via6's Poptrie (`route::Lpm`)
//! against prefix-trie 0.10 in the same run. Prints markdown tables.
//!
//!     cargo bench -p via6-core --bench fib -- [--runs N]
//!
//! Every lookup figure is the median of N passes (default 7) over 1 M
//! addresses, one core, via6 and prefix-trie passes interleaved.
//!
//! `-- --profile [v4|v6]` only builds via6's tables and looks up the 1 M
//! in-table addresses once one at a time (`profile_single`) and once in
//! bursts (`profile_burst`), then replays the day's updates (`replay`), for an instruction count that does not depend
//! on the machine's load:
//!
//!     valgrind --tool=callgrind --toggle-collect='*profile_*' [--toggle-collect='*replay*'] <fib binary> --profile v6

mod common;

use common::{median, next_hop, runs, time, Rng};
use ipnet::{Ipv4Net, Ipv6Net};
use prefix_trie::{Prefix, PrefixMap};
use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;
use via6_core::route::{Lpm, PrefixKey};

/// Large blocks (the FIBs, prefix-trie's arrays, the address lists) on
/// transparent huge pages, as in the daemon; the bench also times copies of
/// both tables on 4 KiB pages.
#[global_allocator]
static ALLOC: via6_hugealloc::HugePageAlloc = via6_hugealloc::HugePageAlloc;

trait Family {
    type K: PrefixKey;
    type Net: Prefix + Copy;
    const NAME: &'static str;
    fn net(k: Self::K, l: u8) -> Self::Net;
    fn host(k: Self::K) -> Self::Net;
    fn wide(k: Self::K) -> u128;
    /// `k/l` with random host bits.
    fn inside(k: Self::K, l: u8, r: &mut Rng) -> Self::K;
}

struct V4;
impl Family for V4 {
    type K = u32;
    type Net = Ipv4Net;
    const NAME: &'static str = "IPv4";
    fn net(k: u32, l: u8) -> Ipv4Net {
        Ipv4Net::new(Ipv4Addr::from_bits(k), l).expect("length").trunc()
    }
    fn host(k: u32) -> Ipv4Net {
        Ipv4Net::from(Ipv4Addr::from_bits(k))
    }
    fn wide(k: u32) -> u128 {
        u128::from(k)
    }
    fn inside(k: u32, l: u8, r: &mut Rng) -> u32 {
        k | (r.next() as u32 & !u32::MAX.checked_shl(32 - u32::from(l)).unwrap_or(0))
    }
}

struct V6;
impl Family for V6 {
    type K = u128;
    type Net = Ipv6Net;
    const NAME: &'static str = "IPv6";
    fn net(k: u128, l: u8) -> Ipv6Net {
        Ipv6Net::new(Ipv6Addr::from_bits(k), l).expect("length").trunc()
    }
    fn host(k: u128) -> Ipv6Net {
        Ipv6Net::from(Ipv6Addr::from_bits(k))
    }
    fn wide(k: u128) -> u128 {
        k
    }
    fn inside(k: u128, l: u8, r: &mut Rng) -> u128 {
        k | (r.u128() & !u128::MAX.checked_shl(128 - u32::from(l)).unwrap_or(0))
    }
}

/// Addresses per `lookup_batch` call: a forwarding burst.
const BURST: usize = 32;

fn mps(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64() / 1e6
}

/// Lookups/s of via6 one at a time, via6 in bursts, and prefix-trie one at
/// a time over `addrs`: medians of `runs` interleaved passes.
fn time_lookups<F: Family>(
    t: &Lpm<F::K>,
    pt: &PrefixMap<F::Net, u32>,
    addrs: &[F::K],
    runs: usize,
) -> (f64, f64, f64) {
    let mut out = vec![None; BURST];
    let (mut dv, mut db, mut dp) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        dv.push(median(1, || {
            let mut acc = 0u32;
            for a in addrs {
                acc = acc.wrapping_add(t.lookup(black_box(*a)).unwrap_or(7));
            }
            black_box(acc);
        }));
        db.push(median(1, || {
            let mut acc = 0u32;
            for a in addrs.chunks(BURST) {
                t.lookup_batch(black_box(a), &mut out);
                for v in &out[..a.len()] {
                    acc = acc.wrapping_add(v.unwrap_or(7));
                }
            }
            black_box(acc);
        }));
        dp.push(median(1, || {
            let mut acc = 0u32;
            for a in addrs {
                acc = acc.wrapping_add(pt.get_lpm(&F::host(black_box(*a))).map_or(7, |(_, v)| *v));
            }
            black_box(acc);
        }));
    }
    for d in [&mut dv, &mut db, &mut dp] {
        d.sort();
    }
    let med = |d: &[Duration]| mps(addrs.len(), d[runs / 2]);
    (med(&dv), med(&db), med(&dp))
}

fn bench<F: Family>(
    table: &[(F::K, u8)],
    updates: &[(bool, F::K, u8)],
    sets: Vec<(&str, Vec<F::K>)>,
    runs: usize,
) {
    let n = table.len();
    let entries: Vec<(F::K, u8, u32)> =
        table.iter().map(|&(k, l)| (k.masked(l), l, next_hop(F::wide(k), l))).collect();

    println!("\n### {} — {} prefixes, {} next hops\n", F::NAME, n, common::NEXT_HOPS);
    println!("| figure | via6 | prefix-trie | via6 speed / prefix-trie speed |");
    println!("|---|---:|---:|---:|");

    // Build.
    let mut t = Lpm::<F::K>::new();
    let tb = median(3.min(runs), || t = Lpm::build(entries.iter().copied()));
    let mut pt: PrefixMap<F::Net, u32> = PrefixMap::new();
    let pb = median(3.min(runs), || {
        pt = PrefixMap::new();
        for &(k, l, v) in &entries {
            pt.insert(F::net(k, l), v);
        }
    });
    println!(
        "| build, bulk (ms, median of {}) | {:.0} | {:.0} (inserts) | {:.2}× |",
        3.min(runs),
        tb.as_secs_f64() * 1e3,
        pb.as_secs_f64() * 1e3,
        pb.as_secs_f64() / tb.as_secs_f64()
    );
    let mut inc = Lpm::<F::K>::new();
    let ti = time(|| {
        for &(k, l, v) in &entries {
            inc.insert(k, l, v);
        }
    });
    println!(
        "| build, one insert at a time in file order (ms, 1 run) | {:.0} | {:.0} | {:.2}× |",
        ti.as_secs_f64() * 1e3,
        pb.as_secs_f64() * 1e3,
        pb.as_secs_f64() / ti.as_secs_f64()
    );
    drop(inc);
    let m = t.memory();
    println!(
        "| lookup structure: bytes per prefix ({:.1} MiB; {} nodes, {} leaves) | {:.2} | — | — |",
        m.lookup_bytes as f64 / 1048576.0,
        m.nodes,
        m.leaves,
        m.lookup_bytes as f64 / n as f64
    );
    println!(
        "| update side (shadow of the prefixes, est.): bytes per prefix | {:.1} | — | — |",
        m.update_bytes as f64 / n as f64
    );

    // The same tables copied onto 4 KiB pages, for the comparison row.
    via6_hugealloc::set_advise(false);
    let small = (t.clone(), pt.clone());
    via6_hugealloc::set_advise(true);
    if let Some(b) = via6_hugealloc::anon_huge_bytes() {
        println!(
            "| process memory on 2 MiB pages after the builds (`AnonHugePages`; MiB) | {:.0} | — | — |",
            b as f64 / 1048576.0
        );
    }

    // Lookups.
    for (name, addrs) in &sets {
        // Both must agree before they are timed.
        for a in addrs.iter().take(100_000) {
            let want = pt.get_lpm(&F::host(*a)).map(|(_, v)| *v);
            assert_eq!(t.lookup(*a), want, "{} {name}: disagreement", F::NAME);
        }
        let mut out = vec![None; BURST];
        for a in addrs.chunks(BURST).take(100_000 / BURST) {
            t.lookup_batch(a, &mut out);
            for (x, y) in a.iter().zip(out.iter()) {
                assert_eq!(t.lookup(*x), *y, "{} {name}: batched disagreement", F::NAME);
            }
        }
        let reads: u64 = addrs.iter().map(|a| u64::from(t.reads(*a))).sum();
        println!(
            "| dependent memory reads per lookup, {name} (mean; load-independent) | {:.2} | — | — |",
            reads as f64 / addrs.len() as f64
        );
        let (v, b, p) = time_lookups::<F>(&t, &pt, addrs, runs);
        println!(
            "| lookups, {name}, one at a time (M/s, median of {runs}) | {v:.1} | {p:.2} | {:.1}× |",
            v / p
        );
        println!(
            "| lookups, {name}, bursts of {BURST} (`lookup_batch`; M/s, median of {runs}) | {b:.1} | {p:.2} (one at a time) | {:.1}× |",
            b / p
        );
        if *name == "in-table addresses" {
            let (v, b, p) = time_lookups::<F>(&small.0, &small.1, addrs, runs);
            println!(
                "| lookups, {name}, tables on 4 KiB pages (copies made without `MADV_HUGEPAGE`), one at a time | {v:.1} | {p:.2} | {:.1}× |",
                v / p
            );
            println!(
                "| lookups, {name}, tables on 4 KiB pages, bursts of {BURST} | {b:.1} | {p:.2} (one at a time) | {:.1}× |",
                b / p
            );
        }
    }

    // The day's updates.
    for (label, fresh) in [("next hop from the prefix", false), ("a new next hop per announcement", true)] {
        let mut dv = Vec::new();
        let mut dp = Vec::new();
        for _ in 0..3.min(runs) {
            let mut c = t.clone();
            dv.push(time(|| replay::<F>(&mut c, updates, fresh)));
            black_box(&c);
            let mut c = pt.clone();
            dp.push(time(|| {
                for (i, &(a, k, l)) in updates.iter().enumerate() {
                    let net = F::net(k, l);
                    if a {
                        c.insert(net, announced::<F>(i, k, l, fresh));
                    } else {
                        c.remove(&net);
                    }
                }
            }));
            black_box(&c);
        }
        dv.sort();
        dp.sort();
        let (v, p) = (mps(updates.len(), dv[dv.len() / 2]), mps(updates.len(), dp[dp.len() / 2]));
        println!(
            "| the day's {} updates replayed, {label} (M updates/s, median of {}) | {v:.2} | {p:.2} | {:.2}× |",
            updates.len(),
            dv.len(),
            v / p
        );
    }
}

/// The next hop of the `i`th update's announcement of `k/l`: the prefix's
/// own (an announcement that changes nothing in the FIB), or a new one each
/// time (every announcement rewrites the FIB).
fn announced<F: Family>(i: usize, k: F::K, l: u8, fresh: bool) -> u32 {
    if fresh {
        next_hop(F::wide(k) ^ (i as u128) << 7, l)
    } else {
        next_hop(F::wide(k), l)
    }
}

/// Applies the day's updates to `t` in arrival order.
#[inline(never)]
fn replay<F: Family>(t: &mut Lpm<F::K>, updates: &[(bool, F::K, u8)], fresh: bool) {
    for (i, &(a, k, l)) in updates.iter().enumerate() {
        if a {
            t.insert(k, l, announced::<F>(i, k, l, fresh));
        } else {
            t.remove(k, l);
        }
    }
}

/// One lookup after another over `addrs`.
#[inline(always)]
fn single_pass<K: PrefixKey, const MISSING: u32>(t: &Lpm<K>, addrs: &[K]) -> u32 {
    addrs.iter().fold(0u32, |acc, a| acc.wrapping_add(t.lookup(black_box(*a)).unwrap_or(MISSING)))
}

/// `lookup_batch` over `addrs` in bursts of [`BURST`].
#[inline(always)]
fn burst_pass<K: PrefixKey, const MISSING: u32>(t: &Lpm<K>, addrs: &[K]) -> u32 {
    let mut out = [None; BURST];
    addrs.chunks(BURST).fold(0u32, |acc, a| {
        t.lookup_batch(black_box(a), &mut out);
        out[..a.len()].iter().fold(acc, |acc, v| acc.wrapping_add(v.unwrap_or(MISSING)))
    })
}

/// [`single_pass`] over in-table addresses (`--profile`; callgrind
/// `--toggle-collect='*profile_*'`).
#[inline(never)]
fn profile_single<K: PrefixKey>(t: &Lpm<K>, addrs: &[K]) -> u32 {
    single_pass::<K, 7>(t, addrs)
}

/// [`burst_pass`] over in-table addresses (`--profile`).
#[inline(never)]
fn profile_burst<K: PrefixKey>(t: &Lpm<K>, addrs: &[K]) -> u32 {
    burst_pass::<K, 7>(t, addrs)
}

/// [`single_pass`] over random addresses (`--profile`; callgrind
/// `--toggle-collect='*random_lookups_*'`: a matched function called from
/// another matched one would toggle collection off; its own constant
/// keeps the compiler from merging it with [`profile_single`]).
#[inline(never)]
fn random_lookups_single<K: PrefixKey>(t: &Lpm<K>, addrs: &[K]) -> u32 {
    single_pass::<K, 11>(t, addrs)
}

/// [`burst_pass`] over random addresses (`--profile`).
#[inline(never)]
fn random_lookups_burst<K: PrefixKey>(t: &Lpm<K>, addrs: &[K]) -> u32 {
    burst_pass::<K, 11>(t, addrs)
}

/// `--profile`: build, then one pass of each lookup loop over `addrs`
/// (in-table) and `random`, then the day's updates with a new next hop per
/// announcement (`replay`).
fn profile<F: Family>(table: &[(F::K, u8)], updates: &[(bool, F::K, u8)], addrs: &[F::K], random: &[F::K]) {
    let mut t = Lpm::<F::K>::build(table.iter().map(|&(k, l)| (k.masked(l), l, next_hop(F::wide(k), l))));
    let (a, b) = (profile_single(&t, addrs), profile_burst(&t, addrs));
    assert_eq!(a, b, "bursts and single lookups disagree");
    let (c, d) = (random_lookups_single(&t, random), random_lookups_burst(&t, random));
    assert_eq!(c, d, "bursts and single lookups disagree on random addresses");
    replay::<F>(&mut t, updates, true);
    println!(
        "{}: {} in-table lookups each way (checksum {a:#x}), {} updates",
        F::NAME,
        addrs.len(),
        updates.len()
    );
}

fn main() {
    let runs = runs();
    let filter: Option<String> = std::env::args().skip(1).find(|a| a == "v4" || a == "v6");
    let profiling = std::env::args().any(|a| a == "--profile");
    let mut r = Rng::new(0x5eed_f1b0);
    const N: usize = 1 << 20;
    if filter.as_deref() != Some("v6") {
        let table = common::table_v4();
        let random: Vec<u32> = (0..N).map(|_| r.next() as u32).collect();
        let intable: Vec<u32> = (0..N)
            .map(|_| {
                let (k, l) = table[(r.next() % table.len() as u64) as usize];
                V4::inside(k, l, &mut r)
            })
            .collect();
        let hot: Vec<u32> = intable.iter().take(4096).cycle().take(N).copied().collect();
        if profiling {
            profile::<V4>(&table, &common::updates_v4(), &intable, &random);
        } else {
            bench::<V4>(
                &table,
                &common::updates_v4(),
                vec![
                    ("random addresses", random),
                    ("in-table addresses", intable),
                    ("in-table, 4096 addresses repeated (cache-hot)", hot),
                ],
                runs,
            );
        }
    }
    if filter.as_deref() != Some("v4") {
        let table = common::table_v6();
        let random: Vec<u128> = (0..N).map(|_| r.u128()).collect();
        let global: Vec<u128> = (0..N).map(|_| (r.u128() >> 3) | (1 << 125)).collect();
        let intable: Vec<u128> = (0..N)
            .map(|_| {
                let (k, l) = table[(r.next() % table.len() as u64) as usize];
                V6::inside(k, l, &mut r)
            })
            .collect();
        if profiling {
            profile::<V6>(&table, &common::updates_v6(), &intable, &random);
            return;
        }
        bench::<V6>(
            &table,
            &common::updates_v6(),
            vec![
                ("random addresses", random),
                ("random addresses in 2000::/3", global),
                ("in-table addresses", intable.clone()),
                (
                    "in-table, 4096 addresses repeated (cache-hot)",
                    intable.iter().take(4096).cycle().take(N).copied().collect(),
                ),
            ],
            runs,
        );
    }
}
