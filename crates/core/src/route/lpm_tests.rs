//! Correctness of the Poptrie FIB: longest-prefix match as RFC 1812 §5.2.4.3
//! (IPv4) and RFC 4291 §2.5 / RFC 8200 (IPv6) forwarding require it,
//! checked against a linear scan and against the prefix-trie crate, with
//! random tables and the full RIPE RIS tables and their day of updates.

use super::*;
use ipnet::{Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The longest of the prefixes holding `addr`, by a linear scan.
fn scan<K: PrefixKey>(list: &[(K, u8, u32)], addr: K) -> Option<u32> {
    list.iter().filter(|(k, l, _)| addr.masked(*l) == *k).max_by_key(|(_, l, _)| *l).map(|p| p.2)
}

#[test]
fn longest_prefix_wins_rfc1812_5_2_4_3() {
    let mut t = Lpm::<u32>::new();
    assert_eq!(t.lookup(0x0808_0808), None);
    t.insert(0, 0, 1);
    t.insert(0xcb00_7100, 24, 2);
    t.insert(0xcb00_7102, 32, 3);
    assert_eq!(t.lookup(0xcb00_7102), Some(3));
    assert_eq!(t.lookup(0xcb00_7103), Some(2));
    assert_eq!(t.lookup(0x0808_0808), Some(1));
    assert_eq!(t.get_exact(0xcb00_71ff, 24), Some(2));
    assert_eq!(t.lookup_prefix(0xcb00_7103), Some((0xcb00_7100, 24, 2)));
    assert_eq!(t.len(), 3);
    assert_eq!(t.remove(0, 0), Some(1));
    assert_eq!(t.lookup(0x0808_0808), None);
    assert_eq!(t.remove(0xcb00_7102, 32), Some(3));
    assert_eq!(t.lookup(0xcb00_7102), Some(2));
    assert_eq!(t.remove(0xcb00_7102, 32), None);
}

#[test]
fn withdrawing_a_short_prefix_restores_the_next_shorter_one() {
    let mut t = Lpm::<u32>::new();
    t.insert(0x0a00_0000, 8, 8);
    t.insert(0x0a00_0000, 12, 12);
    t.insert(0x0a00_0000, 16, 16);
    t.insert(0x0a00_0100, 24, 24);
    assert_eq!(t.lookup(0x0a00_0001), Some(16));
    assert_eq!(t.lookup(0x0a00_0101), Some(24));
    t.remove(0x0a00_0000, 16);
    assert_eq!(t.lookup(0x0a00_0001), Some(12));
    t.remove(0x0a00_0000, 12);
    assert_eq!(t.lookup(0x0a00_0001), Some(8));
    assert_eq!(t.lookup(0x0a0f_0001), Some(8));
    assert_eq!(t.lookup(0x0a00_0101), Some(24));
    t.remove(0x0a00_0100, 24);
    assert_eq!(t.lookup(0x0a00_0101), Some(8));
    t.remove(0x0a00_0000, 8);
    assert_eq!(t.lookup(0x0a00_0101), None);
    assert!(t.is_empty());
}

#[test]
fn ipv6_host_routes_and_default_rfc4291_2_5() {
    let mut t = Lpm::<u128>::new();
    let a: u128 = "2001:db8::1".parse::<Ipv6Addr>().unwrap().to_bits();
    t.insert(0, 0, 0);
    t.insert(a, 128, 1);
    t.insert(a, 127, 2);
    t.insert(a, 64, 3);
    assert_eq!(t.lookup(a), Some(1));
    assert_eq!(t.lookup(a ^ 1), Some(2));
    assert_eq!(t.lookup(a ^ 2), Some(3));
    assert_eq!(t.lookup(a ^ (1 << 64)), Some(0));
    t.remove(a, 128);
    assert_eq!(t.lookup(a), Some(2));
}

#[test]
fn the_largest_value_round_trips() {
    let mut t = Lpm::<u32>::new();
    t.insert(0, 0, Lpm::<u32>::MAX_VALUE);
    assert_eq!(t.lookup(1), Some(Lpm::<u32>::MAX_VALUE));
}

/// Keys clustered under a few bases so that prefixes nest deeply.
fn clustered_v4() -> impl Strategy<Value = (u32, u8)> {
    (0usize..4, any::<u32>(), 0u32..32, 0u8..=32).prop_map(|(b, r, shift, l)| {
        let base = [0u32, 0x0a00_0000, 0xc0a8_0000, 0xffff_ff00][b];
        (base ^ (r >> shift), l)
    })
}

fn clustered_v6() -> impl Strategy<Value = (u128, u8)> {
    (0usize..3, any::<u128>(), 0u32..128, 0u8..=128).prop_map(|(b, r, shift, l)| {
        let base = [0u128, 0x2001_0db8 << 96, u128::MAX][b];
        (base ^ (r >> shift), l)
    })
}

/// Replays inserts and removes into the structure and into a list, and
/// compares every lookup (random probes, each prefix's first and last
/// address and their neighbours) with a linear scan, after every step.
fn check_against_scan<K: PrefixKey + Wrap>(ops: &[(K, u8, bool)], probes: &[K]) -> Result<(), TestCaseError> {
    let mut t = Lpm::<K>::new();
    let mut list: Vec<(K, u8, u32)> = Vec::new();
    for (i, &(k, l, del)) in ops.iter().enumerate() {
        let k = k.masked(l);
        if del && !list.is_empty() {
            let (dk, dl, dv) = list.remove(i % list.len());
            prop_assert_eq!(t.remove(dk, dl), Some(dv));
        } else {
            t.insert(k, l, i as u32);
            list.retain(|(a, b, _)| !(*a == k && *b == l));
            list.push((k, l, i as u32));
        }
        prop_assert_eq!(t.len(), list.len());
        let mut all: Vec<K> = probes.to_vec();
        for &(pk, pl, _) in &list {
            let last = pk.last(pl);
            all.extend([pk, last, pk.wrapping_dec(), last.wrapping_inc()]);
        }
        let mut batch = vec![Some(u32::MAX); all.len()];
        t.lookup_batch(&all, &mut batch);
        // Rounds are what IPv6 bursts use; exercise them for both families.
        let mut rounds = vec![Some(u32::MAX); all.len()];
        for (a, o) in all.chunks(LANES).zip(rounds.chunks_mut(LANES)) {
            t.lookup_rounds(a, o);
        }
        for ((p, b), r) in all.into_iter().zip(batch).zip(rounds) {
            prop_assert_eq!(t.lookup(p), scan(&list, p), "probe {:?} after op {}", p, i);
            prop_assert_eq!(b, scan(&list, p), "batched probe {:?} after op {}", p, i);
            prop_assert_eq!(r, scan(&list, p), "probe {:?} in rounds after op {}", p, i);
        }
    }
    // The bulk build of the final set agrees with the incrementally built one.
    let b = Lpm::build(list.iter().copied());
    for &(pk, pl, _) in &list {
        for p in [pk, pk.last(pl)] {
            prop_assert_eq!(b.lookup(p), t.lookup(p));
        }
    }
    Ok(())
}

trait Wrap: Sized {
    fn wrapping_inc(self) -> Self;
    fn wrapping_dec(self) -> Self;
}
impl Wrap for u32 {
    fn wrapping_inc(self) -> u32 {
        self.wrapping_add(1)
    }
    fn wrapping_dec(self) -> u32 {
        self.wrapping_sub(1)
    }
}
impl Wrap for u128 {
    fn wrapping_inc(self) -> u128 {
        self.wrapping_add(1)
    }
    fn wrapping_dec(self) -> u128 {
        self.wrapping_sub(1)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn ipv4_lookup_matches_linear_scan(
        ops in proptest::collection::vec((clustered_v4(), proptest::bool::weighted(0.3)), 1..60),
        probes in proptest::collection::vec(any::<u32>(), 1..30),
    ) {
        let ops: Vec<(u32, u8, bool)> = ops.into_iter().map(|((k, l), d)| (k, l, d)).collect();
        check_against_scan(&ops, &probes)?;
    }

    #[test]
    fn ipv6_lookup_matches_linear_scan(
        ops in proptest::collection::vec((clustered_v6(), proptest::bool::weighted(0.3)), 1..60),
        probes in proptest::collection::vec(any::<u128>(), 1..30),
    ) {
        let ops: Vec<(u128, u8, bool)> = ops.into_iter().map(|((k, l), d)| (k, l, d)).collect();
        check_against_scan(&ops, &probes)?;
    }

    #[test]
    fn ipv4_lookup_matches_prefix_trie(
        ops in proptest::collection::vec((clustered_v4(), proptest::bool::weighted(0.25)), 1..400),
        probes in proptest::collection::vec(any::<u32>(), 1..200),
    ) {
        let mut t = Lpm::<u32>::new();
        let mut pt: PrefixMap<Ipv4Net, u32> = PrefixMap::new();
        for (i, ((k, l), del)) in ops.iter().enumerate() {
            let net = Ipv4Net::new(Ipv4Addr::from_bits(*k), *l).unwrap().trunc();
            if *del {
                prop_assert_eq!(t.remove(*k, *l), pt.remove(&net));
            } else {
                t.insert(*k, *l, i as u32);
                pt.insert(net, i as u32);
            }
        }
        for p in probes.iter().copied().chain(ops.iter().map(|((k, _), _)| *k)) {
            let host = Ipv4Net::new(Ipv4Addr::from_bits(p), 32).unwrap();
            prop_assert_eq!(t.lookup(p), pt.get_lpm(&host).map(|(_, v)| *v));
        }
    }

    #[test]
    fn ipv6_lookup_matches_prefix_trie(
        ops in proptest::collection::vec((clustered_v6(), proptest::bool::weighted(0.25)), 1..400),
        probes in proptest::collection::vec(any::<u128>(), 1..200),
    ) {
        let mut t = Lpm::<u128>::new();
        let mut pt: PrefixMap<Ipv6Net, u32> = PrefixMap::new();
        for (i, ((k, l), del)) in ops.iter().enumerate() {
            let net = Ipv6Net::new(Ipv6Addr::from_bits(*k), *l).unwrap().trunc();
            if *del {
                prop_assert_eq!(t.remove(*k, *l), pt.remove(&net));
            } else {
                t.insert(*k, *l, i as u32);
                pt.insert(net, i as u32);
            }
        }
        for p in probes.iter().copied().chain(ops.iter().map(|((k, _), _)| *k)) {
            let host = Ipv6Net::new(Ipv6Addr::from_bits(p), 128).unwrap();
            prop_assert_eq!(t.lookup(p), pt.get_lpm(&host).map(|(_, v)| *v));
        }
    }
}

/// Many updates under one /18 churn the free lists and trigger compaction;
/// lookups must stay exact throughout.
#[test]
fn churn_through_free_lists_and_compaction_stays_exact() {
    let mut t = Lpm::<u32>::new();
    let mut pt: PrefixMap<Ipv4Net, u32> = PrefixMap::new();
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    for i in 0..200_000u32 {
        let r = next();
        let l = 8 + (r % 25) as u8;
        let k = ((r >> 8) as u32 & 0x00ff_ffff | 0x0a00_0000).masked(l);
        let net = Ipv4Net::new(Ipv4Addr::from_bits(k), l).unwrap();
        if r >> 60 < 5 {
            assert_eq!(t.remove(k, l), pt.remove(&net));
        } else {
            t.insert(k, l, i);
            pt.insert(net, i);
        }
        if i % 10_000 == 0 {
            for _ in 0..2000 {
                let p = (next() as u32 & 0x00ff_ffff) | 0x0a00_0000;
                let host = Ipv4Net::new(Ipv4Addr::from_bits(p), 32).unwrap();
                assert_eq!(t.lookup(p), pt.get_lpm(&host).map(|(_, v)| *v), "probe {p:#x} at {i}");
            }
        }
    }
    assert_eq!(t.len(), pt.len());
    drain_compacts_and_stays_exact(&mut t);
}

/// The same churn under one IPv6 /24, prefixes /16 to /64 (the four-word
/// eight-bit nodes: in-place leaf patches, node rebuilds, free lists by
/// word count, compaction), with a few values so runs merge and split.
#[test]
fn ipv6_churn_through_free_lists_and_compaction_stays_exact() {
    let mut t = Lpm::<u128>::new();
    let mut pt: PrefixMap<Ipv6Net, u32> = PrefixMap::new();
    let mut next = xorshift(0x2545_f491_4f6c_dd1d);
    let site = 0x2001_0d00u128 << 96;
    for i in 0..200_000u32 {
        let r = next();
        let l = 16 + (r % 49) as u8;
        // Bits 24..64 random but clustered (16 bits of them fixed), so
        // prefixes nest and share nodes.
        let k = (site | (u128::from(next() & 0xff_ff00_00ff_ffff) << 64)).masked(l);
        let net = Ipv6Net::new(Ipv6Addr::from_bits(k), l).unwrap();
        if r >> 60 < 5 {
            assert_eq!(t.remove(k, l), pt.remove(&net));
        } else {
            let v = (r >> 32) as u32 % 4;
            t.insert(k, l, v);
            pt.insert(net, v);
        }
        if i % 10_000 == 0 {
            for _ in 0..2000 {
                let p = site | (u128::from(next() & 0xff_ff00_00ff_ffff) << 64) | u128::from(next());
                let host = Ipv6Net::new(Ipv6Addr::from_bits(p), 128).unwrap();
                assert_eq!(t.lookup(p), pt.get_lpm(&host).map(|(_, v)| *v), "probe {p:#x} at {i}");
            }
        }
    }
    assert_eq!(t.len(), pt.len());
    drain_compacts_and_stays_exact(&mut t);
}

/// Withdraws all but every 32nd prefix of `t`: the freed arrays pass a
/// half of the live ones, so the structure is rebuilt compactly (the node
/// array shrinks), and every lookup still equals a linear scan of what is
/// left (each prefix's first and last address and their neighbours).
fn drain_compacts_and_stays_exact<K: PrefixKey + Wrap>(t: &mut Lpm<K>) {
    let all: Vec<(K, u8, u32)> = t.iter().collect();
    let peak = t.nodes.len();
    let mut left = Vec::new();
    for (i, &(k, l, v)) in all.iter().enumerate() {
        if i % 32 == 0 {
            left.push((k, l, v));
        } else {
            assert_eq!(t.remove(k, l), Some(v));
        }
    }
    assert!(t.nodes.len() < peak / 2, "compacted: {} node words, {peak} at the peak", t.nodes.len());
    for &(k, l, _) in &left {
        let last = k.last(l);
        for p in [k, last, k.wrapping_dec(), last.wrapping_inc()] {
            assert_eq!(t.lookup(p), scan(&left, p), "probe {p:?} after the drain");
        }
    }
}

// ----- the full RIPE RIS tables -----

/// The BGP data directory: `$VIA6_BGP_DIR`, else `../shared/data/bgp` next to
/// the clone (where CI has it), else `/work/shared/data/bgp`.
fn bgp_dir() -> Option<std::path::PathBuf> {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("VIA6_BGP_DIR").map(std::path::PathBuf::from),
        Some(here.join("../../../shared/data/bgp")),
        Some(std::path::PathBuf::from("/work/shared/data/bgp")),
    ];
    candidates.into_iter().flatten().find(|d| d.join("ris-20260511-as3333-ipv4-table.txt.gz").exists())
}

/// Decompresses `name` with `gzip -dc` (no runtime dependency), or `None`
/// when the data is absent: a failure under CI=true, a loud skip otherwise.
fn bgp_lines(name: &str) -> Option<Vec<String>> {
    let Some(dir) = bgp_dir() else {
        let msg = format!("BGP data {name} not found (set VIA6_BGP_DIR or put shared/ next to the clone)");
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}: required under CI=true");
        }
        eprintln!("SKIPPED: {msg}");
        return None;
    };
    let out = std::process::Command::new("gzip").arg("-dc").arg(dir.join(name)).output().expect("gzip runs");
    assert!(out.status.success(), "gzip -dc {name} failed");
    let text = String::from_utf8(out.stdout).expect("ASCII table");
    Some(text.lines().map(str::to_owned).collect())
}

fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

const PROBES: usize = 2_000_000;

/// The full IPv4 table (1.04 M prefixes), built in bulk and incrementally,
/// agrees with prefix-trie on 2 M random and 2 M in-table addresses; then the
/// day's 1.39 M updates are replayed into both and compared again.
#[test]
fn full_ipv4_bgp_table_matches_prefix_trie() {
    let Some(table) = bgp_lines("ris-20260511-as3333-ipv4-table.txt.gz") else { return };
    let nets: Vec<Ipv4Net> = table.iter().map(|l| l.parse::<Ipv4Net>().unwrap().trunc()).collect();
    assert!(nets.len() > 1_000_000);
    let mut pt: PrefixMap<Ipv4Net, u32> = PrefixMap::new();
    for (i, n) in nets.iter().enumerate() {
        pt.insert(*n, i as u32);
    }
    let mut t = Lpm::<u32>::build(
        nets.iter().enumerate().map(|(i, n)| (n.network().to_bits(), n.prefix_len(), i as u32)),
    );
    assert_eq!(t.len(), pt.len());
    let mut rng = xorshift(0x1234_5678_9abc_def1);
    let mut probes: Vec<u32> = (0..PROBES).map(|_| rng() as u32).collect();
    probes.extend((0..PROBES).map(|_| {
        let n = nets[(rng() % nets.len() as u64) as usize];
        n.network().to_bits()
            | (rng() as u32 & !u32::MAX.checked_shl(32 - u32::from(n.prefix_len())).unwrap_or(0))
    }));
    let check = |t: &Lpm<u32>, pt: &PrefixMap<Ipv4Net, u32>, probes: &[u32], what: &str| {
        let mut batch = vec![Some(u32::MAX); probes.len()];
        t.lookup_batch(probes, &mut batch);
        for (&p, b) in probes.iter().zip(batch) {
            let host = Ipv4Net::new(Ipv4Addr::from_bits(p), 32).unwrap();
            let want = pt.get_lpm(&host).map(|(_, v)| *v);
            assert_eq!(t.lookup(p), want, "{what}: {}", Ipv4Addr::from_bits(p));
            assert_eq!(b, want, "{what}, batched: {}", Ipv4Addr::from_bits(p));
        }
    };
    check(&t, &pt, &probes, "bulk build");

    // Incremental build of a quarter of the table, in file order, agrees too.
    let mut inc = Lpm::<u32>::new();
    let mut pt_inc: PrefixMap<Ipv4Net, u32> = PrefixMap::new();
    for (i, n) in nets.iter().enumerate().step_by(4) {
        inc.insert(n.network().to_bits(), n.prefix_len(), i as u32);
        pt_inc.insert(*n, i as u32);
    }
    check(&inc, &pt_inc, &probes[..PROBES / 4], "incremental random");
    check(&inc, &pt_inc, &probes[PROBES..PROBES + PROBES / 4], "incremental in-table");

    let Some(updates) = bgp_lines("ris-20260511-as3333-ipv4-updates.txt.gz") else { return };
    let base = nets.len() as u32;
    for (i, line) in updates.iter().enumerate() {
        let (op, p) = line.split_once(' ').unwrap();
        let n = p.parse::<Ipv4Net>().unwrap().trunc();
        let (k, l) = (n.network().to_bits(), n.prefix_len());
        match op {
            "A" => {
                t.insert(k, l, base + i as u32);
                pt.insert(n, base + i as u32);
            }
            "W" => assert_eq!(t.remove(k, l), pt.remove(&n), "withdraw {n}"),
            _ => panic!("bad update line {line}"),
        }
        if i % 200_000 == 0 {
            check(&t, &pt, &probes[PROBES - 50_000..PROBES + 50_000], "during updates");
        }
    }
    assert_eq!(t.len(), pt.len());
    check(&t, &pt, &probes, "after the day's updates");
}

