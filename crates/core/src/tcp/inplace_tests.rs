//! TCP delivered in the driver's frame (`link.rs` `tcp_in_place`,
//! `ipv4_tcp_in_place`, `ipv6_tcp_in_place`) against the general path
//! (the frame copied into a pool buffer, `ip_input`): two identical hosts,
//! one with the in-place path and one without (`Stack::no_fast_path`), get
//! the same frames — TCP to a listener and to a closed port over IPv4 and
//! IPv6, and every kind the in-place path must leave to the general path
//! (IPv4 options, fragments, an IPv6 extension header, martian, loopback,
//! unspecified and unroutable sources, broadcast, multicast and foreign
//! destinations, bad IP and TCP checksums, truncation, link padding).
//! Frames sent, counters and connections must be identical.

use crate::socket::{Family, Proto};
use crate::stack::Stack;
use crate::test_router::{drain, three_legs, IN_MAC, R_MAC};
use crate::time::Instant;
use proptest::prelude::*;
use std::net::IpAddr;
use via6_wire::checksum::ones_sum;
use via6_wire::tcp::{TcpFlags, TcpRepr};
use via6_wire::tcp_option::TcpOptions;

/// The three-legged router of `test_router` (eth0 192.0.2.1/24,
/// 2001:db8:1::1/64) with TCP listeners on port 80 for both families.
fn host(in_place: bool) -> (Stack, Instant) {
    let (mut r, _, now, _) = three_legs(|r| r.no_fast_path = !in_place);
    for (family, addr) in [(Family::Inet, "0.0.0.0:80"), (Family::Inet6, "[::]:80")] {
        let h = r.socket(family, Proto::Tcp);
        r.bind(h, addr.parse().unwrap()).unwrap();
        r.tcp_listen(h, 8).unwrap();
    }
    drain(&mut r);
    (r, now)
}

const SRC4: &[&str] = &["192.0.2.99", "224.0.0.5", "127.0.0.1", "0.0.0.0", "10.1.0.99", "192.0.2.255"];
const DST4: &[&str] = &["192.0.2.1", "192.0.2.200", "192.0.2.255", "10.1.0.1", "224.0.0.1", "127.0.0.1"];
const SRC6: &[&str] =
    &["2001:db8:1::99", "ff02::1", "::1", "::", "2001:db8:77::5", "fe80::99", "::ffff:192.0.2.99"];
const DST6: &[&str] = &["2001:db8:1::1", "2001:db8:1::200", "ff02::1", "fe80::1", "::1", "::ffff:192.0.2.1"];

#[derive(Debug, Clone)]
struct Pick {
    v6: bool,
    src: usize,
    dst: usize,
    port: u16,
    flags: u8,
    payload: usize,
    /// 0 none, 1 bad TCP checksum, 2 bad IPv4 header checksum, 3
    /// truncated, 4 link padding, 5 IPv4 options / IPv6 Hop-by-Hop, 6
    /// IPv4 MF / IPv6 Fragment header, 7 IPv4 fragment offset.
    twist: usize,
}

