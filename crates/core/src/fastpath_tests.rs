//! The fast path against the general path: two identical routers, one with
//! the fast path and one without, get the same frames — forwarded ones
//! (IPv4 via IPv4, v4-via-v6, IPv6) and every kind the fast path must leave
//! to the general path (options, TTL 0/1, martians, local, broadcast and
//! multicast destinations, reject/blackhole/no route, MTU, redirect,
//! unresolved gateways, extension headers, corrupt and truncated packets,
//! foreign and broadcast MACs, local addresses the FIB would forward). Output frames, counters, neighbour entries
//! and log lines must be identical.

use crate::addr::{GatewayAddr, IfIndex, ZonedIpv6};
use crate::iface::LinkKind;
use crate::route::{NextHop, Route};
use crate::stack::{InterfaceConfig, Stack};
use crate::test_router::{drain, exchange, three_legs, IN_MAC, R_MAC};
use crate::time::Instant;
use core::time::Duration;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use via6_wire::IpPrefix;

/// The three-legged router (`test_router`), with local addresses on lo0
/// and the routes below; gateways resolved.
fn router(fast: bool) -> (Stack, Instant) {
    let (mut r, mut n, now, [e0, e1, e2]) = three_legs(|r| {
        r.no_fast_path = !fast;
        // Local addresses with no connected route (on loopback), inside
        // prefixes routed via the gateways: ours, though the FIB says forward.
        let lo = InterfaceConfig { name: "lo0".into(), kind: LinkKind::Loopback, mtu: None };
        let lo = r.add_interface(lo, Instant::ZERO).unwrap();
        r.add_address(lo, "198.51.100.250".parse().unwrap(), 32, Instant::ZERO).unwrap();
        r.add_address(lo, "2001:db8:99::1:1".parse().unwrap(), 128, Instant::ZERO).unwrap();
    });
    let v4gw = NextHop::Gateway(GatewayAddr::V4("10.1.0.10".parse().unwrap()));
    let v6gw =
        NextHop::Gateway(GatewayAddr::V6(ZonedIpv6 { addr: "fe80::2".parse().unwrap(), zone: Some(e2) }));
    let far = NextHop::Gateway(GatewayAddr::V4("10.1.0.11".parse().unwrap()));
    let back = NextHop::Gateway(GatewayAddr::V4("192.0.2.254".parse().unwrap()));
    for (p, nh, i, mtu) in [
        ("198.51.100.0/24", v4gw, Some(e1), 0),
        ("198.51.100.128/25", v4gw, Some(e1), 1280),
        ("203.0.113.0/24", v6gw, Some(e2), 0),
        ("2001:db8:99::/48", v6gw, Some(e2), 0),
        ("2001:db8:99:1::/64", v6gw, Some(e2), 1280),
        ("100.64.0.0/16", NextHop::Reject, None, 0),
        ("100.65.0.0/16", NextHop::Blackhole, None, 0),
        ("2001:db8:66::/48", NextHop::Reject, None, 0),
        ("10.2.0.0/16", far, Some(e1), 0),
        ("192.0.2.128/25", back, Some(e0), 0),
    ] {
        let mut route = Route::new(p.parse::<IpPrefix>().unwrap(), nh, i);
        route.mtu = mtu;
        r.add_route(route).unwrap();
    }
    for d in ["198.51.100.1", "203.0.113.1", "2001:db8:99::1"] {
        let f =
            Pick { v6: d.contains(':'), dst: 0, src: 0, ttl: 64, opts: false, df: false, nh: 0, big: false };
        let mut f = build(&f);
        let d: IpAddr = d.parse().unwrap();
        match d {
            IpAddr::V4(a) => f[30..34].copy_from_slice(&a.octets()),
            IpAddr::V6(a) => f[38..54].copy_from_slice(&a.octets()),
        }
        fix_v4_sum(&mut f);
        r.receive(e0, &f, now);
        exchange(&mut r, &mut n, now);
    }
    drain(&mut r);
    (r, now)
}