/// The full IPv6 table (246 k prefixes) against prefix-trie on 2 M random
/// (inside 2000::/3, where the table lives, and anywhere) and 2 M in-table
/// addresses, then after the day's 1.24 M updates.
#[test]
fn full_ipv6_bgp_table_matches_prefix_trie() {
    let Some(table) = bgp_lines("ris-20260511-as3333-ipv6-table.txt.gz") else { return };
    let nets: Vec<Ipv6Net> = table.iter().map(|l| l.parse::<Ipv6Net>().unwrap().trunc()).collect();
    assert!(nets.len() > 200_000);
    let mut pt: PrefixMap<Ipv6Net, u32> = PrefixMap::new();
    for (i, n) in nets.iter().enumerate() {
        pt.insert(*n, i as u32);
    }
    let mut t = Lpm::<u128>::build(
        nets.iter().enumerate().map(|(i, n)| (n.network().to_bits(), n.prefix_len(), i as u32)),
    );
    assert_eq!(t.len(), pt.len());
    let mut rng = xorshift(0x0fed_cba9_8765_4321);
    let mut r128 = move || (u128::from(rng()) << 64) | u128::from(rng());
    let mut probes: Vec<u128> = (0..PROBES)
        .map(|i| {
            let a = r128();
            if i % 2 == 0 {
                a
            } else {
                (a >> 3) | (1 << 125)
            }
        })
        .collect();
    probes.extend((0..PROBES).map(|_| {
        let n = nets[(r128() % nets.len() as u128) as usize];
        n.network().to_bits()
            | (r128() & !u128::MAX.checked_shl(128 - u32::from(n.prefix_len())).unwrap_or(0))
    }));
    let check = |t: &Lpm<u128>, pt: &PrefixMap<Ipv6Net, u32>, probes: &[u128], what: &str| {
        let mut batch = vec![Some(u32::MAX); probes.len()];
        t.lookup_batch(probes, &mut batch);
        for (&p, b) in probes.iter().zip(batch) {
            let host = Ipv6Net::new(Ipv6Addr::from_bits(p), 128).unwrap();
            let want = pt.get_lpm(&host).map(|(_, v)| *v);
            assert_eq!(t.lookup(p), want, "{what}: {}", Ipv6Addr::from_bits(p));
            assert_eq!(b, want, "{what}, batched: {}", Ipv6Addr::from_bits(p));
        }
    };
    check(&t, &pt, &probes, "bulk build");

    let mut inc = Lpm::<u128>::new();
    for (i, n) in nets.iter().enumerate() {
        inc.insert(n.network().to_bits(), n.prefix_len(), i as u32);
    }
    check(&inc, &pt, &probes[PROBES - 500_000..PROBES + 500_000], "incremental");

    let Some(updates) = bgp_lines("ris-20260511-as3333-ipv6-updates.txt.gz") else { return };
    let base = nets.len() as u32;
    for (i, line) in updates.iter().enumerate() {
        let (op, p) = line.split_once(' ').unwrap();
        let n = p.parse::<Ipv6Net>().unwrap().trunc();
        let (k, l) = (n.network().to_bits(), n.prefix_len());
        match op {
            "A" => {
                t.insert(k, l, base + i as u32);
                pt.insert(n, base + i as u32);
            }
            "W" => assert_eq!(t.remove(k, l), pt.remove(&n), "withdraw {n}"),
            _ => panic!("bad update line {line}"),
        }
        if i % 200_000 == 0 {
            check(&t, &pt, &probes[PROBES - 50_000..PROBES + 50_000], "during updates");
        }
    }
    assert_eq!(t.len(), pt.len());
    check(&t, &pt, &probes, "after the day's updates");
}

