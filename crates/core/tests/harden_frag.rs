//! Reassembly limits and rules (inet6(4), FreeBSD frag6.c / ip_reass.c,
//! RFC 8200 §4.5, RFC 791, RFC 5722, RFC 6946, RFC 6980, RFC 7112).

#[path = "harden_common.rs"]
mod common;
use common::*;
use core::time::Duration;

const ID: u32 = 0xabcd;

/// The fragments of an echo request to us of `n` bytes in 512-byte pieces.
fn echo6_frags(id: u32, n: usize) -> Vec<Vec<u8>> {
    let e = echo6(peer6(), us6(), n);
    let mut out = Vec::new();
    let mut at = 0;
    while at < e.len() {
        let k = 512.min(e.len() - at);
        out.push(v6(peer6(), us6(), 44, &frag(58, at, at + k < e.len(), id, &e[at..at + k])));
        at += k;
    }
    out
}

fn echo4_frags(id: u16, n: usize) -> Vec<Vec<u8>> {
    let e = echo4(n);
    let mut out = Vec::new();
    let mut at = 0;
    while at < e.len() {
        let k = 512.min(e.len() - at);
        out.push(v4(a4("10.0.0.99"), a4("192.0.2.1"), 1, id, at, at + k < e.len(), &[], &e[at..at + k]));
        at += k;
    }
    out
}

/// A middle fragment (MF set) at `off` of datagram `id`.
fn mid6(id: u32, off: usize) -> Vec<u8> {
    v6(peer6(), us6(), 44, &frag(58, off, true, id, &[7; 64]))
}
fn mid4(id: u16, off: usize) -> Vec<u8> {
    v4(a4("10.0.0.99"), a4("192.0.2.1"), 1, id, off, true, &[], &[7; 64])
}

fn replies(n: &mut Node) -> (usize, usize) {
    let out = drain(&mut n.s);
    (
        icmp6_sent(&out).iter().filter(|t| t.0 == 129).count(),
        icmp4_sent(&out).iter().filter(|t| t.0 == 0).count(),
    )
}

#[test]
fn reassembly_in_any_order_delivers_both_families() {
    let mut n = node();
    let mut f6 = echo6_frags(ID, 1400);
    f6.reverse();
    for f in &f6 {
        rx0(&mut n, f, T0);
    }
    for f in &echo4_frags(7, 1400) {
        rx0(&mut n, f, T0);
    }
    assert_eq!(replies(&mut n), (1, 1));
    assert_eq!((count(&n.s, "ip6s_reassembled"), count(&n.s, "ips_reassembled")), (1, 1));
    assert_eq!(n.s.reassembly_held(), (0, 0));
}

/// inet6(4) `ip6.maxfrags`: fragments held in total; beyond it each new
/// fragment is dropped (ip6s_fragoverflow) and nothing more is held.
#[test]
fn ip6_maxfrags_limits_fragments_held() {
    let mut n = node();
    n.s.set_sysctl("net.inet6.ip6.maxfrags", 10).unwrap();
    for id in 0..25 {
        rx0(&mut n, &mid6(id, 64), T0);
    }
    let (bytes, frags) = n.s.reassembly_held();
    assert_eq!(frags, 10);
    assert!(bytes <= 10 * 64, "{bytes}");
    assert_eq!(count(&n.s, "ip6s_fragoverflow"), 15);
    assert_eq!(count(&n.s, "ip6s_fragdropped"), 15);
}

/// inet6(4) `ip6.maxfragpackets`: datagrams under reassembly; a new one past
/// the limit is refused (FreeBSD frag6).
#[test]
fn ip6_maxfragpackets_refuses_new_datagrams() {
    let mut n = node();
    n.s.set_sysctl("net.inet6.ip6.maxfragpackets", 5).unwrap();
    for id in 0..12 {
        rx0(&mut n, &mid6(id, 64), T0);
    }
    assert_eq!(n.s.reassembly_queues_by_family(), (0, 5));
    assert_eq!(n.s.reassembly_held(), (5 * 64, 5));
    assert_eq!(count(&n.s, "ip6s_fragoverflow"), 7);
    // A datagram already under reassembly still completes... (none here
    // has a first fragment) and a new one is refused even when complete.
    for f in &echo6_frags(99, 1200) {
        rx0(&mut n, f, T0);
    }
    assert_eq!(replies(&mut n), (0, 0));
}