const DST4: &[&str] = &[
    "198.51.100.7",
    "198.51.100.200",
    "203.0.113.7",
    "100.64.0.1",
    "100.65.0.1",
    "10.2.0.5",
    "192.0.2.200",
    "192.0.2.1",
    "10.1.255.255",
    "192.0.2.255",
    "224.0.0.1",
    "239.1.1.1",
    "255.255.255.255",
    "127.0.0.1",
    "169.254.3.3",
    "0.0.0.0",
    "8.8.8.8",
    "10.1.0.77",
    "10.1.0.1",
    "198.51.100.250",
];
const SRC4: &[&str] =
    &["192.0.2.9", "224.0.0.5", "255.255.255.255", "127.0.0.1", "169.254.1.1", "0.0.0.0", "10.1.0.10"];
const DST6: &[&str] = &[
    "2001:db8:99::7",
    "2001:db8:99:1::7",
    "2001:db8:66::1",
    "2001:db8:1::1",
    "2001:db8:1::50",
    "fe80::1",
    "ff02::1",
    "ff0e::1",
    "::1",
    "2001:db8:77::1",
    "::ffff:1.2.3.4",
    "::1.2.3.4",
    "::",
    "2001:db8:99::1:1",
];
const SRC6: &[&str] =
    &["2001:db8:1::9", "ff02::1", "fe80::9", "::1", "::ffff:1.2.3.4", "::", "::1.2.3.4", "2001:db8:99::5"];

#[derive(Debug, Clone)]
struct Pick {
    v6: bool,
    dst: usize,
    src: usize,
    ttl: u8,
    opts: bool,
    df: bool,
    /// IPv6 Next Header: UDP, Hop-by-Hop, Fragment, ICMPv6.
    nh: usize,
    big: bool,
}

fn fix_v4_sum(f: &mut [u8]) {
    if f.len() >= 34 && f[12..14] == [8, 0] {
        let hl = usize::from(f[14] & 0x0f) * 4;
        if hl >= 20 && f.len() >= 14 + hl {
            f[24..26].copy_from_slice(&[0, 0]);
            let c = via6_wire::checksum::checksum(&f[14..14 + hl]);
            f[24..26].copy_from_slice(&c.to_be_bytes());
        }
    }
}