/// The lookup's stride step (and a burst's, from the key's half) reads the same bits as the general
/// extraction at every offset a lookup visits, up to the key's end.
#[test]
fn strides_match_bits() {
    let mut x = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834_u128;
    for _ in 0..1000 {
        x = x.rotate_left(17).wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x5851_f42d_4c95_7f2d;
        let mut o = <u128 as PrefixKey>::DIRECT_BITS;
        while o < 128 {
            let stride = <u128 as PrefixKey>::STRIDE;
            assert_eq!(x.stride(o), x.bits(o, stride), "offset {o} of {x:#x}");
            assert_eq!(
                ((x.half(o) << (o & 63)) >> (64 - stride)) as usize,
                x.bits(o, stride),
                "half at {o} of {x:#x}"
            );
            o += stride;
        }
        // IPv4 keys, through the offsets an IPv4 walk visits.
        let v4 = x as u32;
        let mut o = <u32 as PrefixKey>::DIRECT_BITS;
        while o < 32 {
            let stride = <u32 as PrefixKey>::STRIDE;
            assert_eq!(
                ((v4.half(o) << (o & 63)) >> (64 - stride)) as usize,
                v4.bits(o, stride),
                "half at {o} of {v4:#x}"
            );
            o += stride;
        }
    }
}