/// inet6(4) `ip6.maxfragbucketsize`: datagrams per hash bucket (64 buckets
/// keyed by SipHash under the node's secret).
#[test]
fn ip6_maxfragbucketsize_limits_each_bucket() {
    let mut n = node();
    n.s.set_sysctl("net.inet6.ip6.maxfragbucketsize", 2).unwrap();
    for id in 0..400 {
        rx0(&mut n, &mid6(id, 64), T0);
    }
    let (_, fullest) = n.s.reassembly_fullest_bucket();
    assert_eq!(fullest, 2);
    let (_, q) = n.s.reassembly_queues_by_family();
    assert!(q <= 128, "{q}");
    assert_eq!(count(&n.s, "ip6s_fragoverflow"), 400 - q as u64);
    assert_eq!(n.s.reassembly_held().0, q * 64);
}

/// inet6(4) `ip6.maxfragsperpacket`: one fragment more than the limit drops
/// the whole datagram.
#[test]
fn ip6_maxfragsperpacket_drops_the_datagram() {
    let mut n = node();
    n.s.set_sysctl("net.inet6.ip6.maxfragsperpacket", 4).unwrap();
    for k in 1..=4 {
        rx0(&mut n, &mid6(ID, k * 64), T0);
    }
    assert_eq!(n.s.reassembly_held(), (4 * 64, 4));
    rx0(&mut n, &mid6(ID, 5 * 64), T0);
    assert_eq!(n.s.reassembly_held(), (0, 0));
    assert_eq!(count(&n.s, "ip6s_fragdropped"), 5);
}

/// inet(4) `ip.maxfrags`.
#[test]
fn ip_maxfrags_limits_fragments_held() {
    let mut n = node();
    n.s.set_sysctl("net.inet.ip.maxfrags", 10).unwrap();
    for id in 0..25 {
        rx0(&mut n, &mid4(id, 64), T0);
    }
    assert_eq!(n.s.reassembly_held(), (10 * 64, 10));
    assert_eq!(count(&n.s, "ips_fragoverflow"), 15);
    assert_eq!(count(&n.s, "ips_fragdropped"), 15);
}

/// inet(4) `ip.maxfragpackets`: FreeBSD ip_reass reuses the oldest queue
/// (counted ips_fragtimeout), so a new datagram always gets a queue and a
/// complete one is delivered even with the table full.
#[test]
fn ip_maxfragpackets_reuses_the_oldest_queue() {
    let mut n = node();
    n.s.set_sysctl("net.inet.ip.maxfragpackets", 5).unwrap();
    for id in 0..12 {
        rx0(&mut n, &mid4(id, 64), T0);
    }
    assert_eq!(n.s.reassembly_queues_by_family(), (5, 0));
    assert_eq!(n.s.reassembly_held(), (5 * 64, 5));
    assert_eq!(count(&n.s, "ips_fragtimeout"), 7);
    for f in &echo4_frags(999, 1200) {
        rx0(&mut n, f, T0);
    }
    assert_eq!(replies(&mut n), (0, 1));
    assert!(n.s.reassembly_queues_by_family().0 <= 5);
}

/// inet(4) `ip.maxfragbucketsize`.
#[test]
fn ip_maxfragbucketsize_limits_each_bucket() {
    let mut n = node();
    n.s.set_sysctl("net.inet.ip.maxfragbucketsize", 1).unwrap();
    for id in 0..300 {
        rx0(&mut n, &mid4(id, 64), T0);
    }
    assert_eq!(n.s.reassembly_fullest_bucket().0, 1);
    let (q, _) = n.s.reassembly_queues_by_family();
    assert!(q <= 64);
    assert_eq!(n.s.reassembly_held(), (q * 64, q));
    assert_eq!(count(&n.s, "ips_fragtimeout"), 300 - q as u64);
}

/// inet(4) `ip.maxfragsperpacket`.
#[test]
fn ip_maxfragsperpacket_drops_the_datagram() {
    let mut n = node();
    n.s.set_sysctl("net.inet.ip.maxfragsperpacket", 3).unwrap();
    for k in 1..=3 {
        rx0(&mut n, &mid4(5, k * 64), T0);
    }
    assert_eq!(n.s.reassembly_held(), (3 * 64, 3));
    rx0(&mut n, &mid4(5, 4 * 64), T0);
    assert_eq!(n.s.reassembly_held(), (0, 0));
    assert_eq!(count(&n.s, "ips_fragdropped"), 4);
}