fn build(p: &Pick) -> Vec<u8> {
    let mut f = vec![0u8; if p.big { 1514 } else { 64 }];
    f[0..6].copy_from_slice(&R_MAC);
    f[6..12].copy_from_slice(&IN_MAC);
    let ip_len = f.len() - 14;
    if p.v6 {
        let dst: Ipv6Addr = DST6[p.dst % DST6.len()].parse().unwrap();
        let src: Ipv6Addr = SRC6[p.src % SRC6.len()].parse().unwrap();
        f[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
        let h = &mut f[14..54];
        h[0] = 0x60;
        h[4..6].copy_from_slice(&((ip_len - 40) as u16).to_be_bytes());
        h[6] = [17, 0, 44, 58][p.nh % 4];
        h[7] = p.ttl;
        h[8..24].copy_from_slice(&src.octets());
        h[24..40].copy_from_slice(&dst.octets());
        // A Hop-by-Hop or Fragment header: next header UDP, 8 bytes.
        f[54] = 17;
    } else {
        let dst: Ipv4Addr = DST4[p.dst % DST4.len()].parse().unwrap();
        let src: Ipv4Addr = SRC4[p.src % SRC4.len()].parse().unwrap();
        f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        let h = &mut f[14..38];
        h[0] = if p.opts { 0x46 } else { 0x45 };
        h[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
        h[6] = if p.df { 0x40 } else { 0 };
        h[8] = p.ttl;
        h[9] = 17;
        h[12..16].copy_from_slice(&src.octets());
        h[16..20].copy_from_slice(&dst.octets());
        if p.opts {
            h[20..24].copy_from_slice(&[1, 1, 1, 0]);
        }
        fix_v4_sum(&mut f);
    }
    f
}

fn pick() -> impl Strategy<Value = Pick> {
    (
        any::<bool>(),
        0usize..32,
        0usize..16,
        prop::sample::select(vec![0u8, 1, 2, 64, 255]),
        any::<(bool, bool, bool)>(),
    )
        .prop_flat_map(|(v6, dst, src, ttl, (opts, df, big))| {
            // Mostly well-formed forwarded traffic, with every odd case mixed in.
            let src = if src >= 8 { 0 } else { src };
            let opts = opts && dst % 4 == 0;
            (0usize..8).prop_map(move |nh| Pick {
                v6,
                dst,
                src,
                ttl,
                opts,
                df,
                nh: nh.saturating_sub(4),
                big,
            })
        })
}

/// A frame and what is done to it afterwards: a byte flipped (header or
/// Ethernet), the frame cut, the destination MAC changed.
fn frame() -> impl Strategy<Value = Vec<u8>> {
    (
        pick(),
        prop::option::weighted(0.2, (0usize..60, 1u8..=255)),
        prop::option::weighted(0.1, 0usize..70),
        0u8..10,
    )
        .prop_map(|(p, flip, cut, mac)| {
            let mut f = build(&p);
            if let Some((at, x)) = flip {
                f[at] ^= x;
            }
            if let Some(n) = cut {
                f.truncate(n);
            }
            match mac {
                0 if f.len() >= 6 => f[0..6].copy_from_slice(&[0xff; 6]),
                1 if f.len() >= 6 => f[5] ^= 0x40,
                _ => {}
            }
            f
        })
}

fn same(frames: &[Vec<u8>]) {
    let (mut fast, now) = router(true);
    let (mut slow, _) = router(false);
    for f in frames {
        fast.receive(IfIndex(1), f, now);
        slow.receive(IfIndex(1), f, now);
        assert_eq!(drain(&mut fast), drain(&mut slow), "output frames differ for {f:02x?}");
    }
    let cf: Vec<_> = fast.stats().all().collect();
    let cs: Vec<_> = slow.stats().all().collect();
    assert_eq!(cf, cs, "counters differ");
    assert_eq!(fast.neighbours().entries().len(), slow.neighbours().entries().len());
    assert_eq!(fast.take_logs(), slow.take_logs());
    fast.poll(now + Duration::from_secs(5));
    slow.poll(now + Duration::from_secs(5));
    assert_eq!(drain(&mut fast), drain(&mut slow), "held packets differ");
}

#[test]
fn forwarded_packets_take_the_fast_path() {
    let (mut r, _) = router(true);
    let frames: Vec<Vec<u8>> = [(false, 0), (false, 2), (true, 0)]
        .iter()
        .map(|&(v6, dst)| build(&Pick { v6, dst, src: 0, ttl: 64, opts: false, df: true, nh: 0, big: false }))
        .collect();
    for f in &frames {
        // The general path would copy and parse; the fast path sends at once.
        assert!(r.fast_forward(IfIndex(1), &f[14..]), "{f:02x?}");
    }
    let out = drain(&mut r);
    assert_eq!(out.iter().map(|(i, _)| i.0).collect::<Vec<_>>(), vec![2, 3, 3]);
    // TTL 63 and a valid header checksum after the rewrite (RFC 1624).
    assert_eq!(out[0].1[22], 63);
    assert!(via6_wire::checksum::verifies(&out[0].1[14..34]));
    assert_eq!(out[2].1[21], 63, "hop limit");
    // And the same result as the general path.
    same(&frames);
}

#[test]
fn every_destination_and_source_both_families() {
    let mut frames = Vec::new();
    for v6 in [false, true] {
        let (nd, ns) = if v6 { (DST6.len(), SRC6.len()) } else { (DST4.len(), SRC4.len()) };
        for dst in 0..nd {
            for src in 0..ns {
                for ttl in [1, 64] {
                    let big = dst % 2 == 0;
                    frames.push(build(&Pick {
                        v6,
                        dst,
                        src,
                        ttl,
                        opts: false,
                        df: src % 2 == 0,
                        nh: 0,
                        big,
                    }));
                }
            }
            for nh in 1..4 {
                frames.push(build(&Pick { v6, dst, src: 0, ttl: 64, opts: true, df: false, nh, big: false }));
            }
        }
    }
    same(&frames);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn fast_path_equals_general_path(frames in proptest::collection::vec(frame(), 1..40)) {
        same(&frames);
    }
}