proptest! {
    /// `run_starts` marks exactly the leaf slots where a scan that skips
    /// child slots sees a new value.
    #[test]
    fn run_starts_matches_a_scan(
        values in proptest::array::uniform32(0u32..3),
        hi in proptest::array::uniform32(0u32..3),
        children in prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>(), (0u32..64).prop_map(|b| 1u64 << b), (0u32..64).prop_map(|b| !(1u64 << b))],
    ) {
        let mut value = [0u32; 64];
        value[..32].copy_from_slice(&values);
        value[32..].copy_from_slice(&hi);
        let mut expect = 0u64;
        let mut last = None;
        for (s, &v) in value.iter().enumerate() {
            if children & (1 << s) != 0 {
                continue;
            }
            if last != Some(v) {
                expect |= 1 << s;
                last = Some(v);
            }
        }
        prop_assert_eq!(update::run_starts(&value, children, None), expect);
    }

    /// The run starts of a four-word (256-slot) node: a word's first leaf
    /// slot starts a run only if its value differs from the last leaf slot
    /// of the words before it.
    #[test]
    fn node_run_starts_match_a_scan(
        value in proptest::collection::vec(0u32..3, 256),
        children in proptest::array::uniform4(prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()]),
    ) {
        let mut expect = [0u64; 4];
        let mut last = None;
        for (s, &v) in value.iter().enumerate() {
            if children[s / 64] & (1 << (s % 64)) != 0 {
                continue;
            }
            if last != Some(v) {
                expect[s / 64] |= 1 << (s % 64);
                last = Some(v);
            }
        }
        prop_assert_eq!(update::node_run_starts(&value, &children), expect);
    }

    /// Patching the run starts of a node after a range of its slots changed
    /// gives the run starts computed afresh.
    #[test]
    fn patched_run_starts_equal_fresh_ones(
        old in proptest::collection::vec(0u32..3, 256),
        old_children in proptest::array::uniform4(prop_oneof![Just(0u64), any::<u64>()]),
        new_values in proptest::collection::vec(0u32..3, 256),
        new_kids in any::<u64>(),
        first in 0usize..256,
        log_count in 0u32..9,
    ) {
        let count = (1usize << log_count).min(256 - first);
        let before = update::node_run_starts(&old, &old_children);
        let mut value = old.clone();
        value[first..first + count].copy_from_slice(&new_values[first..first + count]);
        let mut children = old_children;
        for s in first..first + count {
            let bit = 1u64 << (s % 64);
            if new_kids & (1 << (s % 64)) != 0 { children[s / 64] |= bit } else { children[s / 64] &= !bit }
        }
        prop_assert_eq!(
            update::patch_run_starts(&before, &value, &children, first, count),
            update::node_run_starts(&value, &children)
        );
    }
}