fn frame(p: &Pick) -> Vec<u8> {
    let (src, dst): (IpAddr, IpAddr) = if p.v6 {
        (SRC6[p.src % SRC6.len()].parse().unwrap(), DST6[p.dst % DST6.len()].parse().unwrap())
    } else {
        (SRC4[p.src % SRC4.len()].parse().unwrap(), DST4[p.dst % DST4.len()].parse().unwrap())
    };
    let payload = vec![0x5au8; p.payload];
    let mut flags = TcpFlags::empty();
    match p.flags % 4 {
        0 => flags.insert(TcpFlags::SYN),
        1 => flags.insert(TcpFlags::RST),
        2 => flags.insert(TcpFlags::PSH),
        _ => {}
    }
    let repr = TcpRepr {
        src_port: 40000,
        dst_port: p.port,
        seq: 12345,
        ack: (!p.flags.is_multiple_of(4)).then_some(777),
        flags,
        window: 1000,
        urgent: 0,
        options: TcpOptions::EMPTY,
        payload: &payload,
    };
    let mut tcp = vec![0u8; 20 + payload.len()];
    repr.emit_with_checksum(src, dst, &mut tcp).unwrap();
    if p.twist == 1 {
        tcp[16] ^= 0x01;
    }
    let mut ip = Vec::new();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let opts: &[u8] = if p.twist == 5 { &[1, 1, 1, 0] } else { &[] };
            let hlen = 20 + opts.len();
            let total = (hlen + tcp.len()) as u16;
            let frag: u16 = match p.twist {
                6 => 0x2000,
                7 => 0x0010,
                _ => 0x4000,
            };
            ip.extend_from_slice(&[0x40 | (hlen / 4) as u8, 0]);
            ip.extend_from_slice(&total.to_be_bytes());
            ip.extend_from_slice(&[0x12, 0x34]);
            ip.extend_from_slice(&frag.to_be_bytes());
            ip.extend_from_slice(&[64, 6, 0, 0]);
            ip.extend_from_slice(&s.octets());
            ip.extend_from_slice(&d.octets());
            ip.extend_from_slice(opts);
            let c = !ones_sum(&ip);
            ip[10..12].copy_from_slice(&c.to_be_bytes());
            if p.twist == 2 {
                ip[10] ^= 0x40;
            }
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let ext: Vec<u8> = match p.twist {
                5 => vec![6, 0, 1, 4, 0, 0, 0, 0],
                6 => vec![6, 0, 0, 0, 0, 0, 0, 9],
                _ => Vec::new(),
            };
            let first = if ext.is_empty() {
                6
            } else if p.twist == 5 {
                0
            } else {
                44
            };
            ip.extend_from_slice(&[0x60, 0, 0, 0]);
            ip.extend_from_slice(&((ext.len() + tcp.len()) as u16).to_be_bytes());
            ip.extend_from_slice(&[first, 64]);
            ip.extend_from_slice(&s.octets());
            ip.extend_from_slice(&d.octets());
            ip.extend_from_slice(&ext);
        }
        _ => unreachable!("one family per pick"),
    }
    ip.extend_from_slice(&tcp);
    if p.twist == 3 {
        ip.truncate(ip.len() - 3);
    }
    if p.twist == 4 {
        ip.extend_from_slice(&[0xee; 9]);
    }
    let mut f = Vec::with_capacity(14 + ip.len());
    f.extend_from_slice(&R_MAC);
    f.extend_from_slice(&IN_MAC);
    f.extend_from_slice(if p.v6 { &[0x86, 0xdd] } else { &[0x08, 0x00] });
    f.extend_from_slice(&ip);
    f
}

fn pick() -> impl Strategy<Value = Pick> {
    (any::<bool>(), 0usize..8, 0usize..8, prop_oneof![Just(80u16), Just(81)], 0u8..4, 0usize..40, 0usize..8)
        .prop_map(|(v6, src, dst, port, flags, payload, twist)| Pick {
            v6,
            src: if src >= SRC6.len() { 0 } else { src },
            dst: if dst >= DST6.len() { 0 } else { dst },
            port,
            flags,
            payload,
            twist,
        })
}

fn same(picks: &[Pick]) -> Result<(), TestCaseError> {
    let (mut a, now) = host(true);
    let (mut b, _) = host(false);
    for (i, p) in picks.iter().enumerate() {
        let f = frame(p);
        a.receive(crate::addr::IfIndex(1), &f, now);
        b.receive(crate::addr::IfIndex(1), &f, now);
        prop_assert_eq!(drain(&mut a), drain(&mut b), "frames sent after frame {}: {:?}", i, p);
        prop_assert_eq!(
            format!("{:?}", a.stats()),
            format!("{:?}", b.stats()),
            "counters after {}: {:?}",
            i,
            p
        );
        prop_assert_eq!(a.tcp_connections(), b.tcp_connections());
    }
    Ok(())
}

/// The plain cases, each family: a SYN to the listener is answered with a
/// SYN-ACK, one to a closed port with a RST — identically both ways.
#[test]
fn plain_segments_match_the_general_path() {
    let mut picks = Vec::new();
    for v6 in [false, true] {
        for port in [80, 81] {
            for flags in 0..4 {
                picks.push(Pick { v6, src: 0, dst: 0, port, flags, payload: 0, twist: 0 });
            }
        }
    }
    same(&picks).unwrap();
    let (mut a, now) = host(true);
    a.receive(crate::addr::IfIndex(1), &frame(&picks[0]), now);
    assert_eq!(a.tcp_connections(), 1, "the SYN made a connection");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random TCP frames: the in-place path changes nothing.
    #[test]
    fn in_place_equals_general_path(picks in proptest::collection::vec(pick(), 1..40)) {
        same(&picks)?;
    }
}

/// `f` (a frame from [`frame`]) with TCP source port `sport`, its checksum
/// updated (RFC 1624).
fn with_sport(mut f: Vec<u8>, v6: bool, sport: u16) -> Vec<u8> {
    let t = 14 + if v6 { 40 } else { 20 };
    let old = u16::from_be_bytes([f[t], f[t + 1]]);
    let c = u16::from_be_bytes([f[t + 16], f[t + 17]]);
    let c = via6_wire::checksum::update_u16(c, old, sport);
    f[t..t + 2].copy_from_slice(&sport.to_be_bytes());
    f[t + 16..t + 18].copy_from_slice(&c.to_be_bytes());
    f
}

