//! Source address checks on input: `ip6.source_address_validation` (RFC 3704
//! §3.2), addresses that never appear on the wire (RFC 4291, RFC 4942), and
//! link-local scope (RFC 4007).

#[path = "harden_common.rs"]
mod common;
use common::*;
use std::net::IpAddr;

fn echo_replies(n: &mut Node) -> usize {
    icmp6_sent(&drain(&mut n.s)).iter().filter(|t| t.0 == 129).count()
}

/// RFC 3704 §3.2 (inet6(4) `ip6.source_address_validation`): a packet for
/// us whose source would not be routed back out of the arrival interface is
/// dropped and counted; with the knob off it is delivered.
#[test]
fn source_address_validation_drops_sources_not_routed_back_out_of_the_arrival_interface() {
    let mut n = node();
    let p = v6(peer6(), us6(), 58, &echo6(peer6(), us6(), 8));
    rx0(&mut n, &p, T0);
    assert_eq!(echo_replies(&mut n), 1, "arrives where its source is routed");
    let before = count(&n.s, "ip6s_badscope");
    rx1(&mut n, &p, T0);
    assert_eq!(echo_replies(&mut n), 0);
    assert_eq!(count(&n.s, "ip6s_badscope"), before + 1);
    // No route back at all.
    let far = a6("2001:db8:ff::9");
    rx0(&mut n, &v6(far, us6(), 58, &echo6(far, us6(), 8)), T0);
    assert_eq!(count(&n.s, "ip6s_badscope"), before + 2);
    n.s.set_sysctl("net.inet6.ip6.source_address_validation", 0).unwrap();
    rx1(&mut n, &p, T0);
    assert_eq!(echo_replies(&mut n), 1);
}

/// RFC 3704 §3.2 with the last valid source remembered (`SrcValid6`):
/// a route change after a source was found valid re-validates it — a more
/// specific route sending the source out of another interface makes the
/// next packet on the old one invalid, and deleting that route makes it
/// valid again — and the source becoming one of our own addresses makes
/// it invalid at once.
#[test]
fn source_address_validation_revalidates_after_a_route_or_address_change() {
    let mut n = node();
    let p = v6(peer6(), us6(), 58, &echo6(peer6(), us6(), 8));
    rx0(&mut n, &p, T0);
    rx0(&mut n, &p, T0);
    assert_eq!(echo_replies(&mut n), 2, "valid, then valid from the memo");
    let before = count(&n.s, "ip6s_badscope");
    let host = format!("{}/128", peer6());
    route(&mut n.s, &host, n.e1);
    rx0(&mut n, &p, T0);
    assert_eq!(echo_replies(&mut n), 0, "the source is now routed out of eth1");
    assert_eq!(count(&n.s, "ip6s_badscope"), before + 1);
    rx1(&mut n, &p, T0);
    assert_eq!(count(&n.s, "ip6s_badscope"), before + 1, "valid on eth1");
    n.s.delete_route(host.parse().unwrap(), None).unwrap();
    rx1(&mut n, &p, T0);
    assert_eq!(count(&n.s, "ip6s_badscope"), before + 2, "eth1 is no longer the way back");
    rx0(&mut n, &p, T0);
    rx0(&mut n, &p, T0);
    assert_eq!(count(&n.s, "ip6s_badscope"), before + 2, "valid on eth0 again");
    drain(&mut n.s);
    // Our own address from now on: invalid from outside (no route change
    // needed; the address lives on the loopback, which adds no route).
    n.s.add_address(n.lo, IpAddr::V6(peer6()), 128, T0).unwrap();
    rx0(&mut n, &p, T0);
    assert_eq!(count(&n.s, "ip6s_badscope"), before + 3, "our own address from outside");
}

/// FreeBSD's form of the same check: our own address as the source of a
/// packet from outside.
#[test]
fn source_address_validation_drops_our_own_address_from_outside() {
    let mut n = node();
    let own = a6("2001:db8:a::1");
    rx0(&mut n, &v6(own, us6(), 58, &echo6(own, us6(), 8)), T0);
    assert_eq!(echo_replies(&mut n), 0);
    assert_eq!(count(&n.s, "ip6s_badscope"), 1);
}

/// RFC 4291 §2.5.5.2, RFC 4942 §2.1.4, RFC 4291 §2.7: v4-mapped,
/// v4-compatible and multicast sources are dropped and counted.
#[test]
fn mapped_compatible_and_multicast_sources_are_dropped() {
    let mut n = node();
    n.s.set_sysctl("net.inet6.ip6.source_address_validation", 0).unwrap();
    for src in ["::ffff:10.0.0.99", "::10.0.0.99", "ff02::1", "ff0e::1"] {
        let s = a6(src);
        rx0(&mut n, &v6(s, us6(), 58, &echo6(s, us6(), 8)), T0);
    }
    assert_eq!(echo_replies(&mut n), 0);
    assert_eq!(count(&n.s, "ip6s_badscope"), 4);
    // A v4-mapped destination as well.
    let d = a6("::ffff:192.0.2.1");
    rx0(&mut n, &v6(peer6(), d, 58, &echo6(peer6(), d, 8)), T0);
    assert_eq!(count(&n.s, "ip6s_badscope"), 5);
}

/// RFC 4291 §2.5.2: `::` is a source only for a node without an address
/// (DAD NS, RS, MLD); an echo request or a fragment from `::` is dropped,
/// a DAD NS is still answered.
#[test]
fn unspecified_source_only_for_dad_rs_and_mld() {
    let mut n = node();
    let u = a6("::");
    rx0(&mut n, &v6(u, us6(), 58, &echo6(u, us6(), 8)), T0);
    rx0(&mut n, &v6(u, us6(), 44, &frag(58, 0, true, 1, &[0; 64])), T0);
    assert_eq!(count(&n.s, "ip6s_badscope"), 2);
    assert_eq!(n.s.reassembly_held(), (0, 0));
    // DAD for our address: we defend it with an NA to all-nodes.
    let dst = a6("ff02::1:ff00:1");
    let mut body = vec![0; 4];
    body.extend_from_slice(&a6("2001:db8:a::1").octets());
    let mut p = v6(u, dst, 58, &icmp6(u, dst, 135, 0, &body));
    p[7] = 255;
    rx0(&mut n, &p, T0);
    let out = drain(&mut n.s);
    assert!(out.iter().any(|(_, p)| p[6] == 58 && p[40] == 136 && p[24..40] == a6("ff02::1").octets()), "NA");
}

/// RFC 4007 §5/§9: a link-local address of another of our interfaces is not
/// ours on this link: nothing is delivered (and it is never forwarded).
#[test]
fn link_local_destination_of_another_interface_is_not_ours() {
    let mut n = node();
    n.s.set_sysctl("net.inet6.ip6.forwarding", 1).unwrap();
    let src = a6("fe80::99");
    let eth1_ll = a6("fe80::2"); // assigned on eth1 only
    rx0(&mut n, &v6(src, eth1_ll, 58, &echo6(src, eth1_ll, 8)), T0);
    assert_eq!(echo_replies(&mut n), 0);
    assert_eq!(count(&n.s, "ip6s_delivered"), 0);
    assert_eq!(count(&n.s, "ip6s_forward"), 0);
    rx1(&mut n, &v6(src, eth1_ll, 58, &echo6(src, eth1_ll, 8)), T0);
    assert_eq!(echo_replies(&mut n), 1, "on its own link it is ours");
}
