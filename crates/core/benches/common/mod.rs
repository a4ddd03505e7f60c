//! Shared by the FIB and forwarding benchmarks: the RIPE RIS tables
//! (decompressed with `gzip -dc`), next hops derived per prefix, a
//! deterministic RNG and a median-of-runs timer.
#![allow(dead_code)]

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod clock;
pub use clock::cpu_time;

/// `$VIA6_BGP_DIR`, else `../shared/data/bgp` next to the clone, else
/// `/work/shared/data/bgp`.
pub fn bgp_dir() -> PathBuf {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("VIA6_BGP_DIR").map(PathBuf::from),
        Some(here.join("../../../shared/data/bgp")),
        Some(PathBuf::from("/work/shared/data/bgp")),
    ];
    match candidates.into_iter().flatten().find(|d| d.join("ris-20260511-as3333-ipv4-table.txt.gz").exists())
    {
        Some(d) => d,
        None => {
            eprintln!("BGP data not found: set VIA6_BGP_DIR or put shared/ next to the clone");
            std::process::exit(2);
        }
    }
}

pub fn lines(name: &str) -> Vec<String> {
    let out =
        std::process::Command::new("gzip").arg("-dc").arg(bgp_dir().join(name)).output().expect("gzip runs");
    assert!(out.status.success(), "gzip -dc {name}");
    String::from_utf8(out.stdout).expect("ASCII").lines().map(str::to_owned).collect()
}

fn split(p: &str) -> (&str, u8) {
    let (a, l) = p.split_once('/').expect("prefix/len");
    (a, l.parse().expect("length"))
}

pub fn parse_v4(p: &str) -> (u32, u8) {
    let (a, l) = split(p);
    (a.parse::<Ipv4Addr>().expect("IPv4").to_bits(), l)
}

pub fn parse_v6(p: &str) -> (u128, u8) {
    let (a, l) = split(p);
    (a.parse::<Ipv6Addr>().expect("IPv6").to_bits(), l)
}

pub fn table_v4() -> Vec<(u32, u8)> {
    lines("ris-20260511-as3333-ipv4-table.txt.gz").iter().map(|l| parse_v4(l)).collect()
}

pub fn table_v6() -> Vec<(u128, u8)> {
    lines("ris-20260511-as3333-ipv6-table.txt.gz").iter().map(|l| parse_v6(l)).collect()
}

/// Announce (true) or withdraw (false), in arrival order.
pub fn updates_v4() -> Vec<(bool, u32, u8)> {
    lines("ris-20260511-as3333-ipv4-updates.txt.gz")
        .iter()
        .map(|l| {
            let (op, p) = l.split_once(' ').expect("op prefix");
            let (k, n) = parse_v4(p);
            (op == "A", k, n)
        })
        .collect()
}

pub fn updates_v6() -> Vec<(bool, u128, u8)> {
    lines("ris-20260511-as3333-ipv6-updates.txt.gz")
        .iter()
        .map(|l| {
            let (op, p) = l.split_once(' ').expect("op prefix");
            let (k, n) = parse_v6(p);
            (op == "A", k, n)
        })
        .collect()
}

/// Number of distinct next hops.
pub const NEXT_HOPS: u64 = 320;

/// The next hop of a prefix: a hash of it modulo `NEXT_HOPS` (even ids are
/// IPv4 gateways, odd ones IPv6 gateways where a caller needs addresses).
pub fn next_hop(key: u128, len: u8) -> u32 {
    let mut h = (key as u64) ^ ((key >> 64) as u64) ^ (u64::from(len) << 56);
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    (h % NEXT_HOPS) as u32
}

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn u128(&mut self) -> u128 {
        (u128::from(self.next()) << 64) | u128::from(self.next())
    }
}

/// On-CPU time of `f`.
pub fn time(f: impl FnOnce()) -> Duration {
    let s = cpu_time();
    f();
    cpu_time().saturating_sub(s)
}

/// Median of `runs` on-CPU timings of `f`. Each sample repeats `f` until it
/// lasts at least 200 ms of wall time and is divided by the repetitions.
pub fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let s = Instant::now();
    f();
    let once = s.elapsed().max(Duration::from_micros(1));
    let reps = (Duration::from_millis(200).as_nanos() / once.as_nanos()).clamp(1, 10_000) as u32;
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            time(|| {
                for _ in 0..reps {
                    f();
                }
            }) / reps
        })
        .collect();
    t.sort();
    t[runs / 2]
}

/// Runs from the command line: `--runs N` (default 7).
pub fn runs() -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(7)
}
