//! `Stack::receive_burst` must behave exactly as `Stack::receive` on each
//! frame in order: same output frames (interface and bytes), same counters,
//! for bursts mixing forwarded IPv4 (via IPv4 and via IPv6 gateways —
//! v4-via-v6, RFC 8950), forwarded IPv6, local, TTL/hop-limit-expired,
//! malformed, broadcast, unroutable and ARP frames.

use crate::addr::{GatewayAddr, IfIndex, ZonedIpv6};
use crate::route::{NextHop, Route};
use crate::stack::Stack;
use crate::test_router::{drain, exchange, three_legs, IN_MAC, R_MAC};
use crate::time::Instant;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use via6_wire::IpPrefix;

/// The three-legged router (`test_router`) with the routes
/// 198.51.100.0/24 via 10.1.0.10, 203.0.113.0/24 via fe80::2 (v4-via-v6),
/// 2001:db8:99::/48 via fe80::2; gateways resolved when `resolve`.
fn router(resolve: bool) -> (Stack, Instant) {
    let (mut r, mut n, now, [e0, e1, e2]) = three_legs(|_| {});
    let v6gw = GatewayAddr::V6(ZonedIpv6 { addr: "fe80::2".parse().unwrap(), zone: Some(e2) });
    for (p, g, i) in [
        ("198.51.100.0/24", GatewayAddr::V4("10.1.0.10".parse().unwrap()), e1),
        ("203.0.113.0/24", v6gw, e2),
        ("2001:db8:99::/48", v6gw, e2),
    ] {
        let p: IpPrefix = p.parse().unwrap();
        r.add_route(Route::new(p, NextHop::Gateway(g), Some(i))).unwrap();
    }
    if resolve {
        for d in ["198.51.100.1", "203.0.113.1", "2001:db8:99::1"] {
            r.receive(e0, &frame(&Kind::Fwd(d.parse().unwrap()), 64), now);
            exchange(&mut r, &mut n, now);
        }
    }
    drain(&mut r);
    (r, now)
}

#[derive(Debug, Clone)]
enum Kind {
    /// UDP to `dst` with TTL/hop limit 64.
    Fwd(IpAddr),
    /// UDP with TTL/hop limit 1 (expires here).
    Expired(IpAddr),
    /// ICMP echo request to the router.
    Local(IpAddr),
    /// IPv4 with a wrong header checksum.
    BadSum(Ipv4Addr),
    /// Cut to `n` bytes after Ethernet.
    Truncated(IpAddr, usize),
    /// IPv4 in a broadcast frame.
    BroadcastFrame(Ipv4Addr),
    /// An ARP request for the router's eth0 address.
    Arp,
    /// An unknown EtherType.
    Junk,
}