/// RFC 8200 §4.5: after 60 s the datagram is dropped; ICMPv6 time exceeded
/// code 1 only when its first fragment had arrived.
#[test]
fn ip6_reassembly_timeout_60s_time_exceeded_only_with_first_fragment() {
    let mut n = node();
    let f = echo6_frags(1, 1400);
    rx0(&mut n, &f[0], T0); // datagram 1: first fragment only
    rx0(&mut n, &mid6(2, 512), T0); // datagram 2: no first fragment
    n.s.poll(T0 + Duration::from_secs(59));
    assert_eq!(n.s.reassembly_held().1, 2);
    let _ = drain(&mut n.s);
    n.s.poll(T0 + Duration::from_secs(60));
    assert_eq!(n.s.reassembly_held(), (0, 0));
    assert_eq!(icmp6_sent(&drain(&mut n.s)).iter().map(|t| (t.0, t.1)).collect::<Vec<_>>(), vec![(3, 1)]);
    assert_eq!(count(&n.s, "ip6s_fragtimeout"), 2);
}

/// RFC 791 / FreeBSD IPFRAGTTL: after 30 s; ICMP time exceeded code 1
/// only when the first fragment had arrived (RFC 1122 §3.3.2).
#[test]
fn ip_reassembly_timeout_30s_time_exceeded_only_with_first_fragment() {
    let mut n = node();
    let f = echo4_frags(1, 1400);
    rx0(&mut n, &f[0], T0);
    rx0(&mut n, &mid4(2, 512), T0);
    n.s.poll(T0 + Duration::from_secs(29));
    assert_eq!(n.s.reassembly_held().1, 2);
    let _ = drain(&mut n.s);
    n.s.poll(T0 + Duration::from_secs(30));
    assert_eq!(n.s.reassembly_held(), (0, 0));
    assert_eq!(icmp4_sent(&drain(&mut n.s)), vec![(11, 1)]);
    assert_eq!(count(&n.s, "ips_fragtimeout"), 2);
}

/// RFC 5722: an overlapping fragment drops the whole datagram silently.
#[test]
fn overlapping_fragments_drop_the_datagram_silently() {
    let mut n = node();
    let f = echo6_frags(ID, 1400);
    rx0(&mut n, &f[0], T0);
    let e = echo6(peer6(), us6(), 1400);
    // Overlaps the first piece by 8 bytes.
    rx0(&mut n, &v6(peer6(), us6(), 44, &frag(58, 504, true, ID, &e[504..1016])), T0);
    assert_eq!(n.s.reassembly_held(), (0, 0));
    for f in &f[1..] {
        rx0(&mut n, f, T0);
    }
    assert_eq!(icmp6_sent(&drain(&mut n.s)), vec![]);
    // The same for IPv4.
    let f = echo4_frags(3, 1400);
    rx0(&mut n, &f[0], T0);
    rx0(&mut n, &v4(a4("10.0.0.99"), a4("192.0.2.1"), 1, 3, 256, true, &[], &[0; 512]), T0);
    assert_eq!(n.s.reassembly_frags_by_family().0, 0);
    for f in &f[1..] {
        rx0(&mut n, f, T0);
    }
    assert_eq!(icmp4_sent(&drain(&mut n.s)), vec![]);
}

/// RFC 8200 §4.5: an exact duplicate is dropped alone; the datagram
/// completes.
#[test]
fn exact_duplicate_fragment_is_dropped_alone() {
    let mut n = node();
    let f = echo6_frags(ID, 1400);
    for f in [&f[0], &f[0], &f[1], &f[2]] {
        rx0(&mut n, f, T0);
    }
    assert_eq!(replies(&mut n), (1, 0));
}

/// RFC 7112 §5 / RFC 8200 §4.5: a first fragment without the whole header
/// chain → parameter problem code 3, pointer 0; nothing is held.
#[test]
fn first_fragment_must_hold_the_header_chain() {
    let mut n = node();
    // A Destination Options header of 64 octets, of which 16 arrive.
    let mut d = vec![58, 7, 1, 14];
    d.extend_from_slice(&[0; 12]);
    rx0(&mut n, &v6(peer6(), us6(), 44, &frag(60, 0, true, ID, &d)), T0);
    assert_eq!(icmp6_sent(&drain(&mut n.s)), vec![(4, 3, 0)]);
    assert_eq!(n.s.reassembly_held(), (0, 0));
    // An ICMPv6 header cut after 0 octets would be as bad; a UDP header
    // cut at 8 is whole.
    rx0(&mut n, &v6(peer6(), us6(), 44, &frag(17, 0, true, ID + 1, &[0; 8])), T0);
    assert_eq!(icmp6_sent(&drain(&mut n.s)), vec![]);
    assert_eq!(n.s.reassembly_held().1, 1);
}