/// A host's table (a few IPv6 routes) is a list, longest first, with no
/// trie; past [`SMALL`] prefixes the trie is built, and it is dropped again
/// only at half of that (hysteresis), with the same answers throughout.
#[test]
fn small_tables_are_a_list_and_grow_into_a_trie() {
    let net = |s: &str| s.parse::<Ipv6Net>().unwrap();
    let addr = |s: &str| s.parse::<Ipv6Addr>().unwrap().to_bits();
    let mut t = Lpm::<u128>::new();
    for (i, p) in ["::/0", "2001:db8:1::/64", "2001:db8:1::7/128", "fe80::/64"].iter().enumerate() {
        let n = net(p);
        t.insert(n.network().to_bits(), n.prefix_len(), i as u32);
    }
    let host = [("2001:db8:1::7", 2), ("2001:db8:1::8", 1), ("fe80::1", 3), ("2001:db8:2::1", 0)];
    let check = |t: &Lpm<u128>| {
        for (a, v) in host {
            assert_eq!(t.lookup(addr(a)), Some(v), "{a}");
            let mut out = [None; 1];
            t.lookup_batch(&[addr(a)], &mut out);
            assert_eq!(out, [Some(v)], "{a} in a batch");
            t.lookup_rounds(&[addr(a)], &mut out);
            assert_eq!(out, [Some(v)], "{a} in rounds");
        }
    };
    assert!(t.root.is_empty() && t.small.len() == 4);
    check(&t);
    assert_eq!(t.reads(addr("fe80::1")), 1);
    let extra = |i: u128| (0x2001_0db8_0100u128 + i) << 80;
    for i in 0..SMALL as u128 {
        t.insert(extra(i), 48, 100 + i as u32);
    }
    assert!(!t.root.is_empty() && t.small.is_empty(), "20 prefixes: a trie");
    check(&t);
    assert_eq!(t.lookup(addr("2001:db8:105::1")), Some(105));
    // Down to 9 prefixes the trie stays; at 8 it is dropped.
    for i in 0..11 {
        assert_eq!(t.remove(extra(i), 48), Some(100 + i as u32));
    }
    assert_eq!(t.len(), 9);
    assert!(!t.root.is_empty());
    check(&t);
    t.remove(extra(11), 48);
    assert!(t.root.is_empty() && t.small.len() == 8, "8 prefixes: a list again");
    check(&t);
    assert_eq!(t.lookup(addr("2001:db8:10f::1")), Some(115));
    assert_eq!(t.lookup(addr("2001:db8:10b::1")), Some(0));
    // A bulk build of a small table is a list as well.
    let b = Lpm::build(t.iter().collect::<Vec<_>>());
    assert!(b.root.is_empty());
    check(&b);
}