fn frame(k: &Kind, size: usize) -> Vec<u8> {
    let mut f = vec![0u8; size.max(64)];
    f[0..6].copy_from_slice(&R_MAC);
    f[6..12].copy_from_slice(&IN_MAC);
    let (dst, ttl, proto, cut, bad, bcast) = match *k {
        Kind::Fwd(d) => (d, 64, 17, None, false, false),
        Kind::Expired(d) => (d, 1, 17, None, false, false),
        Kind::Local(d) => (d, 64, if d.is_ipv4() { 1 } else { 58 }, None, false, false),
        Kind::BadSum(d) => (IpAddr::V4(d), 64, 17, None, true, false),
        Kind::Truncated(d, n) => (d, 64, 17, Some(n), false, false),
        Kind::BroadcastFrame(d) => (IpAddr::V4(d), 64, 17, None, false, true),
        Kind::Arp => {
            f[0..6].copy_from_slice(&[0xff; 6]);
            f[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
            let a = &mut f[14..42];
            a[0..2].copy_from_slice(&1u16.to_be_bytes());
            a[2..4].copy_from_slice(&0x0800u16.to_be_bytes());
            a[4] = 6;
            a[5] = 4;
            a[6..8].copy_from_slice(&1u16.to_be_bytes());
            a[8..14].copy_from_slice(&IN_MAC);
            a[14..18].copy_from_slice(&[192, 0, 2, 9]);
            a[24..28].copy_from_slice(&[192, 0, 2, 1]);
            return f;
        }
        Kind::Junk => {
            f[12..14].copy_from_slice(&0x1234u16.to_be_bytes());
            return f;
        }
    };
    if bcast {
        f[0..6].copy_from_slice(&[0xff; 6]);
    }
    let ip_len = f.len() - 14;
    match dst {
        IpAddr::V4(d) => {
            f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
            let h = &mut f[14..34];
            h[0] = 0x45;
            h[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
            h[8] = ttl;
            h[9] = proto;
            h[12..16].copy_from_slice(&[192, 0, 2, 9]);
            h[16..20].copy_from_slice(&d.octets());
            let c = via6_wire::checksum::checksum(h) ^ if bad { 1 } else { 0 };
            h[10..12].copy_from_slice(&c.to_be_bytes());
            if proto == 1 {
                f[34] = 8;
                let c = via6_wire::checksum::checksum(&f[34..]);
                f[36..38].copy_from_slice(&c.to_be_bytes());
            } else {
                f[38..40].copy_from_slice(&((ip_len - 20) as u16).to_be_bytes());
            }
        }
        IpAddr::V6(d) => {
            f[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
            let h = &mut f[14..54];
            h[0] = 0x60;
            h[4..6].copy_from_slice(&((ip_len - 40) as u16).to_be_bytes());
            h[6] = proto;
            h[7] = ttl;
            let src: Ipv6Addr = "2001:db8:1::9".parse().unwrap();
            h[8..24].copy_from_slice(&src.octets());
            h[24..40].copy_from_slice(&d.octets());
            if proto == 58 {
                f[54] = 128;
                let mut pseudo = Vec::new();
                pseudo.extend_from_slice(&src.octets());
                pseudo.extend_from_slice(&d.octets());
                pseudo.extend_from_slice(&((ip_len - 40) as u32).to_be_bytes());
                pseudo.extend_from_slice(&[0, 0, 0, 58]);
                pseudo.extend_from_slice(&f[54..]);
                let c = via6_wire::checksum::checksum(&pseudo);
                f[56..58].copy_from_slice(&c.to_be_bytes());
            } else {
                f[58..60].copy_from_slice(&((ip_len - 40) as u16).to_be_bytes());
            }
        }
    }
    if let Some(n) = cut {
        f.truncate(14 + n.min(ip_len));
    }
    f
}

/// Feeds `frames` one by one to one router and as one burst to another;
/// both must send the same frames and count the same.
fn same(frames: &[Vec<u8>], resolve: bool) {
    let (mut a, now) = router(resolve);
    let (mut b, _) = router(resolve);
    for f in frames {
        a.receive(IfIndex(1), f, now);
    }
    b.receive_burst(IfIndex(1), frames, now);
    let (oa, ob) = (drain(&mut a), drain(&mut b));
    assert_eq!(oa, ob, "output frames differ");
    let ca: Vec<_> = a.stats().all().collect();
    let cb: Vec<_> = b.stats().all().collect();
    assert_eq!(ca, cb, "counters differ");
    assert_eq!(a.neighbours().entries().len(), b.neighbours().entries().len());
}

fn kinds() -> Vec<Kind> {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    vec![
        Kind::Fwd(ip("198.51.100.7")),
        Kind::Fwd(ip("203.0.113.7")),
        Kind::Fwd(ip("2001:db8:99::7")),
        Kind::Fwd(ip("100.64.0.1")),
        Kind::Fwd(ip("2001:db8:77::1")),
        Kind::Fwd(ip("10.1.0.77")),
        Kind::Expired(ip("198.51.100.8")),
        Kind::Expired(ip("203.0.113.8")),
        Kind::Expired(ip("2001:db8:99::8")),
        Kind::Local(ip("192.0.2.1")),
        Kind::Local(ip("2001:db8:1::1")),
        Kind::BadSum("203.0.113.9".parse().unwrap()),
        Kind::Truncated(ip("198.51.100.9"), 10),
        Kind::Truncated(ip("2001:db8:99::9"), 30),
        Kind::BroadcastFrame("203.0.113.10".parse().unwrap()),
        Kind::Arp,
        Kind::Junk,
    ]
}

#[test]
fn every_kind_alone_and_all_together() {
    for resolve in [true, false] {
        let all: Vec<Vec<u8>> = kinds().iter().map(|k| frame(k, 64)).collect();
        for f in &all {
            same(std::slice::from_ref(f), resolve);
        }
        same(&all, resolve);
        // More than one burst's worth, large frames included.
        let many: Vec<Vec<u8>> = (0..100)
            .map(|i| frame(&kinds()[i % kinds().len()], if i % 3 == 0 { 1514 } else { 64 }))
            .collect();
        same(&many, resolve);
    }
}

#[test]
fn forwarded_burst_leaves_at_once_both_families_of_gateway() {
    let (mut r, now) = router(true);
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let frames: Vec<Vec<u8>> = (0..40)
        .map(|i| match i % 3 {
            0 => frame(&Kind::Fwd(ip("198.51.100.7")), 64),
            1 => frame(&Kind::Fwd(ip("203.0.113.7")), 64),
            _ => frame(&Kind::Fwd(ip("2001:db8:99::7")), 64),
        })
        .collect();
    r.receive_burst(IfIndex(1), &frames, now);
    let mut outs = Vec::new();
    while let Some(f) = r.transmit() {
        outs.push(f.ifindex);
        r.recycle(f);
    }
    let want: Vec<IfIndex> = (0..40).map(|i| if i % 3 == 0 { IfIndex(2) } else { IfIndex(3) }).collect();
    assert_eq!(outs, want);
}

/// The burst's next-hop hint is used only for its own destination and
/// route-table generation: a route added after the burst's lookups (as an
/// earlier frame of the burst could do) or another destination takes the
/// FIB again.
#[test]
fn stale_hints_are_never_used() {
    use super::{FibHint, HintDst};
    let (mut r, _) = router(true);
    let ip4 = |s: &str| s.parse::<Ipv4Addr>().unwrap();
    let ip6 = |s: &str| s.parse::<Ipv6Addr>().unwrap();
    let via = |r: &Stack, a: IpAddr| r.routes.forward_lookup(a).map(|(id, adj)| (id, *adj));
    let (d4, d6) = (ip4("198.51.100.7"), ip6("2001:db8:99::7"));
    let hop4 = via(&r, d4.into()).unwrap();
    let hop6 = via(&r, d6.into()).unwrap();
    // A hint claiming "no route" for a routed destination, still current:
    // it is the burst's answer (that is what a hint is for).
    let g = r.routes.generation();
    r.burst_fib = Some(FibHint { dst: HintDst::V4(d4.to_bits()), nh: None, generation: g });
    assert!(r.fwd_lookup_v4(d4).is_none());
    // Another destination: the FIB.
    assert_eq!(r.fwd_lookup_v4(ip4("198.51.100.8")).map(|(i, a)| (i, *a)), Some(hop4));
    assert_eq!(r.fwd_lookup_v6(&d6).map(|(i, a)| (i, *a)), Some(hop6));
    // The same destination after a route change: the FIB.
    let more: IpPrefix = "198.51.100.7/32".parse().unwrap();
    r.add_route(Route::new(more, NextHop::Blackhole, None)).unwrap();
    let now4 = via(&r, d4.into()).unwrap();
    assert_eq!(now4.1.nexthop, NextHop::Blackhole);
    assert_eq!(r.fwd_lookup_v4(d4).map(|(i, a)| (i, *a)), Some(now4));
    // And an IPv6 hint pointing at the IPv4 next hop, made stale the same way.
    let g = r.routes.generation();
    r.burst_fib = Some(FibHint { dst: HintDst::V6(d6.to_bits()), nh: Some(hop4.0), generation: g });
    assert_eq!(r.fwd_lookup_v6(&d6).map(|(i, a)| (i, *a)), Some(hop4));
    r.delete_route(more, None).unwrap();
    assert_eq!(r.fwd_lookup_v6(&d6).map(|(i, a)| (i, *a)), Some(hop6));
    r.burst_fib = None;
}

/// A burst whose first frames change the route table: an on-link IPv6
/// route learnt mid-burst must take effect for the frames after it exactly
/// as frame by frame. The table changes through `add_route` between two
/// halves of one stream, fed once one by one and once as bursts whose
/// lookups straddle the change.
#[test]
fn route_change_between_bursts_is_seen() {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let frames: Vec<Vec<u8>> = (0..96)
        .map(|i| match i % 3 {
            0 => frame(&Kind::Fwd(ip("198.51.100.7")), 64),
            1 => frame(&Kind::Fwd(ip("203.0.113.7")), 64),
            _ => frame(&Kind::Fwd(ip("2001:db8:99::7")), 64),
        })
        .collect();
    let (mut a, now) = router(true);
    let (mut b, _) = router(true);
    let change = |r: &mut Stack| {
        let p: IpPrefix = "198.51.100.0/25".parse().unwrap();
        r.add_route(Route::new(p, NextHop::Blackhole, None)).unwrap();
    };
    for (i, f) in frames.iter().enumerate() {
        if i == 40 {
            change(&mut a);
        }
        a.receive(IfIndex(1), f, now);
    }
    b.receive_burst(IfIndex(1), &frames[..40], now);
    change(&mut b);
    b.receive_burst(IfIndex(1), &frames[40..], now);
    assert_eq!(drain(&mut a), drain(&mut b));
    let ca: Vec<_> = a.stats().all().collect();
    let cb: Vec<_> = b.stats().all().collect();
    assert_eq!(ca, cb);
}

/// Frames the burst's direct fast path must refuse exactly where
/// `receive` does: another unicast MAC, a VLAN tag, a down interface.
#[test]
fn direct_fast_path_refuses_what_receive_refuses() {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let good = frame(&Kind::Fwd(ip("198.51.100.7")), 64);
    let mut other_mac = good.clone();
    other_mac[5] ^= 0x40;
    let mut vlan = good.clone();
    vlan[12..14].copy_from_slice(&0x8100u16.to_be_bytes());
    let frames =
        vec![good.clone(), other_mac, vlan, good.clone(), frame(&Kind::Fwd(ip("2001:db8:99::7")), 64)];
    same(&frames, true);
    for down in [false, true] {
        let (mut a, now) = router(true);
        let (mut b, _) = router(true);
        for r in [&mut a, &mut b] {
            r.iface_mut(IfIndex(1)).unwrap().up = !down;
        }
        for f in &frames {
            a.receive(IfIndex(1), f, now);
        }
        b.receive_burst(IfIndex(1), &frames, now);
        let (oa, ob) = (drain(&mut a), drain(&mut b));
        assert_eq!(oa.len(), if down { 0 } else { 3 });
        assert_eq!(oa, ob);
        let ca: Vec<_> = a.stats().all().collect();
        let cb: Vec<_> = b.stats().all().collect();
        assert_eq!(ca, cb);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn burst_equals_one_by_one(picks in proptest::collection::vec((0usize..17, any::<bool>(), any::<u8>()), 0..80),
                               resolve in any::<bool>()) {
        let ks = kinds();
        let frames: Vec<Vec<u8>> = picks
            .iter()
            .map(|&(i, big, last)| {
                let k = match &ks[i % ks.len()] {
                    // Vary the host part so lookups differ within a prefix.
                    Kind::Fwd(IpAddr::V4(a)) => {
                        let mut o = a.octets();
                        o[3] = last;
                        Kind::Fwd(IpAddr::V4(o.into()))
                    }
                    k => k.clone(),
                };
                frame(&k, if big { 1514 } else { 64 })
            })
            .collect();
        same(&frames, resolve);
    }
}