/// The in-place path's memo of the local-delivery decision
/// (`link::InPlaceMemo`) re-validates after every change its answer depends
/// on: our address removed (the route kept by another address of the
/// subnet) and added back, a more specific
/// route that makes the IPv6 source invalid (RFC 3704 §3.2) and its
/// removal, the validation switched off and on. Each step sends a SYN from
/// a new port of the same source to the same destination (the memo's key);
/// a delivered SYN makes a connection. Both hosts, memo and general path,
/// must agree on every frame, counter and connection — and on the
/// expected count.
#[test]
fn in_place_memo_revalidates_after_a_change() {
    use crate::route::{NextHop, Route};
    use via6_wire::IpPrefix;
    let (mut a, now) = host(true);
    let (mut b, _) = host(false);
    let e0 = crate::addr::IfIndex(1);
    let syn4 = Pick { v6: false, src: 0, dst: 0, port: 80, flags: 0, payload: 0, twist: 0 };
    let syn6 = Pick { v6: true, ..syn4.clone() };
    let mut sport = 1000;
    let mut step = |a: &mut Stack, b: &mut Stack, p: &Pick, expect: usize, what: &str| {
        sport += 1;
        let f = with_sport(frame(p), p.v6, sport);
        // The driver polls between bursts; a poll with nothing due keeps
        // the memo.
        a.poll(now);
        b.poll(now);
        let hits = a.in_place_memo_hits;
        a.receive(e0, &f, now);
        b.receive(e0, &f, now);
        // Only the steps named so are answered by the memo.
        let hit = what.contains("from the memo");
        assert_eq!(a.in_place_memo_hits - hits, u64::from(hit), "{what}: memo hit");
        assert_eq!(drain(a), drain(b), "{what}: frames");
        assert_eq!(format!("{:?}", a.stats()), format!("{:?}", b.stats()), "{what}: counters");
        assert_eq!((a.tcp_connections(), b.tcp_connections()), (expect, expect), "{what}");
    };
    let both = |a: &mut Stack, b: &mut Stack, f: &dyn Fn(&mut Stack)| {
        f(a);
        f(b);
    };
    // A second address in each subnet keeps the connected routes when the
    // first goes: removing it then changes the interface, not the routes.
    both(&mut a, &mut b, &|s| {
        s.add_address(e0, "192.0.2.7".parse().unwrap(), 24, now).unwrap();
        s.add_address(e0, "2001:db8:1::7".parse().unwrap(), 64, now).unwrap();
    });
    drain(&mut a);
    drain(&mut b);
    step(&mut a, &mut b, &syn4, 1, "v4 first");
    step(&mut a, &mut b, &syn4, 2, "v4 from the memo");
    both(&mut a, &mut b, &|s| s.remove_address(e0, "192.0.2.1".parse().unwrap()).unwrap());
    step(&mut a, &mut b, &syn4, 2, "v4 address removed");
    both(&mut a, &mut b, &|s| s.add_address(e0, "192.0.2.1".parse().unwrap(), 24, now).unwrap());
    step(&mut a, &mut b, &syn4, 3, "v4 address back");
    step(&mut a, &mut b, &syn4, 4, "v4 from the memo again");
    step(&mut a, &mut b, &syn6, 5, "v6 first");
    step(&mut a, &mut b, &syn6, 6, "v6 from the memo");
    let host99: IpPrefix = "2001:db8:1::99/128".parse().unwrap();
    let e1 = crate::addr::IfIndex(2);
    both(&mut a, &mut b, &|s| {
        s.add_route(Route::new(host99, NextHop::OnLink, Some(e1))).unwrap();
    });
    step(&mut a, &mut b, &syn6, 6, "v6 source now routed out of eth1");
    both(&mut a, &mut b, &|s| {
        s.set_sysctl("net.inet6.ip6.source_address_validation", 0).unwrap();
    });
    step(&mut a, &mut b, &syn6, 7, "v6 validation off");
    both(&mut a, &mut b, &|s| {
        s.set_sysctl("net.inet6.ip6.source_address_validation", 1).unwrap();
    });
    step(&mut a, &mut b, &syn6, 7, "v6 validation on again");
    both(&mut a, &mut b, &|s| {
        s.delete_route(host99, None).unwrap();
    });
    step(&mut a, &mut b, &syn6, 8, "v6 route removed");
    both(&mut a, &mut b, &|s| s.remove_address(e0, "2001:db8:1::1".parse().unwrap()).unwrap());
    step(&mut a, &mut b, &syn6, 8, "v6 address removed");
}
