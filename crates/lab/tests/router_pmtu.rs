//! Issue 5, MTU handling and the forwarding fast path: r1's eth1 (towards
//! h2) has an interface MTU of 1280 while the link and h2 stay at 1500.

mod router_support;

use core::time::Duration;
use router_support::*;
use via6_core::echo::EchoEvent;
use via6_lab::{Lab, Side};
use via6_wire::ip::protocol;

fn pmtu_lab() -> Lab {
    start(&with_r1_eth1_mtu(SEED, 1280))
}

const WAIT: Duration = Duration::from_millis(300);

/// RFC 1191 §4 / RFC 1812 §5.2.7.1: an IPv4 datagram with DF too big for the
/// next hop gets "fragmentation needed" (3/4) with the next-hop MTU in the
/// low 16 bits of the second word, from 192.0.0.8 (r1 has no IPv4 address);
/// nothing is forwarded.
#[test]
fn ipv4_df_too_big_gets_frag_needed_with_next_hop_mtu() {
    let mut lab = pmtu_lab();
    let before = counters(&lab, "r1");
    let (m0, m1) = (mark(&lab, H1_R1), mark(&lab, R1_H2));
    let evs = probe(&mut lab, "h1", "203.0.113.2", None, 1400 - 28, true, 1, WAIT);
    match &evs[..] {
        [EchoEvent::Error { from, icmp_type: 3, code: 4, mtu: Some(1280), .. }] => {
            assert_eq!(*from, ip("192.0.0.8"))
        }
        other => panic!("{other:?}"),
    }
    let errs = icmp4_errors(&frames(&lab, H1_R1, m0));
    assert_eq!(errs.len(), 1);
    let e = errs[0].v4().unwrap();
    assert_eq!(e.src(), "192.0.0.8".parse::<std::net::Ipv4Addr>().unwrap());
    let (_, _, msg) = errs[0].icmp4().unwrap();
    assert_eq!(&msg[4..8], &[0, 0, 0x05, 0x00], "unused 0, next-hop MTU 1280");
    assert_eq!(via6_wire::checksum::checksum(msg), 0);
    assert!(
        frames(&lab, R1_H2, m1).iter().all(|f| !(f.to == Side::B && f.v4().is_some())),
        "nothing forwarded to h2"
    );
    let d = delta(&before, &counters(&lab, "r1"));
    assert_eq!(d.get("ips_cantfrag"), Some(&1), "{d:?}");
    assert_eq!(d.get("ips_forward"), None, "{d:?}");
    assert_eq!(d.get("ips_fragmented"), None, "{d:?}");
    let st = lab.node("r1").unwrap().stats();
    assert_eq!(st.icmp_outhist[3], 1);
}

/// RFC 791 §3.2 / RFC 1812 §5.2.6: without DF r1 fragments to 1280 (pieces
/// on 8-octet boundaries, MF on all but the last, same identification, each
/// with a valid header checksum and TTL 63); h2 reassembles and its 1400-byte
/// reply (eth0 MTU 1500) crosses the link whole.
#[test]
fn ipv4_without_df_is_fragmented_by_router_and_reassembled() {
    let mut lab = pmtu_lab();
    let before = counters(&lab, "r1");
    let h2_before = counters(&lab, "h2");
    let (m0, m1) = (mark(&lab, H1_R1), mark(&lab, R1_H2));
    let evs = probe(&mut lab, "h1", "203.0.113.2", None, 1400 - 28, false, 1, WAIT);
    match &evs[..] {
        [EchoEvent::Reply { from, len, ttl: 63, .. }] => {
            assert_eq!((*from, *len), (ip("203.0.113.2"), 1400 - 28))
        }
        other => panic!("{other:?}"),
    }
    let to_h2: Vec<_> =
        frames(&lab, R1_H2, m1).into_iter().filter(|f| f.to == Side::B && f.v4().is_some()).collect();
    assert!(to_h2.len() >= 2, "{to_h2:?}");
    let ident = to_h2[0].v4().unwrap().ident();
    let mut at = 0usize;
    for (i, f) in to_h2.iter().enumerate() {
        let p = f.v4().unwrap();
        assert!(p.verify_checksum());
        assert!(usize::from(p.total_len()) <= 1280, "fragment of {}", p.total_len());
        assert_eq!((p.ident(), p.ttl(), p.dont_frag()), (ident, 63, false));
        assert_eq!(usize::from(p.frag_offset()), at);
        let last = i + 1 == to_h2.len();
        assert_eq!(p.more_frags(), !last);
        let n = usize::from(p.total_len()) - p.header_len();
        if !last {
            assert_eq!(n % 8, 0);
        }
        at += n;
    }
    assert_eq!(at, 1400 - 20, "the fragments carry the whole payload");
    // The reply: one whole 1400-byte datagram on both links.
    for (link, m) in [(R1_H2, m1), (H1_R1, m0)] {
        let replies: Vec<_> = frames(&lab, link, m)
            .into_iter()
            .filter(|f| f.to == Side::A && f.icmp4().is_some_and(|(t, ..)| t == 0))
            .collect();
        assert_eq!(replies.len(), 1, "link {link}");
        let p = replies[0].v4().unwrap();
        assert_eq!((p.total_len(), p.more_frags(), p.frag_offset()), (1400, false, 0));
    }
    let d = delta(&before, &counters(&lab, "r1"));
    assert_eq!(d.get("ips_forward"), Some(&2), "{d:?}");
    assert_eq!(d.get("ips_fragmented"), Some(&1), "{d:?}");
    assert_eq!(d.get("ips_ofragments"), Some(&(to_h2.len() as u64)), "{d:?}");
    let d2 = delta(&h2_before, &counters(&lab, "h2"));
    assert_eq!(d2.get("ips_reassembled"), Some(&1), "{d2:?}");
}