/// RFC 6946 §4: an atomic fragment is processed on its own, whatever is
/// queued under the same identification.
#[test]
fn atomic_fragment_is_processed_alone() {
    let mut n = node();
    rx0(&mut n, &mid6(ID, 512), T0);
    let e = echo6(peer6(), us6(), 100);
    rx0(&mut n, &v6(peer6(), us6(), 44, &frag(58, 0, false, ID, &e)), T0);
    assert_eq!(replies(&mut n), (1, 0));
    assert_eq!(n.s.reassembly_held().1, 1, "the queued fragment is untouched");
    assert_eq!(count(&n.s, "ip6s_atomicfrags"), 1);
}

/// RFC 6980 §5: fragmented NDP (here a Neighbor Solicitation, in two
/// fragments and as an atomic fragment) is silently dropped.
#[test]
fn fragmented_ndp_is_dropped() {
    let mut n = node();
    let src = a6("fe80::99");
    let dst = a6("ff02::1:ff00:1");
    let mut body = vec![0; 4];
    body.extend_from_slice(&a6("fe80::1").octets());
    body.extend_from_slice(&[1, 1, 2, 0, 0, 0, 0, 0x99]);
    let ns = icmp6(src, dst, 135, 0, &body);
    let mk = |p: &[u8]| {
        let mut v = v6(src, dst, 44, p);
        v[7] = 255;
        v
    };
    rx0(&mut n, &mk(&frag(58, 0, true, 1, &ns[..16])), T0);
    rx0(&mut n, &mk(&frag(58, 16, false, 1, &ns[16..])), T0);
    rx0(&mut n, &mk(&frag(58, 0, false, 2, &ns)), T0);
    let out = drain(&mut n.s);
    assert!(out.iter().all(|(_, p)| !(p[6] == 58 && p[40] == 136)), "no NA");
    assert_eq!(count(&n.s, "ip6s_fragndp"), 2);
    // Unfragmented, the same NS is answered.
    let mut whole = v6(src, dst, 58, &ns);
    whole[7] = 255;
    rx0(&mut n, &whole, T0);
    assert!(drain(&mut n.s).iter().any(|(_, p)| p[6] == 58 && p[40] == 136), "NA");
}

/// RFC 8200 §4.5: a fragment that would make the payload exceed 65535
/// octets → parameter problem code 0 pointing at the Fragment Offset field.
#[test]
fn ip6_reassembled_length_over_65535_is_param_problem() {
    let mut n = node();
    rx0(&mut n, &v6(peer6(), us6(), 44, &frag(58, 65528, false, ID, &[0; 16])), T0);
    assert_eq!(icmp6_sent(&drain(&mut n.s)), vec![(4, 0, 42)]);
    assert_eq!(n.s.reassembly_held(), (0, 0));
    assert_eq!(count(&n.s, "ip6s_fragdropped"), 1);
}

/// RFC 791: an IPv4 datagram may not exceed 65535 octets: dropped, counted.
#[test]
fn ip_reassembled_length_over_65535_is_dropped() {
    let mut n = node();
    rx0(&mut n, &mid4(9, 64), T0);
    rx0(&mut n, &v4(a4("10.0.0.99"), a4("192.0.2.1"), 1, 9, 65528, false, &[], &[0; 16]), T0);
    assert_eq!(n.s.reassembly_held(), (0, 0));
    assert_eq!(count(&n.s, "ips_fragdropped"), 2);
    assert_eq!(icmp4_sent(&drain(&mut n.s)), vec![]);
}

/// RFC 8200 §4.5: a non-last fragment whose length is not a multiple of 8
/// → parameter problem code 0 pointing at Payload Length.
#[test]
fn ip6_fragment_length_not_multiple_of_8_is_param_problem() {
    let mut n = node();
    rx0(&mut n, &v6(peer6(), us6(), 44, &frag(17, 0, true, ID, &[0; 20])), T0);
    assert_eq!(icmp6_sent(&drain(&mut n.s)), vec![(4, 0, 4)]);
    assert_eq!(n.s.reassembly_held(), (0, 0));
}