/// RFC 8200 §5 / RFC 4443 §3.2: a router never fragments IPv6; it answers
/// Packet Too Big with the next-hop MTU from its link-local address on the
/// arrival link, and forwards nothing.
#[test]
fn ipv6_too_big_gets_packet_too_big_and_router_never_fragments() {
    let mut lab = pmtu_lab();
    let before = counters(&lab, "r1");
    let (m0, m1) = (mark(&lab, H1_R1), mark(&lab, R1_H2));
    let evs = probe(&mut lab, "h1", "2001:db8:2::1", None, 1400 - 48, false, 1, WAIT);
    let eth0 = addrs6_of(&lab, "r1", "eth0");
    match &evs[..] {
        [EchoEvent::Error {
            from: std::net::IpAddr::V6(from), icmp_type: 2, code: 0, mtu: Some(1280), ..
        }] => {
            assert!(eth0.contains(from), "{from} not on r1's eth0")
        }
        other => panic!("{other:?}"),
    }
    let errs = icmp6_errors(&frames(&lab, H1_R1, m0));
    assert_eq!(errs.len(), 1);
    let (_, _, msg) = errs[0].icmp6().unwrap();
    assert_eq!(u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]), 1280);
    assert!(errs[0].v6().unwrap().total_len() <= 1280, "RFC 4443 §2.4(c)");
    for f in frames(&lab, R1_H2, m1).iter().filter(|f| f.to == Side::B) {
        if let Some(p) = f.v6() {
            assert_ne!(p.next_header(), protocol::IPV6_FRAG, "r1 fragmented IPv6 in transit");
            assert!(f.icmp6().is_none_or(|(t, ..)| t != 128), "the echo request was forwarded");
        }
    }
    let d = delta(&before, &counters(&lab, "r1"));
    assert_eq!(d.get("ip6s_toobig"), Some(&1), "{d:?}");
    assert_eq!(d.get("ip6s_fragmented"), None, "{d:?}");
    assert_eq!(d.get("ip6s_ofragments"), None, "{d:?}");
    assert_eq!(d.get("ip6s_forward"), None, "{d:?}");
    assert_eq!(lab.node("r1").unwrap().stats().icmp6_outhist[2], 1);
}

/// RFC 1812 §5.3.1 with RFC 1624: a forwarded IPv4 datagram differs from the
/// received one only in TTL − 1 and a header checksum that still verifies
/// (equal to a full recomputation); IPv6 (RFC 8200 §3) only in hop limit − 1.
#[test]
fn forwarding_decrements_ttl_and_keeps_checksum_valid() {
    let mut lab = start(SEED);
    let (m0, m1) = (mark(&lab, H1_R1), mark(&lab, R1_H2));
    for (seq, dst) in [(1u16, "203.0.113.2"), (2, "2001:db8:2::1")] {
        let evs = ping(&mut lab, "h1", dst, None, seq);
        assert!(matches!(evs[..], [EchoEvent::Reply { .. }]), "{evs:?}");
    }
    let is_req = |f: &Frame| {
        f.to == Side::B
            && (f.icmp4().is_some_and(|(t, ..)| t == 8) || f.icmp6().is_some_and(|(t, ..)| t == 128))
    };
    let in0: Vec<_> = frames(&lab, H1_R1, m0).into_iter().filter(is_req).collect();
    let in1: Vec<_> = frames(&lab, R1_H2, m1).into_iter().filter(is_req).collect();
    assert_eq!((in0.len(), in1.len()), (2, 2));
    // IPv4.
    let (a, b) = (&in0[0].ip, &in1[0].ip);
    let (pa, pb) = (in0[0].v4().unwrap(), in1[0].v4().unwrap());
    assert_eq!((pa.ttl(), pb.ttl()), (64, 63));
    assert!(pb.verify_checksum(), "forwarded header checksum");
    let mut recomputed = b.clone();
    recomputed[10..12].fill(0);
    let c = via6_wire::checksum::checksum(&recomputed[..pb.header_len()]);
    assert_eq!(pb.checksum(), c, "incremental update equals full recomputation");
    let differing: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    assert!(differing.iter().all(|i| [8, 10, 11].contains(i)), "changed octets {differing:?}");
    assert_eq!(a.len(), b.len());
    // IPv6.
    let (a, b) = (&in0[1].ip, &in1[1].ip);
    assert_eq!((in0[1].v6().unwrap().hop_limit(), in1[1].v6().unwrap().hop_limit()), (64, 63));
    let differing: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    assert_eq!(differing, vec![7]);
}
